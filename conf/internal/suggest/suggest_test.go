package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "abc", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"name", "nmae", 1},
		{"listen", "listne", 1},
		{"advertised_host", "advertised_hostt", 1},
		{"kitten", "sitting", 3},
		{"bootstrap.servers", "bootstrap.server", 1},
	} {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := distance(tt.b, tt.a); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"name", "listen", "advertised_host", "security.protocol", "broker_port_base"}
	for _, tt := range []struct {
		name string
		want string
	}{
		{"advertised_hostt", "advertised_host"},
		{"nmae", "name"},
		{"lisen", "listen"},
		{"security.protocl", "security.protocol"},
		{"completely_different", ""},
		{"name", ""}, // an exact match is not a suggestion
		{"", ""},
	} {
		if got := Closest(tt.name, known); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	// Ties resolve alphabetically, whatever the input order.
	if got := Closest("ab", []string{"bb", "aa"}); got != "aa" {
		t.Errorf("tie: got %q, want %q", got, "aa")
	}
}
