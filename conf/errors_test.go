package conf

import (
	"errors"
	"strings"
	"testing"
)

const validCluster = `[cluster]
name = "west"
"bootstrap.servers" = "127.0.0.1:29092"
`

const validListener = `
[[listener]]
name = "EXTERNAL"
listen = "127.0.0.2:19092"
`

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		file string // defaults to linkproxy.toml
		src  string
		want []string // every error, in order, exactly
	}{
		{
			name: "unknown listener key with position",
			file: "listener.txt",
			src: validCluster + `
[[listener]]
name = "EXTERNAL"
listen = "127.0.0.2:19092"

[[listener]]
name = "INTERNAL"
listen = "127.0.0.3:19092"
advertised_hostt = "x"
`,
			want: []string{`conf: listener.txt:12: [[listener]] #2 key "advertised_hostt": unknown key (did you mean "advertised_host"?)`},
		},
		{
			name: "unknown key without suggestion lists the valid ones",
			src:  validCluster + validListener + "tls = true\n",
			want: []string{`conf: linkproxy.toml:8: [[listener]] #1 key "tls": unknown key (valid keys: advertised_host, broker_port_base, connection.failed.authentication.delay.ms, connections.max.reauth.ms, gssapi.sasl.jaas.config, listen, name, sasl.*, security.protocol, ssl.*)`},
		},
		{
			name: "unknown top-level table",
			src:  validCluster + validListener + "\n[clustr]\nname = \"x\"\n",
			want: []string{`conf: linkproxy.toml:9: key "clustr": unknown key (did you mean "cluster"?)`},
		},
		{
			name: "unknown proxy key",
			src:  validCluster + validListener + "[proxy]\nlog_levle = \"info\"\n",
			want: []string{`conf: linkproxy.toml:9: [proxy] "log_levle": unknown key (did you mean "log_level"?)`},
		},
		{
			name: "unknown Kafka client property",
			src:  validCluster + "\"bootstrap.server\" = \"a:1\"\n" + validListener,
			want: []string{`conf: linkproxy.toml:4: [cluster] "bootstrap.server": unknown Kafka client property (did you mean "bootstrap.servers"?)`},
		},
		{
			name: "empty bootstrap.servers",
			src:  "[cluster]\nname = \"west\"\n\"bootstrap.servers\" = \"\"\n" + validListener,
			want: []string{`conf: linkproxy.toml:3: [cluster] "bootstrap.servers": empty: set it to the upstream brokers, e.g. "10.0.0.1:9092"`},
		},
		{
			name: "missing bootstrap.servers points at the table",
			src:  "# comment\n[cluster]\nname = \"west\"\n" + validListener,
			want: []string{`conf: linkproxy.toml:2: [cluster] "bootstrap.servers": missing: set it to the upstream brokers, e.g. "10.0.0.1:9092"`},
		},
		{
			name: "bare dotted key found too",
			src:  "[cluster]\nname = \"west\"\nbootstrap.servers = \"a\"\n" + validListener,
			want: []string{`conf: linkproxy.toml:3: [cluster] "bootstrap.servers": "a": missing port: write host:port`},
		},
		{
			name: "missing cluster name",
			src:  "[cluster]\n\"bootstrap.servers\" = \"a:1\"\n" + validListener,
			want: []string{`conf: linkproxy.toml:1: [cluster] "name": missing: name the upstream cluster, e.g. "west"`},
		},
		{
			name: "empty cluster name",
			src:  "[cluster]\nname = \" \"\n\"bootstrap.servers\" = \"a:1\"\n" + validListener,
			want: []string{`conf: linkproxy.toml:2: [cluster] "name": empty: name the upstream cluster, e.g. "west"`},
		},
		{
			name: "missing everything",
			src:  "# empty\n",
			want: []string{
				`conf: linkproxy.toml: [cluster]: missing: add a [cluster] table with the upstream cluster's name and "bootstrap.servers"`,
				`conf: linkproxy.toml: [[listener]]: missing: add at least one [[listener]] with a name and a listen address, e.g. name = "EXTERNAL", listen = "0.0.0.0:9092"`,
			},
		},
		{
			name: "wrong table kinds",
			src:  "cluster = 5\n[listener]\nname = \"A\"\n",
			want: []string{
				`conf: linkproxy.toml:1: key "cluster": must be a table: write [cluster]`,
				`conf: linkproxy.toml:2: key "listener": must be an array of tables: write [[listener]], not [listener]`,
			},
		},
		{
			name: "array where a table belongs",
			src:  "# x\n[[cluster]]\nname = \"west\"\n" + validListener,
			want: []string{`conf: linkproxy.toml:2: key "cluster": must be a table: write [cluster]`},
		},
		{
			name: "bad types",
			src: validCluster + `"request.timeout.ms" = true
[[listener]]
name = 1
listen = 19092
broker_port_base = "x"
`,
			want: []string{
				`conf: linkproxy.toml:4: [cluster] "request.timeout.ms": expected an integer, got a boolean (true)`,
				`conf: linkproxy.toml:6: [[listener]] #1 key "name": expected a string, got an integer (1)`,
				`conf: linkproxy.toml:7: [[listener]] #1 key "listen": expected a string, got an integer (19092)`,
				`conf: linkproxy.toml:8: [[listener]] #1 key "broker_port_base": "x" is not an integer`,
			},
		},
		{
			name: "bad values",
			src: validCluster + `"client.dns.lookup" = "default"
"metadata.max.age.ms" = 7200000
` + validListener + `
[proxy]
"socket.request.max.bytes" = 0
"connections.max.idle.ms" = -1
max_inflight_requests = "many"
passthrough_api_keys = [1000, 40000, 1000, "x"]
log_level = "verbose"
`,
			want: []string{
				`conf: linkproxy.toml:4: [cluster] "client.dns.lookup": "default" is not valid: use one of use_all_dns_ips, resolve_canonical_bootstrap_servers_only`,
				`conf: linkproxy.toml:5: [cluster] "metadata.max.age.ms": 7200000 is out of range 10..3600000, the range linkproxy's Kafka client (franz-go) accepts`,
				`conf: linkproxy.toml:12: [proxy] "socket.request.max.bytes": 0 is out of range 1..2147483647`,
				`conf: linkproxy.toml:13: [proxy] "connections.max.idle.ms": -1 is out of range 1..9223372036854`,
				`conf: linkproxy.toml:14: [proxy] "max_inflight_requests": "many" is not an integer`,
				`conf: linkproxy.toml:15: [proxy] "passthrough_api_keys": element 2: 40000 is out of range 0..32767; element 3: 1000 is listed twice; element 4: "x" is not an integer`,
				`conf: linkproxy.toml:16: [proxy] "log_level": "verbose" is not a log level: use one of trace, debug, info, warn, error`,
			},
		},
		{
			name: "password encoder",
			src: validCluster + validListener + `
[proxy]
"password.encoder.secret" = "short"
"password.encoder.iterations" = 100
"password.encoder.cipher.algorithm" = "AES/CBC/PKCS5Padding"
`,
			want: []string{
				`conf: linkproxy.toml:10: [proxy] "password.encoder.secret": too short (5 characters): give at least 16, as it is the only key to the link passwords in the state topic`,
				`conf: linkproxy.toml:11: [proxy] "password.encoder.iterations": 100 is out of range 1024..2147483647`,
				`conf: linkproxy.toml:12: [proxy] "password.encoder.cipher.algorithm": not supported: linkproxy encrypts link passwords with AES-256-GCM and a PBKDF2-HMAC-SHA512 key, which is not configurable; remove password.encoder.cipher.algorithm`,
			},
		},
		{
			name: "failed authentication delay not below the idle timeout",
			src: validCluster + `
[proxy]
"connections.max.idle.ms" = 1000

[[listener]]
name = "SECURE"
listen = "127.0.0.1:19092"
"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = ["OAUTHBEARER"]
"sasl.oauthbearer.jwks.endpoint.url" = "https://idp.example/jwks"
"connection.failed.authentication.delay.ms" = 1000
`,
			want: []string{
				`conf: linkproxy.toml:14: [[listener]] #1 key "connection.failed.authentication.delay.ms": 1000 must be less than connections.max.idle.ms of [proxy] (1000): lower it, or raise connections.max.idle.ms`,
			},
		},
		{
			name: "old password encoder secret alone",
			src: validCluster + validListener + `
[proxy]
"password.encoder.old.secret" = "an-old-secret-long-enough"
`,
			want: []string{
				`conf: linkproxy.toml:10: [proxy] "password.encoder.old.secret": set without password.encoder.secret: the old secret only decrypts what the current one then encrypts again; set password.encoder.secret`,
			},
		},
		{
			name: "duplicate listener name and listen address",
			src: validCluster + validListener + `
[[listener]]
name = "EXTERNAL"
listen = "127.0.0.2:19092"

[[listener]]
name = "V6"
listen = "[::0]:9092"
advertised_host = "h"

[[listener]]
name = "V6_AGAIN"
listen = "[::]:9092"
advertised_host = "h"
`,
			want: []string{
				`conf: linkproxy.toml:10: [[listener]] #2 key "name": duplicate listener name "EXTERNAL", also used by [[listener]] #1`,
				`conf: linkproxy.toml:11: [[listener]] #2 key "listen": "127.0.0.2:19092" is already the listen address of [[listener]] #1`,
				`conf: linkproxy.toml:20: [[listener]] #4 key "listen": "[::]:9092" is already the listen address of [[listener]] #3`,
			},
		},
		{
			name: "wildcard listen without advertised_host",
			src: validCluster + `
[[listener]]
name = "ANY4"
listen = "0.0.0.0:19092"

[[listener]]
name = "ANY6"
listen = "[::]:19092"
`,
			want: []string{
				`conf: linkproxy.toml:5: [[listener]] #1 key "advertised_host": missing: required because listen "0.0.0.0:19092" is a wildcard address clients cannot dial; set the host or IP clients should use`,
				`conf: linkproxy.toml:9: [[listener]] #2 key "advertised_host": missing: required because listen "[::]:19092" is a wildcard address clients cannot dial; set the host or IP clients should use`,
			},
		},
		{
			name: "bad advertised_host",
			src: validCluster + `
[[listener]]
name = "A"
listen = "0.0.0.0:1"
advertised_host = "0.0.0.0"

[[listener]]
name = "B"
listen = "0.0.0.0:2"
advertised_host = "proxy:9092"

[[listener]]
name = "C"
listen = "0.0.0.0:3"
advertised_host = "[::1]"
`,
			want: []string{
				`conf: linkproxy.toml:8: [[listener]] #1 key "advertised_host": "0.0.0.0" is a wildcard address clients cannot dial: give the host or IP clients should use`,
				`conf: linkproxy.toml:13: [[listener]] #2 key "advertised_host": "proxy:9092": give the host only: broker ports come from broker_port_base`,
				`conf: linkproxy.toml:18: [[listener]] #3 key "advertised_host": host "[::1]": write IPv6 addresses without brackets here`,
			},
		},
		{
			name: "ports",
			src: validCluster + `
[[listener]]
name = "ZERO"
listen = "127.0.0.1:0"

[[listener]]
name = "BASE_HIGH"
listen = "127.0.0.2:9092"
broker_port_base = 70000

[[listener]]
name = "BASE_ZERO"
listen = "127.0.0.3:9092"
broker_port_base = 0

[[listener]]
name = "TOP"
listen = "127.0.0.4:65535"

[[listener]]
name = "NO_PORT"
listen = "127.0.0.5"
`,
			want: []string{
				`conf: linkproxy.toml:7: [[listener]] #1 key "listen": "127.0.0.1:0": port 0 is refused: ports must be deterministic, as broker ports derive from them`,
				`conf: linkproxy.toml:12: [[listener]] #2 key "broker_port_base": 70000 is out of range 1..65535`,
				`conf: linkproxy.toml:17: [[listener]] #3 key "broker_port_base": 0 is out of range 1..65535`,
				`conf: linkproxy.toml:19: [[listener]] #4 key "broker_port_base": missing: it defaults to the listen port + 1, and 65536 is out of range 1..65535; set it`,
				`conf: linkproxy.toml:25: [[listener]] #5 key "listen": "127.0.0.5": missing port: write host:port`,
			},
		},
		{
			name: "listener names",
			src: validCluster + `
[[listener]]
name = "external"
listen = "127.0.0.1:1"

[[listener]]
name = "my-listener"
listen = "127.0.0.1:2"

[[listener]]
listen = "127.0.0.1:3"
`,
			want: []string{
				`conf: linkproxy.toml:6: [[listener]] #1 key "name": "external": listener names are upper case, as Kafka upper-cases them: write "EXTERNAL"`,
				`conf: linkproxy.toml:10: [[listener]] #2 key "name": "my-listener" is not a listener name: use upper-case letters, digits and _, starting with a letter (^[A-Z][A-Z0-9_]*$), e.g. "EXTERNAL"`,
				`conf: linkproxy.toml:13: [[listener]] #3 key "name": missing: name the listener, e.g. "EXTERNAL"`,
			},
		},
		{
			name: "listener security protocols",
			src: validCluster + `
[[listener]]
name = "SECURE"
listen = "127.0.0.1:1"
"security.protocol" = "SSL"

[[listener]]
name = "SASL"
listen = "127.0.0.1:2"
security.protocol = "sasl_ssl"

[[listener]]
name = "ODD"
listen = "127.0.0.1:3"
"security.protocol" = "TLS"
`,
			want: []string{
				`conf: linkproxy.toml:5: [[listener]] #1 key "ssl.keystore.location": missing: required with security.protocol SSL: the key store of the certificate the listener presents (or ssl.keystore.type = "PEM" with ssl.keystore.key and ssl.keystore.certificate.chain)`,
				`conf: linkproxy.toml:10: [[listener]] #2 key "ssl.keystore.location": missing: required with security.protocol SASL_SSL: the key store of the certificate the listener presents (or ssl.keystore.type = "PEM" with ssl.keystore.key and ssl.keystore.certificate.chain)`,
				`conf: linkproxy.toml:10: [[listener]] #2 key "sasl.enabled.mechanisms": missing: required with security.protocol SASL_SSL: list the mechanisms clients may use, e.g. ["SCRAM-SHA-512", "PLAIN"] (Kafka's default is GSSAPI, which needs gssapi.sasl.jaas.config)`,
				`conf: linkproxy.toml:10: [[listener]] #2 key "sasl.credentials.file": missing: required with security.protocol SASL_SSL: the file of users' salted passwords that "linkproxy scram" writes entries for`,
				`conf: linkproxy.toml:18: [[listener]] #3 key "security.protocol": "TLS" is not valid: use one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL`,
			},
		},
		{
			name: "upstream SASL",
			src: validCluster + `"security.protocol" = "SASL_SSL"
"sasl.mechanism" = "PLAIN"
` + validListener,
			want: []string{
				`conf: linkproxy.toml:1: [cluster] "sasl.jaas.config": missing: required with security.protocol SASL_SSL: write the login module and its options, e.g. 'org.apache.kafka.common.security.plain.PlainLoginModule required username="linkproxy" password="...";'`,
			},
		},
		{
			name: "upstream TLS: stores read at start, each problem with its line",
			src: validCluster + `"security.protocol" = "SSL"
"ssl.truststore.location" = "/nonexistent/truststore.jks"
"ssl.keystore.type" = "PEM"
"ssl.keystore.key" = "not a key"
"ssl.keystore.certificate.chain" = "not a chain"
` + validListener,
			want: []string{
				`conf: linkproxy.toml:5: [cluster] "ssl.truststore.location": open /nonexistent/truststore.jks: no such file or directory: check the path`,
				`conf: linkproxy.toml:7: [cluster] "ssl.keystore.key": the value holds no PEM private key (-----BEGIN PRIVATE KEY----- or ENCRYPTED PRIVATE KEY)`,
			},
		},
		{
			name: "upstream ssl.* without TLS",
			src:  validCluster + `"ssl.endpoint.identification.algorithm" = ""` + "\n" + validListener,
			want: []string{
				`conf: linkproxy.toml:4: [cluster] "ssl.endpoint.identification.algorithm": set, but security.protocol is PLAINTEXT, which does not use TLS: set security.protocol to SSL to reach the brokers over TLS, or remove ssl.endpoint.identification.algorithm`,
			},
		},
		{
			name: "backoff base above max",
			src:  validCluster + "\"retry.backoff.ms\" = 5000\n" + validListener,
			want: []string{`conf: linkproxy.toml:4: [cluster] "retry.backoff.ms": retry.backoff.ms (5000) is greater than retry.backoff.max.ms (1000): raise retry.backoff.max.ms or lower retry.backoff.ms`},
		},
		{
			name: "same key quoted and dotted",
			src:  validCluster + "bootstrap.servers = \"b:1\"\n" + validListener,
			want: []string{`conf: linkproxy.toml:3: [cluster] "bootstrap.servers": set twice, once quoted and once as dotted keys`},
		},
		{
			name: "invalid TOML",
			src:  validCluster + "oops =\n",
			want: []string{`conf: linkproxy.toml:4: invalid TOML: expected value but found '\n' instead`},
		},
		{
			name: "several problems, in file order",
			src: `[[listener]]
name = "lower"
listen = "0.0.0.0:9092"

[cluster]
name = "west"
"bootstrap.servers" = "a:1,b"

[proxy]
log_level = 3
`,
			want: []string{
				`conf: linkproxy.toml:1: [[listener]] #1 key "advertised_host": missing: required because listen "0.0.0.0:9092" is a wildcard address clients cannot dial; set the host or IP clients should use`,
				`conf: linkproxy.toml:2: [[listener]] #1 key "name": "lower": listener names are upper case, as Kafka upper-cases them: write "LOWER"`,
				`conf: linkproxy.toml:7: [cluster] "bootstrap.servers": "b": missing port: write host:port`,
				`conf: linkproxy.toml:10: [proxy] "log_level": expected a string, got an integer (3)`,
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = "linkproxy.toml"
			}
			cfg, err := Parse([]byte(tt.src), file)
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("config returned with an error")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	_, err := Parse([]byte(validCluster+`
[[listener]]
name = "A"
listen = "127.0.0.1:1"

[[listener]]
name = "B"
listen = "127.0.0.1:0"
`), "f.toml")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an *Error", err)
	}
	want := Error{File: "f.toml", Line: 11, Table: "[[listener]]", Index: 2, Key: "listen",
		Reason: `"127.0.0.1:0": port 0 is refused: ports must be deterministic, as broker ports derive from them`}
	if *e != want {
		t.Errorf("got %+v\nwant %+v", *e, want)
	}
}

func TestPasswordsNotInErrors(t *testing.T) {
	const secret = "hunter2-s3cret"
	src := validCluster + `"sasl.jaas.config" = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"` + secret + `\";"
"ssl.keystore.password" = "` + secret + `"
"ssl.key.password" = 12345
"ssl.truststore.passwrd" = "` + secret + `"
` + validListener
	_, err := Parse([]byte(src), "linkproxy.toml")
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "12345") {
		t.Errorf("password in error:\n%v", err)
	}
	// ssl.key.password (not a string) and the misspelling; the jaas
	// config and ssl.keystore.password themselves are fine.
	if n := strings.Count(err.Error(), "\n") + 1; n != 2 {
		t.Errorf("got %d errors, want 2:\n%v", n, err)
	}

	// A password the TOML decoder cannot read is not quoted back either.
	for _, src := range []string{
		"[cluster]\n\"sasl.jaas.config\" = " + secret + "\n",
		"[cluster]\nssl.keystore.password = " + secret + "\n",
		"[link]\nsource_secret = " + secret + "\n",
	} {
		_, err := Parse([]byte(src), "linkproxy.toml")
		if err == nil || strings.Contains(err.Error(), "hunter") || !strings.Contains(err.Error(), "linkproxy.toml:2: invalid TOML: malformed value (not shown") {
			t.Errorf("malformed password: %v", err)
		}
	}
}
