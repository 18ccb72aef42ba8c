package rest

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"

	"github.com/linkproxy/linkproxy/mirror/link"
)

// GET /clusters/{cluster_id}/links
func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) error {
	id, err := s.checkCluster(r)
	if err != nil {
		return err
	}
	links, err := s.m.Links(r.Context())
	if err != nil {
		return err
	}
	data := make([]linkData, 0, len(links))
	for _, l := range links {
		data = append(data, linkJSON(r, id, l))
	}
	slices.SortFunc(data, func(a, b linkData) int { return strings.Compare(a.LinkName, b.LinkName) })
	writeJSON(w, http.StatusOK, newList(kindLinkList, selfURL(r, "clusters", id, "links"), data))
	return nil
}

// POST /clusters/{cluster_id}/links?link_name=&validate_only=&validate_link=
// with CreateLinkRequestData; 204 when created (or valid, with
// validate_only).
func (s *Server) createLink(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.checkCluster(r); err != nil {
		return err
	}
	name, err := stringParam(r, "link_name")
	if err != nil {
		return err
	}
	if name == "" {
		return badRequest("query parameter link_name is required")
	}
	validateOnly, err := boolParam(r, "validate_only", false)
	if err != nil {
		return err
	}
	validateLink, err := boolParam(r, "validate_link", true)
	if err != nil {
		return err
	}
	var req createLinkRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.DestinationClusterID != "" {
		return badRequest("destination_cluster_id: source-initiated links (created at the source cluster) are not supported; this cluster is a link's destination, give source_cluster_id")
	}
	configs, err := configMap("configs", req.Configs)
	if err != nil {
		return err
	}
	if err := s.m.CreateLink(r.Context(), name, req.SourceClusterID, configs, validateOnly, validateLink); err != nil {
		return err
	}
	return noContent(w, http.StatusNoContent)
}

// GET /clusters/{cluster_id}/links/{link_name}
func (s *Server) getLink(w http.ResponseWriter, r *http.Request) error {
	id, err := s.checkCluster(r)
	if err != nil {
		return err
	}
	l, err := s.m.Link(r.Context(), r.PathValue("link_name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, linkJSON(r, id, l))
	return nil
}

// DELETE /clusters/{cluster_id}/links/{link_name}?force=&validate_only=;
// 200 with no body, as the OpenAPI has it.
func (s *Server) deleteLink(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.checkCluster(r); err != nil {
		return err
	}
	force, err := boolParam(r, "force", false)
	if err != nil {
		return err
	}
	validateOnly, err := boolParam(r, "validate_only", false)
	if err != nil {
		return err
	}
	if err := s.m.DeleteLink(r.Context(), r.PathValue("link_name"), force, validateOnly); err != nil {
		return err
	}
	return noContent(w, http.StatusOK)
}

func linkJSON(r *http.Request, clusterID string, l link.Link) linkData {
	topics := slices.Clone(l.TopicNames)
	if topics == nil {
		topics = []string{}
	}
	linkErr := l.Error
	if linkErr == "" {
		linkErr = link.NoError
	}
	linkID, clusterLinkID := linkIDs(l.ID)
	// destination_cluster_id names a remote destination (a link created at
	// its source); Confluent writes null for a link whose destination is
	// the cluster answering, as every link here is.
	dest := l.DestinationClusterID
	if dest == clusterID {
		dest = ""
	}
	return linkData{
		Kind:                 kindLink,
		Metadata:             resourceMetadata{Self: selfURL(r, "clusters", clusterID, "links", l.Name)},
		SourceClusterID:      nullable(l.SourceClusterID),
		DestinationClusterID: nullable(dest),
		LinkName:             l.Name,
		LinkID:               linkID,
		ClusterLinkID:        clusterLinkID,
		TopicNames:           topics,
		LinkState:            string(l.State),
		LinkError:            linkErr,
		LinkErrorMessage:     l.ErrorMessage,
	}
}

// linkIDs is a link's id in both of Confluent's spellings: link_id is the
// UUID's text form (deprecated) and cluster_link_id Kafka's Uuid.toString,
// the 16 bytes in unpadded URL-safe base64. An id in neither form is
// written as it is in both.
func linkIDs(id string) (linkID, clusterLinkID string) {
	if b, ok := parseUUID(id); ok {
		return strings.ToLower(id), base64.RawURLEncoding.EncodeToString(b)
	}
	if b, err := base64.RawURLEncoding.DecodeString(id); err == nil && len(b) == 16 {
		h := hex.EncodeToString(b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], id
	}
	return id, id
}

// parseUUID reads the 8-4-4-4-12 hex form.
func parseUUID(s string) ([]byte, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	b, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:])
	if err != nil {
		return nil, false
	}
	return b, true
}

// nullable is s, or null when empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// GET /clusters/{cluster_id}/links/{link_name}/configs
func (s *Server) listLinkConfigs(w http.ResponseWriter, r *http.Request) error {
	id, err := s.checkCluster(r)
	if err != nil {
		return err
	}
	name := r.PathValue("link_name")
	entries, err := s.m.LinkConfigs(r.Context(), name)
	if err != nil {
		return err
	}
	data := make([]linkConfigData, 0, len(entries))
	for _, e := range entries {
		data = append(data, linkConfigJSON(r, id, name, e))
	}
	slices.SortFunc(data, func(a, b linkConfigData) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, newList(kindLinkConfigList, selfURL(r, "clusters", id, "links", name, "configs"), data))
	return nil
}

// GET /clusters/{cluster_id}/links/{link_name}/configs/{config_name}
func (s *Server) getLinkConfig(w http.ResponseWriter, r *http.Request) error {
	id, err := s.checkCluster(r)
	if err != nil {
		return err
	}
	name, config := r.PathValue("link_name"), r.PathValue("config_name")
	entries, err := s.m.LinkConfigs(r.Context(), name)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name == config {
			writeJSON(w, http.StatusOK, linkConfigJSON(r, id, name, e))
			return nil
		}
	}
	return notFound("Config %s cannot be found for cluster link %s.", config, name)
}

// PUT /clusters/{cluster_id}/links/{link_name}/configs/{config_name} with
// UpdateLinkConfigRequestData; 204.
func (s *Server) updateLinkConfig(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.checkCluster(r); err != nil {
		return err
	}
	var req updateLinkConfigRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.Value == nil {
		return required("value")
	}
	set := map[string]string{r.PathValue("config_name"): *req.Value}
	if err := s.m.AlterLinkConfigs(r.Context(), r.PathValue("link_name"), set, nil, false); err != nil {
		return err
	}
	return noContent(w, http.StatusNoContent)
}

// DELETE /clusters/{cluster_id}/links/{link_name}/configs/{config_name}:
// back to its default; 204.
func (s *Server) resetLinkConfig(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.checkCluster(r); err != nil {
		return err
	}
	reset := []string{r.PathValue("config_name")}
	if err := s.m.AlterLinkConfigs(r.Context(), r.PathValue("link_name"), nil, reset, false); err != nil {
		return err
	}
	return noContent(w, http.StatusNoContent)
}

// PUT /clusters/{cluster_id}/links/{link_name}/configs:alter?validate_only=
// with AlterConfigBatchRequestData; 204.
func (s *Server) alterLinkConfigs(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.checkCluster(r); err != nil {
		return err
	}
	validateOnly, err := boolParam(r, "validate_only", false)
	if err != nil {
		return err
	}
	var req alterConfigBatchRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.Data == nil {
		return required("data")
	}
	if req.ValidateOnly != nil && *req.ValidateOnly {
		validateOnly = true
	}
	set := make(map[string]string)
	var reset []string
	seen := make(map[string]bool)
	for i, e := range *req.Data {
		if e.Name == nil || *e.Name == "" {
			return badRequest("data[%d].name is required", i)
		}
		name := *e.Name
		if seen[name] {
			return badRequest("data: config %s is given more than once", name)
		}
		seen[name] = true
		op := "SET"
		if e.Operation != nil {
			op = strings.ToUpper(*e.Operation)
		}
		switch op {
		case "SET":
			if e.Value == nil {
				return badRequest("data[%d].value is required to SET %s", i, name)
			}
			set[name] = *e.Value
		case "DELETE":
			reset = append(reset, name)
		default:
			return badRequest("data[%d].operation must be SET or DELETE, not %q", i, *e.Operation)
		}
	}
	if err := s.m.AlterLinkConfigs(r.Context(), r.PathValue("link_name"), set, reset, validateOnly); err != nil {
		return err
	}
	return noContent(w, http.StatusNoContent)
}

func linkConfigJSON(r *http.Request, clusterID, linkName string, e link.ConfigEntry) linkConfigData {
	source := sourceLinkConfig
	if e.IsDefault {
		source = sourceDefault
	}
	value := e.Value
	if e.Sensitive {
		value = "" // never written, whatever the Manager holds
	}
	return linkConfigData{
		Kind:      kindLinkConfig,
		Metadata:  resourceMetadata{Self: selfURL(r, "clusters", clusterID, "links", linkName, "configs", e.Name)},
		ClusterID: clusterID,
		Name:      e.Name,
		Value:     value,
		Default:   e.IsDefault,
		ReadOnly:  e.ReadOnly,
		Sensitive: e.Sensitive,
		Source:    source,
		Synonyms:  []string{},
		LinkName:  linkName,
	}
}
