package rest

// JSON shapes of Confluent Platform's REST v3 OpenAPI (components/schemas),
// named after them. Fields the OpenAPI marks required are always written;
// nullable ones are pointers written as null.

// Kinds, as Confluent Server writes them.
const (
	kindClusterList     = "KafkaClusterList"
	kindCluster         = "KafkaCluster"
	kindLinkList        = "KafkaLinkDataList"
	kindLink            = "KafkaLinkData"
	kindLinkConfigList  = "KafkaLinkConfigDataList"
	kindLinkConfig      = "KafkaLinkConfigData"
	kindMirrorList      = "KafkaMirrorDataList"
	kindMirror          = "KafkaMirrorData"
	kindAlterMirrorList = "KafkaAlterMirrorsDataList"
	kindAlterMirror     = "AlterMirrorsData"
)

// Config sources (ListLinkConfigsResponseData.source).
const (
	sourceLinkConfig = "DYNAMIC_CLUSTER_LINK_CONFIG"
	sourceDefault    = "DEFAULT_CONFIG"
)

// resourceMetadata is ResourceMetadata.
type resourceMetadata struct {
	Self         string  `json:"self"`
	ResourceName *string `json:"resource_name,omitempty"`
}

// collectionMetadata is ResourceCollectionMetadata; next is always null
// (no paging).
type collectionMetadata struct {
	Self string  `json:"self"`
	Next *string `json:"next"`
}

// dataList is ResourceCollection with data: every *DataList schema.
type dataList[T any] struct {
	Kind     string             `json:"kind"`
	Metadata collectionMetadata `json:"metadata"`
	Data     []T                `json:"data"`
}

func newList[T any](kind, self string, data []T) dataList[T] {
	if data == nil {
		data = []T{}
	}
	return dataList[T]{Kind: kind, Metadata: collectionMetadata{Self: self}, Data: data}
}

// relationship is Relationship.
type relationship struct {
	Related string `json:"related"`
}

// clusterData is ClusterData. controller is optional and left out: the
// proxy does not follow the fronted cluster's controller.
type clusterData struct {
	Kind                   string           `json:"kind"`
	Metadata               resourceMetadata `json:"metadata"`
	ClusterID              string           `json:"cluster_id"`
	Controller             *relationship    `json:"controller,omitempty"`
	ACLs                   relationship     `json:"acls"`
	Brokers                relationship     `json:"brokers"`
	BrokerConfigs          relationship     `json:"broker_configs"`
	ConsumerGroups         relationship     `json:"consumer_groups"`
	Topics                 relationship     `json:"topics"`
	PartitionReassignments relationship     `json:"partition_reassignments"`
}

// linkData is ListLinksResponseData. link_state, link_error and
// link_error_message are not in the Platform OpenAPI's
// ListLinksResponseData_allOf but are what Confluent Server and Cloud
// answer with (and the Cloud OpenAPI lists): added fields, which the
// schema allows.
type linkData struct {
	Kind                 string           `json:"kind"`
	Metadata             resourceMetadata `json:"metadata"`
	SourceClusterID      *string          `json:"source_cluster_id"`
	DestinationClusterID *string          `json:"destination_cluster_id"`
	LinkName             string           `json:"link_name"`
	LinkID               string           `json:"link_id"`
	ClusterLinkID        string           `json:"cluster_link_id"`
	TopicNames           []string         `json:"topic_names"`
	LinkState            string           `json:"link_state"`
	LinkError            string           `json:"link_error"`
	LinkErrorMessage     string           `json:"link_error_message"`
}

// linkConfigData is ListLinkConfigsResponseData.
type linkConfigData struct {
	Kind      string           `json:"kind"`
	Metadata  resourceMetadata `json:"metadata"`
	ClusterID string           `json:"cluster_id"`
	Name      string           `json:"name"`
	Value     string           `json:"value"`
	Default   bool             `json:"default"`
	ReadOnly  bool             `json:"read_only"`
	Sensitive bool             `json:"sensitive"`
	Source    string           `json:"source"`
	Synonyms  []string         `json:"synonyms"`
	LinkName  string           `json:"link_name"`
}

// mirrorLag is MirrorLag.
type mirrorLag struct {
	Partition             int32 `json:"partition"`
	Lag                   int64 `json:"lag"`
	LastSourceFetchOffset int64 `json:"last_source_fetch_offset"`
}

// mirrorData is ListMirrorTopicsResponseData. mirror_topic_error is the
// Cloud OpenAPI's added field (NO_ERROR when none); mirror_topic_error_message
// is this proxy's, written only when there is one.
type mirrorData struct {
	Kind                    string           `json:"kind"`
	Metadata                resourceMetadata `json:"metadata"`
	LinkName                string           `json:"link_name"`
	MirrorTopicName         string           `json:"mirror_topic_name"`
	SourceTopicName         string           `json:"source_topic_name"`
	NumPartitions           int32            `json:"num_partitions"`
	MirrorLags              []mirrorLag      `json:"mirror_lags"`
	MirrorStatus            string           `json:"mirror_status"`
	StateTimeMs             int64            `json:"state_time_ms"`
	MirrorTopicError        string           `json:"mirror_topic_error"`
	MirrorTopicErrorMessage string           `json:"mirror_topic_error_message,omitempty"`
}

// alterMirrorData is AlterMirrorStatusResponseData: error_code and
// error_message are null on success. messages (the Manager's notes on the
// operation) is this proxy's added field, written only when there are any.
type alterMirrorData struct {
	Kind            string           `json:"kind"`
	Metadata        resourceMetadata `json:"metadata"`
	MirrorTopicName string           `json:"mirror_topic_name"`
	ErrorCode       *int             `json:"error_code"`
	ErrorMessage    *string          `json:"error_message"`
	MirrorLags      []mirrorLag      `json:"mirror_lags"`
	Messages        []string         `json:"messages,omitempty"`
}

// Request bodies.

// configData is ConfigData: value is nullable.
type configData struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// createLinkRequest is CreateLinkRequestData.
type createLinkRequest struct {
	SourceClusterID      string       `json:"source_cluster_id"`
	DestinationClusterID string       `json:"destination_cluster_id"`
	Configs              []configData `json:"configs"`
}

// createMirrorRequest is CreateMirrorTopicRequestData.
type createMirrorRequest struct {
	SourceTopicName   *string      `json:"source_topic_name"`
	MirrorTopicName   string       `json:"mirror_topic_name"`
	ReplicationFactor *int         `json:"replication_factor"`
	Configs           []configData `json:"configs"`
}

// alterMirrorsRequest is AlterMirrorsRequestData. The Cloud API's
// mirror_topic_name_pattern is read only to refuse it by name.
type alterMirrorsRequest struct {
	MirrorTopicNames       *[]string `json:"mirror_topic_names"`
	MirrorTopicNamePattern *string   `json:"mirror_topic_name_pattern"`
}

// updateLinkConfigRequest is UpdateLinkConfigRequestData.
type updateLinkConfigRequest struct {
	Value *string `json:"value"`
}

// alterConfigBatchRequest is AlterConfigBatchRequestData. validate_only in
// the body is the Cloud API's spelling of the query parameter.
type alterConfigBatchRequest struct {
	Data         *[]alterConfigEntry `json:"data"`
	ValidateOnly *bool               `json:"validate_only"`
}

// alterConfigEntry is AlterConfigBatchRequestData_data: operation is SET
// (the default) or DELETE.
type alterConfigEntry struct {
	Name      *string `json:"name"`
	Value     *string `json:"value"`
	Operation *string `json:"operation"`
}
