// Package principal turns a TLS client's certificate into its Kafka
// principal name, as Kafka's DefaultKafkaPrincipalBuilder does on SSL
// listeners: the certificate subject, written as Java's
// X500Principal.getName() writes it ([DistinguishedName]), mapped by the
// rules of ssl.principal.mapping.rules ([ParseRules], Kafka's
// SslPrincipalMapper).
//
// Rule patterns are regular expressions. Kafka's are Java's; linkproxy's
// are Go's (RE2), which share the common syntax but have no
// back-references, look-around or possessive quantifiers: a rule using
// them is refused when the rules are parsed, never at connection time.
package principal

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DefaultRules is Kafka's default ssl.principal.mapping.rules: the
// distinguished name itself.
const DefaultRules = "DEFAULT"

// Kafka's grammar, from SslPrincipalMapper. Only RE2 syntax is used, and
// Go's leftmost-first matching picks the same alternatives as Java's
// backtracking for it.
const rulePattern = `(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)`

var (
	ruleSplitter = regexp.MustCompile(`\s*(` + rulePattern + `)\s*(,\s*|$)`)
	ruleParser   = regexp.MustCompile(`^(?:` + rulePattern + `)`)
	backRef      = regexp.MustCompile(`\$([0-9]+)`)
)

// ErrNoMatchingRule is returned by [Mapper.Name] when no rule applies to
// a name, which Kafka treats as an authentication failure.
var ErrNoMatchingRule = errors.New("no ssl.principal.mapping.rules rule applies")

// Mapper applies ssl.principal.mapping.rules.
type Mapper struct {
	rules []rule
}

type rule struct {
	isDefault        bool
	pattern, replace string // as written, for String
	full             *regexp.Regexp
	re               *regexp.Regexp
	repl             []replPart
	lower, upper     bool
}

// replPart is a literal, or a group reference when group >= 0.
type replPart struct {
	lit   string
	group int
}

// ParseRules parses ssl.principal.mapping.rules: comma-separated rules,
// each DEFAULT or RULE:pattern/replacement/ with an optional L or U after
// the last slash to lower- or upper-case the result. Empty rules are
// skipped, as in Kafka. Beyond Kafka, a replacement that refers to a group
// the pattern does not have is refused here; Kafka would fail every
// connection it applies to.
func ParseRules(s string) (*Mapper, error) {
	m := &Mapper{}
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }) // Java's trim
	for i, sub := range ruleSplitter.FindAllStringSubmatch(s, -1) {
		text := sub[1]
		loc := ruleParser.FindStringSubmatchIndex(text)
		if loc == nil {
			return nil, fmt.Errorf("invalid rule %q", text)
		}
		if loc[1] != len(text) {
			return nil, fmt.Errorf("invalid rule %q: %q is left over: write DEFAULT or RULE:pattern/replacement/ with L or U after the last slash", text, text[loc[1]:])
		}
		group := func(n int) (string, bool) {
			if loc[2*n] < 0 {
				return "", false
			}
			return text[loc[2*n]:loc[2*n+1]], true
		}
		if _, ok := group(1); ok {
			m.rules = append(m.rules, rule{isDefault: true})
			continue
		}
		pattern, ok := group(2)
		if !ok {
			continue // an empty rule
		}
		replace, _ := group(4)
		flag, _ := group(6)
		r, err := newRule(pattern, replace, flag)
		if err != nil {
			return nil, fmt.Errorf("rule %d (%q): %w", i+1, text, err)
		}
		m.rules = append(m.rules, r)
	}
	return m, nil
}

func newRule(pattern, replace, flag string) (rule, error) {
	r := rule{pattern: pattern, replace: replace, lower: flag == "L", upper: flag == "U"}
	var err error
	if r.re, err = regexp.Compile(pattern); err != nil {
		return r, fmt.Errorf("the pattern does not compile: %v (patterns are Go regular expressions: Java's syntax without back-references, look-around or possessive quantifiers)", err)
	}
	r.full = regexp.MustCompile(`\A(?:` + pattern + `)\z`)
	escaped, err := escapeLiteralBackReferences(replace, r.re.NumSubexp())
	if err == nil {
		r.repl, err = compileReplacement(escaped, r.re)
	}
	if err != nil {
		return r, fmt.Errorf("the replacement %q: %w", replace, err)
	}
	return r, nil
}

// escapeLiteralBackReferences is Kafka's (from Apache NiFi): a $N naming
// a group the pattern does not have becomes a literal "$N", after cutting
// trailing digits off N while it is too large. Positions are taken in the
// original string while the copy grows, exactly as Kafka does.
func escapeLiteralBackReferences(unescaped string, groups int) (string, error) {
	if groups == 0 {
		return unescaped, nil
	}
	value := unescaped
	for _, m := range backRef.FindAllStringSubmatchIndex(unescaped, -1) {
		num := unescaped[m[2]:m[3]]
		if strings.HasPrefix(num, "0") {
			continue
		}
		idx, err := strconv.ParseInt(num, 10, 32)
		if err != nil { // Java's Integer.parseInt throws on every connection
			return "", fmt.Errorf("$%s: the group number is too large", num)
		}
		for idx > int64(groups) && idx >= 10 {
			idx /= 10
		}
		if idx > int64(groups) {
			start := m[2]
			if start-1 <= len(value) {
				value = value[:start-1] + `\` + value[start-1:]
			}
		}
	}
	return value, nil
}

// compileReplacement parses a replacement as Java's
// Matcher.appendReplacement reads it: \x is a literal x, $N the longest
// group number that exists, ${name} a named group.
func compileReplacement(s string, re *regexp.Regexp) ([]replPart, error) {
	var parts []replPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, replPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	groups := re.NumSubexp()
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '\\':
			if i+1 == len(s) {
				return nil, errors.New(`ends with a lone \: escape it as \\`)
			}
			lit.WriteByte(s[i+1])
			i += 2
		case '$':
			i++
			if i == len(s) {
				return nil, errors.New(`ends with a lone $: escape it as \$`)
			}
			var g int
			if s[i] == '{' {
				end := strings.IndexByte(s[i:], '}')
				if end < 0 {
					return nil, errors.New("has ${ without a closing }")
				}
				name := s[i+1 : i+end]
				if g = re.SubexpIndex(name); g < 0 {
					return nil, fmt.Errorf("refers to group %q, which the pattern does not name", name)
				}
				i += end + 1
			} else {
				if s[i] < '0' || s[i] > '9' {
					return nil, fmt.Errorf(`has $ not followed by a group number: escape it as \$`)
				}
				g = int(s[i] - '0')
				i++
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					n := g*10 + int(s[i]-'0')
					if n > groups {
						break
					}
					g = n
					i++
				}
				if g > groups {
					return nil, fmt.Errorf("refers to group %d, but the pattern has %d", g, groups)
				}
			}
			flush()
			parts = append(parts, replPart{group: g})
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return parts, nil
}

// apply is Kafka's Rule.apply: if the pattern matches the whole name, the
// name with every match replaced, else "" and false.
//
// Kafka replaces with Java's String.replaceAll, which also takes an empty
// match right after a non-empty one; Go's matching does not, so an
// unanchored pattern that can match nothing (".*") gives the replacement
// once here where Java gives it twice. Anchor such patterns with ^.
func (r rule) apply(name string) (string, bool) {
	if r.isDefault {
		return name, true
	}
	if !r.full.MatchString(name) {
		return "", false
	}
	var b strings.Builder
	last := 0
	for _, m := range r.re.FindAllStringSubmatchIndex(name, -1) {
		b.WriteString(name[last:m[0]])
		for _, p := range r.repl {
			switch {
			case p.group < 0:
				b.WriteString(p.lit)
			case m[2*p.group] >= 0:
				b.WriteString(name[m[2*p.group]:m[2*p.group+1]])
			}
		}
		last = m[1]
	}
	b.WriteString(name[last:])
	out := b.String()
	switch {
	case r.lower:
		out = strings.ToLower(out)
	case r.upper:
		out = strings.ToUpper(out)
	}
	return out, true
}

// Name maps a distinguished name by the first rule that applies, or
// returns ErrNoMatchingRule.
func (m *Mapper) Name(dn string) (string, error) {
	for _, r := range m.rules {
		if out, ok := r.apply(dn); ok {
			return out, nil
		}
	}
	return "", fmt.Errorf("%w to %q (rules %s): add a rule for it, or DEFAULT last", ErrNoMatchingRule, dn, m)
}

// Len is the number of rules; with none, no name maps.
func (m *Mapper) Len() int { return len(m.rules) }

// String lists the rules as Kafka's SslPrincipalMapper.toString does.
func (m *Mapper) String() string {
	parts := make([]string, len(m.rules))
	for i, r := range m.rules {
		if r.isDefault {
			parts[i] = "DEFAULT"
			continue
		}
		s := "RULE:" + r.pattern + "/" + r.replace
		switch {
		case r.lower:
			s += "/L"
		case r.upper:
			s += "/U"
		}
		parts[i] = s
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
