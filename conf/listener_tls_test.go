package conf

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
)

const (
	tlsStorePass = "St0re-Secret-5521"
	tlsKeyPass   = "K3y-Secret-9034"
)

type tlsStores struct {
	pemKeystore, jks, p12, caPEM, trustJKS string
	leaf                                   *keystoretest.Leaf
}

func writeTLSStores(t *testing.T) tlsStores {
	t.Helper()
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "conf CA")
	leaf := ca.Issue(t, "proxy", "127.0.0.1")
	return tlsStores{
		pemKeystore: leaf.WritePEM(t, dir, "server.pem", tlsKeyPass),
		jks:         keystoretest.Write(t, dir, "server.jks", leaf.JKS(t, tlsStorePass, tlsKeyPass)),
		p12:         keystoretest.Write(t, dir, "server.p12", leaf.PKCS12(t, tlsStorePass)),
		caPEM:       keystoretest.Write(t, dir, "ca.pem", ca.PEM()),
		trustJKS:    keystoretest.Write(t, dir, "trust.jks", ca.TrustJKS(t, tlsStorePass)),
		leaf:        leaf,
	}
}

func TestListenerTLS(t *testing.T) {
	s := writeTLSStores(t)
	creds := credFile(t)
	src := validCluster + fmt.Sprintf(`
[[listener]]
name = "JKS"
listen = "127.0.0.2:19092"
"security.protocol" = "ssl"
"ssl.keystore.location" = %s
"ssl.keystore.password" = %q
"ssl.key.password" = %q
"ssl.truststore.location" = %s
"ssl.truststore.password" = %q
"ssl.client.auth" = "Required"
"ssl.principal.mapping.rules" = "RULE:^CN=(.*?),.*$/$1/L, DEFAULT"

[[listener]]
name = "PEM"
listen = "127.0.0.2:19192"
security.protocol = "SSL"
ssl.keystore.type = "PEM"
ssl.keystore.location = %s
ssl.key.password = %q
ssl.truststore.type = "PEM"
ssl.truststore.location = %s
ssl.enabled.protocols = "TLSv1.3"
ssl.client.auth = "requested"
ssl.keymanager.algorithm = "SunX509"
ssl.trustmanager.algorithm = "PKIX"
ssl.endpoint.identification.algorithm = "https"

[[listener]]
name = "INLINE"
listen = "127.0.0.2:19292"
"security.protocol" = "SASL_SSL"
"sasl.enabled.mechanisms" = ["SCRAM-SHA-512"]
"sasl.credentials.file" = %s
"ssl.keystore.type" = "PEM"
"ssl.keystore.key" = %q
"ssl.keystore.certificate.chain" = %q
"ssl.enabled.protocols" = ["TLSv1.2"]
"ssl.cipher.suites" = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]

[[listener]]
name = "P12"
listen = "127.0.0.2:19392"
"security.protocol" = "SSL"
"ssl.keystore.type" = "PKCS12"
"ssl.keystore.location" = %s
"ssl.keystore.password" = %q
`, tomlString(s.jks), tlsStorePass, tlsKeyPass, tomlString(s.trustJKS), tlsStorePass,
		tomlString(s.pemKeystore), tlsKeyPass, tomlString(s.caPEM),
		tomlString(creds), s.leaf.KeyPEM(t), s.leaf.ChainPEM(),
		tomlString(s.p12), tlsStorePass)
	cfg, err := Parse([]byte(src), "tls.toml")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Listener{}
	for _, l := range cfg.Listeners {
		if l.TLS == nil {
			t.Fatalf("listener %s: no TLS", l.Name)
		}
		byName[l.Name] = l
	}

	jks := byName["JKS"]
	if jks.SecurityProtocol != "SSL" || jks.TLS.ClientAuth != ClientAuthRequired || jks.TLS.Keystore.Location != s.jks ||
		jks.TLS.Truststore.Location != s.trustJKS || jks.TLS.Keystore.KeyPassword != tlsKeyPass {
		t.Errorf("JKS: %+v", *jks.TLS)
	}
	if name, err := jks.TLS.Principal.Name("CN=Alice,O=Acme"); err != nil || name != "alice" {
		t.Errorf("JKS principal rules: %q, %v", name, err)
	}

	pem := byName["PEM"]
	if pem.TLS.ClientAuth != ClientAuthRequested || pem.TLS.PrincipalMappingRules != "DEFAULT" || !slices.Equal(pem.TLS.Params.EnabledProtocols, []string{"TLSv1.3"}) {
		t.Errorf("PEM: %+v %v", *pem.TLS, pem.TLS.Params)
	}
	var c tls.Config
	if err := pem.TLS.Params.Apply(&c); err != nil || c.MinVersion != tls.VersionTLS13 || c.MaxVersion != tls.VersionTLS13 {
		t.Errorf("PEM versions: %x-%x, %v", c.MinVersion, c.MaxVersion, err)
	}

	inline := byName["INLINE"]
	if inline.SASL == nil || inline.TLS.ClientAuth != ClientAuthNone || inline.TLS.Keystore.Key == "" {
		t.Errorf("INLINE: %+v", inline)
	}
	c = tls.Config{}
	if err := inline.TLS.Params.Apply(&c); err != nil || c.MaxVersion != tls.VersionTLS12 || !slices.Equal(c.CipherSuites, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}) {
		t.Errorf("INLINE params: %x %v, %v", c.MaxVersion, c.CipherSuites, err)
	}

	p12 := byName["P12"]
	if p12.TLS.Params.Protocol != "TLSv1.3" || !slices.Equal(p12.TLS.Params.EnabledProtocols, []string{"TLSv1.2", "TLSv1.3"}) || !p12.TLS.Params.Server {
		t.Errorf("P12 defaults: %+v", p12.TLS.Params)
	}

	// Printing a listener shows no password or key.
	for _, l := range cfg.Listeners {
		out := fmt.Sprintf("%v %+v %v", l, l, *l.TLS)
		for _, secret := range []string{tlsStorePass, tlsKeyPass, "PRIVATE KEY"} {
			if strings.Contains(out, secret) {
				t.Errorf("listener %s prints a secret: %s", l.Name, out)
			}
		}
	}
}

func TestListenerTLSErrors(t *testing.T) {
	s := writeTLSStores(t)
	src := validCluster + fmt.Sprintf(`
[[listener]]
name = "A"
listen = "127.0.0.2:19092"
"ssl.keystore.location" = %[1]s
"ssl.client.auth" = "required"

[[listener]]
name = "B"
listen = "127.0.0.2:19192"
"security.protocol" = "SSL"

[[listener]]
name = "C"
listen = "127.0.0.2:19292"
"security.protocol" = "SSL"
"ssl.keystore.location" = %[2]s
"ssl.keystore.password" = "wrong-password"
"ssl.truststore.location" = "/nonexistent/trust.jks"

[[listener]]
name = "D"
listen = "127.0.0.2:19392"
"security.protocol" = "SSL"
"ssl.keystore.type" = "PEM"
"ssl.keystore.location" = %[1]s
"ssl.key.password" = %[3]q
"ssl.client.auth" = "always"
"ssl.principal.mapping.rules" = "RULE:^CN=(?=x)$/a/"
"ssl.enabled.protocols" = ["TLSv1.1"]
"ssl.keymanager.algorithm" = "PKIX"
"ssl.endpoint.identification.algorithm" = "ldap"

[[listener]]
name = "E"
listen = "127.0.0.2:19492"
"security.protocol" = "SSL"
"ssl.keystore.type" = "PEM"
"ssl.keystore.location" = %[1]s
"ssl.key.password" = %[3]q
"ssl.protocol" = "SSLv3"
"ssl.cipher.suites" = "TLS_RSA_WITH_RC4_128_SHA"
"ssl.principal.mapping.rules" = ""
"ssl.trustmanager.algorithm" = "SunX509"

[[listener]]
name = "F"
listen = "127.0.0.2:19592"
"security.protocol" = "SSL"
"ssl.keystore.type" = "PEM"
"ssl.keystore.location" = %[1]s
"ssl.key.password" = %[3]q
"ssl.enabled.protocols" = "TLSv1.3"
"ssl.cipher.suites" = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
`, tomlString(s.pemKeystore), tomlString(s.jks), tlsKeyPass)
	_, err := Parse([]byte(src), "tls.toml")
	if err == nil {
		t.Fatal("parsed")
	}
	want := []string{
		`conf: tls.toml:8: [[listener]] #1 key "ssl.keystore.location": set, but security.protocol is PLAINTEXT, which does not use TLS: set security.protocol to SSL (or SASL_SSL)`,
		`conf: tls.toml:9: [[listener]] #1 key "ssl.client.auth": set, but security.protocol is PLAINTEXT`,
		`conf: tls.toml:11: [[listener]] #2 key "ssl.keystore.location": missing: required with security.protocol SSL`,
		`conf: tls.toml:21: [[listener]] #3 key "ssl.keystore.password": wrong password for the JKS file`,
		`conf: tls.toml:22: [[listener]] #3 key "ssl.truststore.location": open /nonexistent/trust.jks: no such file or directory`,
		`conf: tls.toml:31: [[listener]] #4 key "ssl.client.auth": "always" is not valid: use required, requested or none`,
		`conf: tls.toml:32: [[listener]] #4 key "ssl.principal.mapping.rules": rule 1 ("RULE:^CN=(?=x)$/a/"): the pattern does not compile`,
		`conf: tls.toml:33: [[listener]] #4 key "ssl.enabled.protocols": not supported: TLSv1.1 (disabled in current JVMs)`,
		`conf: tls.toml:34: [[listener]] #4 key "ssl.keymanager.algorithm": "PKIX" is not supported`,
		`conf: tls.toml:35: [[listener]] #4 key "ssl.endpoint.identification.algorithm": "ldap" is not valid: use https or ""`,
		`conf: tls.toml:44: [[listener]] #5 key "ssl.protocol": SSLv3 is disabled in current JVMs`,
		`conf: tls.toml:45: [[listener]] #5 key "ssl.cipher.suites": insecure and disabled in Java too: TLS_RSA_WITH_RC4_128_SHA`,
		`conf: tls.toml:46: [[listener]] #5 key "ssl.principal.mapping.rules": no rule: every client certificate would be refused`,
		`conf: tls.toml:47: [[listener]] #5 key "ssl.trustmanager.algorithm": "SunX509" is not supported`,
		`conf: tls.toml:57: [[listener]] #6 key "ssl.cipher.suites": no suite listed is usable with the enabled protocols (TLSv1.3)`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d errors, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n%s\nwant:\n%s", i+1, got[i], want[i])
		}
	}
	for _, secret := range []string{tlsKeyPass, "wrong-password"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("an error shows a password: %s", err)
		}
	}
}
