package conf

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/linkproxy/linkproxy/conf/clientprops"
)

// Config is a validated linkproxy configuration.
type Config struct {
	Cluster   Cluster
	Proxy     Proxy
	Listeners []Listener
	// Links are the cluster links declared with [[link]], in file order.
	Links []Link
	// REST is where the REST API listens ([rest]).
	REST REST
	// Authorizer holds the ACLs the proxy enforces ([authorizer]); nil
	// when the file has none, and the proxy authorizes nothing.
	Authorizer *Authorizer
}

// Cluster is the Kafka cluster the proxy fronts.
type Cluster struct {
	Name string
	// Props are the Kafka client properties of the upstream connection,
	// bootstrap.servers among them.
	Props *clientprops.Props
}

// Proxy holds the proxy-wide settings of the [proxy] table.
type Proxy struct {
	SocketRequestMaxBytes int32
	ConnectionsMaxIdle    time.Duration
	MaxInflightRequests   int
	PassthroughAPIKeys    []int16
	LogLevel              string
	// PasswordEncoder* are Kafka's password.encoder.secret, .old.secret
	// and .iterations: the key to link passwords in the state topic.
	PasswordEncoderSecret     string
	PasswordEncoderOldSecret  string
	PasswordEncoderIterations int
}

// Parse parses and validates a configuration file's contents. filename
// only appears in errors. All problems are reported at once, joined, in
// file order; each is an *Error.
func Parse(data []byte, filename string) (*Config, error) {
	var raw map[string]any
	// Decoding into a generic map keeps every key: unknown ones are found
	// below against the known names, which also gives them positions
	// and suggestions. (MetaData.Undecoded is meaningless for a map.)
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if maybeSecret(pe.LastKey) {
				// The decoder quotes what it found, which could be
				// part of an unquoted password.
				msg = "malformed value (not shown: it may be a password); check its quotes and escapes"
			}
			return nil, fmt.Errorf("conf: %s:%d: invalid TOML: %s", filename, pe.Position.Line, msg)
		}
		return nil, fmt.Errorf("conf: %s: invalid TOML: %w", filename, err)
	}

	errs := &errorList{file: filename, pos: scanPositions(string(data))}
	cfg := &Config{
		Cluster:    parseCluster(errs, raw["cluster"]),
		Proxy:      parseProxy(errs, raw["proxy"]),
		Listeners:  parseListeners(errs, raw["listener"]),
		Links:      parseLinks(errs, raw["link"]),
		REST:       parseREST(errs, raw["rest"]),
		Authorizer: parseAuthorizer(errs, raw["authorizer"]),
	}
	checkFailedAuthDelay(errs, cfg)
	for _, key := range sortedKeys(raw) {
		switch key {
		case "cluster", "proxy", "listener", "link", "rest", "authorizer":
		default:
			errs.add(topLevel, key, "%s", unknownKey(key, []string{"authorizer", "cluster", "link", "listener", "proxy", "rest"}))
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("conf: %w", err)
	}
	return Parse(data, path)
}

// maybeSecret reports whether key, as the TOML decoder names the last key it
// read, may hold a password: a password-typed Kafka property, or any key
// that says so.
func maybeSecret(key string) bool {
	key = strings.ToLower(key)
	if strings.Contains(key, "password") || strings.Contains(key, "secret") {
		return true
	}
	for _, name := range clientprops.Client.Names() {
		if d, _ := clientprops.Client.Lookup(name); d.Type == clientprops.TypePassword && strings.Contains(key, name) {
			return true
		}
	}
	return false
}
