package clientprops

import (
	"context"
	"crypto/tls"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
)

func sslProps(bootstrap any, kv ...any) map[string]any {
	m := map[string]any{"bootstrap.servers": bootstrap, "security.protocol": "SSL"}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestTLSPropertyErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name   string
		props  map[string]any
		errors []string
	}{
		{
			name:   "endpoint identification other than https",
			props:  sslProps("a:1", "ssl.endpoint.identification.algorithm", "ldaps"),
			errors: []string{`"ssl.endpoint.identification.algorithm": "ldaps" is not supported: use https to verify the broker's host name against its certificate, or "" not to`},
		},
		{
			name: "Java algorithms other than the defaults",
			props: sslProps("a:1", "ssl.keymanager.algorithm", "PKIX", "ssl.trustmanager.algorithm", "SunX509",
				"ssl.secure.random.implementation", "SHA1PRNG"),
			errors: []string{
				`"ssl.keymanager.algorithm": "PKIX" is not supported: linkproxy's TLS (Go's) has one key manager, Java's default SunX509; remove it or set SunX509`,
				`"ssl.secure.random.implementation": linkproxy's TLS takes its randomness from the operating system (Go's crypto/rand), which cannot be replaced: remove it`,
				`"ssl.trustmanager.algorithm": "SunX509" is not supported: linkproxy's TLS (Go's) has one trust manager, Java's default PKIX; remove it or set PKIX`,
			},
		},
		{
			name:  "Java classes",
			props: sslProps("a:1", "ssl.engine.factory.class", "com.example.Factory", "ssl.provider", "BC"),
			errors: []string{
				`"ssl.engine.factory.class": linkproxy cannot load a Java SSL engine factory: configure its TLS with ssl.keystore.*, ssl.truststore.* (JKS, PKCS12 or PEM), ssl.enabled.protocols and ssl.cipher.suites instead`,
				`"ssl.provider": Java security providers do not apply to linkproxy's TLS (Go's crypto/tls): remove it, and choose protocols and suites with ssl.enabled.protocols and ssl.cipher.suites`,
			},
		},
		{
			name:   "unknown cipher suite, named",
			props:  sslProps("a:1", "ssl.cipher.suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_DHE_DSS_WITH_AES_128_CBC_SHA"),
			errors: []string{`"ssl.cipher.suites": not implemented by linkproxy's TLS (Go's): TLS_DHE_DSS_WITH_AES_128_CBC_SHA; it implements`},
		},
		{
			name:   "legacy protocol",
			props:  sslProps("a:1", "ssl.enabled.protocols", "TLSv1.1,TLSv1.2"),
			errors: []string{`"ssl.enabled.protocols": not supported: TLSv1.1 (disabled in current JVMs): list TLSv1.2 and/or TLSv1.3`},
		},
		{
			name:   "ssl.protocol below every enabled protocol",
			props:  sslProps("a:1", "ssl.protocol", "TLSv1.2", "ssl.enabled.protocols", "TLSv1.3"),
			errors: []string{`"ssl.protocol": ssl.protocol TLSv1.2 leaves none of ssl.enabled.protocols (TLSv1.3)`},
		},
		{
			name:   "suites for none of the enabled protocols",
			props:  sslProps("a:1", "ssl.enabled.protocols", "TLSv1.3", "ssl.cipher.suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
			errors: []string{`"ssl.cipher.suites": no suite listed is usable with the enabled protocols (TLSv1.3)`},
		},
		{
			name: "both stores wrong: every problem at once",
			props: sslProps("a:1", "ssl.keystore.location", dir+"/ks.jks", "ssl.keystore.password", "x",
				"ssl.truststore.type", "PEM", "ssl.truststore.location", dir+"/ca.pem"),
			errors: []string{
				`"ssl.keystore.location": open ` + dir + `/ks.jks: no such file or directory: check the path`,
				`"ssl.truststore.location": open ` + dir + `/ca.pem: no such file or directory: check the path`,
			},
		},
		{
			name: "SASL_SSL reads the stores too",
			props: sslProps("a:1", "security.protocol", "SASL_SSL", "ssl.truststore.location", dir+"/ca.pem", "sasl.mechanism", "PLAIN",
				"sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`),
			errors: []string{
				`"ssl.truststore.location": open ` + dir + `/ca.pem: no such file or directory: check the path`,
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := Parse(tt.props)
			if p != nil {
				t.Fatalf("no error; TLS %+v", p.TLSConfig())
			}
			if len(errs) != len(tt.errors) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tt.errors))
			}
			for i, err := range errs {
				if !strings.HasPrefix(err.Error(), tt.errors[i]) {
					t.Errorf("error %d:\n got %s\nwant %s", i, err, tt.errors[i])
				}
			}
		})
	}
}

func TestTLSConfigFromProps(t *testing.T) {
	p := mustParse(t, sslProps("a:1"))
	cfg := p.TLSConfig()
	if cfg == nil || cfg.MinVersion != tls.VersionTLS12 || cfg.MaxVersion != tls.VersionTLS13 || cfg.RootCAs != nil ||
		cfg.CipherSuites != nil || cfg.InsecureSkipVerify || cfg.Certificates != nil {
		t.Errorf("defaults: %+v", cfg)
	}
	if p.TLSConfig() == cfg {
		t.Error("TLSConfig returns the same config twice, not a clone")
	}

	p = mustParse(t, sslProps("a:1", "ssl.protocol", "TLSv1.2", "ssl.endpoint.identification.algorithm", "",
		"ssl.cipher.suites", []any{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "SSL_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		"ssl.keymanager.algorithm", "sunx509", "ssl.secure.random.implementation", "", "ssl.provider", ""))
	cfg = p.TLSConfig()
	if cfg.MinVersion != tls.VersionTLS12 || cfg.MaxVersion != tls.VersionTLS12 || !cfg.InsecureSkipVerify || cfg.VerifyConnection == nil ||
		!reflect.DeepEqual(cfg.CipherSuites, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}) {
		t.Errorf("custom: %+v", cfg)
	}
	if p := mustParse(t, map[string]any{"bootstrap.servers": "a:1"}); p.TLSConfig() != nil {
		t.Error("PLAINTEXT has a TLS config")
	}
	// At their defaults, ssl.* keys are allowed with PLAINTEXT.
	mustParse(t, map[string]any{"bootstrap.servers": "a:1", "ssl.endpoint.identification.algorithm": "HTTPS", "ssl.truststore.type": "jks"})
}

// TestTLSErrorsHideSecrets: wrong passwords and inline keys never show
// in errors, nor in the printed properties.
func TestTLSErrorsHideSecrets(t *testing.T) {
	const pw, wrong = "Corr3ct-Horse-Battery", "Wr0ng-Horse-Staple"
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "ca")
	leaf := ca.Issue(t, "client")
	ks := keystoretest.Write(t, dir, "ks.jks", leaf.JKS(t, pw, pw))
	ts := keystoretest.Write(t, dir, "ts.p12", ca.TrustPKCS12(t, pw))
	keyPEM := string(leaf.EncryptedKeyPEM(t, pw))

	for _, props := range []map[string]any{
		sslProps("a:1", "ssl.keystore.location", ks, "ssl.keystore.password", wrong, "ssl.truststore.location", ts, "ssl.truststore.password", wrong),
		sslProps("a:1", "ssl.keystore.location", ks, "ssl.keystore.password", pw, "ssl.key.password", wrong),
		sslProps("a:1", "ssl.keystore.type", "PEM", "ssl.keystore.key", keyPEM, "ssl.keystore.certificate.chain", string(ca.PEM()), "ssl.key.password", pw),
		sslProps("a:1", "ssl.keystore.type", "PEM", "ssl.keystore.key", keyPEM, "ssl.keystore.certificate.chain", string(leaf.ChainPEM()), "ssl.key.password", wrong),
	} {
		_, errs := Parse(props)
		if len(errs) == 0 {
			t.Fatalf("no error for %v", props)
		}
		out := fmt.Sprint(errs)
		for _, secret := range []string{pw, wrong, "PRIVATE KEY", keyPEM[40:80]} {
			if strings.Contains(out, secret) {
				t.Errorf("secret %q in errors: %s", secret, out)
			}
		}
	}
	p := mustParse(t, sslProps("a:1", "ssl.keystore.type", "PEM", "ssl.keystore.key", keyPEM, "ssl.keystore.certificate.chain", string(leaf.ChainPEM()), "ssl.key.password", pw))
	if out := fmt.Sprintf("%v %+v %s", p, p, p.Redacted()); strings.Contains(out, pw) || strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("secret printed: %s", out)
	}
	if len(p.TLSConfig().Certificates) != 1 {
		t.Error("inline PEM key store not loaded")
	}
}

// tlsCluster starts a one-broker kfake cluster serving TLS with a
// certificate for hosts, requiring client certificates signed by
// clientCA when it is not nil.
func tlsCluster(t *testing.T, ca *keystoretest.CA, clientCA *keystoretest.CA, hosts ...string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(ca.Issue(t, "broker", hosts...).ServerConfig(clientCA)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func ping(t *testing.T, p *Props, timeout time.Duration) error {
	t.Helper()
	cl, err := kgo.NewClient(p.KgoOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return cl.Ping(ctx)
}

// TestTLSKfake reaches a TLS kfake cluster with a franz-go client built
// from the properties, with each kind of trust store.
func TestTLSKfake(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "broker CA")
	c := tlsCluster(t, ca, nil, "127.0.0.1")
	addrs := c.ListenAddrs()

	for name, kv := range map[string][]any{
		"PEM file":   {"ssl.truststore.type", "PEM", "ssl.truststore.location", keystoretest.Write(t, dir, "ca.pem", ca.PEM())},
		"PEM inline": {"ssl.truststore.type", "PEM", "ssl.truststore.certificates", string(ca.PEM())},
		"PKCS12":     {"ssl.truststore.type", "PKCS12", "ssl.truststore.location", keystoretest.Write(t, dir, "ca.p12", ca.TrustPKCS12(t, "changeit")), "ssl.truststore.password", "changeit"},
		"JKS":        {"ssl.truststore.location", keystoretest.Write(t, dir, "ca.jks", ca.TrustJKS(t, "changeit")), "ssl.truststore.password", "changeit"},
		"TLS 1.2 only, Java suite names": {"ssl.truststore.type", "PEM", "ssl.truststore.certificates", string(ca.PEM()),
			"ssl.enabled.protocols", "TLSv1.2", "ssl.cipher.suites", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := ping(t, mustParse(t, sslProps(addrs, kv...)), 10*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("Dialer speaks TLS", func(t *testing.T) {
		p := mustParse(t, sslProps(addrs, "ssl.truststore.type", "PEM", "ssl.truststore.certificates", string(ca.PEM()), "ssl.protocol", "TLSv1.2"))
		conn, err := p.Dialer()(context.Background(), "tcp", addrs[0])
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tc, ok := conn.(*tls.Conn)
		if !ok {
			t.Fatalf("Dialer returned a %T", conn)
		}
		if st := tc.ConnectionState(); !st.HandshakeComplete || st.Version != tls.VersionTLS12 {
			t.Errorf("state: version %x, complete %v", st.Version, st.HandshakeComplete)
		}
	})

	t.Run("untrusted CA", func(t *testing.T) {
		other := keystoretest.NewCA(t, "other CA")
		p := mustParse(t, sslProps(addrs, "ssl.truststore.type", "PEM", "ssl.truststore.certificates", string(other.PEM())))
		_, err := p.Dialer()(context.Background(), "tcp", addrs[0])
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") || !strings.Contains(err.Error(), "add its CA to the trust store") {
			t.Errorf("dial: %v", err)
		}
		if err := ping(t, p, 2*time.Second); err == nil {
			t.Error("ping succeeded with an untrusted CA")
		}
	})
}

// TestTLSHostVerification: the broker's certificate names another host;
// https verification refuses it, "" accepts it as its chain is trusted.
func TestTLSHostVerification(t *testing.T) {
	ca := keystoretest.NewCA(t, "broker CA")
	c := tlsCluster(t, ca, nil, "kafka.example")
	addrs := c.ListenAddrs()
	trust := []any{"ssl.truststore.type", "PEM", "ssl.truststore.certificates", string(ca.PEM())}

	p := mustParse(t, sslProps(addrs, trust...))
	_, err := p.Dialer()(context.Background(), "tcp", addrs[0])
	if err == nil || !strings.Contains(err.Error(), "x509: cannot validate certificate for 127.0.0.1") ||
		!strings.Contains(err.Error(), `set ssl.endpoint.identification.algorithm = "" not to verify host names`) {
		t.Errorf("dial: %v", err)
	}
	if err := ping(t, p, 2*time.Second); err == nil {
		t.Error("ping succeeded despite the wrong host name")
	}

	p = mustParse(t, sslProps(addrs, append(trust, "ssl.endpoint.identification.algorithm", "")...))
	if err := ping(t, p, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Without host name verification the chain is still verified.
	other := keystoretest.NewCA(t, "other CA")
	p = mustParse(t, sslProps(addrs, "ssl.truststore.type", "PEM", "ssl.truststore.certificates", string(other.PEM()), "ssl.endpoint.identification.algorithm", ""))
	if _, err := p.Dialer()(context.Background(), "tcp", addrs[0]); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("untrusted chain without host verification: %v", err)
	}
}

// TestTLSMutual: the broker requires a client certificate; a client
// presents it from each kind of key store.
func TestTLSMutual(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "broker CA")
	clientCA := keystoretest.NewCA(t, "client CA")
	c := tlsCluster(t, ca, clientCA, "127.0.0.1")
	addrs := c.ListenAddrs()
	leaf := clientCA.Issue(t, "linkproxy")
	trust := []any{"ssl.truststore.type", "PEM", "ssl.truststore.certificates", string(ca.PEM())}

	for name, kv := range map[string][]any{
		"PEM file, encrypted key": {"ssl.keystore.type", "PEM", "ssl.keystore.location", leaf.WritePEM(t, dir, "client.pem", "keypass"), "ssl.key.password", "keypass"},
		"PEM inline":              {"ssl.keystore.type", "PEM", "ssl.keystore.key", string(leaf.KeyPEM(t)), "ssl.keystore.certificate.chain", string(leaf.ChainPEM())},
		"PKCS12":                  {"ssl.keystore.type", "PKCS12", "ssl.keystore.location", keystoretest.Write(t, dir, "client.p12", leaf.PKCS12(t, "storepass")), "ssl.keystore.password", "storepass"},
		"JKS, own key password":   {"ssl.keystore.location", keystoretest.Write(t, dir, "client.jks", leaf.JKS(t, "storepass", "keypass")), "ssl.keystore.password", "storepass", "ssl.key.password", "keypass"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := ping(t, mustParse(t, sslProps(addrs, append(trust, kv...)...)), 10*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("no client certificate", func(t *testing.T) {
		err := ping(t, mustParse(t, sslProps(addrs, trust...)), 2*time.Second)
		if err == nil {
			t.Fatal("ping succeeded without a client certificate")
		}
		t.Log(err)
	})
}

// TestReconnectTLS: with TLS, a connection is ready at its first Kafka
// response bytes, not at the handshake (reconnect.go), and a failed
// handshake is a failed connection.
func TestReconnectTLS(t *testing.T) {
	ca := keystoretest.NewCA(t, "broker CA")
	good := ca.Issue(t, "broker", "127.0.0.1").ServerConfig(nil)
	untrusted := keystoretest.NewCA(t, "other").Issue(t, "broker", "127.0.0.1").ServerConfig(nil)
	serve := func(cfg *tls.Config, answer bool) string {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
				go func() {
					if c.(*tls.Conn).Handshake() != nil {
						c.Close()
						return
					}
					if answer {
						c.Write([]byte{0, 0, 0, 0})
					} else {
						c.Close()
					}
				}()
			}
		}()
		return ln.Addr().String()
	}
	closing, answering, refusing := serve(good, false), serve(good, true), serve(untrusted, false)

	p := mustParse(t, sslProps("a:1", "ssl.truststore.type", "PEM", "ssl.truststore.certificates", string(ca.PEM())))
	r := newReconnector(p, newDialer(p).dial)
	var clock fakeTime
	clock.install(r)
	r.jitter = func() float64 { return 0.5 }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	state := func(address string) (failures int, settled bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		st := r.addrs[address]
		return st.failures, st.attempt == nil
	}

	conn, err := r.dial(ctx, "tcp", closing)
	if err != nil {
		t.Fatal(err)
	}
	if ac, ok := conn.(*attemptConn); !ok {
		t.Fatalf("kgo dialer returned a %T", conn)
	} else if _, ok := ac.Conn.(*tls.Conn); !ok {
		t.Fatalf("attemptConn wraps a %T, want the *tls.Conn", ac.Conn)
	}
	if n, settled := state(closing); settled || n != 0 {
		t.Errorf("after the handshake: settled %v, %d failures; want the attempt still in progress", settled, n)
	}
	conn.Read(make([]byte, 4))
	if n, _ := state(closing); n != 1 {
		t.Errorf("closed after the handshake: %d failures, want 1", n)
	}
	conn.Close()

	conn, err = r.dial(ctx, "tcp", answering)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Read(make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if n, settled := state(answering); !settled || n != 0 {
		t.Errorf("answered: settled %v, %d failures", settled, n)
	}
	conn.Close()

	for i := 1; i <= 2; i++ {
		if _, err := r.dial(ctx, "tcp", refusing); err == nil || !strings.Contains(err.Error(), "TLS handshake") {
			t.Fatalf("dial to an untrusted broker: %v", err)
		}
		if n, settled := state(refusing); !settled || n != i {
			t.Errorf("failed handshake %d: settled %v, %d failures", i, settled, n)
		}
	}
	if d := clock.takeSlept(); d != 50*time.Millisecond {
		t.Errorf("backoff before the second handshake: %v, want 50ms", d)
	}
}
