package rewrite

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Per-version facts are kept as bitsets indexed by version: every lookup on
// the request path is a bounds check and a shift, with no allocation and no
// call into kmsg.
const maxTableVersion = 63

// scanKeys bounds the key space probed at init. Kafka keys are small and
// dense (kmsg v1.15 stops at 94); a key beyond this is treated as unknown,
// which fails closed.
const scanKeys = 1024

type apiInfo struct {
	known    bool
	excluded bool
	max      int16

	versions    uint64 // versions kmsg can decode
	flexible    uint64 // versions using KIP-482 flexible encoding
	passthrough uint64 // versions whose responses are known to carry no endpoints
}

var apis []apiInfo

// excludedKeys lists APIs kmsg knows that the proxy refuses to carry. They
// are either spoken only between brokers and controllers (a client has no
// business sending them, and some carry controller or broker listeners the
// proxy has no mapping for), or their responses contain controller endpoints
// that cannot be expressed as a per-listener node endpoint.
var excludedKeys = []struct {
	key int16
	why string
}{
	{4, "LeaderAndIsr: ZooKeeper-era controller-to-broker RPC"},
	{5, "StopReplica: ZooKeeper-era controller-to-broker RPC"},
	{6, "UpdateMetadata: controller-to-broker RPC; the request carries every broker's listeners"},
	{7, "ControlledShutdown: broker-to-controller RPC (v0 even uses request header v0, without client id)"},
	{27, "WriteTxnMarkers: sent only by the transaction coordinator to partition leaders"},
	{52, "Vote: KRaft election between controllers; the response carries controller endpoints"},
	{53, "BeginQuorumEpoch: KRaft RPC between controllers; the response carries controller endpoints"},
	{54, "EndQuorumEpoch: KRaft RPC between controllers; the response carries controller endpoints"},
	{55, "DescribeQuorum: the response lists each voter's controller listeners, which have no per-listener proxy endpoint"},
	{56, "AlterPartition: broker-to-controller ISR updates"},
	{58, "Envelope: broker-to-controller request forwarding"},
	{59, "FetchSnapshot: KRaft snapshot transfer; the response carries controller endpoints"},
	{62, "BrokerRegistration: broker-to-controller; the request carries broker listeners"},
	{63, "BrokerHeartbeat: broker-to-controller liveness"},
	{64, "UnregisterBroker: cluster membership administration, not a client concern through a client-facing proxy"},
	{67, "AllocateProducerIDs: broker-to-controller"},
	{70, "ControllerRegistration: controller-to-controller; the request carries controller listeners"},
	{73, "AssignReplicasToDirs: broker-to-controller"},
	{80, "AddRaftVoter: KRaft voter management; carries controller listeners"},
	{81, "RemoveRaftVoter: KRaft voter management"},
	{82, "UpdateRaftVoter: controller-to-controller; the response carries the leader's controller host and port"},
	{83, "InitializeShareGroupState: share-partition leader to share coordinator"},
	{84, "ReadShareGroupState: share-partition leader to share coordinator"},
	{85, "WriteShareGroupState: share-partition leader to share coordinator"},
	{86, "DeleteShareGroupState: share-partition leader to share coordinator"},
	{87, "ReadShareGroupStateSummary: share-partition leader to share coordinator"},
	{94, "UnregisterController: cluster membership administration, like UnregisterBroker"},
}

// endpointsFrom is the first version at which each rewritten API's response
// carries broker endpoints. Produce and Fetch gained them with KIP-951.
var endpointsFrom = map[int16]int16{
	0:  10, // Produce: Brokers (tag 0)
	1:  16, // Fetch: Brokers (tag 0)
	3:  0,  // Metadata: Brokers
	10: 0,  // FindCoordinator: NodeID/Host/Port, v4+ Coordinators
	60: 0,  // DescribeCluster: Brokers
	78: 0,  // ShareFetch: NodeEndpoints
	79: 0,  // ShareAcknowledge: NodeEndpoints
}

func init() {
	last := -1
	infos := make([]apiInfo, scanKeys)
	for k := range scanKeys {
		req := kmsg.RequestForKey(int16(k))
		if req == nil {
			continue
		}
		maxV := req.MaxVersion()
		if maxV < 0 || maxV > maxTableVersion {
			panic(fmt.Sprintf("rewrite: kmsg %s max version %d does not fit the version tables", kmsg.NameForKey(int16(k)), maxV))
		}
		info := &infos[k]
		info.known = true
		info.max = maxV
		for v := int16(0); v <= maxV; v++ {
			bit := uint64(1) << uint(v)
			info.versions |= bit
			req.SetVersion(v)
			if req.IsFlexible() {
				info.flexible |= bit
			}
		}
		last = k
	}
	for _, e := range excludedKeys {
		if int(e.key) <= last && infos[e.key].known {
			infos[e.key].excluded = true
		}
	}
	for k := 0; k <= last; k++ {
		info := &infos[k]
		if !info.known || info.excluded {
			continue
		}
		info.passthrough = info.versions
		if from, ok := endpointsFrom[int16(k)]; ok {
			info.passthrough &= uint64(1)<<uint(from) - 1
		}
	}
	apis = infos[:last+1]
}

func lookup(key int16) *apiInfo {
	if key < 0 || int(key) >= len(apis) {
		return nil
	}
	return &apis[key]
}

func hasVersion(set uint64, version int16) bool {
	return version >= 0 && version <= maxTableVersion && set>>uint(version)&1 != 0
}

// KnownVersion reports whether kmsg can decode (key, version).
func KnownVersion(key, version int16) bool {
	a := lookup(key)
	return a != nil && hasVersion(a.versions, version)
}

// KnownMaxVersion returns the highest version of key the proxy can decode and
// rewrite: kmsg's maximum. ok is false for keys kmsg does not know and for
// broker/controller-internal APIs the proxy refuses to carry (see
// excludedKeys). Use it as the allowed function of ClampApiVersions.
func KnownMaxVersion(key int16) (int16, bool) {
	a := lookup(key)
	if a == nil || !a.known || a.excluded {
		return 0, false
	}
	return a.max, true
}

// NeedsRewrite reports whether responses of (key, version) must go through
// Response. It is false only for versions known to carry no broker endpoint,
// so the caller can forward them untouched. Unknown keys and versions and
// excluded APIs report true: Response then fails for them, rather than an
// unexamined response leaking an upstream address.
//
// ApiVersions reports false here; its responses are clamped with
// ClampApiVersions instead.
func NeedsRewrite(key, version int16) bool {
	a := lookup(key)
	return a == nil || !hasVersion(a.passthrough, version)
}

// FlexibleRequestHeader reports whether the request header of (key, version)
// is v2 (with tagged fields), i.e. whether the version is flexible. That
// includes ApiVersions v3+, whose request header is v2 even though its
// response header never is. ControlledShutdown v0 is the one request using
// header v0 (no client id); it reports false here like any other
// non-flexible version and is excluded from proxying anyway.
func FlexibleRequestHeader(key, version int16) bool {
	a := lookup(key)
	return a != nil && hasVersion(a.flexible, version)
}

// FlexibleResponseHeader reports whether the response header of (key,
// version) is v1 (correlation id followed by tagged fields). ApiVersions
// responses always use header v0 so that a client can read them before it
// knows which versions the broker speaks (KIP-511).
func FlexibleResponseHeader(key, version int16) bool {
	return key != apiVersionsKey && FlexibleRequestHeader(key, version)
}
