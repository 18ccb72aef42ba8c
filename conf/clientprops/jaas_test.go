package clientprops

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

const plainMod = "org.apache.kafka.common.security.plain.PlainLoginModule"

func TestParseJAAS(t *testing.T) {
	one := func(module, flag string, kv ...string) []JAASEntry {
		e := JAASEntry{Module: module, Flag: flag, Options: map[string]string{}}
		for i := 0; i < len(kv); i += 2 {
			e.Options[kv[i]] = kv[i+1]
		}
		return []JAASEntry{e}
	}
	for _, tt := range []struct {
		name, in string
		want     []JAASEntry
	}{
		{"quoted", plainMod + ` required username="alice" password="alice-secret";`,
			one(plainMod, "REQUIRED", "username", "alice", "password", "alice-secret")},
		{"unquoted, odd characters", plainMod + ` required username=alice password=p@ss:w0rd!#;`,
			one(plainMod, "REQUIRED", "username", "alice", "password", "p@ss:w0rd!#")},
		{"no options, flag in any case", "M Optional;", one("M", "OPTIONAL")},
		{"no space before the semicolon", `M required a="b";`, one("M", "REQUIRED", "a", "b")},
		{"spaces around =", "M required a = b ;", one("M", "REQUIRED", "a", "b")},
		{"newlines and tabs", "M\n\trequisite\r\n a=b\n;", one("M", "REQUISITE", "a", "b")},
		{"single quotes hold double ones", `M required a='say "hi"';`, one("M", "REQUIRED", "a", `say "hi"`)},
		{"escaped quote and backslash", `M required a="p\"w\\d" b='it\'s';`, one("M", "REQUIRED", "a", `p"w\d`, "b", "it's")},
		{"Java escapes", `M required a="\a\b\f\n\r\t\v\q";`, one("M", "REQUIRED", "a", "\a\b\f\n\r\t\vq")},
		{"octal escapes", `M required a="\101\7x" b="\477" c="\0";`, one("M", "REQUIRED", "a", "A\ax", "b", "'7", "c", "\x00")},
		{"empty quoted value", `M required a="";`, one("M", "REQUIRED", "a", "")},
		{"quoted string ends at a newline", "M required a=\"x\nb=c;", one("M", "REQUIRED", "a", "x", "b", "c")},
		{"last of a repeated key wins", "M required a=1 a=2;", one("M", "REQUIRED", "a", "2")},
		{"comments", "/* lead */ M required // to the end\n a=b /* mid */ ; / a lone slash too", one("M", "REQUIRED", "a", "b")},
		{"slash-slash comment", "M required a=b; // done", one("M", "REQUIRED", "a", "b")},
		{"non-ASCII", "M required user=Jürgen pass=\"пароль\";", one("M", "REQUIRED", "user", "Jürgen", "pass", "пароль")},
		{"quoted class and flag", `"M" "required" "k"="v";`, one("M", "REQUIRED", "k", "v")},
		{"two modules", "A required; B optional x=y;", []JAASEntry{
			{Module: "A", Flag: "REQUIRED", Options: map[string]string{}},
			{Module: "B", Flag: "OPTIONAL", Options: map[string]string{"x": "y"}},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJAAS(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseJAASErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "no login module: write one, e.g. '" + plainMod},
		{"  /* only a comment */ ", "no login module"},
		{"M", "M: control flag missing: follow the class with required"},
		{"M;", `M: control flag missing before ';'`},
		{"M mandatory;", `M: control flag "mandatory" is not valid: use required, requisite, sufficient or optional`},
		{`M required password="s3cret"`, "M: entry not terminated by a semicolon: end it with ;"},
		{`M required password=s3cret`, "not terminated by a semicolon"},
		{"M required password;", `M: value not specified for option "password": write password="value"`},
		{"M required password=;", `value not specified for option "password"`},
		{"M required password", `value not specified for option "password"`},
		{"M required path=/etc/secret;", `value not specified for option "path"`}, // '/' starts a comment, as in Kafka
		{"M required =s3cret;", `M: option name missing before '='`},
		{"; M required;", "login module class missing before ';'"},
		{"M required a=b\u0085;", "M: option name missing before"},           // U+0085 is no word character in Java's tokenizer
		{"M required a=b; # a comment?", `#: control flag "a" is not valid`}, // '#' is a word character
	} {
		_, err := ParseJAAS(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseJAAS(%q) = %v, want an error containing %q", tt.in, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseJAAS(%q): error %q holds the password", tt.in, err)
		}
	}
}

// FuzzParseJAAS checks that any input parses or fails without panicking,
// and that what parses writes back (every token quoted) to the same
// entries.
func FuzzParseJAAS(f *testing.F) {
	for _, s := range []string{
		plainMod + ` required username="alice" password="alice-secret";`,
		`M required a='x\'y' b="\101\n" c=d; N optional;`,
		"/* c */ M required // x\n a=b;",
		"M required a=\"x\nb=c;",
		"M required a=b\u0085;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := ParseJAAS(s)
		if err != nil {
			if entries != nil {
				t.Fatalf("entries %v with error %v", entries, err)
			}
			return
		}
		if len(entries) == 0 {
			t.Fatal("no entries and no error")
		}
		if !utf8.ValidString(s) {
			return // invalid bytes read back as U+FFFD inside quotes
		}
		var b strings.Builder
		for _, e := range entries {
			b.WriteString(jaasQuote(e.Module) + " " + jaasQuote(e.Flag))
			for k, v := range e.Options {
				b.WriteString(" " + jaasQuote(k) + "=" + jaasQuote(v))
			}
			b.WriteString(";\n")
		}
		again, err := ParseJAAS(b.String())
		if err != nil {
			t.Fatalf("%q parsed, but written back as %q: %v", s, b.String(), err)
		}
		if !reflect.DeepEqual(entries, again) {
			t.Fatalf("%q parsed to %+v, written back as %q to %+v", s, entries, b.String(), again)
		}
	})
}

// jaasQuote quotes s so that ParseJAAS reads it back unchanged.
func jaasQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}
