package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/kerberos"

	"github.com/linkproxy/linkproxy/integration/internal/kdc"
)

const krb5Module = "com.sun.security.auth.module.Krb5LoginModule"

// kerberosEnv starts a KDC and a linkproxy ("B") whose listeners take
// GSSAPI only, in front of kfake: EXTERNAL (127.0.0.2) with the current
// key of kafka/127.0.0.2, INTERNAL (127.0.0.1) with a keytab of
// kafka/127.0.0.1 made stale by a later export. Only alice maps to a user
// (sasl.kerberos.principal.to.local.rules); mallory is a valid principal
// that no rule maps.
type kerberosEnv struct {
	kdc     *kdc.KDC
	b       *env
	keytabs map[string]string // by principal name
}

func startKerberosEnv(t *testing.T, topics ...string) *kerberosEnv {
	t.Helper()
	k := kdc.Start(t)
	t.Setenv("KRB5_CONFIG", k.Krb5Conf) // read by linkproxy's client and acceptor, and by kinit
	ke := &kerberosEnv{kdc: k, keytabs: map[string]string{}}
	for _, p := range []string{"kafka/127.0.0.1", "kafka/127.0.0.2", "alice", "mallory"} {
		k.AddPrincipal(t, p)
	}
	stale := k.Keytab(t, "stale.keytab", "kafka/127.0.0.1")
	k.Keytab(t, "internal.keytab", "kafka/127.0.0.1") // a new key: stale.keytab no longer decrypts tickets
	ke.keytabs["kafka/127.0.0.2"] = k.Keytab(t, "external.keytab", "kafka/127.0.0.2")
	ke.keytabs["alice"] = k.Keytab(t, "alice.keytab", "alice")
	ke.keytabs["mallory"] = k.Keytab(t, "mallory.keytab", "mallory")

	listener := func(principal, keytab string) string {
		return fmt.Sprintf(`"security.protocol" = "SASL_PLAINTEXT"
"sasl.enabled.mechanisms" = "GSSAPI"
"sasl.kerberos.service.name" = "kafka"
"gssapi.sasl.jaas.config" = '%s required useKeyTab=true storeKey=true keyTab="%s" principal="%s";'
"sasl.kerberos.principal.to.local.rules" = ['RULE:[1:$1@$0](alice@%s)s/@.*//']`, krb5Module, keytab, kdc.Principal(principal), kdc.Realm)
	}
	ke.b = startEnv(t, withKfake(kfake.SeedTopics(3, topics...)),
		withListener("EXTERNAL", listener("kafka/127.0.0.2", ke.keytabs["kafka/127.0.0.2"])),
		withListener("INTERNAL", listener("kafka/127.0.0.1", stale)))
	return ke
}

// kgoKerberos is franz-go's GSSAPI client logged in from user's keytab.
func (ke *kerberosEnv) kgoKerberos(t *testing.T, user string) kgosasl.Mechanism {
	t.Helper()
	cfg, err := config.Load(ke.kdc.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := keytab.Load(ke.keytabs[user])
	if err != nil {
		t.Fatal(err)
	}
	cl := client.NewWithKeytab(user, kdc.Realm, kt, cfg, client.DisablePAFXFAST(true))
	t.Cleanup(cl.Destroy)
	return kerberos.Auth{Client: cl, Service: "kafka", PersistAfterAuth: true}.AsMechanism()
}

// TestKerberosKgo: franz-go's GSSAPI client authenticates to a linkproxy
// listener with a KDC ticket and produces and consumes through it; the
// proxy names the principal by the to.local rules.
func TestKerberosKgo(t *testing.T) {
	ke := startKerberosEnv(t, "krb")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vals := values("krb", 10)
	got, err := kgoRun(ctx, ke.b.Listeners["EXTERNAL"].Bootstrap, ke.kgoKerberos(t, "alice"), "krb", "g-krb", vals)
	if err != nil {
		t.Fatalf("kgo through the GSSAPI listener: %v", err)
	}
	sameValues(t, "kgo GSSAPI", got, vals)
	ke.b.Logs.waitLine(t, "authenticated", func(m map[string]any) bool {
		return m["principal"] == "User:alice" && m["mechanism"] == "GSSAPI"
	})
}

// TestKerberosSarama: Sarama's GSSAPI client (gokrb5 inside, from a
// keytab) authenticates to the same listener and produces and consumes.
func TestKerberosSarama(t *testing.T) {
	ke := startKerberosEnv(t, "krb-sarama")
	cfg := saramaConfig(sarama.SASLTypeGSSAPI, sarama.SASLHandshakeV1, "", "")
	cfg.Net.SASL.GSSAPI = sarama.GSSAPIConfig{
		AuthType: sarama.KRB5_KEYTAB_AUTH, KerberosConfigPath: ke.kdc.Krb5Conf, ServiceName: "kafka",
		Username: "alice", Realm: kdc.Realm, KeyTabPath: ke.keytabs["alice"], DisablePAFXFAST: true,
	}
	vals := values("krb-sarama", 10)
	got, err := saramaRoundTrip(ke.b.Listeners["EXTERNAL"].Bootstrap, cfg, "krb-sarama", vals)
	if err != nil {
		t.Fatalf("Sarama through the GSSAPI listener: %v", err)
	}
	sameValues(t, "Sarama GSSAPI", got, vals)
	ke.b.Logs.waitLine(t, "authenticated", func(m map[string]any) bool {
		return m["principal"] == "User:alice" && m["mechanism"] == "GSSAPI" && m["listener"] == "EXTERNAL"
	})
}

// TestKerberosRefused: a principal no rule maps, and a listener whose
// keytab is stale, are refused with Kafka's authentication error.
func TestKerberosRefused(t *testing.T) {
	ke := startKerberosEnv(t, "krb")
	for _, tc := range []struct {
		name, listener, user, reason string
	}{
		{"principal without a rule", "EXTERNAL", "mallory", "no sasl.kerberos.principal.to.local.rules rule applies to mallory@" + kdc.Realm},
		{"stale service keytab", "INTERNAL", "alice", "refused the client's ticket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cl, err := kgo.NewClient(kgo.SeedBrokers(ke.b.Listeners[tc.listener].Bootstrap), kgo.SASL(ke.kgoKerberos(t, tc.user)))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			// A direct request returns the connection's error, where a
			// produce would retry until its context ends.
			_, err = cl.Request(ctx, kmsg.NewPtrMetadataRequest())
			if err == nil || !strings.Contains(err.Error(), "Authentication failed during authentication due to invalid credentials with SASL mechanism GSSAPI") {
				t.Fatalf("metadata as %s: err %v, want Kafka's GSSAPI authentication failure", tc.user, err)
			}
			ke.b.Logs.waitLine(t, "SASL authentication failed", func(m map[string]any) bool {
				r, _ := m["reason"].(string)
				return strings.Contains(r, tc.reason)
			})
		})
	}
}

// TestKerberosUpstream: a linkproxy ("A") whose [cluster] logs in with
// GSSAPI from a kinit ticket cache reaches B, and a PLAINTEXT client of A
// produces and consumes. The cache's TGT lives 30s and the refresh runs
// early (window factor 0.1), so A runs sasl.kerberos.kinit.cmd -R (a
// wrapper that records its calls) and reloads the cache; new connections
// keep authenticating after that.
func TestKerberosUpstream(t *testing.T) {
	ke := startKerberosEnv(t, "up-first", "up-after-renewal")
	dir := t.TempDir()
	cache := filepath.Join(dir, "alice.ccache")
	ke.kdc.Kinit(t, cache, kdc.Principal("alice"), ke.keytabs["alice"], "-l", "30s", "-r", "1h")
	firstEnd := tgtEnd(t, cache)
	calls := filepath.Join(dir, "kinit.calls")
	wrapper := filepath.Join(dir, "kinit-wrapper")
	kinit, err := findKinit()
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\necho \"$KRB5CCNAME $*\" >> %q\nexec %q \"$@\"\n", calls, kinit)
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}

	a := startEnv(t, withUpstream(ke.b.Listeners["EXTERNAL"].Bootstrap), withCluster(fmt.Sprintf(`"security.protocol" = "SASL_PLAINTEXT"
"sasl.mechanism" = "GSSAPI"
"sasl.kerberos.service.name" = "kafka"
"sasl.jaas.config" = '%s required useTicketCache=true renewTGT=true ticketCache="%s";'
"sasl.kerberos.kinit.cmd" = %q
"sasl.kerberos.min.time.before.relogin" = 1000
"sasl.kerberos.ticket.renew.window.factor" = 0.1`, krb5Module, cache, wrapper)))

	run := func(round string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		vals := values("up-"+round, 5)
		got, err := plainRun(ctx, a.Listeners["INTERNAL"].Bootstrap, "up-"+round, "g-up-"+round, vals)
		if err != nil {
			t.Fatalf("%s: a PLAINTEXT client through the Kerberos-authenticated proxy: %v", round, err)
		}
		sameValues(t, "kgo through A ("+round+")", got, vals)
	}
	run("first")
	ke.b.Logs.waitLine(t, "authenticated", func(m map[string]any) bool {
		return m["principal"] == "User:alice" && m["mechanism"] == "GSSAPI"
	})

	// A client built from the same properties and closed, as the link
	// store's short-lived admin client is, shares the login and must not
	// stop the refresh the proxy lives on.
	sibling, err := kgo.NewClient(a.Config.Cluster.Props.KgoOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 20*time.Second)
	err = sibling.Ping(pctx)
	pcancel()
	sibling.Close()
	if err != nil {
		t.Fatalf("a second client from [cluster]'s properties: %v", err)
	}

	// The refresh is due within about 4.5s of kinit; wait for two so that
	// one certainly ran on a cache the first had renewed.
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(calls)
		if n := strings.Count(string(b), " -R\n"); n >= 2 {
			if !strings.Contains(string(b), "FILE:"+cache+" -R") {
				t.Fatalf("kinit ran without the ticket cache: %q", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sasl.kerberos.kinit.cmd -R not run twice within 60s; calls: %q", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if end := tgtEnd(t, cache); !end.After(firstEnd) {
		t.Fatalf("the cached TGT still ends at %v after kinit -R (first %v)", end, firstEnd)
	}
	// The refresh logs through the proxy's logger, naming the cluster.
	a.Logs.waitLine(t, "Kerberos TGT refreshed", func(m map[string]any) bool {
		return m["@module"] == "proxy.kerberos" && m["cluster"] == "test"
	})
	run("after-renewal")
}

// tgtEnd is when the TGT in a ticket cache expires.
func tgtEnd(t *testing.T, cache string) time.Time {
	t.Helper()
	cc, err := credentials.LoadCCache(cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cc.GetEntries() {
		if len(c.Server.PrincipalName.NameString) > 0 && c.Server.PrincipalName.NameString[0] == "krbtgt" {
			return c.EndTime
		}
	}
	t.Fatalf("no TGT in %s", cache)
	return time.Time{}
}

// plainRun produces vals to topic and consumes them back with a
// PLAINTEXT franz-go client.
func plainRun(ctx context.Context, bootstrap, topic, group string, vals []string) ([]string, error) {
	return kgoTLSRun(ctx, bootstrap, []kgo.Opt{kgo.ConsumerGroup(group)}, topic, vals)
}

func findKinit() (string, error) {
	for _, p := range []string{"/usr/bin/kinit", "/usr/local/bin/kinit"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("kinit not found")
}

// kcatKerberos runs kcat with librdkafka's GSSAPI (Cyrus SASL over MIT
// GSSAPI: mutual authentication, an initiator subkey) from the ticket
// cache; min.time.before.relogin=0 keeps librdkafka from running kinit.
// kcatKerberos is kcatRun logging in with GSSAPI from the ticket cache.
func kcatKerberos(t *testing.T, cache, bootstrap string, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	return kcatRunEnv(t, []string{"KRB5CCNAME=FILE:" + cache}, bootstrap, stdin, append([]string{
		"-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=GSSAPI",
		"-X", "sasl.kerberos.service.name=kafka", "-X", "sasl.kerberos.min.time.before.relogin=0"}, args...)...)
}

// TestKerberosKcat: librdkafka's GSSAPI client, which asks for mutual
// authentication, produces and consumes through the GSSAPI listener.
func TestKerberosKcat(t *testing.T) {
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is not on PATH (%v); run integration/install-deps.sh", err)
	}
	if out, _ := exec.Command(path, "-X", "list").CombinedOutput(); !strings.Contains(string(out), "sasl_gssapi") {
		t.Skip("this kcat's librdkafka is built without GSSAPI (kcat -X list shows no sasl_gssapi)")
	}
	ke := startKerberosEnv(t, "kcat-krb")
	cache := filepath.Join(t.TempDir(), "alice.ccache")
	ke.kdc.Kinit(t, cache, kdc.Principal("alice"), ke.keytabs["alice"])
	ext := ke.b.Listeners["EXTERNAL"].Bootstrap
	vals := values("kcat-krb", 10)
	if _, stderr, err := kcatKerberos(t, cache, ext, []byte(strings.Join(vals, "\n")+"\n"),
		"-P", "-t", "kcat-krb", "-X", "acks=all", "-X", "linger.ms=0"); err != nil {
		t.Fatalf("kcat produce: %v\n%s", err, stderr)
	}
	stdout, stderr, err := kcatKerberos(t, cache, ext, nil,
		"-C", "-G", "g-kcat-krb", "-o", "beginning", "-X", "auto.offset.reset=earliest", "-X", "fetch.wait.max.ms=200",
		"-c", fmt.Sprint(len(vals)), "-f", "%s\n", "kcat-krb")
	if err != nil {
		t.Fatalf("kcat consume: %v\n%s", err, stderr)
	}
	sameValues(t, "kcat GSSAPI", strings.Fields(stdout), vals)
}

// TestKerberosUpstreamKeytab: a linkproxy whose [cluster] logs in from a
// keytab (useKeyTab=true) reaches the GSSAPI listener.
func TestKerberosUpstreamKeytab(t *testing.T) {
	ke := startKerberosEnv(t, "up-keytab")
	a := startEnv(t, withUpstream(ke.b.Listeners["EXTERNAL"].Bootstrap), withCluster(fmt.Sprintf(`"security.protocol" = "SASL_PLAINTEXT"
"sasl.mechanism" = "GSSAPI"
"sasl.jaas.config" = '%s required useKeyTab=true storeKey=true keyTab="%s" principal="%s" serviceName="kafka";'`,
		krb5Module, ke.keytabs["alice"], kdc.Principal("alice"))))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vals := values("up-keytab", 5)
	got, err := plainRun(ctx, a.Listeners["INTERNAL"].Bootstrap, "up-keytab", "g-up-keytab", vals)
	if err != nil {
		t.Fatalf("a PLAINTEXT client through the keytab-authenticated proxy: %v", err)
	}
	sameValues(t, "kgo through A (keytab)", got, vals)
	ke.b.Logs.waitLine(t, "authenticated", func(m map[string]any) bool {
		return m["principal"] == "User:alice" && m["mechanism"] == "GSSAPI"
	})
}
