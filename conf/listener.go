package conf

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/linkproxy/linkproxy/conf/internal/hostport"
)

// Listener is one address the proxy accepts Kafka clients on: a bootstrap
// port, and one port per upstream broker.
type Listener struct {
	// Name is unique and upper case, like a Kafka listener name.
	Name string
	// Listen is the host:port of the bootstrap port.
	Listen string
	// AdvertisedHost is the host returned to clients in metadata.
	AdvertisedHost string
	// SecurityProtocol is PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
	SecurityProtocol string
	// BrokerPortBase is the port of the broker with node ID 0; broker N
	// is served on BrokerPortBase + N.
	BrokerPortBase int

	// SASL is set on SASL listeners (SASL_PLAINTEXT, SASL_SSL), nil on
	// the others (listener_sasl.go).
	SASL *ListenerSASL
	// TLS is set on TLS listeners (SSL, SASL_SSL), nil on the others
	// (listener_tls.go).
	TLS *ListenerTLS
}

// BrokerPort returns the port serving broker nodeID on l, or false if the
// node ID is negative or its port would be outside 1..65535.
func (l Listener) BrokerPort(nodeID int32) (int, bool) {
	if nodeID < 0 {
		return 0, false
	}
	port := l.BrokerPortBase + int(nodeID)
	if port < 1 || port > 65535 {
		return 0, false
	}
	return port, true
}

const (
	keyName           = "name"
	keyListen         = "listen"
	keyAdvertisedHost = "advertised_host"
	keySecurity       = "security.protocol"
	keyBrokerPortBase = "broker_port_base"
)

var (
	// listenerKeys are every key a [[listener]] may set; the SASL and TLS
	// keys are listed beside their parsers.
	listenerKeys = slices.Sorted(slices.Values(slices.Concat(
		[]string{keyAdvertisedHost, keyBrokerPortBase, keyListen, keyName, keySecurity},
		saslListenerKeys, tlsListenerKeys)))
	// Kafka's listener names, which it upper-cases.
	listenerName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
)

func parseListeners(errs *errorList, v any) []Listener {
	var elems []map[string]any
	switch x := v.(type) {
	case nil:
	case []map[string]any:
		elems = x
	case []any: // listener = [{...}, {...}]
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				errs.add(topLevel, "listener", "must be an array of tables: write [[listener]]")
				return nil
			}
			elems = append(elems, m)
		}
	default:
		errs.add(topLevel, "listener", "must be an array of tables: write [[listener]], not [listener]")
		return nil
	}
	if len(elems) == 0 {
		errs.add(place{table: listenerTable}, "", `missing: add at least one [[listener]] with a name and a listen address, e.g. name = "EXTERNAL", listen = "0.0.0.0:9092"`)
		return nil
	}

	ls := make([]Listener, len(elems))
	names := make(map[string]int)   // name → index, from 1
	listens := make(map[string]int) // canonical listen address → index
	for i, m := range elems {
		at := place{table: listenerTable, index: i + 1}
		l := parseListener(errs, at, m)
		ls[i] = l
		if l.Name != "" {
			if j, dup := names[l.Name]; dup {
				errs.add(at, keyName, "duplicate listener name %q, also used by [[listener]] #%d", l.Name, j)
			} else {
				names[l.Name] = i + 1
			}
		}
		if l.Listen != "" {
			addr := canonicalAddr(l.Listen)
			if j, dup := listens[addr]; dup {
				errs.add(at, keyListen, "%q is already the listen address of [[listener]] #%d", l.Listen, j)
			} else {
				listens[addr] = i + 1
			}
		}
	}
	return ls
}

// parseListener returns the listener with the fields that passed
// validation set; errors are recorded in errs.
func parseListener(errs *errorList, at place, m map[string]any) Listener {
	l := Listener{SecurityProtocol: "PLAINTEXT"}
	flat, dups := flatten(m)
	for _, key := range dups {
		errs.add(at, key, "set twice, once quoted and once as dotted keys")
	}
	for _, key := range sortedKeys(flat) {
		if !slices.Contains(listenerKeys, key) {
			errs.add(at, key, "%s", unknownKey(key, listenerKeys))
		}
	}
	fail := func(key string, err error) { errs.add(at, key, "%v", err) }

	if v, ok := flat[keyName]; !ok {
		errs.add(at, keyName, `missing: name the listener, e.g. "EXTERNAL"`)
	} else if name, err := parseListenerName(v); err != nil {
		fail(keyName, err)
	} else {
		l.Name = name
	}

	var listenHost string
	var listenPort int
	if v, ok := flat[keyListen]; !ok {
		errs.add(at, keyListen, `missing: set the host:port clients bootstrap from, e.g. "0.0.0.0:9092"`)
	} else if s, err := asString(v); err != nil {
		fail(keyListen, err)
	} else if listenHost, listenPort, err = hostport.Split(s); err != nil {
		fail(keyListen, fmt.Errorf("%q: %w", s, err))
	} else if listenPort == 0 {
		errs.add(at, keyListen, "%q: port 0 is refused: ports must be deterministic, as broker ports derive from them", s)
	} else {
		l.Listen = s
	}

	if v, ok := flat[keyAdvertisedHost]; ok {
		if h, err := parseAdvertisedHost(v); err != nil {
			fail(keyAdvertisedHost, err)
		} else {
			l.AdvertisedHost = h
		}
	} else if l.Listen != "" {
		if isWildcard(listenHost) {
			errs.add(at, keyAdvertisedHost, "missing: required because listen %q is a wildcard address clients cannot dial; set the host or IP clients should use", l.Listen)
		} else {
			l.AdvertisedHost = listenHost
		}
	}

	if v, ok := flat[keySecurity]; ok {
		if sp, err := parseListenerSecurity(v, l.Name); err != nil {
			fail(keySecurity, err)
		} else {
			l.SecurityProtocol = sp
		}
	}

	if v, ok := flat[keyBrokerPortBase]; ok {
		if n, err := asIntIn(v, 1, 65535); err != nil {
			fail(keyBrokerPortBase, err)
		} else {
			l.BrokerPortBase = int(n)
		}
	} else if l.Listen != "" {
		if listenPort == 65535 {
			errs.add(at, keyBrokerPortBase, "missing: it defaults to the listen port + 1, and 65536 is out of range 1..65535; set it")
		} else {
			l.BrokerPortBase = listenPort + 1
		}
	}
	parseListenerTLS(errs, at, flat, &l)
	parseListenerSASL(errs, at, flat, &l)
	return l
}

func parseListenerName(v any) (string, error) {
	s, err := asString(v)
	switch {
	case err != nil:
		return "", err
	case s == "":
		return "", fmt.Errorf(`empty: name the listener, e.g. "EXTERNAL"`)
	case listenerName.MatchString(s):
		return s, nil
	case listenerName.MatchString(strings.ToUpper(s)):
		return "", fmt.Errorf("%q: listener names are upper case, as Kafka upper-cases them: write %q", s, strings.ToUpper(s))
	}
	return "", fmt.Errorf("%q is not a listener name: use upper-case letters, digits and _, starting with a letter (%s), e.g. \"EXTERNAL\"", s, listenerName)
}

func parseAdvertisedHost(v any) (string, error) {
	s, err := asString(v)
	if err != nil {
		return "", err
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return "", fmt.Errorf("%q: give the host only: broker ports come from broker_port_base", s)
	}
	if err := hostport.CheckHost(s); err != nil {
		return "", err
	}
	if isWildcard(s) {
		return "", fmt.Errorf("%q is a wildcard address clients cannot dial: give the host or IP clients should use", s)
	}
	return s, nil
}

// parseListenerSecurity accepts Kafka's values in any case, as Kafka does.
// The listener name is no longer needed: every value Kafka has is served.
func parseListenerSecurity(v any, _ string) (string, error) {
	s, err := asString(v)
	if err != nil {
		return "", err
	}
	switch up := strings.ToUpper(s); up {
	case "PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL":
		return up, nil
	}
	return "", fmt.Errorf("%q is not valid: use one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL", s)
}

func isWildcard(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsUnspecified()
}

// canonicalAddr makes equal addresses compare equal: "[::0]:9092" and
// "[::]:9092", or host names in different case.
func canonicalAddr(hp string) string {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return hp
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		host = ip.String()
	} else {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
	}
	p, _ := strconv.Atoi(port)
	return net.JoinHostPort(host, strconv.Itoa(p))
}
