package principal

import (
	"errors"
	"strings"
	"testing"
)

// The cases are Kafka's SslPrincipalMapperTest's.

func TestValidRules(t *testing.T) {
	for _, rules := range []string{
		"DEFAULT",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
		"RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
		"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
		"RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
	} {
		if _, err := ParseRules(rules); err != nil {
			t.Errorf("ParseRules(%q): %v", rules, err)
		}
	}
}

func TestInvalidRules(t *testing.T) {
	for _, rules := range []string{
		"default",
		"DEFAUL",
		"DEFAULT/L",
		"DEFAULT/U",
		"RULE:CN=(.*?),OU=ServiceUsers.*/$1",
		"rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
		// Beyond Kafka's cases: what RE2 cannot compile, and replacements
		// Java's appendReplacement would throw on at every connection.
		`RULE:^CN=(\w+),O=\1$/$1/`,
		`RULE:^CN=(?=a).*$/x/`,
		"RULE:^CN=.*$/$1/",
		"RULE:^CN=(.*)$/${user}/",
		"RULE:^CN=(.*)$/$x/",
		`RULE:^CN=(.*)$/a\/`,
	} {
		if m, err := ParseRules(rules); err == nil {
			t.Errorf("ParseRules(%q) = %s, want an error", rules, m)
		}
	}
}

func TestMapper(t *testing.T) {
	m, err := ParseRules(strings.Join([]string{
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
		"RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U",
		"DEFAULT",
	}, ", "))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dn, want string }{
		{"CN=Duke,OU=ServiceUsers,O=Org,C=US", "duke"},
		{"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US", "duke@sme"},
		{"cn=duke,ou=sme,dc=mycp,dc=com", "DUKE@SME"},
		{"cN=duke,OU=JavaSoft,O=Sun Microsystems", "DUKE"},
		{"OU=JavaSoft,O=Sun Microsystems,C=US", "OU=JavaSoft,O=Sun Microsystems,C=US"},
	} {
		if got, err := m.Name(c.dn); err != nil || got != c.want {
			t.Errorf("Name(%q) = %q, %v; want %q", c.dn, got, err, c.want)
		}
	}
}

func TestCommaWithWhitespace(t *testing.T) {
	m, err := ParseRules(`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Name(`CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz`); err != nil || got != `Tkac\, Adam` {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestRulesSplitting(t *testing.T) {
	for _, c := range []struct{ want, rules string }{
		{"[]", ""},
		{"[DEFAULT]", "DEFAULT"},
		{"[RULE:/]", "RULE://"},
		{"[RULE:/.*]", "RULE:/.*/"},
		{"[RULE:/.*/L]", "RULE:/.*/L"},
		{"[RULE:/, DEFAULT]", "RULE://,DEFAULT"},
		{"[RULE:/, DEFAULT]", "  RULE:// ,  DEFAULT  "},
		{"[RULE:   /     , DEFAULT]", "  RULE:   /     / ,  DEFAULT  "},
		{"[RULE:  /     /U, DEFAULT]", "  RULE:  /     /U   ,DEFAULT  "},
		{"[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]", "  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  "},
		// empty rules are ignored
		{"[]", ",   , , ,      , , ,   "},
		{"[RULE:/, DEFAULT]", ",,RULE://,,,DEFAULT,,"},
		{"[RULE: /   , DEFAULT]", ",  , RULE: /   /    ,,,   DEFAULT, ,   "},
		{"[RULE:   /  /U, DEFAULT]", "     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,"},
		// escape sequences
		{`[RULE:\/\\\(\)\n\t/\/\/]`, `RULE:\/\\\(\)\n\t/\/\//`},
		{`[RULE:\**\/+/*/L, RULE:\/*\**/**]`, `RULE:\**\/+/*/L,RULE:\/*\**/**/`},
		// rules rule
		{`[RULE:,RULE:,/,RULE:,\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT, DEFAULT]`,
			`RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT`},
	} {
		m, err := ParseRules(c.rules)
		if err != nil {
			t.Errorf("ParseRules(%q): %v", c.rules, err)
			continue
		}
		if got := m.String(); got != c.want {
			t.Errorf("ParseRules(%q) = %s, want %s", c.rules, got, c.want)
		}
	}
}

func TestReplacement(t *testing.T) {
	for _, c := range []struct{ rules, dn, want string }{
		// $N beyond the groups is a literal, after cutting digits (Kafka's
		// escapeLiteralBackReferences): $12 with one group is $1 then "2".
		{"RULE:^CN=(.*?),.*$/$1@$4/", "CN=a,O=b", "a@$4"},
		{"RULE:^CN=(.*?),.*$/$12/", "CN=a,O=b", "a2"},
		{"RULE:^CN=(.*?),.*$/$0/", "CN=a,O=b", "CN=a,O=b"},
		{`RULE:^CN=(.*?),.*$/\$1-$1/`, "CN=a,O=b", "$1-a"},
		{"RULE:^CN=(?P<user>[^,]*),.*$/${user}!/U", "CN=a,O=b", "A!"},
		// Every match is replaced, as String.replaceAll does.
		{"RULE:[ab]/x/", "a", "x"},
		{"RULE:a|ab|b/x/", "ab", "xx"}, // matches whole, then found as "a" and "b"
		// An optional group that took no part gives nothing.
		{"RULE:^CN=(a)?(b)$/[$1]/", "CN=b", "[]"},
	} {
		m, err := ParseRules(c.rules)
		if err != nil {
			t.Errorf("ParseRules(%q): %v", c.rules, err)
			continue
		}
		if got, err := m.Name(c.dn); err != nil || got != c.want {
			t.Errorf("%s on %q = %q, %v; want %q", c.rules, c.dn, got, err, c.want)
		}
	}
}

func TestNoMatchingRule(t *testing.T) {
	m, err := ParseRules("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Name("CN=a,OU=Other"); !errors.Is(err, ErrNoMatchingRule) {
		t.Errorf("got %v, want ErrNoMatchingRule", err)
	}
	empty, err := ParseRules(" , ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Name("CN=a"); !errors.Is(err, ErrNoMatchingRule) {
		t.Errorf("no rules: got %v, want ErrNoMatchingRule", err)
	}
}
