package rest

import (
	"net/http"
)

// The proxy fronts one cluster: /clusters lists it alone, and every path
// under /clusters/{cluster_id} must name it.

// checkCluster is the request's cluster_id when it is the fronted
// cluster's, and a 404 otherwise (Confluent's cluster_not_found).
func (s *Server) checkCluster(r *http.Request) (string, error) {
	id, err := s.m.ClusterID(r.Context())
	if err != nil {
		return "", err
	}
	if want := r.PathValue("cluster_id"); want != id {
		return "", notFound("Cluster %s cannot be found.", want)
	}
	return id, nil
}

// GET /clusters
func (s *Server) listClusters(w http.ResponseWriter, r *http.Request) error {
	id, err := s.m.ClusterID(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(kindClusterList, selfURL(r, "clusters"), []clusterData{clusterJSON(r, id)}))
	return nil
}

// GET /clusters/{cluster_id}
func (s *Server) getCluster(w http.ResponseWriter, r *http.Request) error {
	id, err := s.checkCluster(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, clusterJSON(r, id))
	return nil
}

func clusterJSON(r *http.Request, id string) clusterData {
	self := selfURL(r, "clusters", id)
	crn := "crn:///kafka=" + id
	rel := func(path string) relationship { return relationship{Related: self + path} }
	return clusterData{
		Kind:                   kindCluster,
		Metadata:               resourceMetadata{Self: self, ResourceName: &crn},
		ClusterID:              id,
		ACLs:                   rel("/acls"),
		Brokers:                rel("/brokers"),
		BrokerConfigs:          rel("/broker-configs"),
		ConsumerGroups:         rel("/consumer-groups"),
		Topics:                 rel("/topics"),
		PartitionReassignments: rel("/topics/-/partitions/-/reassignment"),
	}
}
