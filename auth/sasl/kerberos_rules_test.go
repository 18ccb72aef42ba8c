package sasl

import (
	"strings"
	"testing"
)

// Cases from Kafka's KerberosNameTest (testParse, testToLowerCase,
// testInvalidRules) and its auth_to_local documentation.
func TestKerberosRules(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rules     []string
		principal string
		want      string
		wantErr   string
	}{
		{"default strips the default realm", nil, "alice@REALM.COM", "alice", ""},
		{"default keeps the first component", nil, "user/host@REALM.COM", "user", ""},
		{"default refuses other realms", nil, "alice@OTHER.COM", "", "no sasl.kerberos.principal.to.local.rules rule applies"},
		{"simple name unchanged", nil, "alice", "alice", ""},

		{"kafka testParse 1", []string{`RULE:[1:$1](App\..*)s/App\.(.*)/$1/g`, `RULE:[2:$1](App\..*)s/App\.(.*)/$1/g`, "DEFAULT"}, "App.service-name/example.com@REALM.COM", "service-name", ""},
		{"kafka testParse 2", []string{`RULE:[1:$1](App\..*)s/App\.(.*)/$1/g`, `RULE:[2:$1](App\..*)s/App\.(.*)/$1/g`, "DEFAULT"}, "App.service-name@REALM.COM", "service-name", ""},
		{"kafka testParse 3", []string{`RULE:[1:$1](App\..*)s/App\.(.*)/$1/g`, `RULE:[2:$1](App\..*)s/App\.(.*)/$1/g`, "DEFAULT"}, "user/host@REALM.COM", "user", ""},

		{"lower case", []string{`RULE:[1:$1]/L`, `RULE:[2:$1]/L`, `RULE:[2:$1;$2](^.*;.*$)s/^(.*);(.*)$/$1@$2/L`, "DEFAULT"}, "User@REALM.COM", "user", ""},
		{"lower case two components", []string{`RULE:[1:$1]/L`, `RULE:[2:$1]/L`, "DEFAULT"}, "TestABC/host@FOO.COM", "testabc", ""},
		{"realm in format", []string{`RULE:[1:$1@$0](.*@FOO.COM)s/@.*//`, "DEFAULT"}, "bob@FOO.COM", "bob", ""},
		{"first match only without g", []string{`RULE:[1:$1](.*)s/a/x/`}, "banana@R", "bxnana", ""},
		{"every match with g", []string{`RULE:[1:$1](.*)s/a/x/g`}, "banana@R", "bxnxnx", ""},
		{"match must be whole", []string{`RULE:[1:$1](ban)`}, "banana@R", "", "no sasl.kerberos.principal.to.local.rules rule applies"},
		{"non-simple result", []string{`RULE:[2:$1/$2]`}, "a/b@R", "", "non-simple name"},
		{"bad index", []string{`RULE:[1:$2]`}, "a@R", "", "outside of the valid range"},
		{"three components malformed", nil, "a/b/c@R", "", "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := ParseKerberosRules("REALM.COM", tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kr.ShortName(tc.principal)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("ShortName(%q) = %q, %v; want error %q", tc.principal, got, err, tc.wantErr)
			case tc.wantErr == "" && (err != nil || got != tc.want):
				t.Fatalf("ShortName(%q) = %q, %v; want %q", tc.principal, got, err, tc.want)
			}
		})
	}
}

func TestKerberosRulesInvalid(t *testing.T) {
	for _, rule := range []string{
		"default", "DEFAUL", "DEFAULT/g", "rule:[1:$1]", "rule:[1:$1]/L/U", "RULE:[1:$1]/U",
		"RULE:[1:$1]/L/U", "RULE:[1:$1]s/a/b", "RULE:[1:$1](*)", "RULE:[:$1]",
	} {
		if _, err := ParseKerberosRules("R", []string{rule}); err == nil {
			t.Errorf("rule %q accepted", rule)
		}
	}
}
