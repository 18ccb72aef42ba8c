package conf

import (
	"strconv"
	"strings"
)

// positions maps the keys of a TOML document to the lines they are written
// on. BurntSushi/toml records key positions but does not export them, hence
// this small scanner. It only runs on text the decoder accepted, so it never
// diagnoses anything; it must only never loop or panic.
type positions struct {
	entries []entry
}

// entry is one key or table header. Keys are addressed as the decoder
// exposes them: within an element of an array of tables, or from the root.
type entry struct {
	arr  string // the array of tables the key is in ("listener"), "" if none
	occ  int    // the element of arr, from 0
	path string // dotted path within the element or from the root; "" is the element's own header
	line int
}

// line returns the line of path within element occ of arr ("" for the root),
// or of the nearest enclosing thing that is written in the file: the inline
// table holding it, or its table header. It returns 0 if nothing encloses
// path, e.g. a missing table.
func (p *positions) line(arr string, occ int, path string) int {
	best, bestLen := 0, -1
	for _, e := range p.entries {
		if e.arr == arr && e.occ == occ && covers(e.path, path) && len(e.path) > bestLen {
			best, bestLen = e.line, len(e.path)
		}
	}
	if best == 0 && arr != "" {
		// The array may be written inline: listener = [{...}, {...}].
		full := arr
		if path != "" {
			full += "." + path
		}
		return p.line("", 0, full)
	}
	return best
}

func covers(written, path string) bool {
	return written == path || written == "" || strings.HasPrefix(path, written+".")
}

func scanPositions(src string) *positions {
	s := &scanner{src: src, line: 1, arrays: make(map[string]int)}
	s.run()
	return &positions{entries: s.entries}
}

type scanner struct {
	src  string
	i    int
	line int

	arrays map[string]int // elements seen so far per array of tables

	// Where keys currently go: set by the last table header.
	arr    string
	occ    int
	prefix string

	entries []entry
}

func (s *scanner) peek() byte {
	if s.i < len(s.src) {
		return s.src[s.i]
	}
	return 0
}

func (s *scanner) run() {
	for {
		s.skipSpace(true)
		if s.i >= len(s.src) {
			return
		}
		line := s.line
		if s.peek() == '[' {
			double := strings.HasPrefix(s.src[s.i:], "[[")
			s.i++
			if double {
				s.i++
			}
			s.header(s.key(), double, line)
			s.skipToEOL()
			continue
		}
		parts := s.key()
		if len(parts) == 0 {
			s.skipToEOL() // not a key: cannot happen in valid TOML
			continue
		}
		s.entries = append(s.entries, entry{arr: s.arr, occ: s.occ, path: s.prefix + strings.Join(parts, "."), line: line})
		s.skipSpace(false)
		if s.peek() == '=' {
			s.i++
		}
		s.skipValue()
	}
}

func (s *scanner) header(parts []string, double bool, line int) {
	name := strings.Join(parts, ".")
	if double {
		s.arrays[name]++
		s.arr, s.occ, s.prefix = name, s.arrays[name]-1, ""
		s.entries = append(s.entries, entry{arr: s.arr, occ: s.occ, line: line})
		return
	}
	// [listener.tls] after [[listener]] belongs to that listener.
	for n := len(parts) - 1; n > 0; n-- {
		if c, ok := s.arrays[strings.Join(parts[:n], ".")]; ok {
			rest := strings.Join(parts[n:], ".")
			s.arr, s.occ, s.prefix = strings.Join(parts[:n], "."), c-1, rest+"."
			s.entries = append(s.entries, entry{arr: s.arr, occ: s.occ, path: rest, line: line})
			return
		}
	}
	s.arr, s.occ, s.prefix = "", 0, name+"."
	s.entries = append(s.entries, entry{path: name, line: line})
}

// key reads a bare, quoted or dotted key and returns its parts unquoted.
func (s *scanner) key() []string {
	var parts []string
	for {
		s.skipSpace(false)
		switch c := s.peek(); {
		case c == '"' || c == '\'':
			start := s.i
			s.skipString()
			parts = append(parts, unquote(s.src[start:s.i]))
		case isBare(c):
			start := s.i
			for s.i < len(s.src) && isBare(s.src[s.i]) {
				s.i++
			}
			parts = append(parts, s.src[start:s.i])
		default:
			return parts
		}
		s.skipSpace(false)
		if s.peek() != '.' {
			return parts
		}
		s.i++
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func unquote(q string) string {
	if len(q) < 2 {
		return q
	}
	if q[0] == '\'' {
		return q[1 : len(q)-1]
	}
	if u, err := strconv.Unquote(q); err == nil {
		return u
	}
	return q[1 : len(q)-1] // a TOML-only escape: close enough to match
}

// skipSpace skips blanks and comments, and newlines too if nl is set.
func (s *scanner) skipSpace(nl bool) {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\r':
		case '\n':
			if !nl {
				return
			}
			s.line++
		case '#':
			s.skipToEOL()
			continue
		default:
			return
		}
		s.i++
	}
}

// skipToEOL moves to the next newline, leaving it to be counted.
func (s *scanner) skipToEOL() {
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		s.i++
	}
}

// skipValue moves past a value, which ends at the first newline outside
// strings, arrays and inline tables.
func (s *scanner) skipValue() {
	depth := 0
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case '"', '\'':
			s.skipString()
			continue
		case '#':
			s.skipToEOL()
			continue
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case '\n':
			if depth <= 0 {
				return
			}
			s.line++
		}
		s.i++
	}
}

// skipString moves past a basic, literal or multi-line string, counting
// the newlines inside.
func (s *scanner) skipString() {
	q := s.src[s.i]
	escapes := q == '"'
	triple := strings.Repeat(string(q), 3)
	multi := strings.HasPrefix(s.src[s.i:], triple)
	if multi {
		s.i += 3
	} else {
		s.i++
	}
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\\' && escapes:
			if s.i+1 < len(s.src) && s.src[s.i+1] == '\n' {
				s.line++ // a line-ending backslash
			}
			s.i = min(s.i+2, len(s.src))
			continue
		case c == '\n':
			if !multi {
				return // cannot happen in valid TOML
			}
			s.line++
		case multi && strings.HasPrefix(s.src[s.i:], triple):
			s.i += 3
			// Up to two more quotes belong to the content: """a""""".
			for n := 0; n < 2 && s.peek() == q; n++ {
				s.i++
			}
			return
		case !multi && c == q:
			s.i++
			return
		}
		s.i++
	}
}
