package link

import (
	"context"
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
)

// TestServiceLinkTLS runs a link to a source cluster that serves only TLS
// and requires a client certificate: the link's connection takes both
// from its ssl.* properties (inline PEM here), as any client property.
func TestServiceLinkTLS(t *testing.T) {
	ca := keystoretest.NewCA(t, "source CA")
	clientCA := keystoretest.NewCA(t, "link CA")
	server := ca.Issue(t, "source", "127.0.0.1").ServerConfig(clientCA)
	src, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ClusterID("west-tls"), kfake.TLS(server))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	dst, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ClusterID("east"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dst.Close)

	// The test's own client of the source presents a certificate too.
	client := clientCA.Issue(t, "producer")
	srcCl, err := kgo.NewClient(kgo.SeedBrokers(src.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.DialTLSConfig(&tls.Config{Certificates: []tls.Certificate{client.TLSCertificate()}, RootCAs: ca.Pool()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srcCl.Close)
	createTopic(t, srcCl, "orders", 2)
	produceN(t, srcCl, "orders", 2, 20)

	tc := &testClusters{src: src, dst: dst, srcCl: srcCl, srcAddrs: src.ListenAddrs()[0], dstOpts: []kgo.Opt{kgo.SeedBrokers(dst.ListenAddrs()...)}}
	tc.encoder = testEncoder(t, "tls-test-encoder-secret", "")
	s, _ := startService(t, tc)
	ctx := context.Background()
	linkCert := clientCA.Issue(t, "link")
	cfg := map[string]string{
		"bootstrap.servers":              tc.srcAddrs,
		"availability.check.ms":          "200",
		"security.protocol":              "SSL",
		"ssl.truststore.type":            "PEM",
		"ssl.truststore.certificates":    string(ca.PEM()),
		"ssl.keystore.type":              "PEM",
		"ssl.keystore.key":               string(linkCert.EncryptedKeyPEM(t, "link-key-pass")),
		"ssl.key.password":               "link-key-pass",
		"ssl.keystore.certificate.chain": string(linkCert.ChainPEM()),
	}
	if err := s.CreateLink(ctx, "west", "", cfg, false, true); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMirror(ctx, "west", CreateMirror{SourceTopic: "orders"}, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mirror over TLS to catch up", func() (bool, string) {
		m, err := s.Mirror(ctx, "west", "orders")
		if err != nil {
			return false, err.Error()
		}
		return m.State == MirrorActive && len(m.Lags) == 2 && m.Lags[0].LastSourceFetchOffset == 10 && m.Lags[0].Lag == 0, fmt.Sprintf("%+v", m)
	})
	// The link's key material is sensitive in its shown configuration.
	entries, err := s.LinkConfigs(ctx, "west")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if (e.Name == "ssl.keystore.key" || e.Name == "ssl.key.password") && (!e.Sensitive || e.Value != "") {
			t.Errorf("%s shown: %+v", e.Name, e)
		}
	}
}
