// Package hostport validates the host:port strings that appear in both the
// proxy's own keys (listen) and Kafka client properties (bootstrap.servers),
// so the two report the same problems in the same words.
package hostport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Split splits s as host:port, checking that host is an IP literal or a DNS
// host name and that port is a decimal number in 0..65535. Port 0 passes:
// whether it is acceptable depends on the caller.
func Split(s string) (host string, port int, err error) {
	if i := strings.Index(s, "://"); i >= 0 {
		// Kafka tolerates "PLAINTEXT://host:port" in some places; the
		// protocol belongs in security.protocol, so say so.
		return "", 0, fmt.Errorf("write host:port without the %q prefix", s[:i+3])
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		var ae *net.AddrError
		switch {
		case errors.As(err, &ae) && strings.Contains(ae.Err, "missing port"):
			return "", 0, errors.New("missing port: write host:port")
		case errors.As(err, &ae) && strings.Contains(ae.Err, "too many colons"):
			return "", 0, errors.New("IPv6 addresses need brackets, e.g. [::1]:9092")
		}
		return "", 0, errors.New("not host:port")
	}
	if host == "" {
		return "", 0, errors.New("missing host")
	}
	if err := CheckHost(host); err != nil {
		return "", 0, err
	}
	if portStr == "" {
		return "", 0, errors.New("missing port: write host:port")
	}
	for _, c := range portStr {
		// Atoi alone would accept "+80"; ports are plain digits.
		if c < '0' || c > '9' {
			return "", 0, fmt.Errorf("port %q is not a number", portStr)
		}
	}
	port, err = strconv.Atoi(portStr)
	if err != nil || port > 65535 {
		return "", 0, fmt.Errorf("port %s is out of range 1..65535", portStr)
	}
	return host, port, nil
}

// CheckHost checks that h is an IP literal (IPv6 without brackets) or a DNS
// host name. Underscores are allowed in names: container runtimes hand them
// out and resolvers accept them.
func CheckHost(h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if h == "" {
		return errors.New("missing host")
	}
	if strings.HasPrefix(h, "[") {
		return fmt.Errorf("host %q: write IPv6 addresses without brackets here", h)
	}
	if strings.Contains(h, ":") {
		return fmt.Errorf("host %q is not a valid IP address or host name", h)
	}
	name := strings.TrimSuffix(h, ".") // a fully qualified name may end in a dot
	if len(name) > 253 {
		return fmt.Errorf("host %q is longer than 253 characters", h)
	}
	allDigits := true
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host %q is not a valid host name", h)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q is not a valid host name: labels cannot start or end with '-'", h)
		}
		for _, c := range label {
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
				allDigits = false
			default:
				return fmt.Errorf("host %q is not a valid host name: %q is not allowed", h, c)
			}
		}
	}
	// "10.0.0.300" would otherwise pass as a name and fail later in DNS.
	if allDigits {
		return fmt.Errorf("host %q is not a valid IP address", h)
	}
	return nil
}
