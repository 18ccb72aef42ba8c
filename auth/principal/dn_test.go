package principal

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

func TestDistinguishedName(t *testing.T) {
	email := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	uid := asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	dc := asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	cn := asn1.ObjectIdentifier{2, 5, 4, 3}
	ou := asn1.ObjectIdentifier{2, 5, 4, 11}
	for _, c := range []struct {
		name string
		rdns pkix.RDNSequence
		want string
	}{
		{"most specific first", pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}, Organization: []string{"Acme"},
			Country: []string{"US"}, Province: []string{"MD"}, Locality: []string{"Fulton"}, StreetAddress: []string{"1 Main St"}}.ToRDNSequence(),
			"CN=alice,OU=eng,O=Acme,STREET=1 Main St,L=Fulton,ST=MD,C=US"},
		{"escapes", pkix.Name{CommonName: `Tkac, Adam+x="1"<2>;#3=\`}.ToRDNSequence(), `CN=Tkac\, Adam\+x\=\"1\"\<2\>\;\#3\=\\`},
		{"leading and trailing spaces", pkix.Name{CommonName: "  a b "}.ToRDNSequence(), `CN=\ \ a b\ `},
		{"NUL", pkix.RDNSequence{{{Type: cn, Value: "a\x00b"}}}, `CN=a\00b`},
		{"UTF-8 kept", pkix.Name{CommonName: "Zoë"}.ToRDNSequence(), "CN=Zoë"},
		// Java has no RFC 2253 keyword for these: OID=#DER in hex.
		{"email and serial number", pkix.RDNSequence{
			{{Type: email, Value: asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte("a@b.c")}}}, // IA5, as OpenSSL writes it
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 5}, Value: "123"}},
		}, "2.5.4.5=#1303313233,1.2.840.113549.1.9.1=#16056140622e63"},
		{"DC and UID", pkix.RDNSequence{{{Type: dc, Value: "com"}}, {{Type: dc, Value: "example"}}, {{Type: uid, Value: "jdoe"}}},
			"UID=jdoe,DC=example,DC=com"},
		{"multi-valued RDN", pkix.RDNSequence{{{Type: cn, Value: "xy"}, {Type: ou, Value: "ab"}}}, "CN=xy+OU=ab"},
		// A keyword type whose value is not text (an INTEGER): #hex.
		{"non-text value", pkix.RDNSequence{{{Type: cn, Value: 5}}}, "CN=#020105"},
		{"empty", pkix.RDNSequence{}, ""},
	} {
		der, err := asn1.Marshal(c.rdns)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DistinguishedName(der)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if _, err := DistinguishedName([]byte{0x30, 0x05, 1}); err == nil {
		t.Error("a truncated subject parsed")
	}
}
