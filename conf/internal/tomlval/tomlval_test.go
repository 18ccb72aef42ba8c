package tomlval

import (
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	for _, tt := range []struct {
		v    any
		show bool
		want string
	}{
		{"x", true, `a string ("x")`},
		{"x", false, "a string"},
		{int64(5), true, "an integer (5)"},
		{1.5, true, "a float (1.5)"},
		{true, true, "a boolean (true)"},
		{[]any{int64(1)}, true, "an array ([1])"},
		{[]map[string]any{{}}, false, "an array"},
		{map[string]any{"a": "secret"}, true, "a table"},
		{time.Time{}, false, "a time.Time"},
	} {
		if got := Describe(tt.v, tt.show); got != tt.want {
			t.Errorf("Describe(%#v, %v) = %q, want %q", tt.v, tt.show, got, tt.want)
		}
	}
}
