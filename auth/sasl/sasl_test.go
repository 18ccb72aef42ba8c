package sasl

import (
	"bytes"
	"crypto/pbkdf2"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xdg-go/scram"

	"github.com/linkproxy/linkproxy/auth/oauth"
	"github.com/linkproxy/linkproxy/auth/oauth/oauthtest"
)

const (
	alicePass = "Al1ce-Secret-4471"
	bobPass   = "B0b-Secret-9902"
	wrongPass = "Wr0ng-Secret-1187"
)

// testCreds has alice with both SCRAM entries and bob with SHA-256 only.
func testCreds(t *testing.T) (*Credentials, string) {
	t.Helper()
	var lines []string
	for _, e := range []struct{ user, mech, pass string }{
		{"alice", ScramSHA512, alicePass},
		{"alice", ScramSHA256, alicePass},
		{"bob", ScramSHA256, bobPass},
	} {
		en, err := NewEntry(e.user, e.mech, []byte(e.pass), DefaultIterations)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, en.String())
	}
	text := "# test users\n\n" + strings.Join(lines, "\n") + "\n"
	c, err := ParseCredentials([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c, text
}

func TestEntryMatchesXdgScram(t *testing.T) {
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		e, err := NewEntry("alice", mech, []byte(alicePass), 4096)
		if err != nil {
			t.Fatal(err)
		}
		gen := scram.SHA256
		if mech == ScramSHA512 {
			gen = scram.SHA512
		}
		cl, _ := gen.NewClientUnprepped("alice", alicePass, "")
		want, err := cl.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(e.Salt), Iters: 4096})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.StoredKey, e.StoredKey) || !bytes.Equal(want.ServerKey, e.ServerKey) {
			t.Errorf("%s: derived keys differ from xdg-go/scram's", mech)
		}
		line := e.String()
		if strings.Count(line, ":") != 5 || !strings.HasPrefix(line, "alice:"+mech+":4096:") || strings.Contains(line, alicePass) {
			t.Errorf("entry line %q", line)
		}
		back, err := parseEntry(line)
		if err != nil || back.User != "alice" || !bytes.Equal(back.StoredKey, e.StoredKey) {
			t.Errorf("parse back: %v %+v", err, back)
		}
	}
	// A user name may hold colons.
	e, _ := NewEntry("svc:ingest", ScramSHA512, []byte(alicePass), 4096)
	if back, err := parseEntry(e.String()); err != nil || back.User != "svc:ingest" {
		t.Errorf("user with a colon: %v %q", err, back.User)
	}
}

func TestNewEntryRefuses(t *testing.T) {
	for _, c := range []struct {
		user, mech, pass string
		it               int
		want             string
	}{
		{"", ScramSHA512, "x", 4096, "empty user"},
		{"#x", ScramSHA512, "x", 4096, "'#'"},
		{"a\nb", ScramSHA512, "x", 4096, "control"},
		{"a", Plain, "x", 4096, "PLAIN passwords are checked against them"},
		{"a", ScramSHA512, "x", 1000, "4096 to 16384"},
		{"a", ScramSHA512, "x", 20000, "4096 to 16384"},
		{"a", ScramSHA512, "", 4096, "empty password"},
	} {
		_, err := NewEntry(c.user, c.mech, []byte(c.pass), c.it)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewEntry(%q, %q, it %d) = %v, want %q", c.user, c.mech, c.it, err, c.want)
		}
	}
}

func TestParseCredentialsErrors(t *testing.T) {
	good, _ := NewEntry("alice", ScramSHA512, []byte(alicePass), 4096)
	f := strings.Split(good.String(), ":")
	salt, stored, server := f[3], f[4], f[5]
	text := strings.Join([]string{
		good.String(),
		"bob:SCRAM-SHA-512:4096:" + salt + ":" + stored, // 5 fields
		"carol:SCRAM-SHA-1:4096:" + salt + ":" + stored + ":" + server,
		"dave:SCRAM-SHA-512:100:" + salt + ":" + stored + ":" + server,
		"erin:SCRAM-SHA-512:4096:%%%:" + stored + ":" + server,
		"frank:SCRAM-SHA-256:4096:" + salt + ":" + stored + ":" + server, // 64-byte keys for SHA-256
		good.String(), // duplicate
		"gina:SCRAM-SHA-512:4096::" + stored + ":" + server,
	}, "\n")
	_, err := ParseCredentials([]byte(text))
	if err == nil {
		t.Fatal("parsed")
	}
	msg := err.Error()
	for _, want := range []string{
		"line 2: 5 fields separated by ':', want 6",
		`line 3: user "carol": mechanism "SCRAM-SHA-1"`,
		`line 4: user "dave": iterations must be a number from 4096 to 16384`,
		`line 5: user "erin": salt is not standard base64`,
		`line 6: user "frank": storedKey is 64 bytes; SCRAM-SHA-256 needs 32`,
		`line 7: user "alice" has a SCRAM-SHA-512 entry on line 1 already`,
		`line 8: user "gina": salt is empty`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{salt, stored, server} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows a credential value:\n%s", msg)
		}
	}
}

func step(t *testing.T, a Authenticator, tok string) (string, bool, *Error) {
	t.Helper()
	out, done, err := a.Step([]byte(tok))
	if err != nil {
		e, ok := IsError(err)
		if !ok {
			t.Fatalf("error %v is not a *sasl.Error", err)
		}
		return "", false, e
	}
	return string(out), done, nil
}

func TestPlain(t *testing.T) {
	c, _ := testCreds(t)
	cases := []struct {
		name, token string
		ok          bool
		user        string
		msg         string // Kafka's client message; "" for the generic one
		reason      string
	}{
		{"sha512 entry", "\x00alice\x00" + alicePass, true, "alice", "", ""},
		{"sha256 only", "\x00bob\x00" + bobPass, true, "bob", "", ""},
		{"authzid = user", "alice\x00alice\x00" + alicePass, true, "alice", "", ""},
		{"wrong password", "\x00alice\x00" + wrongPass, false, "alice", msgPlainFailed, "wrong password"},
		{"unknown user", "\x00mallory\x00" + wrongPass, false, "", msgPlainFailed, "unknown user"},
		{"authzid differs", "bob\x00alice\x00" + alicePass, false, "alice", msgAuthzIDMismatch, "authorization id"},
		{"no user", "\x00\x00" + alicePass, false, "", msgNoUsername, "without a user name"},
		{"no password", "\x00alice\x00", false, "", msgNoPassword, "without a password"},
		{"two fields", "alice\x00" + alicePass, false, "", "", "2 NUL-separated fields"},
		{"four fields", "\x00alice\x00" + alicePass + "\x00x", false, "", "", "4 NUL-separated fields"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := NewAuthenticator(Plain, Verifiers{Credentials: c})
			out, done, e := step(t, a, tc.token)
			if tc.ok {
				if e != nil || !done || out != "" || a.User() != tc.user {
					t.Fatalf("got %q %v %v user %q", out, done, e, a.User())
				}
				if _, _, err := a.Step([]byte(tc.token)); err == nil {
					t.Error("a second PLAIN token was accepted")
				}
				return
			}
			if e == nil {
				t.Fatal("authenticated")
			}
			if e.Message != tc.msg || !strings.Contains(e.Reason, tc.reason) || e.User != tc.user {
				t.Errorf("error %+v, want message %q, reason ~%q, user %q", e, tc.msg, tc.reason, tc.user)
			}
			if strings.Contains(e.Reason+e.Message, alicePass) || strings.Contains(e.Reason+e.Message, wrongPass) {
				t.Errorf("error shows a password: %+v", e)
			}
		})
	}
}

// scramRun runs a SCRAM exchange with an xdg-go/scram client and returns
// the server's error, or nil when both sides accept.
func scramRun(t *testing.T, c *Credentials, mech, user, pass string, mutate func(step int, msg string) string) (serverFirst string, e *Error) {
	t.Helper()
	gen := scram.SHA256
	if mech == ScramSHA512 {
		gen = scram.SHA512
	}
	cl, err := gen.NewClientUnprepped(user, pass, "")
	if err != nil {
		t.Fatal(err)
	}
	conv := cl.NewConversation()
	a, err := NewAuthenticator(mech, Verifiers{Credentials: c})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := conv.Step("")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; ; i++ {
		if mutate != nil {
			msg = mutate(i, msg)
		}
		out, done, se := step(t, a, msg)
		if se != nil {
			return serverFirst, se
		}
		if i == 1 {
			serverFirst = out
		}
		msg, err = conv.Step(out)
		if err != nil {
			t.Fatalf("client refused the server's step %d: %v", i, err)
		}
		if done {
			if !conv.Valid() || a.User() != user {
				t.Fatalf("client valid %v, user %q", conv.Valid(), a.User())
			}
			return serverFirst, nil
		}
	}
}

func TestScram(t *testing.T) {
	c, _ := testCreds(t)
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		t.Run(mech, func(t *testing.T) {
			if _, e := scramRun(t, c, mech, "alice", alicePass, nil); e != nil {
				t.Fatalf("alice: %+v", e)
			}
			_, e := scramRun(t, c, mech, "alice", wrongPass, nil)
			if e == nil || e.Message != "" || e.User != "alice" || !strings.Contains(e.Reason, "wrong password") {
				t.Errorf("wrong password: %+v", e)
			}
			// Bad proof: a right password, a proof bit flipped.
			_, e = scramRun(t, c, mech, "alice", alicePass, func(step int, msg string) string {
				if step != 2 {
					return msg
				}
				i := strings.LastIndex(msg, ",p=")
				proof, _ := base64.StdEncoding.DecodeString(msg[i+3:])
				proof[0] ^= 1
				return msg[:i+3] + base64.StdEncoding.EncodeToString(proof)
			})
			if e == nil || e.Message != "" || !strings.Contains(e.Reason, "invalid SCRAM client proof") {
				t.Errorf("bad proof: %+v", e)
			}
		})
	}
	// bob has no SCRAM-SHA-512 entry: there he is unknown.
	if _, e := scramRun(t, c, ScramSHA512, "bob", bobPass, nil); e == nil || e.Reason != "unknown user" || e.User != "" {
		t.Errorf("bob over SHA-512: %+v", e)
	}
}

// TestScramUnknownUserLooksKnown: a user not in the file gets a
// server-first message of the same shape as a real one (salt size,
// iterations), the same salt on every attempt, and fails with the same
// client-facing error as a wrong password.
func TestScramUnknownUserLooksKnown(t *testing.T) {
	c, _ := testCreds(t)
	parse := func(sf string) (salt []byte, iters string) {
		for _, f := range strings.Split(sf, ",") {
			switch {
			case strings.HasPrefix(f, "s="):
				salt, _ = base64.StdEncoding.DecodeString(f[2:])
			case strings.HasPrefix(f, "i="):
				iters = f[2:]
			}
		}
		return salt, iters
	}
	realFirst, realErr := scramRun(t, c, ScramSHA512, "alice", wrongPass, nil)
	fakeFirst, fakeErr := scramRun(t, c, ScramSHA512, "mallory", wrongPass, nil)
	fakeAgain, _ := scramRun(t, c, ScramSHA512, "mallory", alicePass, nil)
	otherFake, _ := scramRun(t, c, ScramSHA512, "trudy", wrongPass, nil)
	rs, ri := parse(realFirst)
	fs, fi := parse(fakeFirst)
	fs2, _ := parse(fakeAgain)
	other, _ := parse(otherFake)
	if len(rs) != len(fs) || ri != fi || len(fs) == 0 {
		t.Errorf("unknown user's server-first differs in shape: real salt %d bytes i=%s, fake %d bytes i=%s", len(rs), ri, len(fs), fi)
	}
	if !bytes.Equal(fs, fs2) {
		t.Error("an unknown user gets a different salt on each attempt")
	}
	if bytes.Equal(fs, other) {
		t.Error("two unknown users share a salt")
	}
	if realErr == nil || fakeErr == nil || realErr.Message != fakeErr.Message {
		t.Errorf("client-facing errors differ: %+v vs %+v", realErr, fakeErr)
	}
	if fakeErr.User != "" || fakeErr.Reason != "unknown user" {
		t.Errorf("unknown user error %+v", fakeErr)
	}

	// PLAIN: the same message for a wrong password and an unknown user.
	a, _ := NewAuthenticator(Plain, Verifiers{Credentials: c})
	_, _, e1 := step(t, a, "\x00alice\x00"+wrongPass)
	a, _ = NewAuthenticator(Plain, Verifiers{Credentials: c})
	_, _, e2 := step(t, a, "\x00mallory\x00"+wrongPass)
	if e1.Message != e2.Message {
		t.Errorf("PLAIN messages differ: %q vs %q", e1.Message, e2.Message)
	}

	// Another file gives the unknown user another salt (the secret comes
	// from the file), the same file the same salt.
	c2, _ := testCreds(t)
	f2, _ := scramRun(t, c2, ScramSHA512, "mallory", wrongPass, nil)
	if s, _ := parse(f2); bytes.Equal(s, fs) {
		t.Error("unknown user's salt does not depend on the file")
	}
}

func TestScramRefusals(t *testing.T) {
	c, _ := testCreds(t)
	// Channel binding flags other than "n" are refused, as Kafka does.
	_, e := scramRun(t, c, ScramSHA512, "alice", alicePass, func(step int, msg string) string {
		if step == 1 {
			return "y" + msg[1:]
		}
		return msg
	})
	if e == nil || !strings.Contains(e.Reason, `gs2 header "n,"`) {
		t.Errorf("gs2 y: %+v", e)
	}
	// Delegation tokens are not supported: refused even with the right
	// password.
	_, e = scramRun(t, c, ScramSHA512, "alice", alicePass, func(step int, msg string) string {
		if step == 1 {
			return msg + ",tokenauth=true"
		}
		return msg
	})
	if e == nil || e.Message != "" || !strings.Contains(e.Reason, "tokenauth") {
		t.Errorf("tokenauth: %+v", e)
	}
	// An authorization id other than the user.
	_, e = scramRun(t, c, ScramSHA512, "alice", alicePass, func(step int, msg string) string {
		if step == 1 {
			return strings.Replace(msg, "n,,", "n,a=bob,", 1)
		}
		return msg
	})
	if e == nil || e.Message != msgAuthzIDMismatch {
		t.Errorf("authzid: %+v", e)
	}
	// Garbage.
	for _, tok := range []string{"", "n,", "n,,x", "hello"} {
		a, _ := NewAuthenticator(ScramSHA256, Verifiers{Credentials: c})
		if _, _, e := step(t, a, tok); e == nil || e.Message != "" {
			t.Errorf("client-first %q: %+v", tok, e)
		}
	}
	a, _ := NewAuthenticator(ScramSHA256, Verifiers{Credentials: c})
	step(t, a, "n,,n=alice,r=abc")
	if _, _, e := step(t, a, "c=biws,r=abc,p=AAAA"); e == nil || !strings.Contains(e.Reason, "nonce") {
		t.Errorf("foreign nonce: %+v", e)
	}
	if _, _, e := step(t, a, "x"); e == nil {
		t.Error("a third message was accepted")
	}
	if _, err := NewAuthenticator("GSSAPI", Verifiers{Credentials: c}); err == nil {
		t.Error("GSSAPI authenticator made")
	}
}

func TestFileReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "creds")
	_, text := testCreds(t)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, reloaded, err := f.Current()
	if c.Len() != 3 || reloaded || err != nil {
		t.Fatalf("Current: %d %v %v", c.Len(), reloaded, err)
	}
	carol, _ := NewEntry("carol", ScramSHA512, []byte(bobPass), 4096)
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		f.checked = time.Time{} // do not wait for the next check
		f.mu.Unlock()
	}
	write(text + carol.String() + "\n")
	if c, reloaded, err = f.Current(); c.Len() != 4 || !reloaded || err != nil {
		t.Fatalf("after adding carol: %d %v %v", c.Len(), reloaded, err)
	}
	write(text + "broken line\n")
	if c, reloaded, err = f.Current(); c.Len() != 4 || reloaded || err == nil || !strings.Contains(err.Error(), "line ") {
		t.Fatalf("broken file: %d %v %v", c.Len(), reloaded, err)
	}
	f.mu.Lock()
	f.checked = time.Time{}
	f.mu.Unlock()
	if c, _, err = f.Current(); c.Len() != 4 || err != nil {
		t.Fatalf("broken file reported twice: %v", err)
	}
	os.Remove(path)
	f.mu.Lock()
	f.checked = time.Time{}
	f.mu.Unlock()
	if c, _, err = f.Current(); c.Len() != 4 || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("removed file: %v", err)
	}
	if _, err := OpenFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenFile of a missing file: %v", err)
	}
}

// clientFinal computes a client-final message by hand for a chosen
// without-proof part, as a client that words it differently would.
func clientFinal(t *testing.T, mech, pass, clientFirstBare, serverFirst, withoutProof string) string {
	t.Helper()
	var salt []byte
	var iters int
	for _, f := range strings.Split(serverFirst, ",") {
		switch {
		case strings.HasPrefix(f, "s="):
			salt, _ = base64.StdEncoding.DecodeString(f[2:])
		case strings.HasPrefix(f, "i="):
			fmt.Sscan(f[2:], &iters)
		}
	}
	h := hashFor(mech)
	salted, err := pbkdf2.Key(h, pass, salt, iters, h().Size())
	if err != nil {
		t.Fatal(err)
	}
	clientKey := hmacOf(h, salted, []byte("Client Key"))
	sum := h()
	sum.Write(clientKey)
	sig := hmacOf(h, sum.Sum(nil), []byte(clientFirstBare+","+serverFirst+","+withoutProof))
	for i := range clientKey {
		clientKey[i] ^= sig[i]
	}
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(clientKey)
}

// TestScramLibrdkafkaNonce: librdkafka (2.0.2, Debian's kcat) repeats its
// nonce in the client-final message; Kafka accepts a final nonce that ends
// with the server's, and so does the proxy. Channel binding data must
// still be the gs2 header.
func TestScramLibrdkafkaNonce(t *testing.T) {
	c, _ := testCreds(t)
	const cnonce = ";IfE89s8F[5B]Q]7"
	for _, tc := range []struct {
		name, cbind, nonce string
		ok                 bool
		reason             string
	}{
		{"exact nonce", "biws", "", true, ""},
		{"client nonce repeated", "biws", cnonce, true, ""},
		{"foreign prefix and suffix", "biws", "x", true, ""}, // Kafka's endsWith
		{"channel binding y", "eSws", "", false, "channel binding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := NewAuthenticator(ScramSHA512, Verifiers{Credentials: c})
			first := "n=alice,r=" + cnonce
			sf, _, e := step(t, a, "n,,"+first)
			if e != nil {
				t.Fatal(e)
			}
			nonce := strings.TrimPrefix(strings.Split(sf, ",")[0], "r=")
			final := clientFinal(t, ScramSHA512, alicePass, first, sf, "c="+tc.cbind+",r="+tc.nonce+nonce)
			out, done, e := step(t, a, final)
			if tc.ok != (e == nil && done) {
				t.Fatalf("got %q %v %+v", out, done, e)
			}
			if !tc.ok && !strings.Contains(e.Reason, tc.reason) {
				t.Errorf("reason %q", e.Reason)
			}
			if tc.ok && (!strings.HasPrefix(out, "v=") || a.User() != "alice") {
				t.Errorf("server-final %q, user %q", out, a.User())
			}
		})
	}
	// A nonce that does not end with the server's is refused.
	a, _ := NewAuthenticator(ScramSHA512, Verifiers{Credentials: c})
	sf, _, _ := step(t, a, "n,,n=alice,r="+cnonce)
	nonce := strings.TrimPrefix(strings.Split(sf, ",")[0], "r=")
	final := clientFinal(t, ScramSHA512, alicePass, "n=alice,r="+cnonce, sf, "c=biws,r="+nonce+"x")
	if _, _, e := step(t, a, final); e == nil || !strings.Contains(e.Reason, "nonce") {
		t.Errorf("nonce with a suffix: %+v", e)
	}
}

// FuzzAuthenticators feeds arbitrary client tokens to every mechanism:
// no panic, and every failure is an *Error without the token in it.
func FuzzAuthenticators(f *testing.F) {
	f.Add([]byte("\x00alice\x00"+alicePass), []byte(""))
	f.Add([]byte("n,,n=alice,r=abc"), []byte("c=biws,r=abc,p=AAAA"))
	f.Add([]byte("n,a=x,n=a=2Cb,r=abc,tokenauth=true"), []byte("c=,r=,p="))
	f.Add([]byte("n,"), []byte(",p="))
	// OAUTHBEARER tokens go through the real JWT validator, against a
	// JWKS whose key signed none of them.
	key := oauthtest.RSAKey(f, "k1")
	tok := key.Sign(f, oauthtest.Claims("alice", time.Hour))
	forged := oauthtest.RSAKey(f, "k1").Sign(f, oauthtest.Claims("alice", time.Hour))
	f.Add([]byte("n,,\x01auth=Bearer "+forged+"\x01\x01"), []byte("\x01"))
	f.Add([]byte("n,a=alice,\x01auth=Bearer "+forged+"\x01k=v\x01\x01"), []byte("n,,\x01auth=Bearer "+forged[:len(forged)-4]+"\x01\x01"))
	f.Add([]byte("n,,\x01auth=Bearer "+tok[:strings.LastIndexByte(tok, '.')+1]+"\x01\x01"), []byte("\x01"))
	f.Add([]byte("n,,\x01auth=Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.\x01\x01"), []byte("\x01"))
	jwt, err := oauth.New(oauth.Config{JWKSURL: oauthtest.WriteJWKS(f, key), ClockSkew: oauth.DefaultClockSkew})
	if err != nil {
		f.Fatal(err)
	}
	c, _ := ParseCredentials(nil)
	f.Fuzz(func(t *testing.T, first, second []byte) {
		for _, m := range Mechanisms {
			if m == GSSAPI { // FuzzGSSAPI, with a keytab
				continue
			}
			a, err := NewAuthenticator(m, Verifiers{Credentials: c, OAuth: jwt})
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range [][]byte{first, second} {
				_, done, err := a.Step(tok)
				if done {
					t.Fatalf("%s authenticated against an empty file or with an unsigned token", m)
				}
				if err != nil {
					e, ok := IsError(err)
					if !ok {
						t.Fatalf("%s: %T %v", m, err, err)
					}
					if len(tok) > 8 && strings.Contains(e.Reason+e.Message, string(tok)) {
						t.Fatalf("%s: the error quotes the token", m)
					}
					break
				}
			}
		}
	})
}
