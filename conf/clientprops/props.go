package clientprops

import (
	"crypto/tls"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"
)

// Props is a parsed and validated set of properties: every supported
// property of its registry that is set or has a default has a value.
//
// Accessors panic when asked for a property the registry does not define
// or for the wrong type: property names in code are constants, and a typo
// there must fail the first test rather than read a zero value.
type Props struct {
	reg  *Registry
	vals map[string]any
	set  map[string]bool
	tls  *tls.Config    // security.protocol SSL: built by tlsRule at parse
	sasl sasl.Mechanism // security.protocol SASL_*: built by saslRule at parse
}

func (p *Props) get(name, accessor string, types ...Type) any {
	d, ok := p.reg.defs[name]
	if !ok {
		panic(fmt.Sprintf("clientprops: %s(%q): property not defined", accessor, name))
	}
	if d.Unsupported != "" {
		panic(fmt.Sprintf("clientprops: %s(%q): property not supported", accessor, name))
	}
	for _, t := range types {
		if d.Type == t {
			return p.vals[name]
		}
	}
	panic(fmt.Sprintf("clientprops: %s(%q): property is a %v", accessor, name, d.Type))
}

// String returns a string, class or password property; "" if it has no
// value. Passwords come back in clear: only the caller that needs the
// secret should ask for it.
func (p *Props) String(name string) string {
	switch v := p.get(name, "String", TypeString, TypeClass, TypePassword).(type) {
	case string:
		return v
	case *secret:
		return v.s
	}
	return ""
}

// Int returns a short, int or long property; 0 if it has no value.
func (p *Props) Int(name string) int64 {
	n, _ := p.get(name, "Int", TypeShort, TypeInt, TypeLong).(int64)
	return n
}

// Float returns a double property; 0 if it has no value.
func (p *Props) Float(name string) float64 {
	f, _ := p.get(name, "Float", TypeDouble).(float64)
	return f
}

// Duration returns an integer property whose name ends in ".ms" as a
// duration; 0 if it has no value.
func (p *Props) Duration(name string) time.Duration {
	if !strings.HasSuffix(name, ".ms") {
		panic(fmt.Sprintf("clientprops: Duration(%q): not a .ms property", name))
	}
	n, _ := p.get(name, "Duration", TypeInt, TypeLong).(int64)
	return time.Duration(n) * time.Millisecond // Parse bounded n
}

// List returns a copy of a list property; nil if it has no value.
func (p *Props) List(name string) []string {
	l, _ := p.get(name, "List", TypeList).([]string)
	if l == nil {
		return nil
	}
	return append([]string{}, l...)
}

// Bool returns a boolean property; false if it has no value.
func (p *Props) Bool(name string) bool {
	b, _ := p.get(name, "Bool", TypeBoolean).(bool)
	return b
}

// IsSet reports whether the operator set the property, as opposed to it
// holding its default.
func (p *Props) IsSet(name string) bool {
	p.get(name, "IsSet", TypeString, TypeShort, TypeInt, TypeLong, TypeDouble, TypeBoolean, TypeList, TypePassword, TypeClass)
	return p.set[name]
}

// Names returns the names of the properties that have a value, set or
// default, sorted.
func (p *Props) Names() []string {
	names := make([]string, 0, len(p.vals))
	for name := range p.vals {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Redacted returns every property that has a value, rendered for display:
// lists comma-separated as in a Kafka properties file, passwords as
// "[hidden]".
func (p *Props) Redacted() map[string]string {
	m := make(map[string]string, len(p.vals))
	for name, v := range p.vals {
		m[name] = display(v)
	}
	return m
}

// Format prints the properties as {name=value ...} in name order, with
// passwords hidden, for every verb: Props has a String accessor, so it
// cannot be a fmt.Stringer, and printing must not fall back to the raw
// struct. The value receiver covers both Props and *Props.
func (p Props) Format(f fmt.State, _ rune) {
	io.WriteString(f, "{")
	for i, name := range p.Names() {
		if i > 0 {
			io.WriteString(f, " ")
		}
		fmt.Fprintf(f, "%s=%s", name, display(p.vals[name]))
	}
	io.WriteString(f, "}")
}
