package hostport

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tt := range []struct {
		in      string
		host    string
		port    int
		errPart string
	}{
		{in: "127.0.0.1:9092", host: "127.0.0.1", port: 9092},
		{in: "[::1]:9092", host: "::1", port: 9092},
		{in: "[fe80::1%eth0]:9092", host: "fe80::1%eth0", port: 9092},
		{in: "kafka-1.example.com:9093", host: "kafka-1.example.com", port: 9093},
		{in: "kafka_1:9092", host: "kafka_1", port: 9092},
		{in: "broker.:9092", host: "broker.", port: 9092},
		{in: "0.0.0.0:0", host: "0.0.0.0", port: 0},
		{in: "localhost", errPart: "missing port"},
		{in: "::1:9092", errPart: "need brackets"},
		{in: ":9092", errPart: "missing host"},
		{in: "localhost:", errPart: "missing port"},
		{in: "localhost:kafka", errPart: `port "kafka" is not a number`},
		{in: "localhost:+80", errPart: "not a number"},
		{in: "localhost:65536", errPart: "out of range"},
		{in: "10.0.0.300:9092", errPart: "not a valid IP address"},
		{in: "-bad.example:9092", errPart: "cannot start or end"},
		{in: "bad..example:9092", errPart: "not a valid host name"},
		{in: "bad host:9092", errPart: "not allowed"},
		{in: "PLAINTEXT://host:9092", errPart: `without the "PLAINTEXT://" prefix`},
	} {
		host, port, err := Split(tt.in)
		if tt.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("Split(%q) error = %v, want it to contain %q", tt.in, err, tt.errPart)
			}
			continue
		}
		if err != nil || host != tt.host || port != tt.port {
			t.Errorf("Split(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.host, tt.port)
		}
	}
}

func TestCheckHost(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"127.0.0.2", true},
		{"::1", true},
		{"example.com", true},
		{"a", true},
		{"[::1]", false},
		{"", false},
		{strings.Repeat("a.", 127) + "aa", false},
		{strings.Repeat("a", 64), false},
		{"1.2.3", false},
	} {
		if err := CheckHost(tt.in); (err == nil) != tt.ok {
			t.Errorf("CheckHost(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
