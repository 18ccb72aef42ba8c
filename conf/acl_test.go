package conf

import (
	"reflect"
	"strings"
	"testing"

	"github.com/linkproxy/linkproxy/auth/acl"
)

func TestParseAuthorizer(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string // after validCluster + validListener
		want *Authorizer
	}{
		{"no table: authorization off", "", nil},
		{"empty table: everything denied", "[authorizer]\n", &Authorizer{}},
		{
			name: "Kafka's super.users string and defaults",
			src:  "[authorizer]\nsuper.users = \"User:admin; User:ops\"\n\"allow.everyone.if.no.acl.found\" = \"true\"\n",
			want: &Authorizer{SuperUsers: []string{"User:admin", "User:ops"}, AllowEveryoneIfNoACLFound: true},
		},
		{
			name: "rows, with defaults and kafka-acls spellings",
			src: `[authorizer]
super.users = ["User:admin"]
allow.everyone.if.no.acl.found = false

[[authorizer.acl]]
principal = "User:alice"
operation = "Write"
resource_type = "topic"
resource_name = "orders."
pattern_type = "PREFIXED"

[[authorizer.acl]]
principal = "User:*"
host = "127.0.0.1"
operation = "IdempotentWrite"
permission = "DENY"
resource_type = "CLUSTER"
`,
			want: &Authorizer{SuperUsers: []string{"User:admin"}, ACLs: []acl.Binding{
				{Principal: "User:alice", Host: "*", Operation: acl.Write, Permission: acl.Allow, ResourceType: acl.Topic, ResourceName: "orders.", PatternType: acl.Prefixed},
				{Principal: "User:*", Host: "127.0.0.1", Operation: acl.IdempotentWrite, Permission: acl.Deny, ResourceType: acl.Cluster, ResourceName: "kafka-cluster", PatternType: acl.Literal},
			}},
		},
		{
			name: "inline rows",
			src:  "[authorizer]\nacl = [{principal = \"User:bob\", operation = \"READ\", resource_type = \"GROUP\", resource_name = \"*\"}]\n",
			want: &Authorizer{ACLs: []acl.Binding{
				{Principal: "User:bob", Host: "*", Operation: acl.Read, Permission: acl.Allow, ResourceType: acl.Group, ResourceName: "*", PatternType: acl.Literal},
			}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(validCluster+validListener+tt.src), "linkproxy.toml")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Authorizer, tt.want) {
				t.Errorf("authorizer %+v, want %+v", cfg.Authorizer, tt.want)
			}
			if cfg.Authorizer != nil {
				if _, err := acl.New(cfg.Authorizer.Config()); err != nil {
					t.Errorf("acl.New refuses what conf accepted: %v", err)
				}
			}
		})
	}
}

func TestAuthorizerErrors(t *testing.T) {
	const row = "[authorizer]\n[[authorizer.acl]]\n" // the row's keys start on line 10
	at := func(key string) string { return `conf: linkproxy.toml:10: [[authorizer.acl]] #1 key "` + key + `": ` }
	for _, tt := range []struct {
		name string
		src  string // after validCluster + validListener
		want []string
	}{
		{
			name: "not a table",
			src:  "[[authorizer]]\n",
			want: []string{`conf: linkproxy.toml:8: key "authorizer": must be a table: write [authorizer]`},
		},
		{
			name: "bad super.users",
			src:  "[authorizer]\nsuper.users = [\"admin\", 3]\n",
			want: []string{`conf: linkproxy.toml:9: [authorizer] "super.users": element 2: expected a string, got an integer (3)`},
		},
		{
			name: "super user without a type",
			src:  "[authorizer]\nsuper.users = \"User:admin;admin\"\n",
			want: []string{`conf: linkproxy.toml:9: [authorizer] "super.users": principal "admin": want Type:name, e.g. User:alice (or User:* for every user)`},
		},
		{
			name: "bad boolean",
			src:  "[authorizer]\nallow.everyone.if.no.acl.found = \"yes\"\n",
			want: []string{`conf: linkproxy.toml:9: [authorizer] "allow.everyone.if.no.acl.found": "yes" is not true or false`},
		},
		{
			name: "unknown key",
			src:  "[authorizer]\nsuper.user = \"User:a\"\n",
			want: []string{`conf: linkproxy.toml:9: [authorizer] "super.user": unknown key (did you mean "super.users"?)`},
		},
		{
			name: "acl as a single table",
			src:  "[authorizer.acl]\nprincipal = \"User:a\"\n",
			want: []string{`conf: linkproxy.toml:8: [authorizer] "acl": ACLs are an array of tables: write [[authorizer.acl]] with principal, operation, resource_type and resource_name`},
		},
		{
			name: "missing keys",
			src:  row + "host = \"*\"\n",
			want: []string{
				`conf: linkproxy.toml:9: [[authorizer.acl]] #1 key "principal": missing: whom the ACL is for, e.g. "User:alice" or "User:*"`,
				`conf: linkproxy.toml:9: [[authorizer.acl]] #1 key "operation": missing: e.g. "READ", "WRITE", "DESCRIBE" or "ALL"`,
				`conf: linkproxy.toml:9: [[authorizer.acl]] #1 key "resource_type": missing: "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID" or "DELEGATION_TOKEN"`,
				`conf: linkproxy.toml:9: [[authorizer.acl]] #1 key "resource_name": missing: the resource's name, a prefix with pattern_type = "PREFIXED", or "*" for all`,
			},
		},
		{
			name: "bad enums",
			src:  row + "principal = \"User:a\"\noperation = \"ANY\"\npermission = \"MAYBE\"\nresource_type = \"TABLE\"\nresource_name = \"t\"\npattern_type = \"MATCH\"\n",
			want: []string{
				`conf: linkproxy.toml:11: [[authorizer.acl]] #1 key "operation": unknown operation "ANY"; valid: ALL, ALTER, ALTER_CONFIGS, CLUSTER_ACTION, CREATE, CREATE_TOKENS, DELETE, DESCRIBE, DESCRIBE_CONFIGS, DESCRIBE_TOKENS, IDEMPOTENT_WRITE, READ, TWO_PHASE_COMMIT, WRITE`,
				`conf: linkproxy.toml:12: [[authorizer.acl]] #1 key "permission": unknown permission type "MAYBE"; valid: ALLOW, DENY`,
				`conf: linkproxy.toml:13: [[authorizer.acl]] #1 key "resource_type": unknown resource type "TABLE"; valid: CLUSTER, DELEGATION_TOKEN, GROUP, TOPIC, TRANSACTIONAL_ID`,
				`conf: linkproxy.toml:15: [[authorizer.acl]] #1 key "pattern_type": unknown pattern type "MATCH"; valid: LITERAL, PREFIXED`,
			},
		},
		{
			name: "bad principal and host",
			src:  row + "principal = \"alice\"\nhost = \"client.example\"\noperation = \"READ\"\nresource_type = \"TOPIC\"\nresource_name = \"t\"\n",
			want: []string{
				at("principal") + `principal "alice": want Type:name, e.g. User:alice (or User:* for every user)`,
				`conf: linkproxy.toml:11: [[authorizer.acl]] #1 key "host": host "client.example": not an IP address or *: Kafka matches ACL hosts against the client's address, never a host name`,
			},
		},
		{
			name: "cluster resource name",
			src:  row + "principal = \"User:a\"\noperation = \"ALTER\"\nresource_type = \"CLUSTER\"\nresource_name = \"prod\"\n",
			want: []string{`conf: linkproxy.toml:13: [[authorizer.acl]] #1 key "resource_name": resource name "prod": the only name of the CLUSTER resource is kafka-cluster`},
		},
		{
			name: "prefixed cluster",
			src:  row + "principal = \"User:a\"\noperation = \"ALTER\"\nresource_type = \"CLUSTER\"\npattern_type = \"PREFIXED\"\n",
			want: []string{`conf: linkproxy.toml:13: [[authorizer.acl]] #1 key "pattern_type": the CLUSTER resource takes pattern type LITERAL`},
		},
		{
			name: "unknown row key and wrong type",
			src:  row + "principal = \"User:a\"\noperation = \"READ\"\nresource_type = \"TOPIC\"\nresource_name = 5\nresource = \"t\"\n",
			want: []string{
				`conf: linkproxy.toml:13: [[authorizer.acl]] #1 key "resource_name": expected a string, got an integer (5)`,
				`conf: linkproxy.toml:14: [[authorizer.acl]] #1 key "resource": unknown key (valid keys: host, operation, pattern_type, permission, principal, resource_name, resource_type)`,
			},
		},
		{
			name: "second row numbered",
			src:  row + "principal = \"User:a\"\noperation = \"READ\"\nresource_type = \"TOPIC\"\nresource_name = \"t\"\n[[authorizer.acl]]\nprincipal = \"User:b\"\noperation = \"READ\"\nresource_type = \"TOPIC\"\nresource_name = \"*\"\npattern_type = \"PREFIXED\"\n",
			want: []string{`conf: linkproxy.toml:18: [[authorizer.acl]] #2 key "resource_name": PREFIXED resource name "*": * is a wildcard only with LITERAL; a PREFIXED ACL matches names starting with its name`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(validCluster+validListener+tt.src), "linkproxy.toml")
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			if got := err.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}
