package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
)

// TestUpstreamTLS puts the proxy in front of a kfake cluster that serves
// only TLS: PLAINTEXT clients produce and consume through the proxy, which
// speaks TLS upstream from its [cluster] ssl.* properties, on its metadata
// client and on every forwarded connection.
func TestUpstreamTLS(t *testing.T) {
	ca := keystoretest.NewCA(t, "broker CA")
	clientCA := keystoretest.NewCA(t, "proxy CA")
	dir := t.TempDir()

	t.Run("JKS trust store", func(t *testing.T) {
		trust := keystoretest.Write(t, dir, "truststore.jks", ca.TrustJKS(t, "changeit"))
		e := startEnv(t,
			withKfake(kfake.TLS(ca.Issue(t, "broker", "127.0.0.1").ServerConfig(nil)), kfake.SeedTopics(3, "tls-orders")),
			withCluster(fmt.Sprintf(`"security.protocol" = "SSL"
"ssl.truststore.location" = %q
"ssl.truststore.password" = "changeit"`, trust)))
		produceAndVerify(t, e.Listeners["EXTERNAL"], "tls-orders", 300, func() {})
	})

	t.Run("mutual TLS, PKCS12 key store and PEM trust store", func(t *testing.T) {
		proxyCert := clientCA.Issue(t, "linkproxy")
		ks := keystoretest.Write(t, dir, "proxy.p12", proxyCert.PKCS12(t, "storepass"))
		ts := keystoretest.Write(t, dir, "ca.pem", ca.PEM())
		e := startEnv(t,
			withKfake(kfake.TLS(ca.Issue(t, "broker", "127.0.0.1").ServerConfig(clientCA)), kfake.SeedTopics(3, "mtls-orders")),
			withCluster(fmt.Sprintf(`"security.protocol" = "SSL"
"ssl.keystore.type" = "PKCS12"
"ssl.keystore.location" = %q
"ssl.keystore.password" = "storepass"
"ssl.truststore.type" = "PEM"
"ssl.truststore.location" = %q`, ks, ts)))
		produceAndVerify(t, e.Listeners["INTERNAL"], "mtls-orders", 300, func() {})
		if strings.Contains(e.Logs.String(), "storepass") {
			t.Error("the key store password is in the logs")
		}
	})

	t.Run("broker certificate for another host name", func(t *testing.T) {
		trust := fmt.Sprintf(`"security.protocol" = "SSL"
"ssl.truststore.type" = "PEM"
"ssl.truststore.certificates" = """
%s"""`, ca.PEM())
		server := ca.Issue(t, "broker", "kafka.example").ServerConfig(nil)
		e := startEnv(t, withKfake(kfake.TLS(server), kfake.SeedTopics(1, "renamed")), withCluster(trust))
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.Listeners["EXTERNAL"].Bootstrap))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = cl.Ping(ctx)
		cancel()
		cl.Close()
		if err == nil {
			t.Fatal("a client got through to a broker whose certificate names another host")
		}
		e.Logs.waitLine(t, "connection refused: upstream broker unreachable; check [cluster] bootstrap.servers and that the broker is up", func(m map[string]any) bool {
			s, _ := m["error"].(string)
			return strings.Contains(s, "TLS handshake") && strings.Contains(s, `ssl.endpoint.identification.algorithm = ""`)
		})

		// Without host name verification the same broker is reached.
		e = startEnv(t, withKfake(kfake.TLS(server), kfake.SeedTopics(1, "renamed")),
			withCluster(trust+"\n"+`"ssl.endpoint.identification.algorithm" = ""`))
		produceAndVerify(t, e.Listeners["EXTERNAL"], "renamed", 50, func() {})
	})
}
