package conf

import (
	"errors"
	"strings"

	"github.com/linkproxy/linkproxy/conf/clientprops"
)

func parseCluster(errs *errorList, v any) Cluster {
	var c Cluster
	if v == nil {
		errs.add(clusterPlace, "", `missing: add a [cluster] table with the upstream cluster's name and "bootstrap.servers"`)
		return c
	}
	m, ok := v.(map[string]any)
	if !ok {
		errs.add(topLevel, "cluster", "must be a table: write [cluster]")
		return c
	}
	flat, dups := flatten(m)
	for _, key := range dups {
		errs.add(clusterPlace, key, "set twice, once quoted and once as dotted keys")
	}

	// Everything but name is a Kafka client property.
	name, ok := flat["name"]
	delete(flat, "name")
	switch s, err := asString(name); {
	case !ok:
		errs.add(clusterPlace, "name", `missing: name the upstream cluster, e.g. "west"`)
	case err != nil:
		errs.add(clusterPlace, "name", "%v", err)
	case strings.TrimSpace(s) == "":
		errs.add(clusterPlace, "name", `empty: name the upstream cluster, e.g. "west"`)
	default:
		c.Name = s
	}

	props, perrs := clientprops.Parse(flat)
	for _, err := range perrs {
		var pe *clientprops.Error
		if errors.As(err, &pe) {
			errs.add(clusterPlace, pe.Name, "%s", pe.Reason)
		} else {
			errs.add(clusterPlace, "", "%v", err)
		}
	}
	c.Props = props
	return c
}
