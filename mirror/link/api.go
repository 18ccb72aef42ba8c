// Package link runs cluster links: named connections from this
// (destination) cluster to a source cluster, each with mirror topics copied
// by the mirror engine. It keeps links, mirror states and sync positions in
// the destination cluster itself, and serves the operations that REST v3 and
// the CLI expose (Manager).
package link

import (
	"context"
	"fmt"
	"net/http"
)

// State is a link's state, as Confluent reports it (link_state).
type State string

const (
	StateActive      State = "ACTIVE"
	StatePaused      State = "PAUSED"
	StateUnavailable State = "UNAVAILABLE" // the source cannot be reached, within cluster.link.retry.timeout.ms
	StateFailed      State = "FAILED"      // a configuration or authentication failure
)

// Link errors (link_error), as Confluent names them.
const (
	NoError                         = "NO_ERROR"
	ErrAuthentication               = "AUTHENTICATION_ERROR"
	ErrUnresolvableBootstrap        = "UNRESOLVABLE_BOOTSTRAP_ERROR"
	ErrBootstrapTCPConnectionFailed = "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR"
	ErrTimeout                      = "TIMEOUT_ERROR"
	ErrSourceClusterIDMismatch      = "SOURCE_CLUSTER_ID_MISMATCH_ERROR"
	ErrUnknown                      = "UNKNOWN_ERROR"
)

// MirrorState is a mirror topic's state (mirror_status).
type MirrorState string

const (
	MirrorActive            MirrorState = "ACTIVE"
	MirrorPaused            MirrorState = "PAUSED"
	MirrorPendingStopped    MirrorState = "PENDING_STOPPED" // promote: waiting for lag zero
	MirrorStopped           MirrorState = "STOPPED"         // promoted or failed over: a normal, writable topic
	MirrorFailed            MirrorState = "FAILED"
	MirrorSourceUnavailable MirrorState = "SOURCE_UNAVAILABLE"
	MirrorLinkFailed        MirrorState = "LINK_FAILED"
	MirrorLinkPaused        MirrorState = "LINK_PAUSED"
)

// Mirror topic errors (mirror_topic_error).
const (
	MirrorErrSourceTopicMayBeDeleted   = "SOURCE_TOPIC_MAY_BE_DELETED"
	MirrorErrSourcePartitionsDecreased = "SOURCE_PARTITIONS_DECREASED"
	MirrorErrUnexpectedTruncation      = "UNEXPECTED_TRUNCATION"
	MirrorErrDiverged                  = "DIVERGED"
)

// Link is what a link looks like from outside.
type Link struct {
	Name                 string
	ID                   string // link_id, a UUID chosen at creation
	SourceClusterID      string
	DestinationClusterID string
	State                State
	Error                string // link_error; NoError when none
	ErrorMessage         string
	TopicNames           []string // its mirror topics
}

// ConfigEntry is one link config, as GET .../configs lists them.
type ConfigEntry struct {
	Name      string
	Value     string // "" with Sensitive set for passwords
	IsDefault bool
	ReadOnly  bool // fixed after creation (cluster.link.prefix, link.mode, ...)
	Sensitive bool
}

// Lag is one partition's mirror lag.
type Lag struct {
	Partition             int32
	Lag                   int64
	LastSourceFetchOffset int64
}

// Mirror is what a mirror topic looks like from outside.
type Mirror struct {
	Link            string
	MirrorTopic     string
	SourceTopic     string
	State           MirrorState
	Error           string // mirror_topic_error; NoError when none
	ErrorMessage    string
	NumPartitions   int32
	Lags            []Lag
	StateTimeMillis int64 // when the state last changed, ms since the epoch
}

// CreateMirror is a request for a mirror topic.
type CreateMirror struct {
	SourceTopic       string
	MirrorTopic       string // "" means cluster.link.prefix + SourceTopic
	ReplicationFactor int    // 0 means the destination's default
	Configs           map[string]string
}

// MirrorOp is an operation on mirror topics.
type MirrorOp string

const (
	OpPromote  MirrorOp = "promote"
	OpFailover MirrorOp = "failover"
	OpPause    MirrorOp = "pause"
	OpResume   MirrorOp = "resume"
)

// MirrorResult is the outcome of a MirrorOp for one mirror topic.
type MirrorResult struct {
	MirrorTopic string
	Err         *Error // nil on success
	Messages    []string
}

// Manager is everything the REST API and the CLI can do with links.
// Methods return *Error for what the caller got wrong (unknown link, bad
// config, ...), so that the API can answer with its status and message.
type Manager interface {
	// ClusterID is the destination (fronted) cluster's id.
	ClusterID(ctx context.Context) (string, error)

	CreateLink(ctx context.Context, name, sourceClusterID string, configs map[string]string, validateOnly, validateLink bool) error
	Links(ctx context.Context) ([]Link, error)
	Link(ctx context.Context, name string) (Link, error)
	// DeleteLink refuses a link with mirror topics that are not stopped
	// unless force.
	DeleteLink(ctx context.Context, name string, force, validateOnly bool) error
	LinkConfigs(ctx context.Context, name string) ([]ConfigEntry, error)
	// AlterLinkConfigs sets the configs in set and returns those in reset
	// to their defaults.
	AlterLinkConfigs(ctx context.Context, name string, set map[string]string, reset []string, validateOnly bool) error

	CreateMirror(ctx context.Context, link string, m CreateMirror, validateOnly bool) error
	// Mirrors lists the mirror topics of link ("" for every link), in the
	// given state ("" for all).
	Mirrors(ctx context.Context, link string, state MirrorState) ([]Mirror, error)
	Mirror(ctx context.Context, link, mirrorTopic string) (Mirror, error)
	AlterMirrors(ctx context.Context, link string, op MirrorOp, mirrorTopics []string, validateOnly bool) ([]MirrorResult, error)
}

// Error is a refusal the caller can act on: Status is the HTTP status the
// REST API answers with, and also its error_code.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with status.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// notFound and friends name the common refusals.
func notFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, format, args...)
}

func badRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, format, args...)
}

func conflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, format, args...)
}
