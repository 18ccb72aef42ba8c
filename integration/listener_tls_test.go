package integration

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	kgoscram "github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
	"github.com/linkproxy/linkproxy/auth/sasl"
	"github.com/linkproxy/linkproxy/proxy/wire"
)

// Listener TLS through real clients: the EXTERNAL listener (127.0.0.2)
// serves SSL or SASL_SSL in front of kfake while INTERNAL stays PLAINTEXT.
// kgo, Sarama and kcat (librdkafka) produce and consume over TLS; with
// ssl.client.auth=required a trusted client certificate names the
// principal in the connection logs and an untrusted one is refused; a
// SASL_SSL listener authenticates SCRAM-SHA-512 inside TLS; a key store
// rotated on disk is served to new connections while old ones go on.

const itStorePass = "St0re-It-Secret-3318"

type tlsPKI struct {
	ca, other *keystoretest.CA
	dir       string
	caPEM     string // the CA's certificate, for clients
	trustJKS  string // the CA as a JKS trust store, for the listener
	keystore  string // the listener's JKS key store
	alice     *keystoretest.Leaf
}

func newTLSPKI(t *testing.T) *tlsPKI {
	t.Helper()
	p := &tlsPKI{ca: keystoretest.NewCA(t, "listener CA"), other: keystoretest.NewCA(t, "unknown CA"), dir: t.TempDir()}
	server := p.ca.Issue(t, "linkproxy", "127.0.0.1", "127.0.0.2")
	p.caPEM = keystoretest.Write(t, p.dir, "ca.pem", p.ca.PEM())
	p.trustJKS = keystoretest.Write(t, p.dir, "truststore.jks", p.ca.TrustJKS(t, itStorePass))
	p.keystore = keystoretest.Write(t, p.dir, "keystore.jks", server.JKS(t, itStorePass, itStorePass))
	p.alice = p.ca.IssueSubject(t, pkix.Name{CommonName: "Alice", OrganizationalUnit: []string{"eng"}, Organization: []string{"Acme"}})
	return p
}

// listenerLines are the EXTERNAL listener's lines: protocol, the JKS key
// store, and extra.
func (p *tlsPKI) listenerLines(protocol, extra string) string {
	return fmt.Sprintf(`"security.protocol" = %q
"ssl.keystore.location" = %q
"ssl.keystore.password" = %q
%s`, protocol, p.keystore, itStorePass, extra)
}

// mtlsLines require client certificates from the CA and map
// CN=Alice,OU=eng,O=Acme to alice.
func (p *tlsPKI) mtlsLines() string {
	return fmt.Sprintf(`"ssl.truststore.location" = %q
"ssl.truststore.password" = %q
"ssl.client.auth" = "required"
"ssl.principal.mapping.rules" = "RULE:^CN=(.*?),OU=.*$/$1/L,DEFAULT"`, p.trustJKS, itStorePass)
}

// clientTLS trusts the CA and presents cert, if any, whatever CAs the
// server asks for (as librdkafka and Java do).
func (p *tlsPKI) clientTLS(cert *keystoretest.Leaf) *tls.Config {
	cfg := p.ca.ClientConfig(nil)
	if cert != nil {
		c := cert.TLSCertificate()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
	}
	return cfg
}

// kgoTLSRun produces vals to topic and consumes them back (committing
// them when extra names a group) with a client made of extra.
func kgoTLSRun(ctx context.Context, bootstrap string, extra []kgo.Opt, topic string, vals []string) ([]string, error) {
	opts := append([]kgo.Opt{kgo.SeedBrokers(bootstrap), kgo.ClientID("linkproxy-it-kgo-tls"),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(500 * time.Millisecond), kgo.RetryTimeout(20 * time.Second)}, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	for _, v := range vals {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			return nil, fmt.Errorf("produce: %w", err)
		}
	}
	var got []string
	for len(got) < len(vals) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return got, ctx.Err()
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if member, _ := cl.GroupMetadata(); member != "" {
		return got, cl.CommitUncommittedOffsets(ctx)
	}
	return got, nil
}

func TestListenerTLSKgo(t *testing.T) {
	p := newTLSPKI(t)
	e := startEnv(t, withKfake(kfake.SeedTopics(3, "tls-kgo")), withListener("EXTERNAL", p.listenerLines("SSL", "")))
	ext := e.Listeners["EXTERNAL"].Bootstrap
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vals := values("tls-kgo", 20)
	got, err := kgoTLSRun(ctx, ext, []kgo.Opt{kgo.DialTLSConfig(p.clientTLS(nil))}, "tls-kgo", vals)
	if err != nil {
		t.Fatal(err)
	}
	sameValues(t, "kgo over SSL", got, vals)
	e.Logs.waitLine(t, "connection opened", func(m map[string]any) bool {
		return m["listener"] == "EXTERNAL" && m["principal"] == "User:ANONYMOUS"
	})

	// A PLAINTEXT client on the TLS port is refused with the reason.
	cl, err := kgo.NewClient(kgo.SeedBrokers(ext))
	if err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
	err = cl.Ping(pctx)
	pcancel()
	cl.Close()
	if err == nil {
		t.Error("a PLAINTEXT client got through the SSL listener")
	}
	e.Logs.waitLine(t, "connection refused: the client does not speak TLS: configure it with security.protocol=SSL (or SASL_SSL) for this listener",
		func(m map[string]any) bool { return m["listener"] == "EXTERNAL" })
	if strings.Contains(e.Logs.String(), itStorePass) {
		t.Error("the key store password is in the logs")
	}
}

func TestListenerMTLS(t *testing.T) {
	p := newTLSPKI(t)
	e := startEnv(t, withKfake(kfake.SeedTopics(3, "mtls-kgo", "mtls-kcat", "mtls-sarama")),
		withListener("EXTERNAL", p.listenerLines("SSL", p.mtlsLines())))
	ext := e.Listeners["EXTERNAL"].Bootstrap
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	t.Run("kgo", func(t *testing.T) {
		vals := values("mtls-kgo", 20)
		got, err := kgoTLSRun(ctx, ext, []kgo.Opt{kgo.DialTLSConfig(p.clientTLS(p.alice))}, "mtls-kgo", vals)
		if err != nil {
			t.Fatal(err)
		}
		sameValues(t, "kgo with a client certificate", got, vals)
		for _, msg := range []string{"connection opened", "connection closed"} {
			e.Logs.waitLine(t, msg, func(m map[string]any) bool { return m["listener"] == "EXTERNAL" && m["principal"] == "User:alice" })
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		mallory := p.other.Issue(t, "mallory")
		cl, err := kgo.NewClient(kgo.SeedBrokers(ext), kgo.DialTLSConfig(p.clientTLS(mallory)))
		if err != nil {
			t.Fatal(err)
		}
		pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
		err = cl.Ping(pctx)
		pcancel()
		cl.Close()
		if err == nil {
			t.Fatal("a client with an untrusted certificate got through")
		}
		e.Logs.waitLine(t, "connection refused: the client certificate is not signed by a CA of the listener's ssl.truststore.*: add its CA to the trust store, or give the client a certificate from a trusted CA",
			func(m map[string]any) bool { return m["listener"] == "EXTERNAL" })
		for _, l := range e.Logs.lines("connection opened") {
			if l["principal"] == "User:CN=mallory" {
				t.Errorf("mallory's connection was opened: %v", l)
			}
		}
	})

	t.Run("kcat", func(t *testing.T) {
		cert := keystoretest.Write(t, p.dir, "alice.crt", p.alice.ChainPEM())
		key := keystoretest.Write(t, p.dir, "alice.key", p.alice.KeyPEM(t))
		tlsArgs := []string{"-X", "security.protocol=ssl", "-X", "ssl.ca.location=" + p.caPEM,
			"-X", "ssl.certificate.location=" + cert, "-X", "ssl.key.location=" + key}
		vals := values("mtls-kcat", 10)
		if _, stderr, err := kcatRun(t, ext, []byte(strings.Join(vals, "\n")+"\n"),
			append(tlsArgs, "-P", "-t", "mtls-kcat", "-X", "acks=all", "-X", "linger.ms=0")...); err != nil {
			t.Fatalf("kcat produce: %v\n%s", err, stderr)
		}
		stdout, stderr, err := kcatRun(t, ext, nil, append(tlsArgs, "-C", "-o", "beginning", "-e",
			"-c", fmt.Sprint(len(vals)), "-f", "%s\n", "-t", "mtls-kcat")...)
		if err != nil {
			t.Fatalf("kcat consume: %v\n%s", err, stderr)
		}
		sameValues(t, "kcat with a client certificate", strings.Fields(stdout), vals)
	})

	t.Run("Sarama", func(t *testing.T) {
		cfg := sarama.NewConfig()
		cfg.Version = sarama.V4_3_1_0
		cfg.ClientID = "linkproxy-it-sarama-tls"
		cfg.Net.DialTimeout, cfg.Net.ReadTimeout, cfg.Net.WriteTimeout = 5*time.Second, 10*time.Second, 10*time.Second
		cfg.Net.TLS.Enable, cfg.Net.TLS.Config = true, p.clientTLS(p.alice)
		cfg.Metadata.Retry.Max, cfg.Metadata.Retry.Backoff = 5, 100*time.Millisecond
		cfg.Producer.Return.Successes, cfg.Producer.RequiredAcks = true, sarama.WaitForAll
		cfg.Consumer.Return.Errors, cfg.Consumer.MaxWaitTime = true, 200*time.Millisecond
		vals := values("mtls-sarama", 10)
		got, err := saramaRoundTrip(ext, cfg, "mtls-sarama", vals)
		if err != nil {
			t.Fatal(err)
		}
		sameValues(t, "Sarama over SSL", got, vals)
	})
}

func TestListenerSASLSSL(t *testing.T) {
	p := newTLSPKI(t)
	entry, err := sasl.NewEntry("alice", sasl.ScramSHA512, []byte(itAlicePass), sasl.DefaultIterations)
	if err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(t.TempDir(), "users.creds")
	if err := os.WriteFile(creds, []byte(entry.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, withKfake(kfake.SeedTopics(3, "sasl-ssl")), withListener("EXTERNAL", p.listenerLines("SASL_SSL", fmt.Sprintf(`"sasl.enabled.mechanisms" = ["SCRAM-SHA-512"]
"sasl.credentials.file" = %q`, creds))))
	t.Cleanup(func() { checkNoSecrets(t, e.Logs.String(), []string{itAlicePass, itStorePass}) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vals := values("sasl-ssl", 20)
	mech := kgoscram.Auth{User: "alice", Pass: itAlicePass}.AsSha512Mechanism()
	got, err := kgoTLSRun(ctx, e.Listeners["EXTERNAL"].Bootstrap, []kgo.Opt{kgo.DialTLSConfig(p.clientTLS(nil)), kgo.SASL(mech)}, "sasl-ssl", vals)
	if err != nil {
		t.Fatal(err)
	}
	sameValues(t, "kgo SCRAM-SHA-512 over SASL_SSL", got, vals)
	e.Logs.waitLine(t, "connection closed", func(m map[string]any) bool { return m["listener"] == "EXTERNAL" && m["principal"] == "User:alice" })
}

func TestListenerTLSRotation(t *testing.T) {
	p := newTLSPKI(t)
	before := p.ca.Issue(t, "linkproxy-before", "127.0.0.2")
	pem := before.WritePEM(t, p.dir, "server.pem", "")
	e := startEnv(t, withKfake(kfake.SeedTopics(3, "rotated")), withListener("EXTERNAL", fmt.Sprintf(`"security.protocol" = "SSL"
"ssl.keystore.type" = "PEM"
"ssl.keystore.location" = %q`, pem)))
	ext := e.Listeners["EXTERNAL"].Bootstrap

	dial := func() *tls.Conn {
		cfg := p.clientTLS(nil)
		cfg.ServerName = "127.0.0.2"
		c, err := tls.Dial("tcp", ext, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	old := dial()
	if got := old.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(before.Cert.SerialNumber) != 0 {
		t.Fatalf("served serial %v, want %v", got, before.Cert.SerialNumber)
	}
	oldConn := &rawConn{t: t, c: old, rd: wire.NewReader(old, 4096, 1<<30, new(wire.Pool)), w: bufio.NewWriter(old)}
	if len(oldConn.apiVersions()) == 0 {
		t.Fatal("no API versions before the rotation")
	}

	after := p.ca.Issue(t, "linkproxy-after", "127.0.0.2")
	tmp := after.WritePEM(t, p.dir, "server.pem.new", "")
	if err := os.Rename(tmp, pem); err != nil { // as cert-manager and friends replace files
		t.Fatal(err)
	}
	// The file is looked at about once a second; wait for the new one.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := dial()
		got := c.ConnectionState().PeerCertificates[0]
		c.Close()
		if got.SerialNumber.Cmp(after.Cert.SerialNumber) == 0 {
			if got.Subject.CommonName != "linkproxy-after" {
				t.Errorf("new certificate subject %q", got.Subject.CommonName)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rotated certificate was not served within 20s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.Logs.waitLine(t, "TLS key and trust stores reloaded; new connections use them", func(m map[string]any) bool { return m["listener"] == "EXTERNAL" })

	// The connection from before the rotation still works, and clients
	// connect with the new certificate.
	if len(oldConn.apiVersions()) == 0 {
		t.Fatal("no API versions on the old connection after the rotation")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vals := values("rotated", 10)
	got, err := kgoTLSRun(ctx, ext, []kgo.Opt{kgo.DialTLSConfig(p.clientTLS(nil))}, "rotated", vals)
	if err != nil {
		t.Fatal(err)
	}
	sameValues(t, "kgo after the rotation", got, vals)
}
