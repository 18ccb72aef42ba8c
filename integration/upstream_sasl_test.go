package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
)

const upstreamSASLPassword = "upstream-s3cret"

// upstreamSASLCluster is the [cluster] section of a proxy authenticating
// to a SASL_SSL kfake cluster as "linkproxy" with SCRAM-SHA-512.
func upstreamSASLCluster(ca *keystoretest.CA, password string) string {
	return fmt.Sprintf(`"security.protocol" = "SASL_SSL"
"sasl.mechanism" = "SCRAM-SHA-512"
"sasl.jaas.config" = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="linkproxy" password="%s";'
"ssl.truststore.type" = "PEM"
"ssl.truststore.certificates" = """
%s"""`, password, ca.PEM())
}

// TestUpstreamSASL puts the proxy in front of a SASL_SSL kfake cluster
// (SCRAM-SHA-512): PLAINTEXT clients produce and consume through it, the
// proxy authenticating as itself on its metadata client and on every
// forwarded connection.
func TestUpstreamSASL(t *testing.T) {
	ca := keystoretest.NewCA(t, "broker CA")
	broker := func(o ...kfake.Opt) envOpt {
		return withKfake(append(o, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "linkproxy", upstreamSASLPassword),
			kfake.TLS(ca.Issue(t, "broker", "127.0.0.1").ServerConfig(nil)))...)
	}

	t.Run("produce and consume", func(t *testing.T) {
		e := startEnv(t, broker(kfake.SeedTopics(3, "sasl-orders")), withCluster(upstreamSASLCluster(ca, upstreamSASLPassword)))
		produceAndVerify(t, e.Listeners["EXTERNAL"], "sasl-orders", 300, func() {})
		if strings.Contains(e.Logs.String(), upstreamSASLPassword) {
			t.Error("the SASL password is in the logs")
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		e := startEnv(t, broker(kfake.SeedTopics(1, "sasl-refused")), withCluster(upstreamSASLCluster(ca, "wrong-"+upstreamSASLPassword)))
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.Listeners["EXTERNAL"].Bootstrap))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = cl.Ping(ctx)
		cancel()
		cl.Close()
		if err == nil {
			t.Fatal("a client got through a proxy whose upstream credentials are wrong")
		}
		e.Logs.waitLine(t, "connection refused: the proxy's own SASL authentication to the upstream broker failed; check sasl.mechanism and sasl.jaas.config in [cluster]", func(m map[string]any) bool {
			s, _ := m["error"].(string)
			return strings.Contains(s, "SASL SCRAM-SHA-512 authentication failed") && strings.Contains(s, "check the credentials in sasl.jaas.config")
		})
		if strings.Contains(e.Logs.String(), upstreamSASLPassword) {
			t.Error("the SASL password is in the logs")
		}
	})

	// kfake gives sessions connections.max.reauth.ms as their lifetime
	// (KIP-368) and accepts a new handshake on an authenticated
	// connection, as Apache Kafka does; unlike Apache Kafka it does not
	// close a connection whose session expired, so what this shows is
	// that the proxy re-authenticates between a client's requests and
	// the client goes on on the same connection, none of the exchange
	// reaching it.
	t.Run("re-authentication mid-stream", func(t *testing.T) {
		e := startEnv(t, broker(kfake.SeedTopics(1, "sasl-reauth"), kfake.BrokerConfigs(map[string]string{"connections.max.reauth.ms": "1000"})),
			withCluster(upstreamSASLCluster(ca, upstreamSASLPassword)))
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.Listeners["EXTERNAL"].Bootstrap), kgo.DefaultProduceTopic("sasl-reauth"))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		produced := 0
		for len(e.Logs.lines("upstream connection re-authenticated")) < 3 {
			if ctx.Err() != nil {
				t.Fatalf("no three re-authentications after %d records", produced)
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: fmt.Appendf(nil, "r%d", produced)}).FirstErr(); err != nil {
				t.Fatalf("produce %d: %v", produced, err)
			}
			produced++
			time.Sleep(20 * time.Millisecond)
		}
		if l := e.Logs.lines("upstream SASL re-authentication failed; closing the connection, the client will reconnect; check [cluster] sasl.jaas.config if it keeps failing"); len(l) > 0 {
			t.Errorf("re-authentication failed: %v", l)
		}
		// Everything produced is there, in order.
		cons, err := kgo.NewClient(kgo.SeedBrokers(e.Listeners["EXTERNAL"].Bootstrap), kgo.ConsumeTopics("sasl-reauth"))
		if err != nil {
			t.Fatal(err)
		}
		defer cons.Close()
		for got := 0; got < produced; {
			fs := cons.PollFetches(ctx)
			if err := fs.Err0(); err != nil {
				t.Fatalf("consume after %d of %d: %v", got, produced, err)
			}
			fs.EachRecord(func(r *kgo.Record) {
				if want := fmt.Sprintf("r%d", got); string(r.Value) != want {
					t.Errorf("record %d = %q, want %q", got, r.Value, want)
				}
				got++
			})
		}
	})
}

// TestLinkSASLSource: a cluster link whose source cluster requires SASL
// (SCRAM-SHA-512 on a SASL_PLAINTEXT kfake cluster) mirrors a topic; the
// REST API lists sasl.jaas.config as sensitive, without its value.
func TestLinkSASLSource(t *testing.T) {
	const topic = "sasl-source"
	west, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ClusterID("west"), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "linker", upstreamSASLPassword), kfake.SeedTopics(2, topic))
	if err != nil {
		t.Fatal(err)
	}
	defer west.Close()
	east := startLinkSide(t, "east")
	// A link's password configs are stored encrypted: east needs the
	// encoder's secret, so it restarts with one.
	east.proc.stop(t)
	toml, err := os.ReadFile(east.config)
	if err != nil {
		t.Fatal(err)
	}
	toml = []byte(strings.Replace(string(toml), "[proxy]\n", "[proxy]\n\"password.encoder.secret\" = \"test-encoder-secret\"\n", 1))
	if err := os.WriteFile(east.config, toml, 0o600); err != nil {
		t.Fatal(err)
	}
	east.start(t)

	src, err := kgo.NewClient(kgo.SeedBrokers(west.ListenAddrs()...), kgo.DefaultProduceTopic(topic),
		kgo.SASL(scram.Auth{User: "linker", Pass: upstreamSASLPassword}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 50
	for i := range n {
		if err := src.ProduceSync(ctx, &kgo.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	props := filepath.Join(t.TempDir(), "link.properties")
	if err := os.WriteFile(props, []byte(fmt.Sprintf(`bootstrap.servers=%s
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="linker" password="%s";
`, strings.Join(west.ListenAddrs(), ","), upstreamSASLPassword)), 0o600); err != nil {
		t.Fatal(err)
	}
	east.mustCLI(t, "links", "create", "--link", "sasl-link", "--config-file", props)
	lp := &linkPair{east: east}
	lp.waitFor(t, "the SASL link to be ACTIVE", func() (bool, string) {
		out, errOut, code := east.cli(t, "links", "describe", "--link", "sasl-link", "-o", "json")
		return code == 0 && strings.Contains(out, `"link_state": "ACTIVE"`), out + errOut
	})
	east.mustCLI(t, "mirrors", "create", "--link", "sasl-link", "--source-topic", topic)

	cons := east.client(t, kgo.ConsumeTopics(topic))
	seen := make(map[string]string)
	for len(seen) < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%d of %d records mirrored", len(seen), n)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Key)] = string(r.Value) })
	}
	for i := range n {
		if k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i); seen[k] != v {
			t.Errorf("mirrored %s = %q, want %q", k, seen[k], v)
		}
	}

	url := east.rest + "/kafka/v3/clusters/east/links/sasl-link/configs/sasl.jaas.config"
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"sensitive":true`) {
		t.Errorf("GET %s: %s\n%s", url, resp.Status, body)
	}
	if strings.Contains(string(body), upstreamSASLPassword) || strings.Contains(string(body), "ScramLoginModule") {
		t.Errorf("GET %s shows the JAAS configuration: %s", url, body)
	}
	if out := east.mustCLI(t, "links", "configs", "--link", "sasl-link"); strings.Contains(out, upstreamSASLPassword) {
		t.Errorf("links configs shows the password:\n%s", out)
	}
	if strings.Contains(east.proc.stderr.String(), upstreamSASLPassword) {
		t.Error("the password is in east's logs")
	}
}
