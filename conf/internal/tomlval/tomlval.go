// Package tomlval names decoded TOML values in error messages, the same way
// for linkproxy's own keys and for Kafka client properties.
package tomlval

import "fmt"

// Describe names the TOML type of v, as decoded by BurntSushi/toml or built
// by a caller, followed by the value itself in parentheses if show is set.
// Callers clear show for passwords.
func Describe(v any, show bool) string {
	var kind string
	switch v.(type) {
	case string:
		kind = "a string"
	case int64, int, int32:
		kind = "an integer"
	case float64, float32:
		kind = "a float"
	case bool:
		kind = "a boolean"
	case []any, []string, []map[string]any:
		kind = "an array"
	case map[string]any:
		kind = "a table"
		show = false // its keys are reported on their own
	default:
		kind = fmt.Sprintf("a %T", v) // dates and times
	}
	if !show {
		return kind
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%s (%q)", kind, s)
	}
	return fmt.Sprintf("%s (%v)", kind, v)
}
