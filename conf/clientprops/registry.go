package clientprops

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/linkproxy/linkproxy/conf/internal/suggest"
)

// Registry is a set of property definitions plus rules that relate
// properties to each other. A Registry is immutable: With and WithRule
// return extended copies, so Client can be shared and extended freely.
type Registry struct {
	defs  map[string]Def
	rules []func(*Props) error
}

// NewRegistry returns a registry of defs. A later Def replaces an earlier
// one of the same name. It panics on a malformed Def (no name, unknown type,
// default of the wrong Go type or failing its own validation), as registries
// are built from code.
func NewRegistry(defs ...Def) *Registry {
	return (&Registry{}).With(defs...)
}

// With returns a copy of r extended with defs. A Def replaces the existing
// one of the same name, which is how a caller changes a default or a
// validation (e.g. a cluster link's own client.id). It panics like
// NewRegistry.
func (r *Registry) With(defs ...Def) *Registry {
	c := &Registry{
		defs:  make(map[string]Def, len(r.defs)+len(defs)),
		rules: r.rules[:len(r.rules):len(r.rules)], // appends must not share
	}
	for name, d := range r.defs {
		c.defs[name] = d
	}
	for _, d := range defs {
		d.check()
		if l, ok := d.Default.([]string); ok {
			d.Default = append([]string(nil), l...) // the caller keeps its slice
		}
		c.defs[d.Name] = d
	}
	return c
}

// WithRule returns a copy of r that also runs rule on every parse that found
// no error in individual properties. A rule relates several properties
// (e.g. a base below its maximum); it should return an *Error naming the
// property the operator is most likely to change, several joined with
// errors.Join, or nil.
func (r *Registry) WithRule(rule func(*Props) error) *Registry {
	c := r.With()
	c.rules = append(c.rules, rule)
	return c
}

// Lookup returns the definition of name.
func (r *Registry) Lookup(name string) (Def, bool) {
	d, ok := r.defs[name]
	return d, ok
}

// Names returns the names of all defined properties, supported or not,
// sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.defs))
	for name := range r.defs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// maxMillis is the largest *.ms value that converts to a time.Duration.
const maxMillis = math.MaxInt64 / int64(time.Millisecond)

// Parse converts and validates props, a table of property names to values
// as decoded from TOML: strings, integers, floats, booleans or arrays. Every
// problem is reported, one *Error each, sorted by property name; a non-nil
// *Props is returned only when there is none.
func (r *Registry) Parse(props map[string]any) (*Props, []error) {
	p := &Props{reg: r, vals: make(map[string]any), set: make(map[string]bool)}
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, &Error{Name: name, Reason: fmt.Sprintf(format, args...)})
	}

	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		d, ok := r.defs[name]
		switch {
		case !ok:
			if s := suggest.Closest(name, r.Names()); s != "" {
				fail(name, "unknown Kafka client property (did you mean %q?)", s)
			} else {
				fail(name, "unknown Kafka client property")
			}
			continue
		case d.Unsupported != "":
			fail(name, "not supported: %s", d.Unsupported)
			continue
		}
		v, err := convert(d.Type, props[name])
		if err == nil {
			v, err = r.validate(d, v)
		}
		if err != nil {
			fail(name, "%s", err.Error())
			continue
		}
		p.vals[name], p.set[name] = v, true
	}

	for _, name := range r.Names() {
		d := r.defs[name]
		if d.Unsupported != "" || p.set[name] {
			continue
		}
		switch {
		case d.Required && props[name] == nil:
			fail(name, "%s", withHint("missing", d.Hint))
		case d.Default != nil:
			p.vals[name] = copyValue(d.Default)
		}
	}

	if len(errs) == 0 {
		for _, rule := range r.rules {
			switch err := rule(p); e := err.(type) {
			case nil:
			case interface{ Unwrap() []error }: // several problems, each its own
				errs = append(errs, e.Unwrap()...)
			default:
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func (r *Registry) validate(d Def, v any) (any, error) {
	if d.Required && isEmpty(v) {
		return nil, errors.New(withHint("empty", d.Hint))
	}
	if n, ok := v.(int64); ok && strings.HasSuffix(d.Name, ".ms") && n > maxMillis {
		return nil, fmt.Errorf("%d ms is too long (at most %d)", n, maxMillis)
	}
	if d.Validate == nil {
		return v, nil
	}
	return d.Validate(v)
}

func withHint(what, hint string) string {
	if hint == "" {
		return what
	}
	return what + ": " + hint
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case *secret:
		return x.s == ""
	case []string:
		return len(x) == 0
	}
	return false
}

func copyValue(v any) any {
	if l, ok := v.([]string); ok {
		return append([]string{}, l...)
	}
	return v
}
