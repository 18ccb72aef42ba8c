package link

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/linkproxy/linkproxy/auth/keystore/keystoretest"
)

func testEncoder(t *testing.T, secret, old string) *PasswordEncoder {
	t.Helper()
	e, err := NewPasswordEncoder(secret, old, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPasswordEncoder(t *testing.T) {
	const pass = "s3cr3t-jaas-value"
	cur := testEncoder(t, "current-secret-0123", "")
	sealed, err := cur.encrypt("sasl.jaas.config", pass)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, pass) || !strings.HasPrefix(sealed, encryptedPrefix) {
		t.Fatalf("sealed form %q", sealed)
	}
	again, _ := cur.encrypt("sasl.jaas.config", pass)
	if again == sealed {
		t.Error("two encryptions of one value are equal: the nonce is not fresh")
	}

	rotated := testEncoder(t, "next-secret-456789", "current-secret-0123")
	tests := []struct {
		name      string
		enc       *PasswordEncoder
		prop      string
		stored    string
		want      string
		wantStale bool
		wantErr   bool
	}{
		{"current secret", cur, "sasl.jaas.config", sealed, pass, false, false},
		{"old secret: stale", rotated, "sasl.jaas.config", sealed, pass, true, false},
		{"wrong secret", testEncoder(t, "another-secret-999", ""), "sasl.jaas.config", sealed, "", false, true},
		{"moved to another property", cur, "ssl.key.password", sealed, "", false, true},
		{"clear text from before a secret: stale", cur, "sasl.jaas.config", pass, pass, true, false},
		{"malformed", cur, "sasl.jaas.config", encryptedPrefix + "4096:AAAA", "", false, true},
		{"bad base64", cur, "sasl.jaas.config", encryptedPrefix + "4096:!!:AAAA:AAAA", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stale, err := tt.enc.decrypt(tt.prop, tt.stored)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), pass) {
					t.Fatalf("error %q holds the value", err)
				}
				return
			}
			if got != tt.want || stale != tt.wantStale {
				t.Fatalf("got %q stale %v, want %q stale %v", got, stale, tt.want, tt.wantStale)
			}
		})
	}

	if _, err := NewPasswordEncoder("", "", 4096); err == nil {
		t.Error("an empty secret was accepted")
	}
	if _, err := NewPasswordEncoder("current-secret-0123", "", 100); err == nil {
		t.Error("100 iterations were accepted")
	}
}

// storedLink reads the raw link record from the state topic.
func storedLink(t *testing.T, tc *testClusters, name string) linkRecord {
	t.Helper()
	cl, err := kgo.NewClient(append(tc.dstOpts, kgo.ConsumeTopics(DefaultStateTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	end, err := func() (int64, error) {
		o, err := kadm.NewClient(cl).ListEndOffsets(ctx, DefaultStateTopic)
		if err != nil {
			return 0, err
		}
		lo, _ := o.Lookup(DefaultStateTopic, 0)
		return lo.Offset, lo.Err
	}()
	if err != nil {
		t.Fatal(err)
	}
	var last *linkRecord
	for next := int64(0); next < end; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			if string(r.Key) == linkKey(name) && r.Value != nil {
				var l linkRecord
				if err := json.Unmarshal(r.Value, &l); err != nil {
					t.Fatal(err)
				}
				last = &l
			}
		})
	}
	if last == nil {
		t.Fatalf("no record of link %s in the state topic", name)
	}
	return *last
}

// TestLinkPasswordsEncrypted: a link with a password config is refused
// without password.encoder.secret; with it, the state topic holds the
// password encrypted, the link works, and a restart with the secret
// rotated (the old one as password.encoder.old.secret) writes it again
// under the new secret.
func TestLinkPasswordsEncrypted(t *testing.T) {
	tc := newClusters(t)
	ctx := context.Background()
	const pass = "link-key-pass-7741"
	ca := keystoretest.NewCA(t, "link CA")
	cert := ca.Issue(t, "link")
	// Only stored here: the source is not a TLS cluster, so the link
	// never connects, which does not matter to what is stored.
	cfg := map[string]string{
		"security.protocol":              "SSL",
		"ssl.keystore.type":              "PEM",
		"ssl.keystore.key":               string(cert.EncryptedKeyPEM(t, pass)),
		"ssl.key.password":               pass,
		"ssl.keystore.certificate.chain": string(cert.ChainPEM()),
	}
	for k, v := range tc.fastLinkConfig {
		cfg[k] = v
	}

	s, stop := startService(t, tc)
	err := s.CreateLink(ctx, "west", "", cfg, false, false)
	le, ok := err.(*Error)
	if !ok || le.Status != 400 || !strings.Contains(err.Error(), "is a password config") || !strings.Contains(err.Error(), "password.encoder.secret") || strings.Contains(err.Error(), pass) {
		t.Fatalf("CreateLink without an encoder: %v, want a 400 naming ssl.key.password and password.encoder.secret", err)
	}
	stop()

	tc.encoder = testEncoder(t, "first-secret-0123456", "")
	s, stop = startService(t, tc)
	if err := s.CreateLink(ctx, "west", "", cfg, false, false); err != nil {
		t.Fatal(err)
	}
	raw := storedLink(t, tc, "west")
	if v := raw.Configs["ssl.key.password"]; strings.Contains(v, pass) || !strings.HasPrefix(v, encryptedPrefix) {
		t.Fatalf("stored ssl.key.password = %q, want it encrypted", v)
	}
	for _, k := range []string{"ssl.keystore.key", "ssl.keystore.certificate.chain"} {
		if !strings.HasPrefix(raw.Configs[k], encryptedPrefix) {
			t.Errorf("stored %s is not encrypted", k)
		}
	}
	if raw.Configs["bootstrap.servers"] != tc.srcAddrs {
		t.Fatalf("stored bootstrap.servers = %q: only passwords are encrypted", raw.Configs["bootstrap.servers"])
	}
	if l, _ := s.store.link("west"); l.Configs["ssl.key.password"] != pass {
		t.Fatal("the service does not see the decrypted password")
	}
	stop()

	tc.encoder = testEncoder(t, "second-secret-987654", "first-secret-0123456")
	s, stop = startService(t, tc)
	if l, _ := s.store.link("west"); l.Configs["ssl.key.password"] != pass {
		t.Fatal("the old secret did not decrypt the password")
	}
	onlyNew := testEncoder(t, "second-secret-987654", "")
	waitFor(t, "the link to be written again under the new secret", func() (bool, string) {
		v := storedLink(t, tc, "west").Configs["ssl.key.password"]
		got, _, err := onlyNew.decrypt("ssl.key.password", v)
		return err == nil && got == pass, "not yet"
	})
	stop()
}
