package principal

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

// FuzzDistinguishedName feeds subjects that do not come from a trusted
// source: the client's certificate is parsed before it is verified.
func FuzzDistinguishedName(f *testing.F) {
	for _, n := range []pkix.Name{{CommonName: "alice", Organization: []string{"Acme"}}, {CommonName: ` #,+"\<>;=`}, {}} {
		der, err := asn1.Marshal(n.ToRDNSequence())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		DistinguishedName(der) // must not panic
	})
}

func FuzzParseRules(f *testing.F) {
	for _, s := range []string{"DEFAULT", "RULE:^CN=(.*?),OU=(.*?).*$/$1@$2/L,DEFAULT", `RULE:\/\\/$12\$x${n}/U`, ",,", "RULE:(?P<n>a)/${n}/"} {
		f.Add(s, "CN=a,OU=b")
	}
	f.Fuzz(func(t *testing.T, rules, dn string) {
		m, err := ParseRules(rules)
		if err != nil {
			return
		}
		m.Name(dn) // must not panic, whatever the replacement refers to
		_ = m.String()
	})
}
