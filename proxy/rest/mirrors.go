package rest

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/linkproxy/linkproxy/mirror/link"
)

// mirrorStatuses are the mirror_status values a list can be filtered by:
// the OpenAPI's MirrorTopicStatus and the states the Manager reports (the
// Cloud OpenAPI's enum has both).
var mirrorStatuses = []link.MirrorState{
	link.MirrorActive, link.MirrorFailed, link.MirrorPaused, link.MirrorStopped,
	link.MirrorPendingStopped, "PENDING_SYNCHRONIZE", "PENDING_MIRROR",
	link.MirrorSourceUnavailable, link.MirrorLinkFailed, link.MirrorLinkPaused,
}

// mirrorStatusParam is the mirror_status query parameter, "" for all.
func mirrorStatusParam(r *http.Request) (link.MirrorState, error) {
	v, err := stringParam(r, "mirror_status")
	if err != nil || v == "" {
		return "", err
	}
	st := link.MirrorState(strings.ToUpper(v))
	if !slices.Contains(mirrorStatuses, st) {
		return "", badRequest("query parameter mirror_status must be one of %s, not %q", joinStates(mirrorStatuses), v)
	}
	return st, nil
}

func joinStates(states []link.MirrorState) string {
	s := make([]string, len(states))
	for i, st := range states {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

// GET /clusters/{cluster_id}/links/{link_name}/mirrors?mirror_status=
func (s *Server) listMirrors(w http.ResponseWriter, r *http.Request) error {
	return s.writeMirrors(w, r, r.PathValue("link_name"))
}

// GET /clusters/{cluster_id}/links/-/mirrors?mirror_status=: every link's.
func (s *Server) listAllMirrors(w http.ResponseWriter, r *http.Request) error {
	return s.writeMirrors(w, r, "")
}

func (s *Server) writeMirrors(w http.ResponseWriter, r *http.Request, linkName string) error {
	id, err := s.checkCluster(r)
	if err != nil {
		return err
	}
	state, err := mirrorStatusParam(r)
	if err != nil {
		return err
	}
	mirrors, err := s.m.Mirrors(r.Context(), linkName, state)
	if err != nil {
		return err
	}
	data := make([]mirrorData, 0, len(mirrors))
	for _, m := range mirrors {
		data = append(data, mirrorJSON(r, id, m))
	}
	slices.SortFunc(data, func(a, b mirrorData) int {
		return cmp.Or(strings.Compare(a.LinkName, b.LinkName), strings.Compare(a.MirrorTopicName, b.MirrorTopicName))
	})
	self := linkName
	if self == "" {
		self = "-"
	}
	writeJSON(w, http.StatusOK, newList(kindMirrorList, selfURL(r, "clusters", id, "links", self, "mirrors"), data))
	return nil
}

// GET /clusters/{cluster_id}/links/{link_name}/mirrors/{mirror_topic_name}
func (s *Server) getMirror(w http.ResponseWriter, r *http.Request) error {
	id, err := s.checkCluster(r)
	if err != nil {
		return err
	}
	m, err := s.m.Mirror(r.Context(), r.PathValue("link_name"), r.PathValue("mirror_topic_name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mirrorJSON(r, id, m))
	return nil
}

// POST /clusters/{cluster_id}/links/{link_name}/mirrors with
// CreateMirrorTopicRequestData; 204. validate_only is taken here too,
// though the OpenAPI lists it only for the other writes.
func (s *Server) createMirror(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.checkCluster(r); err != nil {
		return err
	}
	validateOnly, err := boolParam(r, "validate_only", false)
	if err != nil {
		return err
	}
	var req createMirrorRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.SourceTopicName == nil || *req.SourceTopicName == "" {
		return required("source_topic_name")
	}
	cm := link.CreateMirror{SourceTopic: *req.SourceTopicName, MirrorTopic: req.MirrorTopicName}
	if req.ReplicationFactor != nil {
		if *req.ReplicationFactor < 0 || *req.ReplicationFactor > 32767 {
			return badRequest("replication_factor must be between 1 and 32767 (0 or left out: the cluster's default), not %d", *req.ReplicationFactor)
		}
		cm.ReplicationFactor = *req.ReplicationFactor
	}
	if cm.Configs, err = configMap("configs", req.Configs); err != nil {
		return err
	}
	if err := s.m.CreateMirror(r.Context(), r.PathValue("link_name"), cm, validateOnly); err != nil {
		return err
	}
	return noContent(w, http.StatusNoContent)
}

// POST /clusters/{cluster_id}/links/{link_name}/mirrors:<op>?validate_only=
// with AlterMirrorsRequestData; 200 with each topic's outcome
// (AlterMirrorStatusResponseDataList), also when some failed.
func (s *Server) alterMirrors(op link.MirrorOp) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := s.checkCluster(r)
		if err != nil {
			return err
		}
		validateOnly, err := boolParam(r, "validate_only", false)
		if err != nil {
			return err
		}
		var req alterMirrorsRequest
		if err := s.decodeBody(w, r, &req); err != nil {
			return err
		}
		if req.MirrorTopicNames == nil {
			if req.MirrorTopicNamePattern != nil {
				return badRequest("mirror_topic_name_pattern is not supported: give mirror_topic_names")
			}
			return required("mirror_topic_names")
		}
		linkName := r.PathValue("link_name")
		results, err := s.m.AlterMirrors(r.Context(), linkName, op, *req.MirrorTopicNames, validateOnly)
		if err != nil {
			return err
		}
		lags := s.mirrorLags(r, linkName, results)
		data := make([]alterMirrorData, 0, len(results))
		for _, res := range results {
			d := alterMirrorData{
				Kind:            kindAlterMirror,
				Metadata:        resourceMetadata{Self: selfURL(r, "clusters", id, "links", linkName, "mirrors", res.MirrorTopic)},
				MirrorTopicName: res.MirrorTopic,
				MirrorLags:      lags[res.MirrorTopic],
				Messages:        res.Messages,
			}
			if d.MirrorLags == nil {
				d.MirrorLags = []mirrorLag{}
			}
			if res.Err != nil {
				code, msg := statusOf(res.Err), res.Err.Message
				d.ErrorCode, d.ErrorMessage = &code, &msg
			}
			data = append(data, d)
		}
		writeJSON(w, http.StatusOK, newList(kindAlterMirrorList, selfURL(r, "clusters", id, "links", linkName, "mirrors"), data))
		return nil
	}
}

// lagLookups bounds the Mirror calls made at once for mirrorLags.
const lagLookups = 8

// mirrorLags are the lags of the mirrors in results, for their
// mirror_lags. MirrorResult has none, so each mirror is read after the
// operation with Mirror (Mirrors leaves lags out), a few at a time. Best
// effort: a mirror that cannot be read (one that does not exist, above
// all) gets an empty list.
func (s *Server) mirrorLags(r *http.Request, linkName string, results []link.MirrorResult) map[string][]mirrorLag {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, lagLookups)
		out = make(map[string][]mirrorLag, len(results))
	)
	for _, res := range results {
		if res.Err != nil && res.Err.Status == http.StatusNotFound {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(topic string) {
			defer func() { <-sem; wg.Done() }()
			m, err := s.m.Mirror(r.Context(), linkName, topic)
			if err != nil {
				s.log.Debug("mirror lags after a mirror operation", "link", linkName, "mirror", topic, "error", err)
				return
			}
			mu.Lock()
			out[topic] = lagsJSON(m.Lags)
			mu.Unlock()
		}(res.MirrorTopic)
	}
	wg.Wait()
	return out
}

func mirrorJSON(r *http.Request, clusterID string, m link.Mirror) mirrorData {
	mirrorErr := m.Error
	if mirrorErr == "" {
		mirrorErr = link.NoError
	}
	return mirrorData{
		Kind:                    kindMirror,
		Metadata:                resourceMetadata{Self: selfURL(r, "clusters", clusterID, "links", m.Link, "mirrors", m.MirrorTopic)},
		LinkName:                m.Link,
		MirrorTopicName:         m.MirrorTopic,
		SourceTopicName:         m.SourceTopic,
		NumPartitions:           m.NumPartitions,
		MirrorLags:              lagsJSON(m.Lags),
		MirrorStatus:            string(m.State),
		StateTimeMs:             m.StateTimeMillis,
		MirrorTopicError:        mirrorErr,
		MirrorTopicErrorMessage: m.ErrorMessage,
	}
}

// lagsJSON is mirror_lags, by partition; never null.
func lagsJSON(lags []link.Lag) []mirrorLag {
	out := make([]mirrorLag, 0, len(lags))
	for _, l := range lags {
		out = append(out, mirrorLag{Partition: l.Partition, Lag: l.Lag, LastSourceFetchOffset: l.LastSourceFetchOffset})
	}
	slices.SortFunc(out, func(a, b mirrorLag) int { return cmp.Compare(a.Partition, b.Partition) })
	return out
}
