package sasl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// KerberosRules are Kafka's sasl.kerberos.principal.to.local.rules: they
// map a Kerberos principal ("alice@REALM", "kafka/host@REALM") to the
// short name Kafka uses as the principal's user, as KerberosShortNamer
// does. Each rule is DEFAULT or RULE:[n:format](match)s/from/to/[g][/L].
type KerberosRules struct {
	realm string // the default realm, which DEFAULT strips
	rules []kerberosRule
}

type kerberosRule struct {
	text      string
	isDefault bool
	n         int
	format    string
	match     *regexp.Regexp // whole-string match, as Java's matches()
	from      *regexp.Regexp
	to        string // in Go's Expand syntax
	global    bool
	lower     bool
}

// ruleParser is Kafka's RULE_PARSER pattern.
var ruleParser = regexp.MustCompile(`^((DEFAULT)|(RULE:\[(\d*):([^\]]*)](\(([^)]*)\))?(s/([^/]*)/([^/]*)/(g)?)?))/?(L)?$`)

// ParseKerberosRules parses rules for a realm whose principals DEFAULT maps
// to their first component. No rules means Kafka's default, DEFAULT.
func ParseKerberosRules(defaultRealm string, rules []string) (*KerberosRules, error) {
	if len(rules) == 0 {
		rules = []string{"DEFAULT"}
	}
	kr := &KerberosRules{realm: defaultRealm}
	for _, text := range rules {
		m := ruleParser.FindStringSubmatch(text)
		if m == nil {
			return nil, fmt.Errorf("invalid rule %q: use DEFAULT or RULE:[n:format](regexp)s/pattern/replacement/[g][/L]", text)
		}
		r := kerberosRule{text: text, lower: m[12] == "L"}
		if m[2] != "" {
			r.isDefault = true
			kr.rules = append(kr.rules, r)
			continue
		}
		n, err := strconv.Atoi(m[4])
		if err != nil {
			return nil, fmt.Errorf("invalid rule %q: the number of components %q is not a number", text, m[4])
		}
		r.n, r.format, r.global = n, m[5], m[11] == "g"
		if m[6] != "" {
			if r.match, err = regexp.Compile(`^(?:` + m[7] + `)$`); err != nil {
				return nil, fmt.Errorf("invalid rule %q: match pattern: %v", text, err)
			}
		}
		if m[8] != "" {
			if r.from, err = regexp.Compile(m[9]); err != nil {
				return nil, fmt.Errorf("invalid rule %q: substitution pattern: %v", text, err)
			}
			r.to = javaReplacement(m[10])
		}
		kr.rules = append(kr.rules, r)
	}
	return kr, nil
}

// javaReplacement turns a Java Matcher replacement ("$1", "\$") into
// Go's Expand template ("${1}", "$$").
func javaReplacement(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(s[i])
			}
		case c == '$':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 {
				b.WriteString("$$") // Java throws; keep it literal
				continue
			}
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ShortName maps a principal: the result of the first rule that applies,
// or an error when none does or a rule yields a name with "/" or "@".
func (kr *KerberosRules) ShortName(principal string) (string, error) {
	params, err := principalParams(principal)
	if err != nil {
		return "", err
	}
	if params == nil {
		return principal, nil // already simple
	}
	for _, r := range kr.rules {
		name, ok, err := r.apply(kr.realm, params)
		if err != nil {
			return "", err
		}
		if ok {
			return name, nil
		}
	}
	return "", fmt.Errorf("no sasl.kerberos.principal.to.local.rules rule applies to %s", principal)
}

// principalParams splits "a/b@R" into {R, a, b}, as Kafka's KerberosName
// does; nil for a name without realm (already simple).
func principalParams(p string) ([]string, error) {
	at := strings.IndexByte(p, '@')
	if at < 0 {
		return nil, nil // Kafka keeps a name without realm whole
	}
	name, realm := p[:at], p[at+1:]
	if strings.ContainsAny(realm, "/@") {
		return nil, fmt.Errorf("malformed Kerberos name %q", p)
	}
	parts := strings.Split(name, "/")
	if len(parts) > 2 {
		return nil, fmt.Errorf("malformed Kerberos name %q: more than two components", p)
	}
	return append([]string{realm}, parts...), nil
}

func (r *kerberosRule) apply(defaultRealm string, params []string) (string, bool, error) {
	var result string
	ok := false
	if r.isDefault {
		if params[0] == defaultRealm {
			result, ok = params[1], true
		}
	} else if len(params)-1 == r.n {
		base, err := replaceParameters(r.format, params)
		if err != nil {
			return "", false, fmt.Errorf("rule %q: %v", r.text, err)
		}
		if r.match == nil || r.match.MatchString(base) {
			result, ok = base, true
			if r.from != nil {
				result = substitute(base, r.from, r.to, r.global)
			}
		}
	}
	if ok && strings.ContainsAny(result, "/@") {
		return "", false, fmt.Errorf("non-simple name %q after sasl.kerberos.principal.to.local.rules rule %s", result, r.text)
	}
	if ok && r.lower {
		result = strings.ToLower(result)
	}
	return result, ok, nil
}

// replaceParameters replaces $n in format with params[n] ($0 the realm).
func replaceParameters(format string, params []string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '$' {
			b.WriteByte(format[i])
			continue
		}
		j := i + 1
		for j < len(format) && format[j] >= '0' && format[j] <= '9' {
			j++
		}
		if j == i+1 {
			return "", fmt.Errorf("bad format %q: $ without a component number", format)
		}
		n, err := strconv.Atoi(format[i+1 : j])
		if err != nil || n >= len(params) {
			return "", fmt.Errorf("index %s from %q is outside of the valid range 0 to %d", format[i+1:j], format, len(params)-1)
		}
		b.WriteString(params[n])
		i = j - 1
	}
	return b.String(), nil
}

func substitute(base string, from *regexp.Regexp, to string, global bool) string {
	if global {
		return from.ReplaceAllString(base, to)
	}
	loc := from.FindStringSubmatchIndex(base)
	if loc == nil {
		return base
	}
	var out []byte
	out = append(out, base[:loc[0]]...)
	out = from.ExpandString(out, to, base, loc)
	return string(append(out, base[loc[1]:]...))
}
