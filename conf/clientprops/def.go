package clientprops

import (
	"fmt"
	"strings"
)

// Type is the Kafka ConfigDef type of a property. It decides which TOML
// values are accepted and what Go type the parsed value has.
type Type int8

const (
	// TypeString values are Go strings.
	TypeString Type = iota + 1
	// TypeShort values are int64 within Java's short range.
	TypeShort
	// TypeInt values are int64 within Java's int range.
	TypeInt
	// TypeLong values are int64.
	TypeLong
	// TypeDouble values are float64; integers are accepted too.
	TypeDouble
	// TypeBoolean values are bools; "true" and "false" strings are accepted
	// in any case, as Kafka does.
	TypeBoolean
	// TypeList values are []string, from a comma-separated string as in a
	// Kafka properties file or from a TOML array of strings.
	TypeList
	// TypePassword values are strings that never appear in errors or
	// display output.
	TypePassword
	// TypeClass values are Java class names, kept as strings: they exist so
	// that operators pasting a Kafka client configuration get a precise
	// refusal rather than "unknown property".
	TypeClass
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeShort:
		return "short"
	case TypeInt:
		return "int"
	case TypeLong:
		return "long"
	case TypeDouble:
		return "double"
	case TypeBoolean:
		return "boolean"
	case TypeList:
		return "list"
	case TypePassword:
		return "password"
	case TypeClass:
		return "class"
	}
	return fmt.Sprintf("Type(%d)", int8(t))
}

// Def describes one property.
type Def struct {
	// Name is the Kafka property name, e.g. "bootstrap.servers".
	Name string
	// Type is the Kafka type of the property.
	Type Type
	// Default is the value used when the property is not set, in the Go
	// type of Type (see the Type constants). nil means no default:
	// accessors then return the zero value.
	Default any
	// Required refuses a configuration that does not set the property
	// or sets it to an empty string or list.
	Required bool
	// Hint tells how to fix a missing or empty required property; it
	// follows "missing: " or "empty: " in the error.
	Hint string
	// Validate, if non-nil, checks a value already converted to the Go
	// type of Type. It returns the value to keep, which lets it
	// canonicalize (e.g. upper-case an enum), or an error whose text is
	// the reason given to the operator.
	Validate func(v any) (any, error)
	// Unsupported, if non-empty, marks a property Kafka knows but
	// linkproxy does not implement yet: setting it is refused with this
	// reason instead of being silently ignored.
	Unsupported string
}

// AtLeast returns a Validate function for integer properties that
// refuses values below lo.
func AtLeast(lo int64) func(any) (any, error) {
	return func(v any) (any, error) {
		if n := v.(int64); n < lo {
			return nil, fmt.Errorf("%d is below the minimum %d", n, lo)
		}
		return v, nil
	}
}

// Between returns a Validate function for integer properties that
// refuses values outside lo..hi.
func Between(lo, hi int64) func(any) (any, error) {
	return func(v any) (any, error) {
		if n := v.(int64); n < lo || n > hi {
			return nil, fmt.Errorf("%d is out of range %d..%d", n, lo, hi)
		}
		return v, nil
	}
}

// OneOf returns a Validate function for TypeString properties that accepts
// exactly the given values, as Kafka's ValidString does (case-sensitive).
func OneOf(values ...string) func(any) (any, error) {
	return func(v any) (any, error) {
		s := v.(string)
		for _, ok := range values {
			if s == ok {
				return v, nil
			}
		}
		return nil, fmt.Errorf("%q is not valid: use one of %s", s, strings.Join(values, ", "))
	}
}

// check panics on a Def that cannot work: registries are built from code at
// init, so a broken Def is a programming error best caught by any test.
func (d Def) check() {
	if d.Name == "" {
		panic("clientprops: Def without a Name")
	}
	if d.Type < TypeString || d.Type > TypeClass {
		panic(fmt.Sprintf("clientprops: Def %q has invalid type %v", d.Name, d.Type))
	}
	if d.Default == nil {
		return
	}
	var ok bool
	switch d.Type {
	case TypeString, TypePassword, TypeClass:
		_, ok = d.Default.(string)
	case TypeShort, TypeInt, TypeLong:
		_, ok = d.Default.(int64)
	case TypeDouble:
		_, ok = d.Default.(float64)
	case TypeBoolean:
		_, ok = d.Default.(bool)
	case TypeList:
		_, ok = d.Default.([]string)
	}
	if !ok {
		panic(fmt.Sprintf("clientprops: Def %q: default %T does not match type %v", d.Name, d.Default, d.Type))
	}
	if d.Validate != nil && d.Unsupported == "" {
		if _, err := d.Validate(d.Default); err != nil {
			panic(fmt.Sprintf("clientprops: Def %q: default fails validation: %v", d.Name, err))
		}
	}
}
