package conf

import (
	"fmt"
	"slices"
	"strings"

	"github.com/linkproxy/linkproxy/auth/acl"
	"github.com/linkproxy/linkproxy/conf/internal/tomlval"
)

// Authorizer is the [authorizer] table: Kafka-style ACLs enforced by the
// proxy on every request, for the connection's principal. Without the
// table the proxy authorizes nothing (the fronted cluster still does).
//
//	[authorizer]
//	super.users = ["User:admin"]          # or Kafka's "User:admin;User:ops"
//	allow.everyone.if.no.acl.found = false
//
//	[[authorizer.acl]]
//	principal = "User:alice"
//	host = "*"                            # an IP address, or * (default)
//	operation = "WRITE"
//	permission = "ALLOW"                  # or DENY (default ALLOW)
//	resource_type = "TOPIC"
//	resource_name = "orders."
//	pattern_type = "PREFIXED"             # or LITERAL (default)
//
// Property names are Kafka's (super.users, allow.everyone.if.no.acl.found);
// ACL rows use the field names of Kafka's AclBinding as Confluent's REST
// API v3 spells them, and accept the enum names of kafka-acls and Kafka's
// Java API in any case (IdempotentWrite, IDEMPOTENT_WRITE).
type Authorizer struct {
	SuperUsers                []string
	AllowEveryoneIfNoACLFound bool
	ACLs                      []acl.Binding
}

// Config returns the acl package's view of the table.
func (a *Authorizer) Config() acl.Config {
	return acl.Config{SuperUsers: a.SuperUsers, AllowEveryoneIfNoACLFound: a.AllowEveryoneIfNoACLFound, ACLs: a.ACLs}
}

const (
	authorizerTable      = "[authorizer]"
	aclTable             = "[[authorizer.acl]]"
	keySuperUsers        = "super.users"
	keyAllowEveryone     = "allow.everyone.if.no.acl.found"
	keyACL               = "acl"
	keyACLPrincipal      = "principal"
	keyACLHost           = "host"
	keyACLOperation      = "operation"
	keyACLPermission     = "permission"
	keyACLResourceType   = "resource_type"
	keyACLResourceName   = "resource_name"
	keyACLPatternType    = "pattern_type"
	aclTablesHint        = "ACLs are an array of tables: write [[authorizer.acl]] with principal, operation, resource_type and resource_name"
	authorizerTableValue = "must be a table: write [authorizer]"
)

var (
	authorizerPlace = place{table: authorizerTable}
	authorizerKeys  = []string{keyACL, keyAllowEveryone, keySuperUsers}
	aclKeys         = []string{keyACLHost, keyACLOperation, keyACLPatternType, keyACLPermission, keyACLPrincipal, keyACLResourceName, keyACLResourceType}
)

// parseAuthorizer returns nil when the file has no [authorizer] table.
func parseAuthorizer(errs *errorList, v any) *Authorizer {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		errs.add(topLevel, "authorizer", authorizerTableValue)
		return nil
	}
	a := &Authorizer{}
	var rows []map[string]any
	if av, ok := m[keyACL]; ok {
		rest := make(map[string]any, len(m))
		for k, v := range m {
			if k != keyACL {
				rest[k] = v
			}
		}
		m = rest
		if rows, ok = tableArray(av); !ok {
			errs.add(authorizerPlace, keyACL, "%s", aclTablesHint)
		}
	}
	flat, dups := flatten(m)
	for _, key := range dups {
		errs.add(authorizerPlace, key, "set twice, once quoted and once as dotted keys")
	}
	for _, key := range sortedKeys(flat) {
		switch val := flat[key]; {
		case key == keySuperUsers:
			users, err := parseSuperUsers(val)
			if err != nil {
				errs.add(authorizerPlace, key, "%v", err)
			}
			a.SuperUsers = users
		case key == keyAllowEveryone:
			b, err := asBool(val)
			if err != nil {
				errs.add(authorizerPlace, key, "%v", err)
			}
			a.AllowEveryoneIfNoACLFound = b
		case strings.HasPrefix(key, keyACL+"."):
			errs.add(authorizerPlace, key, "%s, not [authorizer.acl]", aclTablesHint)
		default:
			errs.add(authorizerPlace, key, "%s", unknownKey(key, authorizerKeys))
		}
	}
	for i, row := range rows {
		if b, ok := parseACL(errs, place{table: aclTable, index: i + 1}, row); ok {
			a.ACLs = append(a.ACLs, b)
		}
	}
	return a
}

// parseSuperUsers takes an array of principals or, as Kafka's super.users,
// one string of them separated by semicolons.
func parseSuperUsers(v any) ([]string, error) {
	var list []string
	switch x := v.(type) {
	case string:
		for _, p := range strings.Split(x, ";") {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, p)
			}
		}
	case []any:
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d: expected a string, got %s", i+1, tomlval.Describe(e, true))
			}
			list = append(list, strings.TrimSpace(s))
		}
	default:
		return nil, fmt.Errorf(`expected an array of principals or a ";"-separated string, got %s`, tomlval.Describe(v, true))
	}
	var bad []string
	for _, p := range list {
		if err := acl.ValidatePrincipal(p); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return list, nil
}

// asBool accepts TOML booleans and, as Kafka properties are written,
// "true" and "false".
func asBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, fmt.Errorf("%q is not true or false", x)
	}
	return false, fmt.Errorf("expected true or false, got %s", tomlval.Describe(v, true))
}

// parseACL reads one [[authorizer.acl]] row; ok is false when anything in
// it is wrong (each problem is reported).
func parseACL(errs *errorList, at place, m map[string]any) (acl.Binding, bool) {
	b := acl.Binding{Host: "*", Permission: acl.Allow, PatternType: acl.Literal}
	flat, dups := flatten(m)
	for _, key := range dups {
		errs.add(at, key, "set twice, once quoted and once as dotted keys")
	}
	before := len(errs.errs)
	str := func(key string) (string, bool) {
		v, ok := flat[key]
		if !ok {
			return "", false
		}
		s, err := asString(v)
		if err != nil {
			errs.add(at, key, "%v", err)
			return "", false
		}
		return strings.TrimSpace(s), true
	}
	required := map[string]string{
		keyACLPrincipal:    `missing: whom the ACL is for, e.g. "User:alice" or "User:*"`,
		keyACLOperation:    `missing: e.g. "READ", "WRITE", "DESCRIBE" or "ALL"`,
		keyACLResourceType: `missing: "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID" or "DELEGATION_TOKEN"`,
	}
	for _, key := range []string{keyACLPrincipal, keyACLOperation, keyACLResourceType} {
		if _, ok := flat[key]; !ok {
			errs.add(at, key, "%s", required[key])
		}
	}
	if s, ok := str(keyACLPrincipal); ok {
		if err := acl.ValidatePrincipal(s); err != nil {
			errs.add(at, keyACLPrincipal, "%v", err)
		}
		b.Principal = s
	}
	if s, ok := str(keyACLHost); ok {
		b.Host = s
		probe := acl.Binding{Principal: "User:x", Host: s, Operation: acl.Read, Permission: acl.Allow, ResourceType: acl.Topic, ResourceName: "x", PatternType: acl.Literal}
		if err := probe.Validate(); err != nil {
			errs.add(at, keyACLHost, "%v", err)
		}
	}
	if s, ok := str(keyACLOperation); ok {
		op, err := acl.ParseOperation(s)
		if err != nil {
			errs.add(at, keyACLOperation, "%v", err)
		}
		b.Operation = op
	}
	if s, ok := str(keyACLPermission); ok {
		p, err := acl.ParsePermission(s)
		if err != nil {
			errs.add(at, keyACLPermission, "%v", err)
		}
		b.Permission = p
	}
	if s, ok := str(keyACLPatternType); ok {
		pt, err := acl.ParsePatternType(s)
		if err != nil {
			errs.add(at, keyACLPatternType, "%v", err)
		}
		b.PatternType = pt
	}
	rtOK := false
	if s, ok := str(keyACLResourceType); ok {
		rt, err := acl.ParseResourceType(s)
		if err != nil {
			errs.add(at, keyACLResourceType, "%v", err)
		}
		b.ResourceType, rtOK = rt, err == nil
	}
	if s, ok := str(keyACLResourceName); ok {
		b.ResourceName = s
	} else if _, present := flat[keyACLResourceName]; !present {
		if b.ResourceType == acl.Cluster {
			b.ResourceName = acl.ClusterName // kafka-acls --cluster names it so
		} else {
			errs.add(at, keyACLResourceName, `missing: the resource's name, a prefix with pattern_type = "PREFIXED", or "*" for all`)
		}
	}
	for _, key := range sortedKeys(flat) {
		if !slices.Contains(aclKeys, key) {
			errs.add(at, key, "%s", unknownKey(key, aclKeys))
		}
	}
	if len(errs.errs) > before {
		return b, false
	}
	if err := b.Validate(); err != nil {
		key := keyACLResourceName
		if rtOK && b.ResourceType == acl.Cluster && b.ResourceName == acl.ClusterName {
			key = keyACLPatternType
		}
		errs.add(at, key, "%v", err)
		return b, false
	}
	return b, true
}
