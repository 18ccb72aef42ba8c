package clientprops

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/linkproxy/linkproxy/conf/internal/tomlval"
)

// hidden is what a password looks like anywhere it could be displayed;
// it is Kafka's own rendering of a Password.
const hidden = "[hidden]"

// secret holds a password value. It formats as hidden so that no %v of a
// Props or a value slips the password into a log, and it is kept behind a
// pointer because fmt cannot call methods on unexported fields: printing the
// raw struct then shows an address, not the password.
type secret struct{ s string }

func (*secret) String() string             { return hidden }
func (*secret) GoString() string           { return hidden }
func (*secret) Format(f fmt.State, _ rune) { io.WriteString(f, hidden) }

// convert turns a value as decoded from TOML (or built by a caller) into the
// Go type of t. Operators write Kafka properties both the Java way (every
// value a string) and the TOML way (typed), so numbers and booleans accept
// both. Errors quote the value only when t is not a password.
func convert(t Type, v any) (any, error) {
	switch t {
	case TypeString, TypeClass:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a string, got %s", tomlval.Describe(v, true))
		}
		return strings.TrimSpace(s), nil
	case TypePassword:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a string, got %s", tomlval.Describe(v, false))
		}
		return &secret{s}, nil
	case TypeShort, TypeInt, TypeLong:
		return convertInt(t, v)
	case TypeDouble:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		}
		return nil, fmt.Errorf("expected a number, got %s", tomlval.Describe(v, true))
	case TypeBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch s := strings.TrimSpace(b); {
			case strings.EqualFold(s, "true"):
				return true, nil
			case strings.EqualFold(s, "false"):
				return false, nil
			}
			return nil, fmt.Errorf("%q is not a boolean: use true or false", b)
		}
		return nil, fmt.Errorf("expected a boolean, got %s", tomlval.Describe(v, true))
	case TypeList:
		return ParseList(v)
	}
	panic(fmt.Sprintf("clientprops: convert to %v", t))
}

func convertInt(t Type, v any) (any, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case int32:
		n = int64(x)
	case string:
		s := strings.TrimSpace(x)
		var err error
		if n, err = strconv.ParseInt(s, 10, 64); err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, fmt.Errorf("%s is out of range for a %v", s, t)
			}
			return nil, fmt.Errorf("%q is not an integer", x)
		}
	default:
		return nil, fmt.Errorf("expected an integer, got %s", tomlval.Describe(v, true))
	}
	// Kafka's int and short are Java's: a larger value would not fit
	// where the property ends up.
	if t == TypeInt && (n < math.MinInt32 || n > math.MaxInt32) {
		return nil, fmt.Errorf("%d is out of range for an int (%d..%d)", n, math.MinInt32, math.MaxInt32)
	}
	if t == TypeShort && (n < math.MinInt16 || n > math.MaxInt16) {
		return nil, fmt.Errorf("%d is out of range for a short (%d..%d)", n, math.MinInt16, math.MaxInt16)
	}
	return n, nil
}

// ParseList reads a Kafka LIST value, given in TOML as an array of strings
// or, as in a .properties file, one comma-separated string. It is the one
// list parser for client properties and the proxy's own Kafka-named keys.
func ParseList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		// As Kafka: an empty string is an empty list, elements are
		// separated by commas and surrounding spaces do not count.
		s := strings.TrimSpace(x)
		if s == "" {
			return []string{}, nil
		}
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	case []string:
		out := make([]string, len(x))
		for i := range x {
			out[i] = strings.TrimSpace(x[i])
		}
		return out, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d: expected a string, got %s", i+1, tomlval.Describe(e, true))
			}
			out[i] = strings.TrimSpace(s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a comma-separated string or an array of strings, got %s", tomlval.Describe(v, true))
}

// display renders a converted value for Redacted and Format.
func display(v any) string {
	switch x := v.(type) {
	case *secret:
		return hidden
	case []string:
		return strings.Join(x, ",")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
