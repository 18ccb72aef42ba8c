// Package kdc runs a throwaway MIT Kerberos KDC for tests: a realm in a
// temporary directory, krb5kdc on a loopback port, kadmin.local for
// principals and keytabs, kinit for ticket caches.
package kdc

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Realm is the test realm.
const Realm = "LINKPROXY.TEST"

// KDC is a running krb5kdc.
type KDC struct {
	Dir      string
	Krb5Conf string // for KRB5_CONFIG
	Port     int
	env      []string
}

// tools are the MIT programs the KDC needs (Debian's krb5-kdc,
// krb5-admin-server and krb5-user).
var tools = []string{"krb5kdc", "kdb5_util", "kadmin.local", "kinit"}

// find looks a tool up in PATH and the sbin directories, which a
// non-root PATH may lack.
func find(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// Start creates the realm and starts the KDC, stopped when the test ends.
// Without the MIT tools it skips the test, unless LINKPROXY_REQUIRE_KDC is
// set (make test sets it), when it fails.
func Start(t testing.TB) *KDC {
	t.Helper()
	for _, name := range tools {
		if _, err := find(name); err != nil {
			if os.Getenv("LINKPROXY_REQUIRE_KDC") != "" {
				t.Fatalf("%v and LINKPROXY_REQUIRE_KDC is set: run integration/install-deps.sh (Debian: krb5-kdc krb5-admin-server krb5-user)", err)
			}
			t.Skipf("%v: install krb5-kdc, krb5-admin-server and krb5-user (integration/install-deps.sh) to run the Kerberos tests", err)
		}
	}
	k := &KDC{Dir: t.TempDir(), Port: freePort(t)}
	k.Krb5Conf = filepath.Join(k.Dir, "krb5.conf")
	kdcConf := filepath.Join(k.Dir, "kdc.conf")
	write(t, k.Krb5Conf, fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	udp_preference_limit = 1
	default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
	default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
	permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
	forwardable = false

[realms]
	%[1]s = {
		kdc = 127.0.0.1:%[2]d
	}
`, Realm, k.Port))
	write(t, kdcConf, fmt.Sprintf(`[kdcdefaults]
	kdc_listen = 127.0.0.1:%[2]d
	kdc_tcp_listen = 127.0.0.1:%[2]d

[realms]
	%[1]s = {
		database_name = %[3]s/principal
		key_stash_file = %[3]s/stash
		acl_file = %[3]s/kadm5.acl
		max_life = 10h
		max_renewable_life = 7d
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}

[logging]
	kdc = FILE:%[3]s/kdc.log
`, Realm, k.Port, k.Dir))
	write(t, filepath.Join(k.Dir, "kadm5.acl"), "")
	k.env = append(os.Environ(), "KRB5_CONFIG="+k.Krb5Conf, "KRB5_KDC_PROFILE="+kdcConf, "KRB5RCACHETYPE=none")

	k.Run(t, "kdb5_util", "create", "-s", "-r", Realm, "-P", "linkproxy-test-master-key")
	path, _ := find("krb5kdc")
	cmd := exec.Command(path, "-n", "-r", Realm)
	cmd.Env = k.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("krb5kdc: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			logs, _ := os.ReadFile(filepath.Join(k.Dir, "kdc.log"))
			t.Logf("krb5kdc output:\n%s\nkdc.log:\n%s", out.String(), logs)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", k.Port), time.Second)
		if err == nil {
			c.Close()
			return k
		}
		select {
		case <-exited:
			t.Fatalf("krb5kdc exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("krb5kdc not listening on 127.0.0.1:%d after 20s: %s", k.Port, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Principal is name@Realm.
func Principal(name string) string { return name + "@" + Realm }

// AddPrincipal creates a principal with a random key; args are kadmin
// addprinc options (e.g. "-maxlife", "1 minute").
func (k *KDC) AddPrincipal(t testing.TB, name string, args ...string) {
	t.Helper()
	q := "addprinc -randkey " + strings.Join(quoteAll(args), " ") + " " + name
	k.Run(t, "kadmin.local", "-r", Realm, "-q", q)
}

// Keytab exports the principals' keys into a new keytab in the KDC's
// directory and returns its path. Exporting gives a principal a new key:
// keytabs exported earlier no longer work for it.
func (k *KDC) Keytab(t testing.TB, file string, principals ...string) string {
	t.Helper()
	path := filepath.Join(k.Dir, file)
	k.Run(t, "kadmin.local", "-r", Realm, "-q", "ktadd -k "+path+" "+strings.Join(principals, " "))
	return path
}

// Kinit fills the ticket cache at cache (a path) for principal from its
// keytab; args are more kinit options, e.g. "-l", "30s", "-r", "1h".
func (k *KDC) Kinit(t testing.TB, cache, principal, keytab string, args ...string) {
	t.Helper()
	k.Run(t, "kinit", append(append([]string{"-k", "-t", keytab, "-c", "FILE:" + cache}, args...), principal)...)
}

// Run runs one of the MIT tools with the KDC's configuration.
func (k *KDC) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	path, err := find(name)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = k.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t") {
			a = `"` + a + `"`
		}
		out[i] = a
	}
	return out
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort is a loopback port free for TCP and UDP at the time of asking.
func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		ln.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port for the KDC")
	return 0
}
