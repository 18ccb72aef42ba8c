// Package acl decides Kafka-style ACLs the way Apache Kafka's
// StandardAuthorizer (and AclAuthorizer before it) does:
//
//   - an ACL names a principal (User:alice, or User:* for everyone), a host
//     (an IP address, or * for any), an operation, ALLOW or DENY, and a
//     resource pattern: a type (TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID,
//     DELEGATION_TOKEN) and a name matched LITERAL (the name itself, or *
//     for every name of the type) or PREFIXED (every name starting with
//     it);
//   - super users are allowed everything, whatever the ACLs say;
//   - a matching DENY beats any ALLOW;
//   - an ALLOW of READ, WRITE, DELETE or ALTER also allows DESCRIBE, an
//     ALLOW of ALTER_CONFIGS also allows DESCRIBE_CONFIGS, and ALL stands
//     for every operation (for DENY too); DENY never implies another
//     operation;
//   - with no ACL at all on a resource (for any principal), the request is
//     denied, unless allow.everyone.if.no.acl.found is set.
//
// An Authorizer is immutable and safe for concurrent use; a decision costs
// a few map look-ups: ACLs are indexed by resource type and name, and
// PREFIXED ones by the lengths of their prefixes.
package acl

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Binding is one ACL, Kafka's AclBinding: a resource pattern and an access
// control entry.
type Binding struct {
	Principal    string // "User:alice", or WildcardPrincipal
	Host         string // an IP address, or "*"
	Operation    Operation
	Permission   Permission
	ResourceType ResourceType
	ResourceName string
	PatternType  PatternType
}

func (b Binding) String() string {
	return fmt.Sprintf("(principal=%s, host=%s, operation=%s, permissionType=%s) on %s:%s:%s",
		b.Principal, b.Host, b.Operation, b.Permission, b.ResourceType, b.PatternType, b.ResourceName)
}

// Validate refuses what Kafka's CreateAcls refuses, and what would never
// match: a principal without a type, a host that is not an IP address, a
// CLUSTER resource not named kafka-cluster or not LITERAL, an empty name.
func (b Binding) Validate() error {
	if err := ValidatePrincipal(b.Principal); err != nil {
		return err
	}
	if b.Host != "*" {
		if _, err := netip.ParseAddr(b.Host); err != nil {
			return fmt.Errorf("host %q: not an IP address or *: Kafka matches ACL hosts against the client's address, never a host name", b.Host)
		}
	}
	if _, ok := operationNames[b.Operation]; !ok {
		return fmt.Errorf("unknown operation %d", b.Operation)
	}
	if b.Permission != Allow && b.Permission != Deny {
		return fmt.Errorf("permission must be ALLOW or DENY")
	}
	if _, ok := resourceTypeNames[b.ResourceType]; !ok {
		return fmt.Errorf("unknown resource type %d", b.ResourceType)
	}
	if b.PatternType != Literal && b.PatternType != Prefixed {
		return fmt.Errorf("pattern type must be LITERAL or PREFIXED")
	}
	switch {
	case b.ResourceName == "":
		return fmt.Errorf("empty resource name")
	case b.ResourceType == Cluster && b.ResourceName != ClusterName:
		return fmt.Errorf("resource name %q: the only name of the CLUSTER resource is %s", b.ResourceName, ClusterName)
	case b.ResourceType == Cluster && b.PatternType != Literal:
		return fmt.Errorf("the CLUSTER resource takes pattern type LITERAL")
	case b.PatternType == Prefixed && b.ResourceName == Wildcard:
		return fmt.Errorf("PREFIXED resource name %q: * is a wildcard only with LITERAL; a PREFIXED ACL matches names starting with its name", Wildcard)
	}
	return nil
}

// ValidatePrincipal checks that p is "Type:name", as Kafka's
// KafkaPrincipal parses it.
func ValidatePrincipal(p string) error {
	typ, name, ok := strings.Cut(p, ":")
	if !ok || typ == "" || name == "" {
		return fmt.Errorf("principal %q: want Type:name, e.g. User:alice (or User:* for every user)", p)
	}
	return nil
}

// Config is what an Authorizer decides by.
type Config struct {
	// SuperUsers are Kafka's super.users: principals allowed everything.
	SuperUsers []string
	// AllowEveryoneIfNoACLFound is Kafka's
	// allow.everyone.if.no.acl.found (default false).
	AllowEveryoneIfNoACLFound bool
	ACLs                      []Binding
}

// Authorizer decides requests against a fixed set of ACLs.
type Authorizer struct {
	super      map[string]bool
	allowNoACL bool
	byType     map[ResourceType]*typeIndex
	all        []Binding
}

// typeIndex holds one resource type's ACLs.
type typeIndex struct {
	literal  map[string][]entry // by name, Wildcard included
	prefixed map[string][]entry // by prefix
	lengths  []int              // distinct prefix lengths, ascending
}

// entry is the access control part of a Binding, with its host parsed.
type entry struct {
	principal string
	host      netip.Addr // invalid for "*"
	op        Operation
	perm      Permission
}

// New validates cfg and builds an Authorizer.
func New(cfg Config) (*Authorizer, error) {
	a := &Authorizer{super: make(map[string]bool), allowNoACL: cfg.AllowEveryoneIfNoACLFound, byType: make(map[ResourceType]*typeIndex)}
	for _, p := range cfg.SuperUsers {
		if err := ValidatePrincipal(p); err != nil {
			return nil, fmt.Errorf("super user: %w", err)
		}
		a.super[p] = true
	}
	for i, b := range cfg.ACLs {
		if err := b.Validate(); err != nil {
			return nil, fmt.Errorf("acl #%d: %w", i+1, err)
		}
		e := entry{principal: b.Principal, op: b.Operation, perm: b.Permission}
		if b.Host != "*" {
			e.host = netip.MustParseAddr(b.Host).Unmap()
		}
		ix := a.byType[b.ResourceType]
		if ix == nil {
			ix = &typeIndex{literal: make(map[string][]entry), prefixed: make(map[string][]entry)}
			a.byType[b.ResourceType] = ix
		}
		if b.PatternType == Literal {
			ix.literal[b.ResourceName] = append(ix.literal[b.ResourceName], e)
			continue
		}
		if _, seen := ix.prefixed[b.ResourceName]; !seen {
			ix.lengths = append(ix.lengths, len(b.ResourceName))
		}
		ix.prefixed[b.ResourceName] = append(ix.prefixed[b.ResourceName], e)
	}
	for _, ix := range a.byType {
		sort.Ints(ix.lengths)
		ix.lengths = dedup(ix.lengths)
	}
	a.all = append([]Binding(nil), cfg.ACLs...)
	return a, nil
}

func dedup(s []int) []int {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// ACLs returns the bindings the Authorizer was built with.
func (a *Authorizer) ACLs() []Binding { return append([]Binding(nil), a.all...) }

// IsSuperUser reports whether principal is in super.users.
func (a *Authorizer) IsSuperUser(principal string) bool { return a.super[principal] }

// Subject is who asks: a principal ("User:alice") and the client's address.
type Subject struct {
	Principal string
	Host      netip.Addr
}

func (e entry) matches(s Subject) bool {
	if e.principal != s.Principal && e.principal != WildcardPrincipal {
		return false
	}
	return !e.host.IsValid() || e.host == s.Host.Unmap()
}

// allows reports whether an ALLOW entry for e.op grants op.
func allows(acl, op Operation) bool {
	if acl == op || acl == All {
		return true
	}
	switch op {
	case Describe:
		return acl == Read || acl == Write || acl == Delete || acl == Alter
	case DescribeConfigs:
		return acl == AlterConfigs
	}
	return false
}

// Authorize decides whether s may do op on the resource of type rt named
// name.
func (a *Authorizer) Authorize(s Subject, op Operation, rt ResourceType, name string) bool {
	if a.super[s.Principal] {
		return true
	}
	ix := a.byType[rt]
	if ix == nil {
		return a.allowNoACL
	}
	found, allowed := false, false
	// check returns false on a matching DENY, which decides at once.
	check := func(es []entry) bool {
		if len(es) > 0 {
			found = true
		}
		for _, e := range es {
			if !e.matches(s) {
				continue
			}
			if e.perm == Deny {
				if e.op == op || e.op == All {
					return false
				}
				continue
			}
			if allows(e.op, op) {
				allowed = true
			}
		}
		return true
	}
	if !check(ix.literal[name]) || !check(ix.literal[Wildcard]) {
		return false
	}
	for _, n := range ix.lengths {
		if n > len(name) {
			break
		}
		if !check(ix.prefixed[name[:n]]) {
			return false
		}
	}
	if !found {
		return a.allowNoACL
	}
	return allowed
}

// AuthorizeByResourceType reports whether s may do op on at least one
// resource of type rt, as Kafka's Authorizer.authorizeByResourceType, which
// decides whether an idempotent producer without IDEMPOTENT_WRITE may get a
// producer id (KIP-679: WRITE on any topic suffices): a super user may; a
// DENY on the LITERAL * name forbids; else some ALLOW pattern must not be
// covered by a DENY (the same LITERAL name, or a PREFIXED deny that is a
// prefix of it).
func (a *Authorizer) AuthorizeByResourceType(s Subject, op Operation, rt ResourceType) bool {
	// Kafka first asks about a made-up name, which lets super users and
	// allow.everyone.if.no.acl.found through.
	if a.Authorize(s, op, rt, "hardcode") {
		return true
	}
	ix := a.byType[rt]
	if ix == nil {
		return false
	}
	relevant := func(e entry) bool { return e.matches(s) && (e.op == op || e.op == All) }
	denyLiteral, denyPrefix := map[string]bool{}, map[string]bool{}
	for name, es := range ix.literal {
		for _, e := range es {
			if relevant(e) && e.perm == Deny {
				if name == Wildcard {
					return false
				}
				denyLiteral[name] = true
			}
		}
	}
	for name, es := range ix.prefixed {
		for _, e := range es {
			if relevant(e) && e.perm == Deny {
				denyPrefix[name] = true
			}
		}
	}
	dominated := func(name string) bool {
		for i := 1; i <= len(name); i++ {
			if denyPrefix[name[:i]] {
				return true
			}
		}
		return false
	}
	for name, es := range ix.literal {
		for _, e := range es {
			if relevant(e) && e.perm == Allow && (name == Wildcard || (!denyLiteral[name] && !dominated(name))) {
				return true
			}
		}
	}
	for name, es := range ix.prefixed {
		for _, e := range es {
			if relevant(e) && e.perm == Allow && !dominated(name) {
				return true
			}
		}
	}
	return false
}

// AuthorizedOperations returns the bit set of the operations in ops that s
// may do on the resource, bit n for operation code n, as the authorized
// operations fields of Metadata, DescribeCluster and DescribeGroups.
func (a *Authorizer) AuthorizedOperations(s Subject, rt ResourceType, name string, ops []Operation) int32 {
	var bits int32
	for _, op := range ops {
		if a.Authorize(s, op, rt, name) {
			bits |= 1 << op
		}
	}
	return bits
}

// Operations Kafka reports in authorized-operations fields per resource type.
var (
	TopicOperations   = []Operation{Read, Write, Create, Delete, Alter, Describe, DescribeConfigs, AlterConfigs}
	GroupOperations   = []Operation{Read, Delete, Describe, DescribeConfigs, AlterConfigs}
	ClusterOperations = []Operation{Create, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite}
)

func sortStrings(s []string) { sort.Strings(s) }
