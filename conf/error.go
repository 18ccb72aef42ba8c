package conf

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a configuration file. Parse and Load return all
// of them joined (errors.Join), in file order; use errors.As or the
// Unwrap() []error method to reach each one.
type Error struct {
	File string
	// Line is the line of the key, or of the enclosing table when the key
	// is missing; 0 when nothing in the file encloses the problem (a
	// missing table).
	Line int
	// Table is the table header as written in the file: "[cluster]",
	// "[[listener]]", or "" for the top level.
	Table string
	// Index is the element of an array of tables, from 1 ([[listener]] #2),
	// or 0.
	Index int
	// Key is the dotted key within the table, "" when the problem is the
	// table itself.
	Key    string
	Reason string
}

// Error formats as "conf: FILE:LINE: PLACE: REASON", e.g.
//
//	conf: linkproxy.toml:3: [cluster] "bootstrap.servers": empty: ...
//	conf: linkproxy.toml:12: [[listener]] #2 key "advertised_hostt": unknown key ...
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("conf: ")
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	switch {
	case e.Index > 0:
		fmt.Fprintf(&b, "%s #%d", e.Table, e.Index)
		if e.Key != "" {
			fmt.Fprintf(&b, " key %q", e.Key) // `#2 "name"` would read as one thing
		}
	case e.Table != "":
		b.WriteString(e.Table)
		if e.Key != "" {
			fmt.Fprintf(&b, " %q", e.Key)
		}
	default:
		fmt.Fprintf(&b, "key %q", e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// place is where in the document a table's keys live.
type place struct {
	table string // as in Error.Table
	index int    // as in Error.Index
}

var (
	topLevel      = place{}
	clusterPlace  = place{table: "[cluster]"}
	proxyPlace    = place{table: "[proxy]"}
	listenerTable = "[[listener]]"
)

// errorList collects the problems of one document.
type errorList struct {
	file string
	pos  *positions
	errs []*Error
}

func (l *errorList) add(at place, key, format string, args ...any) {
	e := &Error{File: l.file, Table: at.table, Index: at.index, Key: key, Reason: fmt.Sprintf(format, args...)}
	name := strings.Trim(at.table, "[]")
	switch {
	case at.index > 0:
		e.Line = l.pos.line(name, at.index-1, key)
	case name == "":
		e.Line = l.pos.line("", 0, key)
		if e.Line == 0 {
			e.Line = l.pos.line(key, 0, "") // [[cluster]] where [cluster] belongs
		}
	case key == "":
		e.Line = l.pos.line("", 0, name)
	default:
		e.Line = l.pos.line("", 0, name+"."+key)
	}
	l.errs = append(l.errs, e)
}

// err returns the problems in file order, those without a line last.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		li, lj := l.errs[i].Line, l.errs[j].Line
		if li == 0 || lj == 0 {
			return lj == 0 && li != 0
		}
		return li < lj
	})
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}
