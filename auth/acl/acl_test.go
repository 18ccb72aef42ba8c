package acl

import (
	"net/netip"
	"strings"
	"testing"
)

var (
	alice = Subject{Principal: "User:alice", Host: netip.MustParseAddr("192.0.2.1")}
	bob   = Subject{Principal: "User:bob", Host: netip.MustParseAddr("192.0.2.2")}
)

func allow(principal string, op Operation, rt ResourceType, name string, pt PatternType) Binding {
	return Binding{Principal: principal, Host: "*", Operation: op, Permission: Allow, ResourceType: rt, ResourceName: name, PatternType: pt}
}

func deny(principal string, op Operation, rt ResourceType, name string, pt PatternType) Binding {
	b := allow(principal, op, rt, name, pt)
	b.Permission = Deny
	return b
}

func withHost(b Binding, host string) Binding {
	b.Host = host
	return b
}

// The cases follow Apache Kafka's authorizer tests (AuthorizerTest,
// StandardAuthorizerTest), one decision each.
func TestAuthorize(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		who     Subject
		op      Operation
		rt      ResourceType
		res     string
		allowed bool
	}{
		{"no acls denies", Config{}, alice, Read, Topic, "t", false},
		{"no acls, allow.everyone.if.no.acl.found", Config{AllowEveryoneIfNoACLFound: true}, alice, Read, Topic, "t", true},
		{"allow.everyone ignored once the resource has an acl", Config{AllowEveryoneIfNoACLFound: true, ACLs: []Binding{allow("User:bob", Read, Topic, "t", Literal)}}, alice, Read, Topic, "t", false},
		{"allow.everyone applies to other resources", Config{AllowEveryoneIfNoACLFound: true, ACLs: []Binding{allow("User:bob", Read, Topic, "t", Literal)}}, alice, Read, Topic, "u", true},
		{"allow.everyone: a prefixed acl counts as an acl on the resource", Config{AllowEveryoneIfNoACLFound: true, ACLs: []Binding{allow("User:bob", Read, Topic, "t", Prefixed)}}, alice, Read, Topic, "tx", false},
		{"literal allow", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal)}}, alice, Read, Topic, "t", true},
		{"literal allow is not a prefix", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal)}}, alice, Read, Topic, "tt", false},
		{"other operation", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal)}}, alice, Write, Topic, "t", false},
		{"other principal", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal)}}, bob, Read, Topic, "t", false},
		{"other resource type", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal)}}, alice, Read, Group, "t", false},
		{"wildcard principal", Config{ACLs: []Binding{allow("User:*", Read, Topic, "t", Literal)}}, bob, Read, Topic, "t", true},
		{"wildcard resource", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "*", Literal)}}, alice, Read, Topic, "anything", true},
		{"prefixed", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "orders.", Prefixed)}}, alice, Write, Topic, "orders.eu", true},
		{"prefixed matches the prefix itself", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "orders.", Prefixed)}}, alice, Write, Topic, "orders.", true},
		{"prefixed does not match shorter", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "orders.", Prefixed)}}, alice, Write, Topic, "orders", false},
		{"single character prefix", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "f", Prefixed)}}, alice, Write, Topic, "foo", true},
		{"prefixed * is a plain character", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "a*", Prefixed)}}, alice, Read, Topic, "ab", false},
		{"host match", Config{ACLs: []Binding{withHost(allow("User:alice", Read, Topic, "t", Literal), "192.0.2.1")}}, alice, Read, Topic, "t", true},
		{"host mismatch", Config{ACLs: []Binding{withHost(allow("User:alice", Read, Topic, "t", Literal), "192.0.2.9")}}, alice, Read, Topic, "t", false},
		{"ipv4-mapped client address", Config{ACLs: []Binding{withHost(allow("User:alice", Read, Topic, "t", Literal), "192.0.2.1")}}, Subject{Principal: "User:alice", Host: netip.MustParseAddr("::ffff:192.0.2.1")}, Read, Topic, "t", true},
		{"deny beats allow", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal), deny("User:alice", Read, Topic, "t", Literal)}}, alice, Read, Topic, "t", false},
		{"wildcard deny beats literal allow", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal), deny("User:*", Read, Topic, "*", Literal)}}, alice, Read, Topic, "t", false},
		{"prefixed deny beats literal allow", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "orders.secret", Literal), deny("User:alice", Write, Topic, "orders.s", Prefixed)}}, alice, Write, Topic, "orders.secret", false},
		{"deny on one host only", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal), withHost(deny("User:alice", Read, Topic, "t", Literal), "192.0.2.9")}}, alice, Read, Topic, "t", true},
		{"deny of another operation", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal), deny("User:alice", Write, Topic, "t", Literal)}}, alice, Read, Topic, "t", true},
		{"deny ALL", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal), deny("User:alice", All, Topic, "t", Literal)}}, alice, Read, Topic, "t", false},
		{"deny READ does not deny DESCRIBE", Config{ACLs: []Binding{allow("User:alice", Describe, Topic, "t", Literal), deny("User:alice", Read, Topic, "t", Literal)}}, alice, Describe, Topic, "t", true},
		{"allow ALL", Config{ACLs: []Binding{allow("User:alice", All, Topic, "t", Literal)}}, alice, AlterConfigs, Topic, "t", true},
		{"READ implies DESCRIBE", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal)}}, alice, Describe, Topic, "t", true},
		{"WRITE implies DESCRIBE", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "t", Literal)}}, alice, Describe, Topic, "t", true},
		{"DELETE implies DESCRIBE", Config{ACLs: []Binding{allow("User:alice", Delete, Topic, "t", Literal)}}, alice, Describe, Topic, "t", true},
		{"ALTER implies DESCRIBE", Config{ACLs: []Binding{allow("User:alice", Alter, Topic, "t", Literal)}}, alice, Describe, Topic, "t", true},
		{"CREATE does not imply DESCRIBE", Config{ACLs: []Binding{allow("User:alice", Create, Topic, "t", Literal)}}, alice, Describe, Topic, "t", false},
		{"DESCRIBE implies nothing", Config{ACLs: []Binding{allow("User:alice", Describe, Topic, "t", Literal)}}, alice, Read, Topic, "t", false},
		{"ALTER_CONFIGS implies DESCRIBE_CONFIGS", Config{ACLs: []Binding{allow("User:alice", AlterConfigs, Topic, "t", Literal)}}, alice, DescribeConfigs, Topic, "t", true},
		{"ALTER does not imply ALTER_CONFIGS", Config{ACLs: []Binding{allow("User:alice", Alter, Topic, "t", Literal)}}, alice, AlterConfigs, Topic, "t", false},
		{"WRITE does not imply IDEMPOTENT_WRITE on the cluster", Config{ACLs: []Binding{allow("User:alice", Write, Cluster, ClusterName, Literal)}}, alice, IdempotentWrite, Cluster, ClusterName, false},
		{"super user bypasses deny", Config{SuperUsers: []string{"User:alice"}, ACLs: []Binding{deny("User:alice", All, Topic, "*", Literal)}}, alice, Write, Topic, "t", true},
		{"super user is exact", Config{SuperUsers: []string{"User:alice"}}, bob, Write, Topic, "t", false},
		{"principal type matters", Config{ACLs: []Binding{allow("Group:alice", Read, Topic, "t", Literal)}}, alice, Read, Topic, "t", false},
		// Kafka's wildcard is User:*, and it matches principals of every type.
		{"User:* matches other principal types", Config{ACLs: []Binding{allow("User:*", Read, Topic, "t", Literal)}}, Subject{Principal: "Service:x"}, Read, Topic, "t", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Authorize(c.who, c.op, c.rt, c.res); got != c.allowed {
				t.Errorf("Authorize(%s, %s, %s:%s) = %v, want %v", c.who.Principal, c.op, c.rt, c.res, got, c.allowed)
			}
		})
	}
}

// As Kafka's AuthorizerTest testAuthorizeByResourceType* cases.
func TestAuthorizeByResourceType(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		allowed bool
	}{
		{"no acls", Config{}, false},
		{"allow.everyone with no acls", Config{AllowEveryoneIfNoACLFound: true}, true},
		{"super user", Config{SuperUsers: []string{"User:alice"}}, true},
		{"literal allow", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "t", Literal)}}, true},
		{"prefixed allow", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "orders.", Prefixed)}}, true},
		{"allow ALL", Config{ACLs: []Binding{allow("User:alice", All, Topic, "t", Literal)}}, true},
		{"another operation", Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal)}}, false},
		{"another principal", Config{ACLs: []Binding{allow("User:bob", Write, Topic, "t", Literal)}}, false},
		{"wildcard principal", Config{ACLs: []Binding{allow("User:*", Write, Topic, "t", Literal)}}, true},
		{"literal denied too", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "t", Literal), deny("User:alice", Write, Topic, "t", Literal)}}, false},
		{"literal dominated by prefixed deny", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "orders.eu", Literal), deny("User:alice", Write, Topic, "orders.", Prefixed)}}, false},
		{"prefixed dominated by shorter prefixed deny", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "orders.eu", Prefixed), deny("User:alice", Write, Topic, "orders", Prefixed)}}, false},
		{"longer prefixed deny does not dominate", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "orders", Prefixed), deny("User:alice", Write, Topic, "orders.eu", Prefixed)}}, true},
		{"wildcard deny", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "t", Literal), deny("User:*", Write, Topic, "*", Literal)}}, false},
		{"one of two allows left", Config{ACLs: []Binding{allow("User:alice", Write, Topic, "t", Literal), allow("User:alice", Write, Topic, "u", Literal), deny("User:alice", Write, Topic, "t", Literal)}}, true},
		{"group acls are not topic acls", Config{ACLs: []Binding{allow("User:alice", Write, Group, "t", Literal)}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.AuthorizeByResourceType(alice, Write, Topic); got != c.allowed {
				t.Errorf("AuthorizeByResourceType = %v, want %v", got, c.allowed)
			}
		})
	}
}

func TestAuthorizedOperations(t *testing.T) {
	a, err := New(Config{ACLs: []Binding{allow("User:alice", Read, Topic, "t", Literal), allow("User:alice", AlterConfigs, Topic, "t", Literal)}})
	if err != nil {
		t.Fatal(err)
	}
	got := a.AuthorizedOperations(alice, Topic, "t", TopicOperations)
	want := int32(1<<Read | 1<<Describe | 1<<DescribeConfigs | 1<<AlterConfigs)
	if got != want {
		t.Errorf("AuthorizedOperations = %b, want %b", got, want)
	}
}

func TestValidate(t *testing.T) {
	ok := allow("User:alice", Read, Topic, "t", Literal)
	cases := []struct {
		name string
		mod  func(*Binding)
		want string // "" for valid
	}{
		{"valid", func(*Binding) {}, ""},
		{"ipv6 host", func(b *Binding) { b.Host = "2001:db8::1" }, ""},
		{"principal without type", func(b *Binding) { b.Principal = "alice" }, "want Type:name"},
		{"empty principal name", func(b *Binding) { b.Principal = "User:" }, "want Type:name"},
		{"host name", func(b *Binding) { b.Host = "client.example" }, "not an IP address"},
		{"empty resource name", func(b *Binding) { b.ResourceName = "" }, "empty resource name"},
		{"cluster name", func(b *Binding) { b.ResourceType, b.ResourceName = Cluster, "c1" }, "kafka-cluster"},
		{"prefixed cluster", func(b *Binding) { b.ResourceType, b.ResourceName, b.PatternType = Cluster, ClusterName, Prefixed }, "LITERAL"},
		{"prefixed wildcard", func(b *Binding) { b.ResourceName, b.PatternType = "*", Prefixed }, "wildcard only with LITERAL"},
		{"bad permission", func(b *Binding) { b.Permission = 1 }, "ALLOW or DENY"},
		{"bad operation", func(b *Binding) { b.Operation = 1 }, "unknown operation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := ok
			c.mod(&b)
			err := b.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := New(Config{SuperUsers: []string{"admin"}}); err == nil {
		t.Error("super user without a principal type accepted")
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"IDEMPOTENT_WRITE", "IdempotentWrite", "idempotent_write"} {
		if op, err := ParseOperation(s); err != nil || op != IdempotentWrite {
			t.Errorf("ParseOperation(%q) = %v, %v", s, op, err)
		}
	}
	if _, err := ParseOperation("ANY"); err == nil || !strings.Contains(err.Error(), "valid: ALL, ALTER") {
		t.Errorf("ParseOperation(ANY) = %v, want an error listing the valid names", err)
	}
	if rt, err := ParseResourceType("TransactionalId"); err != nil || rt != TransactionalID {
		t.Errorf("ParseResourceType = %v, %v", rt, err)
	}
	if pt, err := ParsePatternType("prefixed"); err != nil || pt != Prefixed {
		t.Errorf("ParsePatternType = %v, %v", pt, err)
	}
	if _, err := ParsePatternType("MATCH"); err == nil {
		t.Error("MATCH is a filter type, not an ACL pattern type")
	}
	if p, err := ParsePermission("Deny"); err != nil || p != Deny {
		t.Errorf("ParsePermission = %v, %v", p, err)
	}
}

func BenchmarkAuthorize(b *testing.B) {
	var acls []Binding
	for i := range 1000 {
		acls = append(acls, allow("User:alice", Read, Topic, "team"+string(rune('a'+i%26))+".", Prefixed), allow("User:bob", Write, Topic, "t"+string(rune(i)), Literal))
	}
	a, err := New(Config{ACLs: acls})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		a.Authorize(alice, Read, Topic, "teamq.orders")
	}
}
