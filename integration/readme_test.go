package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	kgoscram "github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
)

// TestReadmeSecurityExample runs README's "A complete SASL_SSL
// configuration" as a new user would: its shell commands (openssl and
// linkproxy scram) and its TOML file, with /etc/linkproxy replaced by a
// temporary directory and the example addresses by loopback ones, in front
// of a SASL_SSL cluster that knows the proxy as linkproxy/proxy-secret.
// alice produces and consumes orders.eu through the proxy, is refused
// payments, and none of the example's secrets reaches the output.
func TestReadmeSecurityExample(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is not on PATH (%v); run integration/install-deps.sh", err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	i := strings.Index(section, "### A complete SASL_SSL configuration")
	if i < 0 {
		t.Fatal("README has no section \"A complete SASL_SSL configuration\"")
	}
	section = section[i:]
	if j := strings.Index(section[4:], "\n### "); j >= 0 {
		section = section[:j+4]
	}
	block := func(lang string) string {
		m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindStringSubmatch(section)
		if m == nil {
			t.Fatalf("no ```%s block in the section", lang)
		}
		return m[1]
	}
	dir := t.TempDir()
	const (
		alicePass = "alice-readme-7731"
		adminPass = "admin-readme-5521"
	)

	// The commands, one line at a time in dir; each scram line reads its
	// password from standard input, as from a pipe.
	binDir := filepath.Dir(linkproxyBin(t))
	for _, line := range strings.Split(block("sh"), "\n") {
		line = strings.TrimSpace(strings.ReplaceAll(line, "/etc/linkproxy", dir))
		if line == "" || strings.HasPrefix(line, "mkdir ") {
			continue
		}
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		switch {
		case strings.Contains(line, "--user alice"):
			cmd.Stdin = strings.NewReader(alicePass + "\n")
		case strings.Contains(line, "--user admin"):
			cmd.Stdin = strings.NewReader(adminPass + "\n")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("README command %q: %v\n%s", line, err, out)
		}
	}

	// The private cluster: SASL_SSL, the proxy's user, its CA in
	// cluster-ca.pem as the README asks.
	ca := keystoretest.NewCA(t, "private cluster CA")
	keystoretest.Write(t, dir, "cluster-ca.pem", ca.PEM())
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders.eu", "payments"),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "linkproxy", "proxy-secret"),
		kfake.TLS(ca.Issue(t, "broker", "127.0.0.1").ServerConfig(nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)

	base := freeBase(t, "127.0.0.1", 8)
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(base))
	toml := block("toml")
	for old, repl := range map[string]string{
		"/etc/linkproxy":              dir,
		"10.0.0.1:9092,10.0.0.2:9092": strings.Join(cluster.ListenAddrs(), ","),
		`"0.0.0.0:9092"`:              strconv.Quote(listen),
		`"proxy.example.com"`:         `"127.0.0.1"`,
	} {
		if !strings.Contains(toml, old) {
			t.Fatalf("the README's config no longer holds %q", old)
		}
		toml = strings.ReplaceAll(toml, old, repl)
	}
	toml += fmt.Sprintf("\n[rest]\nlisteners = [%q]\n", "http://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(base+8)))
	config := filepath.Join(dir, "linkproxy.toml")
	if err := os.WriteFile(config, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	proc := startProcess(t, "serve", "--config", config)
	proc.waitLine(t, "ready listener=")

	// alice, over TLS with the CA openssl made, SCRAM-SHA-512.
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	alice := kgoscram.Auth{User: "alice", Pass: alicePass}.AsSha512Mechanism()
	tlsCfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vals := values("readme", 10)
	got, err := kgoTLSRun(ctx, listen, []kgo.Opt{kgo.DialTLSConfig(tlsCfg), kgo.SASL(alice), kgo.ConsumerGroup("orders-readme")}, "orders.eu", vals)
	if err != nil {
		t.Fatalf("alice on orders.eu: %v\nlinkproxy:\n%s", err, proc.stderr.String())
	}
	sameValues(t, "alice on orders.eu", got, vals)

	cl, err := kgo.NewClient(kgo.SeedBrokers(listen), kgo.DialTLSConfig(tlsCfg), kgo.SASL(alice), kgo.ProducerLinger(0), kgo.RecordRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	err = cl.ProduceSync(ctx, &kgo.Record{Topic: "payments", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("alice producing to payments: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}

	proc.stop(t)
	out := proc.stderr.String()
	if !strings.Contains(out, "User:alice") {
		t.Fatalf("linkproxy's log does not name alice's logins, so it was not the log read:\n%s", out)
	}
	for _, secret := range []string{"proxy-secret", "changeit", alicePass, adminPass, "change-me-to-a-long-random-string"} {
		if strings.Contains(out, secret) {
			t.Errorf("linkproxy's output holds the secret %q", secret)
		}
	}
}
