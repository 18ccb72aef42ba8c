package clientprops

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/kerberos"
)

// krb5Options are the Krb5LoginModule options linkproxy reads, and those it
// accepts without effect: storeKey (an acceptor's concern), debug (Java's
// own tracing), refreshKrb5Config (krb5.conf is re-read at every login
// anyway) and isInitiator=true. The password options (useFirstPass,
// tryFirstPass, storePass, clearPass) need a prompt and are refused.
var krb5Options = map[string]bool{
	"useTicketCache": true, "ticketCache": true, "renewTGT": true,
	"useKeyTab": true, "keyTab": true, "principal": true, "doNotPrompt": true,
	"serviceName": true, "storeKey": true, "debug": true, "refreshKrb5Config": true,
	"isInitiator": true,
}

// krbLogin is the client's Kerberos login: from a ticket cache that kinit
// fills, or from a keytab.
type krbLogin struct {
	cacheFile string // "" unless useTicketCache=true
	keytab    string // "" unless useKeyTab=true
	principal string // "" with a ticket cache: the cache's own
	name      string // who is logged in, for logs
	service   string
	kinit     string
	rules     renewRules
	// logp is the owner's logger once SetLogger names it: the
	// mechanism is built while the configuration is parsed, before
	// any logger exists.
	logp atomic.Pointer[hclog.Logger]

	mu      sync.Mutex
	cl      *client.Client
	prev    *client.Client // kept one refresh, for exchanges under way
	times   tgtTimes
	started bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// kerberosMechanism is GSSAPI for a Krb5LoginModule sasl.jaas.config. It
// only checks the configuration: the login happens at the first
// connection, and starts the refresh loop (refresh.go's schedule).
//
// krb5.conf is read from KRB5_CONFIG, else /etc/krb5.conf: Java reads
// the java.security.krb5.conf system property instead, which linkproxy
// does not have.
func kerberosMechanism(opts map[string]string, p *Props) (sasl.Mechanism, error) {
	bad := func(format string, args ...any) error {
		return &Error{Name: "sasl.jaas.config", Reason: "Krb5LoginModule " + fmt.Sprintf(format, args...)}
	}
	var unknown []string
	for k := range opts {
		if !krb5Options[k] {
			unknown = append(unknown, k)
		}
	}
	if unknown != nil {
		sort.Strings(unknown)
		return nil, bad("option %s is not supported: linkproxy logs in from a ticket cache (useTicketCache=true) or a keytab (useKeyTab=true keyTab=... principal=...) and cannot prompt for a password", strings.Join(unknown, ", "))
	}
	flag := map[string]bool{}
	for _, k := range []string{"useTicketCache", "renewTGT", "useKeyTab", "doNotPrompt", "storeKey", "debug", "refreshKrb5Config", "isInitiator"} {
		v, ok := opts[k]
		if !ok {
			continue
		}
		switch strings.ToLower(v) {
		case "true":
			flag[k] = true
		case "false":
		default:
			return nil, bad("option %s must be true or false", k)
		}
	}
	if _, set := opts["isInitiator"]; set && !flag["isInitiator"] {
		return nil, bad("option isInitiator=false makes an acceptor; a client must initiate: remove it")
	}
	l := &krbLogin{
		kinit: p.String("sasl.kerberos.kinit.cmd"),
		rules: renewRules{
			windowFactor: p.Float("sasl.kerberos.ticket.renew.window.factor"),
			jitter:       p.Float("sasl.kerberos.ticket.renew.jitter"),
			minTime:      time.Duration(p.Int("sasl.kerberos.min.time.before.relogin")) * time.Millisecond,
		},
		principal: opts["principal"],
	}
	switch {
	case !flag["useTicketCache"] && !flag["useKeyTab"]:
		return nil, bad("needs useTicketCache=true (a cache filled by kinit) or useKeyTab=true with keyTab and principal: without them Java prompts for a password, which linkproxy cannot")
	case opts["ticketCache"] != "" && !flag["useTicketCache"]:
		return nil, bad("option ticketCache needs useTicketCache=true, as in Java")
	case flag["renewTGT"] && !flag["useTicketCache"]:
		return nil, bad("option renewTGT needs useTicketCache=true, as in Java")
	case flag["useKeyTab"] && (opts["keyTab"] == "" || opts["principal"] == ""):
		return nil, bad("useKeyTab=true needs keyTab (the file) and principal (e.g. linkproxy@EXAMPLE.COM)")
	case !flag["useKeyTab"] && opts["keyTab"] != "":
		return nil, bad("option keyTab needs useKeyTab=true, as in Java")
	}
	if flag["useKeyTab"] {
		l.keytab = opts["keyTab"]
	}
	if flag["useTicketCache"] {
		path, err := ticketCachePath(opts["ticketCache"])
		if err != nil {
			return nil, bad("%v", err)
		}
		l.cacheFile = path
	}

	// Kafka's KerberosLogin.getServiceName.
	jaasService, propService := opts["serviceName"], p.String("sasl.kerberos.service.name")
	switch {
	case jaasService != "" && propService != "" && jaasService != propService:
		return nil, &Error{Name: "sasl.kerberos.service.name", Reason: "differs from the serviceName option of sasl.jaas.config: set one of them"}
	case jaasService == "" && propService == "":
		return nil, &Error{Name: "sasl.kerberos.service.name", Reason: `missing: required with sasl.mechanism GSSAPI: the first part of the brokers' Kerberos principal, e.g. "kafka"`}
	case jaasService != "":
		l.service = jaasService
	default:
		l.service = propService
	}
	if err := l.rules.check(); err != nil {
		return nil, err
	}
	return &krbMechanism{l: l, inner: kerberos.Kerberos(l.auth)}, nil
}

// ticketCachePath is where the ticket cache is, as MIT's libraries find
// it: the option, else KRB5CCNAME, else /tmp/krb5cc_<uid>. Only FILE
// caches can be read.
func ticketCachePath(option string) (string, error) {
	name, from := option, "option ticketCache"
	if name == "" {
		name, from = os.Getenv("KRB5CCNAME"), "KRB5CCNAME"
	}
	if name == "" {
		return fmt.Sprintf("/tmp/krb5cc_%d", os.Getuid()), nil
	}
	if typ, rest, ok := strings.Cut(name, ":"); ok && !strings.HasPrefix(name, "/") {
		if typ != "FILE" {
			return "", fmt.Errorf("%s names a %s credential cache; linkproxy reads FILE caches only: run kinit with -c FILE:/path (or KRB5CCNAME=FILE:/path)", from, typ)
		}
		name = rest
	}
	return name, nil
}

// krb5Config loads krb5.conf as MIT's libraries find it.
func krb5Config() (*config.Config, error) {
	path := "/etc/krb5.conf"
	if env := os.Getenv("KRB5_CONFIG"); env != "" {
		path, _, _ = strings.Cut(env, ":")
	}
	c, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("krb5.conf %s (KRB5_CONFIG): %w", path, err)
	}
	return c, nil
}

// logger is where the refresh loop logs: the owner's, or a discarding one
// until SetLogger runs (tests that build a Props alone).
func (l *krbLogin) logger() hclog.Logger {
	if lg := l.logp.Load(); lg != nil {
		return *lg
	}
	return hclog.NewNullLogger()
}

// krbMechanism is franz-go's GSSAPI client over the login, which it starts
// at the first authentication. It is deliberately not a franz-go
// ClosingMechanism: every client built from one Props shares the login,
// and one of them closing (a short-lived admin client) must not stop the
// refresh the others live on. Props.Close stops it.
type krbMechanism struct {
	l     *krbLogin
	inner sasl.Mechanism
}

func (m *krbMechanism) Name() string { return "GSSAPI" }

func (m *krbMechanism) Authenticate(ctx context.Context, host string) (sasl.Session, []byte, error) {
	return m.inner.Authenticate(ctx, host)
}

// auth is the franz-go kerberos callback: the current client, logging in
// first if needed.
func (l *krbLogin) auth(context.Context) (kerberos.Auth, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cl == nil {
		if err := l.loginLocked(); err != nil {
			return kerberos.Auth{}, err
		}
	}
	if !l.started {
		l.started = true
		ctx, cancel := context.WithCancel(context.Background())
		l.cancel, l.done = cancel, make(chan struct{})
		go l.refreshLoop(ctx)
	}
	return kerberos.Auth{Client: l.cl, Service: l.service, PersistAfterAuth: true}, nil
}

// stop ends the refresh loop and forgets the login; a later
// authentication logs in again and restarts the loop.
func (l *krbLogin) stop() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done == done {
		l.started, l.cancel, l.done = false, nil, nil
	}
	for _, c := range []*client.Client{l.prev, l.cl} {
		if c != nil {
			c.Destroy()
		}
	}
	l.cl, l.prev = nil, nil
}

// loginLocked logs in as Krb5LoginModule does: from the ticket cache if
// allowed, else (or if that fails and a keytab is allowed) from the keytab.
func (l *krbLogin) loginLocked() error {
	cfg, err := krb5Config()
	if err != nil {
		return err
	}
	var cl *client.Client
	var times tgtTimes
	var cacheErr error
	if l.cacheFile != "" {
		cl, times, cacheErr = l.fromCache(cfg)
	}
	if cl == nil && l.keytab != "" {
		cl, times, err = l.fromKeytab(cfg)
		if err != nil {
			return errors.Join(cacheErr, err)
		}
	}
	if cl == nil {
		return cacheErr
	}
	if l.prev != nil {
		l.prev.Destroy()
	}
	l.prev, l.cl, l.times = l.cl, cl, times
	l.name = cl.Credentials.CName().PrincipalNameString() + "@" + cl.Credentials.Domain()
	return nil
}

func (l *krbLogin) fromCache(cfg *config.Config) (*client.Client, tgtTimes, error) {
	if fi, err := os.Stat(l.cacheFile); err != nil || fi.Size() == 0 {
		return nil, tgtTimes{}, fmt.Errorf("ticket cache %s: missing or empty: run kinit first (kinit -c %s PRINCIPAL)", l.cacheFile, l.cacheFile)
	}
	cc, err := credentials.LoadCCache(l.cacheFile)
	if err != nil {
		return nil, tgtTimes{}, fmt.Errorf("ticket cache %s: %w", l.cacheFile, err)
	}
	if l.principal != "" {
		got := cc.GetClientPrincipalName().PrincipalNameString() + "@" + cc.GetClientRealm()
		if got != l.principal && cc.GetClientPrincipalName().PrincipalNameString() != l.principal {
			return nil, tgtTimes{}, fmt.Errorf("ticket cache %s holds %s, not the principal option's %s", l.cacheFile, got, l.principal)
		}
	}
	tgt, ok := cc.GetEntry(types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", cc.GetClientRealm()}})
	if !ok {
		return nil, tgtTimes{}, fmt.Errorf("ticket cache %s has no TGT: run kinit", l.cacheFile)
	}
	cl, err := client.NewFromCCache(cc, cfg, client.DisablePAFXFAST(true))
	if err != nil {
		return nil, tgtTimes{}, fmt.Errorf("ticket cache %s: %w", l.cacheFile, err)
	}
	start := tgt.StartTime
	if start.IsZero() {
		start = tgt.AuthTime
	}
	return cl, tgtTimes{start: start, end: tgt.EndTime, renewTill: tgt.RenewTill}, nil
}

// fromKeytab logs in with the keytab. gokrb5 keeps its TGT's times to
// itself, so they are read from an AS exchange of our own made at the same
// moment with the same key: the KDC gives both the same lifetime.
func (l *krbLogin) fromKeytab(cfg *config.Config) (*client.Client, tgtTimes, error) {
	kt, err := keytab.Load(l.keytab)
	if err != nil {
		return nil, tgtTimes{}, fmt.Errorf("keytab %s: %w", l.keytab, err)
	}
	user, realm, _ := strings.Cut(l.principal, "@")
	if realm == "" {
		realm = cfg.LibDefaults.DefaultRealm
	}
	cl := client.NewWithKeytab(user, realm, kt, cfg, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		return nil, tgtTimes{}, fmt.Errorf("login of %s with keytab %s: %w", l.principal, l.keytab, err)
	}
	req, err := messages.NewASReqForTGT(realm, cfg, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, user))
	var rep messages.ASRep
	if err == nil {
		rep, err = cl.ASExchange(realm, req, 0)
	}
	if err != nil {
		// The login worked; without the lifetime the loop re-logs in
		// every min.time.before.relogin, as Kafka does without a TGT.
		l.logger().Warn("Kerberos TGT lifetime unknown; re-login every sasl.kerberos.min.time.before.relogin", "principal", l.principal, "error", err)
		return cl, tgtTimes{}, nil
	}
	part := rep.DecryptedEncPart
	start := part.StartTime
	if start.IsZero() {
		start = part.AuthTime
	}
	return cl, tgtTimes{start: start, end: part.EndTime, renewTill: part.RenewTill}, nil
}

// refreshLoop is Kafka's KerberosLogin refresh thread.
func (l *krbLogin) refreshLoop(ctx context.Context) {
	defer close(l.done)
	for {
		l.mu.Lock()
		times, name := l.times, l.name
		l.mu.Unlock()
		now := time.Now()
		at, stop := l.rules.refreshAt(now, times, l.cacheFile != "", rand.Float64())
		if stop != "" {
			l.logger().Error("Kerberos TGT refresh stopped: "+stop, "principal", name)
			return
		}
		l.logger().Debug("Kerberos TGT refresh scheduled", "principal", name, "at", at, "expires", times.end)
		if sleep(ctx, at.Sub(now)) != nil {
			return
		}
		if l.cacheFile != "" && !l.kinitRenew(ctx) {
			return
		}
		for retry := 1; ; retry-- {
			l.mu.Lock()
			err := l.loginLocked()
			end := l.times.end
			l.mu.Unlock()
			if err == nil {
				l.logger().Info("Kerberos TGT refreshed", "principal", name, "expires", end)
				break
			}
			if retry == 0 {
				l.logger().Error("Kerberos re-login failed; new broker connections will fail once the TGT expires: check the KDC and the keytab or ticket cache", "error", err)
				break
			}
			l.logger().Warn("Kerberos re-login failed; retrying in 10s", "error", err)
			if sleep(ctx, 10*time.Second) != nil {
				return
			}
		}
	}
}

// kinitRenew runs sasl.kerberos.kinit.cmd -R as Kafka does, retrying once
// after 10s; false stops the loop (Kafka's thread exits there too).
func (l *krbLogin) kinitRenew(ctx context.Context) bool {
	for retry := 1; ; retry-- {
		cmd := exec.CommandContext(ctx, l.kinit, "-R")
		cmd.Env = append(os.Environ(), "KRB5CCNAME=FILE:"+l.cacheFile)
		out, err := cmd.CombinedOutput()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if retry == 0 {
			l.logger().Error("Kerberos ticket cache renewal failed; refresh stopped: run kinit again, or use a keytab (useKeyTab=true)",
				"cmd", l.kinit+" -R", "error", err, "output", strings.TrimSpace(string(out)))
			return false
		}
		l.logger().Warn("Kerberos ticket cache renewal failed; retrying in 10s", "cmd", l.kinit+" -R", "error", err)
		if sleep(ctx, 10*time.Second) != nil {
			return false
		}
	}
}
