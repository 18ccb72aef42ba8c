package conf

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/linkproxy/linkproxy/conf/internal/hostport"
	"github.com/linkproxy/linkproxy/conf/internal/tomlval"
)

// REST is the [rest] table: where the Confluent-compatible REST API (v3,
// cluster links and mirror topics) listens.
type REST struct {
	// Listeners are URLs, "http://host:port", as Confluent's
	// confluent.http.server.listeners; the scheme is lower case, a
	// trailing "/" is dropped and the port is in plain decimal.
	Listeners []string
}

// DefaultRESTListener is where the REST API listens when the file does not
// say: Confluent's default port, on the loopback interface only.
const DefaultRESTListener = "http://127.0.0.1:8090"

// Addrs returns the host:port of each listener, for net.Listen.
func (r REST) Addrs() []string {
	addrs := make([]string, len(r.Listeners))
	for i, u := range r.Listeners {
		_, addrs[i], _ = strings.Cut(u, "://")
	}
	return addrs
}

const keyRESTListeners = "listeners"

var (
	restPlace = place{table: "[rest]"}
	restKeys  = []string{keyRESTListeners}
)

func defaultREST() REST { return REST{Listeners: []string{DefaultRESTListener}} }

func parseREST(errs *errorList, v any) REST {
	r := defaultREST()
	if v == nil {
		return r
	}
	m, ok := v.(map[string]any)
	if !ok {
		errs.add(topLevel, "rest", "must be a table: write [rest]")
		return r
	}
	flat, dups := flatten(m)
	for _, key := range dups {
		errs.add(restPlace, key, "set twice, once quoted and once as dotted keys")
	}
	for _, key := range sortedKeys(flat) {
		switch key {
		case keyRESTListeners:
			if ls, err := parseRESTListeners(flat[key]); err != nil {
				errs.add(restPlace, key, "%v", err)
			} else {
				r.Listeners = ls
			}
		default:
			errs.add(restPlace, key, "%s", unknownKey(key, restKeys))
		}
	}
	return r
}

// parseRESTListeners takes an array of URLs or, as Kafka writes lists, one
// comma-separated string. Every broken entry is reported at once.
func parseRESTListeners(v any) ([]string, error) {
	var entries []string
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) != "" {
			entries = strings.Split(x, ",")
		}
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d: expected a string, got %s", i+1, tomlval.Describe(e, true))
			}
			entries = append(entries, s)
		}
	default:
		return nil, fmt.Errorf("expected an array of URLs, e.g. [%q], got %s", DefaultRESTListener, tomlval.Describe(v, true))
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("empty: list at least one URL, e.g. [%q], or leave listeners out for that default", DefaultRESTListener)
	}

	var ls, problems []string
	seen := make(map[string]bool)
	for i, e := range entries {
		e = strings.TrimSpace(e)
		u, addr, err := parseRESTListener(e)
		switch {
		case e == "":
			problems = append(problems, fmt.Sprintf("entry %d is empty (a stray comma?)", i+1))
		case err != nil:
			problems = append(problems, fmt.Sprintf("%q: %v", e, err))
		case seen[addr]:
			problems = append(problems, fmt.Sprintf("%q is listed twice", e))
		default:
			seen[addr] = true
			ls = append(ls, u)
		}
	}
	if problems != nil {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return ls, nil
}

// parseRESTListener returns the listener's URL as kept, and its address in
// canonical form to find duplicates.
func parseRESTListener(s string) (url, addr string, err error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", "", fmt.Errorf("missing scheme: write http://%s", s)
	}
	switch scheme = strings.ToLower(scheme); scheme {
	case "http":
	case "https":
		return "", "", fmt.Errorf("https comes with TLS support (the security issue), not available in this version: use http://")
	default:
		return "", "", fmt.Errorf("scheme %q is not valid: use http://", scheme)
	}
	rest = strings.TrimSuffix(rest, "/")
	if strings.ContainsAny(rest, "/?#") {
		return "", "", fmt.Errorf("a listener has no path: write http://host:port")
	}
	host, port, err := hostport.Split(rest)
	switch {
	case err != nil && strings.HasPrefix(rest, ":"):
		return "", "", fmt.Errorf("%v: write 0.0.0.0 to listen on every interface, or an IP or host name", err)
	case err != nil:
		return "", "", err
	case port == 0:
		return "", "", fmt.Errorf("port 0 is refused: clients need a known port")
	}
	hp := net.JoinHostPort(host, strconv.Itoa(port))
	return scheme + "://" + hp, canonicalAddr(hp), nil
}
