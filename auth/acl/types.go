package acl

import (
	"fmt"
	"strings"
)

// ResourceType is what an ACL protects, with Kafka's wire codes
// (org.apache.kafka.common.resource.ResourceType).
type ResourceType int8

const (
	Topic           ResourceType = 2
	Group           ResourceType = 3
	Cluster         ResourceType = 4
	TransactionalID ResourceType = 5
	DelegationToken ResourceType = 6
)

// ClusterName is the only name of the CLUSTER resource, as in Kafka.
const ClusterName = "kafka-cluster"

// Wildcard is the LITERAL resource name that matches every name of its
// type, and WildcardPrincipal the principal that matches every user.
const (
	Wildcard          = "*"
	WildcardPrincipal = "User:*"
)

var resourceTypeNames = map[ResourceType]string{
	Topic:           "TOPIC",
	Group:           "GROUP",
	Cluster:         "CLUSTER",
	TransactionalID: "TRANSACTIONAL_ID",
	DelegationToken: "DELEGATION_TOKEN",
}

func (t ResourceType) String() string {
	if n, ok := resourceTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("ResourceType(%d)", int8(t))
}

// Operation is what a request does to a resource, with Kafka's wire codes
// (org.apache.kafka.common.acl.AclOperation); authorized-operations bit
// sets in Metadata and DescribeGroups use the same numbers.
type Operation int8

const (
	All             Operation = 2
	Read            Operation = 3
	Write           Operation = 4
	Create          Operation = 5
	Delete          Operation = 6
	Alter           Operation = 7
	Describe        Operation = 8
	ClusterAction   Operation = 9
	DescribeConfigs Operation = 10
	AlterConfigs    Operation = 11
	IdempotentWrite Operation = 12
	CreateTokens    Operation = 13
	DescribeTokens  Operation = 14
	TwoPhaseCommit  Operation = 15
)

var operationNames = map[Operation]string{
	All:             "ALL",
	Read:            "READ",
	Write:           "WRITE",
	Create:          "CREATE",
	Delete:          "DELETE",
	Alter:           "ALTER",
	Describe:        "DESCRIBE",
	ClusterAction:   "CLUSTER_ACTION",
	DescribeConfigs: "DESCRIBE_CONFIGS",
	AlterConfigs:    "ALTER_CONFIGS",
	IdempotentWrite: "IDEMPOTENT_WRITE",
	CreateTokens:    "CREATE_TOKENS",
	DescribeTokens:  "DESCRIBE_TOKENS",
	TwoPhaseCommit:  "TWO_PHASE_COMMIT",
}

func (o Operation) String() string {
	if n, ok := operationNames[o]; ok {
		return n
	}
	return fmt.Sprintf("Operation(%d)", int8(o))
}

// PatternType is how an ACL's resource name matches, with Kafka's codes.
type PatternType int8

const (
	Literal  PatternType = 3
	Prefixed PatternType = 4
)

func (p PatternType) String() string {
	switch p {
	case Literal:
		return "LITERAL"
	case Prefixed:
		return "PREFIXED"
	}
	return fmt.Sprintf("PatternType(%d)", int8(p))
}

// Permission is ALLOW or DENY, with Kafka's codes.
type Permission int8

const (
	Deny  Permission = 2
	Allow Permission = 3
)

func (p Permission) String() string {
	switch p {
	case Allow:
		return "ALLOW"
	case Deny:
		return "DENY"
	}
	return fmt.Sprintf("Permission(%d)", int8(p))
}

// normalize folds the spellings Kafka's tools accept for one enum value:
// the Java enum name (IDEMPOTENT_WRITE), kafka-acls' (IdempotentWrite) and
// any case.
func normalize(s string) string {
	return strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "_", "")
}

func parseEnum[T comparable](s, what string, names map[T]string) (T, error) {
	want := normalize(s)
	for v, n := range names {
		if normalize(n) == want {
			return v, nil
		}
	}
	var zero T
	valid := make([]string, 0, len(names))
	for _, n := range names {
		valid = append(valid, n)
	}
	sortStrings(valid)
	return zero, fmt.Errorf("unknown %s %q; valid: %s", what, s, strings.Join(valid, ", "))
}

// ParseResourceType reads TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID or
// DELEGATION_TOKEN, in any case, with or without underscores.
func ParseResourceType(s string) (ResourceType, error) {
	return parseEnum(s, "resource type", resourceTypeNames)
}

// ParseOperation reads an operation name: READ, WRITE, ... ALL, in any
// case, with or without underscores (IdempotentWrite as kafka-acls writes
// it). ANY is a filter, not an operation, and is refused.
func ParseOperation(s string) (Operation, error) {
	return parseEnum(s, "operation", operationNames)
}

// ParsePatternType reads LITERAL or PREFIXED.
func ParsePatternType(s string) (PatternType, error) {
	return parseEnum(s, "pattern type", map[PatternType]string{Literal: "LITERAL", Prefixed: "PREFIXED"})
}

// ParsePermission reads ALLOW or DENY.
func ParsePermission(s string) (Permission, error) {
	return parseEnum(s, "permission type", map[Permission]string{Allow: "ALLOW", Deny: "DENY"})
}
