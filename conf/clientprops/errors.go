package clientprops

import "fmt"

// Error is one problem with one property. Name is the property as the
// operator wrote it, so the conf package can point at its line.
type Error struct {
	Name   string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%q: %s", e.Name, e.Reason) }
