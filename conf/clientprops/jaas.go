package clientprops

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// JAASEntry is one login module of a sasl.jaas.config value.
type JAASEntry struct {
	// Module is the login module's Java class name.
	Module string
	// Flag is the control flag, upper-cased: REQUIRED, REQUISITE,
	// SUFFICIENT or OPTIONAL.
	Flag string
	// Options are the module's key=value options; a key given twice
	// keeps its last value, as in Kafka.
	Options map[string]string
}

// ParseJAAS parses a sasl.jaas.config value as Kafka's JaasConfig does:
//
//	<LoginModule class> <control flag> (<key>=<value>)*;
//
// with Java's StreamTokenizer rules as Kafka sets them up: bytes up to the
// space are white space; ';' and '=' are tokens of their own; values may be
// quoted with " or ' (Java escapes \n, \t, \\, \", octal \NNN and so on
// apply inside quotes, and a quoted string ends at the end of a line); "/"
// starts a comment to the end of the line, as do "//" and "/* ... */"
// around a comment, so an unquoted value cannot hold a slash. Every
// entry must end with a semicolon.
//
// Errors never quote option values: the value of sasl.jaas.config holds
// passwords.
func ParseJAAS(s string) ([]JAASEntry, error) {
	t := jaasTokenizer{s: s}
	var entries []JAASEntry
	for {
		tok := t.next()
		if tok.kind == tokEOF {
			break
		}
		e, err := parseJAASEntry(&t, tok)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, errors.New("no login module: write one, e.g. " + jaasExample("PLAIN"))
	}
	return entries, nil
}

func parseJAASEntry(t *jaasTokenizer, first jaasToken) (JAASEntry, error) {
	if !first.text {
		return JAASEntry{}, fmt.Errorf("login module class missing before %q", first.char)
	}
	e := JAASEntry{Module: first.val, Options: make(map[string]string)}
	flag := t.next()
	switch {
	case flag.kind == tokEOF:
		return JAASEntry{}, fmt.Errorf("%s: control flag missing: follow the class with required", e.Module)
	case !flag.text:
		return JAASEntry{}, fmt.Errorf("%s: control flag missing before %q: follow the class with required", e.Module, flag.char)
	}
	switch f := strings.ToUpper(flag.val); f {
	case "REQUIRED", "REQUISITE", "SUFFICIENT", "OPTIONAL":
		e.Flag = f
	default:
		// A flag is a keyword, not a secret: quoting it helps.
		return JAASEntry{}, fmt.Errorf("%s: control flag %q is not valid: use required, requisite, sufficient or optional", e.Module, flag.val)
	}
	for {
		key := t.next()
		if key.kind == tokEOF {
			return JAASEntry{}, fmt.Errorf("%s: entry not terminated by a semicolon: end it with ;", e.Module)
		}
		if !key.text && key.char == ';' {
			return e, nil
		}
		if !key.text {
			return JAASEntry{}, fmt.Errorf("%s: option name missing before %q", e.Module, key.char)
		}
		eq := t.next()
		if eq.text || eq.kind == tokEOF || eq.char != '=' {
			return JAASEntry{}, fmt.Errorf("%s: value not specified for option %q: write %s=\"value\"", e.Module, key.val, key.val)
		}
		val := t.next()
		if !val.text {
			return JAASEntry{}, fmt.Errorf("%s: value not specified for option %q: write %s=\"value\"", e.Module, key.val, key.val)
		}
		e.Options[key.val] = val.val
	}
}

type jaasKind int8

const (
	tokEOF jaasKind = iota
	tokWord
	tokQuoted
	tokChar // an ordinary character: ';', '=', or U+0081..U+009F
)

type jaasToken struct {
	kind jaasKind
	text bool   // a word or a quoted string: val holds it
	val  string // the text, for words and quoted strings
	char rune   // the character, for tokChar
}

// jaasTokenizer is java.io.StreamTokenizer as Kafka's JaasConfig sets it
// up, on runes instead of UTF-16 units (the same for every class: what
// Java sees as a surrogate is a word character either way).
type jaasTokenizer struct {
	s   string
	pos int
}

const eof = -1

func (t *jaasTokenizer) read() rune {
	if t.pos >= len(t.s) {
		return eof
	}
	r, n := utf8.DecodeRuneInString(t.s[t.pos:])
	t.pos += n
	return r
}

func (t *jaasTokenizer) peek() rune {
	if t.pos >= len(t.s) {
		return eof
	}
	r, _ := utf8.DecodeRuneInString(t.s[t.pos:])
	return r
}

// class is the StreamTokenizer character type after Kafka's resetSyntax,
// wordChars(32, 128), wordChars(160, 255), whitespaceChars(0, ' '),
// ordinaryChar(';'), ordinaryChar('='), commentChar('/') and quoteChar for
// both quotes. Characters above 255 are word characters in Java.
func jaasClass(r rune) byte {
	switch {
	case r == eof:
		return 'w' // Java treats the end as white space
	case r <= ' ':
		return 'w'
	case r == ';' || r == '=':
		return 'o'
	case r == '/':
		return 'c'
	case r == '"' || r == '\'':
		return 'q'
	case r <= 128, r >= 160:
		return 'a'
	}
	return 'o' // 129..159
}

func (t *jaasTokenizer) next() jaasToken {
	for {
		start := t.pos
		c := t.read()
		for c != eof && jaasClass(c) == 'w' {
			start = t.pos
			c = t.read()
		}
		if c == eof {
			return jaasToken{kind: tokEOF}
		}
		switch jaasClass(c) {
		case 'a':
			for {
				r := t.peek()
				if r == eof || jaasClass(r) != 'a' {
					break
				}
				t.read()
			}
			return jaasToken{kind: tokWord, text: true, val: t.s[start:t.pos]}
		case 'q':
			return jaasToken{kind: tokQuoted, text: true, val: t.quoted(c)}
		case 'c':
			// "/*" opens a block comment; "//" or "/" alone a line
			// comment, since '/' is itself a comment character.
			if t.peek() == '*' {
				t.read()
				prev := rune(0)
				for {
					r := t.read()
					if r == eof {
						return jaasToken{kind: tokEOF}
					}
					if r == '/' && prev == '*' {
						break
					}
					prev = r
				}
				continue
			}
			for r := t.peek(); r != eof && r != '\n' && r != '\r'; r = t.peek() {
				t.read()
			}
			continue
		}
		return jaasToken{kind: tokChar, char: c}
	}
}

// quoted reads a quoted string after its opening quote q, with
// StreamTokenizer's escapes. Like Java, it ends at the closing quote, at
// the end of a line (left for the next token) or at the end of the input.
func (t *jaasTokenizer) quoted(q rune) string {
	var b strings.Builder
	for {
		r := t.peek()
		if r == eof || r == '\n' || r == '\r' {
			return b.String()
		}
		t.read()
		if r == q {
			return b.String()
		}
		if r != '\\' {
			b.WriteRune(r)
			continue
		}
		c := t.read()
		switch {
		case c == eof:
			return b.String()
		case c >= '0' && c <= '7':
			// Up to three octal digits, the third only after a first
			// digit of 0..3 so that the value fits a byte (\377).
			n := c - '0'
			if d := t.peek(); d >= '0' && d <= '7' {
				t.read()
				n = n<<3 + d - '0'
				if d := t.peek(); d >= '0' && d <= '7' && c <= '3' {
					t.read()
					n = n<<3 + d - '0'
				}
			}
			b.WriteRune(n)
		default:
			b.WriteRune(jaasEscape(c))
		}
	}
}

func jaasEscape(c rune) rune {
	switch c {
	case 'a':
		return 0x7
	case 'b':
		return '\b'
	case 'f':
		return 0xC
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'v':
		return 0xB
	}
	return c // \\, \", \' and any other character stand for themselves
}
