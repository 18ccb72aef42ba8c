package conf

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/linkproxy/linkproxy/conf/internal/suggest"
	"github.com/linkproxy/linkproxy/conf/internal/tomlval"
)

// flatten turns nested tables into dotted keys. In TOML,
// "bootstrap.servers" = ... is one key while bootstrap.servers = ... is a
// table "bootstrap" holding "servers"; operators mean the same by both, so
// both become "bootstrap.servers". Keys written both ways are returned in
// dups.
func flatten(m map[string]any) (flat map[string]any, dups []string) {
	flat = make(map[string]any, len(m))
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			if _, ok := flat[prefix+k]; ok {
				dups = append(dups, prefix+k)
			}
			flat[prefix+k] = v
		}
	}
	walk("", m)
	sort.Strings(dups)
	return flat, dups
}

// sortedKeys makes the order errors are collected in deterministic; they
// are then sorted by line.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func unknownKey(key string, known []string) string {
	if s := suggest.Closest(key, known); s != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", s)
	}
	return "unknown key (valid keys: " + strings.Join(collapseFamilies(known), ", ") + ")"
}

// collapseFamilies shortens a list of keys for a message: a family of more
// than three Kafka properties sharing their first segment (ssl.*, sasl.*)
// is named once, as "ssl.*".
func collapseFamilies(keys []string) []string {
	count := make(map[string]int)
	for _, k := range keys {
		if first, _, dotted := strings.Cut(k, "."); dotted {
			count[first]++
		}
	}
	var out []string
	named := make(map[string]bool)
	for _, k := range keys {
		first, _, dotted := strings.Cut(k, ".")
		switch {
		case !dotted || count[first] <= 3:
			out = append(out, k)
		case !named[first]:
			named[first] = true
			out = append(out, first+".*")
		}
	}
	return out
}

func asString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("expected a string, got %s", tomlval.Describe(v, true))
	}
	return s, nil
}

// asInt accepts TOML integers and, as clientprops does for Kafka
// properties, decimal strings: the two kinds of keys sit side by side.
func asInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("expected an integer, got %s", tomlval.Describe(v, true))
}

// asIntIn is asInt bounded to lo..hi.
func asIntIn(v any, lo, hi int64) (int64, error) {
	n, err := asInt(v)
	if err == nil && (n < lo || n > hi) {
		err = fmt.Errorf("%d is out of range %d..%d", n, lo, hi)
	}
	return n, err
}
