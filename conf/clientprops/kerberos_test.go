package clientprops

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestKerberosRefreshAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kafka := renewRules{windowFactor: 0.8, jitter: 0.05, minTime: time.Minute}
	tenHours := tgtTimes{start: t0, end: t0.Add(10 * time.Hour), renewTill: t0.Add(7 * 24 * time.Hour)}
	for _, tc := range []struct {
		name      string
		rules     renewRules
		now       time.Time
		tgt       tgtTimes
		fromCache bool
		rnd       float64
		want      time.Time
		wantStop  string
	}{
		{"no TGT: retry after min.time", kafka, t0, tgtTimes{}, true, 0, t0.Add(time.Minute), ""},
		{"window factor, no jitter drawn", kafka, t0, tenHours, true, 0, t0.Add(8 * time.Hour), ""},
		{"window factor plus full jitter", kafka, t0, tenHours, true, 0.999999, t0.Add(time.Duration(float64(10*time.Hour) * (0.8 + 0.05*0.999999))), ""},
		{"not sooner than min.time from now", renewRules{windowFactor: 0.1, minTime: 2 * time.Hour}, t0, tenHours, false, 0, t0.Add(2 * time.Hour), ""},
		{"at once when expiry is within min.time", kafka, t0.Add(10*time.Hour - 30*time.Second), tenHours, false, 0, t0.Add(10*time.Hour - 30*time.Second), ""},
		{"at once when the window is past the expiry", renewRules{windowFactor: 1, jitter: 0.5, minTime: 0}, t0.Add(time.Hour), tenHours, false, 0.9, t0.Add(time.Hour), ""},
		{"keytab: renew-till does not matter", kafka, t0, tgtTimes{start: t0, end: t0.Add(10 * time.Hour), renewTill: t0.Add(time.Hour)}, false, 0, t0.Add(8 * time.Hour), ""},
		{"cache: not renewable past expiry stops", kafka, t0, tgtTimes{start: t0, end: t0.Add(10 * time.Hour), renewTill: t0.Add(time.Hour)}, true, 0, time.Time{}, "cannot be renewed beyond"},
		{"cache: no renew-till is fine", kafka, t0, tgtTimes{start: t0, end: t0.Add(10 * time.Hour)}, true, 0, t0.Add(8 * time.Hour), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, stop := tc.rules.refreshAt(tc.now, tc.tgt, tc.fromCache, tc.rnd)
			if tc.wantStop != "" {
				if !strings.Contains(stop, tc.wantStop) {
					t.Fatalf("stop %q, want %q", stop, tc.wantStop)
				}
				return
			}
			if stop != "" || !got.Equal(tc.want) {
				t.Fatalf("refreshAt = %v, %q; want %v", got, stop, tc.want)
			}
		})
	}
}

func TestKerberosMechanismOptions(t *testing.T) {
	t.Setenv("KRB5CCNAME", "FILE:/tmp/linkproxy-test-cc")
	const secret = "s3cret-looking-value"
	base := map[string]any{"bootstrap.servers": "127.0.0.1:9092", "sasl.kerberos.service.name": "kafka"}
	for _, tc := range []struct {
		name    string
		opts    map[string]string
		props   map[string]any
		wantErr string // "" for success; else in the error, which names the property
	}{
		{"ticket cache", map[string]string{"useTicketCache": "true"}, nil, ""},
		{"ticket cache with renewTGT and a named cache", map[string]string{"useTicketCache": "true", "renewTGT": "true", "ticketCache": "/tmp/cc"}, nil, ""},
		{"keytab", map[string]string{"useKeyTab": "true", "keyTab": "/etc/x.keytab", "principal": "lp@R", "storeKey": "true", "doNotPrompt": "true"}, nil, ""},
		{"serviceName in jaas only", map[string]string{"useTicketCache": "true", "serviceName": "kafka"}, map[string]any{"sasl.kerberos.service.name": nil}, ""},
		{"neither cache nor keytab", map[string]string{"doNotPrompt": "true"}, nil, `"sasl.jaas.config"`},
		{"unknown option", map[string]string{"useTicketCache": "true", "password": secret}, nil, "option password is not supported"},
		{"password option refused", map[string]string{"useTicketCache": "true", "useFirstPass": "true"}, nil, "useFirstPass"},
		{"ticketCache without useTicketCache", map[string]string{"useKeyTab": "true", "keyTab": "/k", "principal": "p@R", "ticketCache": "/tmp/cc"}, nil, "ticketCache needs useTicketCache=true"},
		{"renewTGT without useTicketCache", map[string]string{"useKeyTab": "true", "keyTab": "/k", "principal": "p@R", "renewTGT": "true"}, nil, "renewTGT needs"},
		{"keytab without principal", map[string]string{"useKeyTab": "true", "keyTab": "/k"}, nil, "needs keyTab (the file) and principal"},
		{"keyTab without useKeyTab", map[string]string{"useTicketCache": "true", "keyTab": "/k"}, nil, "keyTab needs useKeyTab=true"},
		{"not a boolean", map[string]string{"useTicketCache": secret}, nil, "must be true or false"},
		{"acceptor", map[string]string{"useTicketCache": "true", "isInitiator": "false"}, nil, "isInitiator=false"},
		{"KEYRING cache", map[string]string{"useTicketCache": "true", "ticketCache": "KEYRING:persistent:0"}, nil, "FILE caches only"},
		{"no service name", map[string]string{"useTicketCache": "true"}, map[string]any{"sasl.kerberos.service.name": nil}, `"sasl.kerberos.service.name": missing`},
		{"conflicting service names", map[string]string{"useTicketCache": "true", "serviceName": "other"}, nil, `"sasl.kerberos.service.name": differs`},
		{"window factor above 1", map[string]string{"useTicketCache": "true"}, map[string]any{"sasl.kerberos.ticket.renew.window.factor": 1.5}, "sasl.kerberos.ticket.renew.window.factor"},
		{"negative min time", map[string]string{"useTicketCache": "true"}, map[string]any{"sasl.kerberos.min.time.before.relogin": -1}, "sasl.kerberos.min.time.before.relogin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]any{}
			for k, v := range base {
				props[k] = v
			}
			for k, v := range tc.props {
				if v == nil {
					delete(props, k)
				} else {
					props[k] = v
				}
			}
			jaas := kerberosModule + " required"
			for k, v := range tc.opts {
				jaas += fmt.Sprintf(" %s=%q", k, v)
			}
			props["security.protocol"], props["sasl.mechanism"], props["sasl.jaas.config"] = "SASL_PLAINTEXT", "GSSAPI", jaas+";"
			p, errs := Parse(props)
			err := errors.Join(errs...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				if m := p.sasl; m == nil || m.Name() != "GSSAPI" {
					t.Fatalf("mechanism %v, want GSSAPI", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error echoes an option value: %v", err)
			}
		})
	}
}

func TestTicketCachePath(t *testing.T) {
	t.Setenv("KRB5CCNAME", "")
	if got, _ := ticketCachePath(""); !strings.HasPrefix(got, "/tmp/krb5cc_") {
		t.Errorf("default %q, want /tmp/krb5cc_<uid>", got)
	}
	t.Setenv("KRB5CCNAME", "FILE:/a/b")
	if got, _ := ticketCachePath(""); got != "/a/b" {
		t.Errorf("KRB5CCNAME FILE:/a/b gave %q", got)
	}
	if got, _ := ticketCachePath("/c"); got != "/c" {
		t.Errorf("option /c gave %q", got)
	}
}
