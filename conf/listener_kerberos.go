package conf

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/linkproxy/linkproxy/auth/sasl"
	"github.com/linkproxy/linkproxy/conf/clientprops"
)

// Kafka's broker settings for GSSAPI. gssapi.sasl.jaas.config is the
// mechanism-prefixed form Kafka takes as
// listener.name.<listener>.gssapi.sasl.jaas.config; here the [[listener]]
// table is the listener prefix.
const (
	keyKerberosService = "sasl.kerberos.service.name"
	keyGSSAPIJaas      = "gssapi.sasl.jaas.config"
	keyKerberosRules   = "sasl.kerberos.principal.to.local.rules"
)

// kerberosKeys are the keys of GSSAPI, refused when it is not enabled.
var kerberosKeys = []string{keyGSSAPIJaas, keyKerberosRules, keyKerberosService}

// ListenerKerberos is a listener's GSSAPI acceptor.
type ListenerKerberos struct {
	// ServiceName is sasl.kerberos.service.name (or the jaas serviceName
	// option): the first component of Principal.
	ServiceName string
	// Keytab and Principal are the keyTab and principal options of the
	// Krb5LoginModule in gssapi.sasl.jaas.config.
	Keytab, Principal string
	// Rules are sasl.kerberos.principal.to.local.rules; empty means
	// Kafka's DEFAULT.
	Rules []string
}

// Acceptor loads the keytab and builds the acceptor. Rules map client
// principals with krb5.conf's default realm, else the service's realm.
func (k *ListenerKerberos) Acceptor() (*sasl.Kerberos, error) {
	kt, err := sasl.LoadKeytab(k.Keytab)
	if err != nil {
		return nil, err
	}
	_, realm, _ := strings.Cut(k.Principal, "@")
	rules, err := sasl.ParseKerberosRules(sasl.DefaultRealm(realm), k.Rules)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyKerberosRules, err)
	}
	return sasl.NewKerberos(kt, k.Principal, rules)
}

// acceptorOptions are the Krb5LoginModule options of a listener's login.
var acceptorOptions = []string{"useKeyTab", "storeKey", "keyTab", "principal", "isInitiator", "doNotPrompt", "debug", "refreshKrb5Config", "serviceName"}

// parseListenerKerberos reads the GSSAPI keys: required with GSSAPI in
// mechs, refused without it.
func parseListenerKerberos(errs *errorList, at place, flat map[string]any, mechs []string, mechsKnown bool) *ListenerKerberos {
	if !slices.Contains(mechs, sasl.GSSAPI) {
		if mechsKnown {
			for _, key := range kerberosKeys {
				if _, ok := flat[key]; ok {
					errs.add(at, key, "set, but GSSAPI is not in sasl.enabled.mechanisms %v: add it to accept Kerberos clients, or remove %s", mechs, key)
				}
			}
		}
		return nil
	}
	k := &ListenerKerberos{}
	ok := true
	fail := func(key, format string, args ...any) {
		errs.add(at, key, format, args...)
		ok = false
	}
	example := `'com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true keyTab="/etc/linkproxy/kafka.keytab" principal="kafka/broker1.example.com@EXAMPLE.COM";'`
	var jaasService string
	if v, set := flat[keyGSSAPIJaas]; !set {
		fail(keyGSSAPIJaas, "missing: required with GSSAPI in sasl.enabled.mechanisms: the service's keytab login, e.g. %s", example)
	} else if s, err := asString(v); err != nil {
		fail(keyGSSAPIJaas, "%v", err)
	} else if entries, err := clientprops.ParseJAAS(s); err != nil {
		fail(keyGSSAPIJaas, "not valid JAAS: %v", err)
	} else if len(entries) != 1 || entries[0].Module != "com.sun.security.auth.module.Krb5LoginModule" {
		fail(keyGSSAPIJaas, "must hold exactly one login module, com.sun.security.auth.module.Krb5LoginModule, e.g. %s", example)
	} else {
		o := entries[0].Options
		var unknown []string
		for name := range o {
			if !slices.Contains(acceptorOptions, name) {
				unknown = append(unknown, name)
			}
		}
		sort.Strings(unknown)
		switch {
		case unknown != nil:
			fail(keyGSSAPIJaas, "Krb5LoginModule option %s is not supported on a listener: a listener logs in from a keytab, e.g. %s", strings.Join(unknown, ", "), example)
		case !strings.EqualFold(o["useKeyTab"], "true") || !strings.EqualFold(o["storeKey"], "true"):
			// Without storeKey Java's acceptor has no key to decrypt
			// tickets with: Kafka fails the same way.
			fail(keyGSSAPIJaas, "Krb5LoginModule needs useKeyTab=true and storeKey=true on a listener, e.g. %s", example)
		case o["keyTab"] == "" || o["principal"] == "":
			fail(keyGSSAPIJaas, "Krb5LoginModule needs keyTab (the service keytab) and principal (service/host@REALM), e.g. %s", example)
		case o["isInitiator"] != "" && !strings.EqualFold(o["isInitiator"], "true") && !strings.EqualFold(o["isInitiator"], "false"):
			fail(keyGSSAPIJaas, "Krb5LoginModule option isInitiator must be true or false")
		default:
			k.Keytab, k.Principal, jaasService = o["keyTab"], o["principal"], o["serviceName"]
		}
	}

	// Kafka's KerberosLogin.getServiceName, and the check that the
	// service principal is that service's.
	var service string
	if v, set := flat[keyKerberosService]; set {
		if s, err := asString(v); err != nil {
			fail(keyKerberosService, "%v", err)
		} else {
			service = strings.TrimSpace(s)
		}
	}
	switch {
	case !ok:
	case service != "" && jaasService != "" && service != jaasService:
		fail(keyKerberosService, "differs from the serviceName option of %s: set one of them", keyGSSAPIJaas)
	case service == "" && jaasService == "":
		fail(keyKerberosService, `missing: required with GSSAPI in sasl.enabled.mechanisms: the first component of the listener's principal, e.g. "kafka"`)
	default:
		if service == "" {
			service = jaasService
		}
		k.ServiceName = service
		if first, _, _ := strings.Cut(k.Principal, "/"); k.Principal != "*" && first != service && strings.Split(first, "@")[0] != service {
			fail(keyKerberosService, "%q is not the service of the listener's principal %s: clients ask the KDC for a ticket to %s/<host>, so the two must agree", service, k.Principal, service)
		}
	}

	if v, set := flat[keyKerberosRules]; set {
		if rules, err := clientprops.ParseList(v); err != nil {
			fail(keyKerberosRules, "%v", err)
		} else if _, err := sasl.ParseKerberosRules("", rules); err != nil {
			fail(keyKerberosRules, "%v", err)
		} else {
			k.Rules = rules
		}
	}
	if !ok {
		return k
	}
	if _, err := k.Acceptor(); err != nil {
		errs.add(at, keyGSSAPIJaas, "%v", err)
	}
	return k
}
