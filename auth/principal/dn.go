package principal

import (
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
)

// The attribute types Java's X500Principal writes by keyword in RFC 2253
// form; every other type is written as its dotted OID.
var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

// The universal tags whose values Java writes as text (sun.security.x509
// AVA.isDerString, non-canonical): PrintableString, T61String, IA5String,
// GeneralString, BMPString, UTF8String. Others are written as #hex.
var textTags = map[int]bool{19: true, 20: true, 22: true, 27: true, 30: true, 12: true}

type attribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// attributeSET decodes as ASN.1 SET OF (encoding/asn1 keys on the suffix).
type attributeSET []attribute

// DistinguishedName writes a DER-encoded X.500 name (a certificate's
// RawSubject) as Java's X500Principal.getName() does, the form Kafka's
// ssl.principal.mapping.rules see: RFC 2253, most specific RDN first, e.g.
// "CN=alice,OU=eng,O=Acme,C=US". Values are escaped as Java escapes them
// (",=+<>#;\"\\" with a backslash, and leading or trailing spaces);
// attributes without an RFC 2253 keyword (emailAddress, serialNumber, ...)
// are written as OID=#hex of their DER value, as Java writes them.
func DistinguishedName(der []byte) (string, error) {
	var rdns []attributeSET
	rest, err := asn1.Unmarshal(der, &rdns)
	if err != nil {
		return "", fmt.Errorf("the certificate subject does not parse: %w", err)
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("the certificate subject has %d trailing bytes", len(rest))
	}
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if i < len(rdns)-1 {
			b.WriteByte(',')
		}
		for j, a := range rdns[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			writeAttribute(&b, a)
		}
	}
	return b.String(), nil
}

func writeAttribute(b *strings.Builder, a attribute) {
	oid := a.Type.String()
	kw, ok := rfc2253Keywords[oid]
	if !ok || a.Value.Class != asn1.ClassUniversal || !textTags[a.Value.Tag] {
		if !ok {
			kw = oid
		}
		b.WriteString(kw)
		b.WriteString("=#")
		b.WriteString(hex.EncodeToString(a.Value.FullBytes))
		return
	}
	b.WriteString(kw)
	b.WriteByte('=')
	b.WriteString(escapeValue(strings.ToValidUTF8(string(a.Value.Bytes), "\uFFFD")))
}

// escapeValue is AVA.toRFC2253String's escaping.
func escapeValue(v string) string {
	var esc []rune
	for _, c := range v {
		switch {
		case strings.ContainsRune(`,=+<>#;"\`, c):
			esc = append(esc, '\\', c)
		case c == 0:
			esc = append(esc, '\\', '0', '0')
		default:
			esc = append(esc, c)
		}
	}
	blank := func(c rune) bool { return c == ' ' || c == '\r' }
	lead := 0
	for lead < len(esc) && blank(esc[lead]) {
		lead++
	}
	trail := len(esc) - 1
	for trail >= 0 && blank(esc[trail]) {
		trail--
	}
	var out strings.Builder
	for i, c := range esc {
		if i < lead || i > trail {
			out.WriteByte('\\')
		}
		out.WriteRune(c)
	}
	return out.String()
}
