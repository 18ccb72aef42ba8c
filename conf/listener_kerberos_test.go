package conf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// serviceKeytab writes a keytab holding kafka/127.0.0.1@TEST.REALM.
func serviceKeytab(t *testing.T) string {
	t.Helper()
	kt := keytab.New()
	if err := kt.AddEntry("kafka/127.0.0.1", "TEST.REALM", "pw", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	b, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kafka.keytab")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func gssapiListener(lines string) string {
	return validCluster + `
[[listener]]
name = "KRB"
listen = "127.0.0.2:19092"
"security.protocol" = "SASL_PLAINTEXT"
` + lines + "\n"
}

func TestListenerKerberos(t *testing.T) {
	t.Setenv("KRB5_CONFIG", filepath.Join(t.TempDir(), "none")) // no krb5.conf: the service's realm is the default
	kt := serviceKeytab(t)
	jaas := `"gssapi.sasl.jaas.config" = 'com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="` + kt + `" principal="kafka/127.0.0.1@TEST.REALM";'`
	cfg, err := Parse([]byte(gssapiListener(`"sasl.enabled.mechanisms" = ["GSSAPI"]
"sasl.kerberos.service.name" = "kafka"
"sasl.kerberos.principal.to.local.rules" = ["RULE:[2:$1](.*)s/^/svc-/", "DEFAULT"]
`+jaas)), "krb.toml")
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.Listeners[0].SASL.Kerberos
	if k == nil || k.Keytab != kt || k.Principal != "kafka/127.0.0.1@TEST.REALM" || k.ServiceName != "kafka" || !slices.Equal(k.Rules, []string{"RULE:[2:$1](.*)s/^/svc-/", "DEFAULT"}) {
		t.Fatalf("Kerberos = %+v", k)
	}
	if _, err := k.Acceptor(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, lines, want string }{
		{"no jaas", `"sasl.enabled.mechanisms" = ["GSSAPI"]
"sasl.kerberos.service.name" = "kafka"`, `"gssapi.sasl.jaas.config": missing`},
		{"no service name", `"sasl.enabled.mechanisms" = ["GSSAPI"]
` + jaas, `"sasl.kerberos.service.name": missing`},
		{"service name of another principal", `"sasl.enabled.mechanisms" = ["GSSAPI"]
"sasl.kerberos.service.name" = "zookeeper"
` + jaas, `is not the service of the listener's principal`},
		{"without storeKey", `"sasl.enabled.mechanisms" = ["GSSAPI"]
"sasl.kerberos.service.name" = "kafka"
"gssapi.sasl.jaas.config" = 'com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="` + kt + `" principal="kafka/127.0.0.1@TEST.REALM";'`, "storeKey=true"},
		{"ticket cache on a listener", `"sasl.enabled.mechanisms" = ["GSSAPI"]
"sasl.kerberos.service.name" = "kafka"
"gssapi.sasl.jaas.config" = 'com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true;'`, "option useTicketCache is not supported on a listener"},
		{"principal not in the keytab", `"sasl.enabled.mechanisms" = ["GSSAPI"]
"sasl.kerberos.service.name" = "kafka"
"gssapi.sasl.jaas.config" = 'com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="` + kt + `" principal="kafka/other@TEST.REALM";'`, "no AES key for kafka/other@TEST.REALM"},
		{"missing keytab file", `"sasl.enabled.mechanisms" = ["GSSAPI"]
"sasl.kerberos.service.name" = "kafka"
"gssapi.sasl.jaas.config" = 'com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="/nonexistent/k" principal="kafka/127.0.0.1@TEST.REALM";'`, "keytab /nonexistent/k"},
		{"bad rule", `"sasl.enabled.mechanisms" = ["GSSAPI"]
"sasl.kerberos.service.name" = "kafka"
"sasl.kerberos.principal.to.local.rules" = ["DEFAULT/g"]
` + jaas, `"sasl.kerberos.principal.to.local.rules": invalid rule`},
		{"kerberos keys without GSSAPI", `"sasl.enabled.mechanisms" = ["SCRAM-SHA-512"]
"sasl.credentials.file" = "/nonexistent"
"sasl.kerberos.service.name" = "kafka"`, `"sasl.kerberos.service.name": set, but GSSAPI is not in sasl.enabled.mechanisms`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(gssapiListener(tc.lines)), "krb.toml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
