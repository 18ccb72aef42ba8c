package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// kcatRun runs kcat (librdkafka) against bootstrap with args, stdin as its
// input, and returns its stdout and stderr.
func kcatRun(t *testing.T, bootstrap string, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	return kcatRunEnv(t, nil, bootstrap, stdin, args...)
}

// kcatRunEnv is kcatRun with env added to kcat's environment.
func kcatRunEnv(t *testing.T, env []string, bootstrap string, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is not on PATH (%v); run integration/install-deps.sh", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"-b", bootstrap, "-m", "10",
		"-X", "socket.connection.setup.timeout.ms=5000", "-X", "reconnect.backoff.max.ms=1000"}, args...)
	cmd := exec.CommandContext(ctx, path, full...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// kcatSASL is kcatRun on a SASL_PLAINTEXT listener, logging in with mech;
// later args (a security.protocol of their own) take precedence.
func kcatSASL(t *testing.T, bootstrap, mech, user, pass string, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	return kcatRun(t, bootstrap, stdin, append([]string{
		"-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=" + mech,
		"-X", "sasl.username=" + user, "-X", "sasl.password=" + pass}, args...)...)
}
