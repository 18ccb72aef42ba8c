package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkproxy/linkproxy/auth/sasl"
)

const scramTestPass = "Sc4am-Cli-Secret-6620"

// plainLogin checks password against entries with a PLAIN exchange.
func plainLogin(t *testing.T, entries, user, password string) bool {
	t.Helper()
	c, err := sasl.ParseCredentials([]byte(entries))
	if err != nil {
		t.Fatalf("entries do not parse: %v\n%s", err, entries)
	}
	a, _ := sasl.NewAuthenticator(sasl.Plain, sasl.Verifiers{Credentials: c})
	_, done, err := a.Step([]byte("\x00" + user + "\x00" + password))
	return err == nil && done
}

func TestScramCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	err := scramCmd([]string{"--user", "alice"}, strings.NewReader(scramTestPass+"\nignored\n"), &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(out.String())
	if !strings.HasPrefix(line, "alice:SCRAM-SHA-512:4096:") || strings.Count(line, "\n") != 0 || strings.Contains(line, scramTestPass) {
		t.Fatalf("entry %q", line)
	}
	if !plainLogin(t, line, "alice", scramTestPass) || plainLogin(t, line, "alice", "ignored") {
		t.Error("the entry does not verify its password (and only it)")
	}

	// Through run, with a password file (CRLF), both SCRAM mechanisms.
	pf := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pf, []byte(scramTestPass+"\r\n"), 0o600)
	out.Reset()
	if code := run(context.Background(), []string{"scram", "--user", "svc:a", "--mechanism", "SCRAM-SHA-256,scram-sha-512,PLAIN", "--iterations", "8192", "--password-file", pf}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "svc:a:SCRAM-SHA-256:8192:") || !strings.HasPrefix(lines[1], "svc:a:SCRAM-SHA-512:8192:") {
		t.Fatalf("lines %q", lines)
	}
	if !plainLogin(t, out.String(), "svc:a", scramTestPass) {
		t.Error("PLAIN does not verify against the entries")
	}

	for _, c := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{nil, scramTestPass, "--user is required"},
		{[]string{"--user", "a", "--mechanism", "GSSAPI"}, scramTestPass, `--mechanism "GSSAPI"`},
		{[]string{"--user", "a", "--iterations", "100"}, scramTestPass, "4096 to 16384"},
		{[]string{"--user", "a"}, "\n", "no password on the first line of standard input"},
		{[]string{"--user", "a", scramTestPass}, "", "never on the command line"},
		{[]string{"--user", "a", "--password-file", filepath.Join(t.TempDir(), "none")}, "", "--password-file"},
	} {
		out.Reset()
		errOut.Reset()
		err := scramCmd(c.args, strings.NewReader(c.stdin), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), scramTestPass) {
			t.Errorf("%v: the error shows the password", c.args)
		}
		if out.Len() != 0 {
			t.Errorf("%v: printed %q", c.args, out.String())
		}
	}
}
