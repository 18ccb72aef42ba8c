package main

// linkproxy links: cluster links over the REST API, after Confluent's
// kafka-cluster-links tool.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const linksUsage = `Usage: linkproxy links COMMAND [flags]

Manage cluster links through linkproxy's REST API (Confluent REST v3).

Commands:
  create     create a cluster link
  list       list the cluster links
  describe   show one cluster link
  delete     delete a cluster link
  configs    show a cluster link's configs, or alter them with --alter

Run "linkproxy links COMMAND -h" for a command's flags.
`

const linksCreateUsage = `Usage: linkproxy links create --link NAME [--source-cluster-id ID]
         [--config k=v[,k=v...]]... [--config-file FILE] [--validate-only]

Create a cluster link on the destination cluster.

Flags:
  --link NAME                    name of the new link (required)
  --source-cluster-id ID         id of the source cluster
  --destination-cluster-id ID    id of the destination cluster (for the source
                                 side of a source-initiated link)
  --config k=v                   link config, such as bootstrap.servers=HOST:PORT
                                 (repeatable; comma lists allowed)
  --config-file FILE             link configs from a properties file
  --validate-only                check that the link could be created; create nothing
` + configValuesUsage

const linksListUsage = `Usage: linkproxy links list

List the cluster links.
`

const linksDescribeUsage = `Usage: linkproxy links describe --link NAME

Show a cluster link: its ids, clusters and mirror topics.

Flags:
  --link NAME        the link (required)
`

const linksDeleteUsage = `Usage: linkproxy links delete --link NAME [--force] [--validate-only]

Delete a cluster link.

Flags:
  --link NAME        the link (required)
  --force            delete even if the link still has mirror topics
  --validate-only    check that the link could be deleted; delete nothing
`

const linksConfigsUsage = `Usage: linkproxy links configs --link NAME
       linkproxy links configs --link NAME --alter [--add-config k=v[,k=v...]]...
         [--add-config-file FILE] [--delete-config k[,k...]]... [--validate-only]

Show a cluster link's configs or, with --alter, set and remove some (as
kafka-configs --alter does for other entities; configs not named keep their
values).

Flags:
  --link NAME                 the link (required)
  --alter                     change configs instead of showing them
  --add-config k=v            set a config (repeatable; comma lists allowed)
  --add-config-file FILE      set the configs of a properties file
  --delete-config k           remove a config, back to its default
                              (repeatable; comma lists allowed)
  --validate-only             check the change; change nothing
` + `
Config values: --add-config takes k=v or a comma list k1=v1,k2=v2 and may be
repeated. A comma piece without "=" continues the previous value, so
bootstrap.servers=a:9092,b:9092 is one config; k=[v1,v2] brackets a value
that holds commas. --add-config-file is a Java properties file;
--add-config overrides it.
`

// links runs "linkproxy links ..." and returns the exit code.
func links(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runGroup(ctx, "links", linksUsage, linksVerbs(), args, stdout, stderr)
}

func linksVerbs() []verb {
	return []verb{
		{"create", linksCreateUsage, linksCreate},
		{"list", linksListUsage, linksList},
		{"describe", linksDescribeUsage, linksDescribe},
		{"delete", linksDeleteUsage, linksDelete},
		{"configs", linksConfigsUsage, linksConfigs},
	}
}

// linkData is ListLinksResponseData.
type linkData struct {
	LinkName             string   `json:"link_name"`
	ClusterLinkID        string   `json:"cluster_link_id"`
	LinkID               string   `json:"link_id"`
	SourceClusterID      *string  `json:"source_cluster_id"`
	DestinationClusterID *string  `json:"destination_cluster_id"`
	TopicNames           []string `json:"topic_names"`
}

func (l linkData) id() string {
	if l.ClusterLinkID != "" {
		return l.ClusterLinkID
	}
	return l.LinkID // deprecated, for older servers
}

// linkConfigData is ListLinkConfigsResponseData.
type linkConfigData struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Source    string  `json:"source"`
	ReadOnly  bool    `json:"read_only"`
	Sensitive bool    `json:"sensitive"`
}

func requireLink(link string) error {
	if link == "" {
		return usagef("--link is required")
	}
	return nil
}

func linksCreate(ctx context.Context, c *cli, args []string) error {
	link := c.fs.String("link", "", "")
	source := c.fs.String("source-cluster-id", "", "")
	dest := c.fs.String("destination-cluster-id", "", "")
	var configs configFlag
	c.fs.Var(&configs, "config", "")
	configFile := c.fs.String("config-file", "", "")
	validateOnly := c.fs.Bool("validate-only", false, "")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := requireLink(*link); err != nil {
		return err
	}
	cfg, err := mergeConfigs(*configFile, configs)
	if err != nil {
		return err
	}
	path, err := c.clusterPath(ctx, "links")
	if err != nil {
		return err
	}
	q := url.Values{"link_name": {*link}}
	if *validateOnly {
		q.Set("validate_only", "true")
	}
	body := struct {
		SourceClusterID      string       `json:"source_cluster_id,omitempty"`
		DestinationClusterID string       `json:"destination_cluster_id,omitempty"`
		Configs              []configData `json:"configs,omitempty"`
	}{*source, *dest, cfg}
	if err := c.api.do(ctx, http.MethodPost, path, q, body, nil); err != nil {
		return err
	}
	if c.json() {
		return nil
	}
	if *validateOnly {
		fmt.Fprintf(c.stdout, "Cluster link %q can be created (--validate-only: nothing was created).\n", *link)
	} else {
		fmt.Fprintf(c.stdout, "Cluster link %q created.\n", *link)
	}
	return nil
}

func linksList(ctx context.Context, c *cli, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	path, err := c.clusterPath(ctx, "links")
	if err != nil {
		return err
	}
	var l listData
	if err := c.api.do(ctx, http.MethodGet, path, nil, nil, &l); err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(l.Data)
	}
	ls, err := items[linkData](l)
	if err != nil {
		return err
	}
	if len(ls) == 0 {
		fmt.Fprintln(c.stdout, "No cluster links.")
		return nil
	}
	rows := make([][]string, len(ls))
	for i, d := range ls {
		rows[i] = []string{d.LinkName, d.id(), str(d.SourceClusterID), str(d.DestinationClusterID), strconv.Itoa(len(d.TopicNames))}
	}
	return c.printTable([]string{"LINK NAME", "CLUSTER LINK ID", "SOURCE CLUSTER", "DESTINATION CLUSTER", "MIRROR TOPICS"}, rows)
}

func linksDescribe(ctx context.Context, c *cli, args []string) error {
	link := c.fs.String("link", "", "")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := requireLink(*link); err != nil {
		return err
	}
	path, err := c.clusterPath(ctx, "links", *link)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.api.do(ctx, http.MethodGet, path, nil, nil, &raw); err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(raw)
	}
	var d linkData
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("unexpected answer: %v", err)
	}
	return c.printFields([][2]string{
		{"Link name", d.LinkName},
		{"Cluster link ID", d.id()},
		{"Source cluster ID", str(d.SourceClusterID)},
		{"Destination cluster ID", str(d.DestinationClusterID)},
		{"Mirror topics", strings.Join(d.TopicNames, ", ")},
	})
}

func linksDelete(ctx context.Context, c *cli, args []string) error {
	link := c.fs.String("link", "", "")
	force := c.fs.Bool("force", false, "")
	validateOnly := c.fs.Bool("validate-only", false, "")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := requireLink(*link); err != nil {
		return err
	}
	path, err := c.clusterPath(ctx, "links", *link)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *force {
		q.Set("force", "true")
	}
	if *validateOnly {
		q.Set("validate_only", "true")
	}
	if err := c.api.do(ctx, http.MethodDelete, path, q, nil, nil); err != nil {
		return err
	}
	if c.json() {
		return nil
	}
	if *validateOnly {
		fmt.Fprintf(c.stdout, "Cluster link %q can be deleted (--validate-only: nothing was deleted).\n", *link)
	} else {
		fmt.Fprintf(c.stdout, "Cluster link %q deleted.\n", *link)
	}
	return nil
}

func linksConfigs(ctx context.Context, c *cli, args []string) error {
	link := c.fs.String("link", "", "")
	alter := c.fs.Bool("alter", false, "")
	var add configFlag
	c.fs.Var(&add, "add-config", "")
	addFile := c.fs.String("add-config-file", "", "")
	var del listFlag
	c.fs.Var(&del, "delete-config", "")
	validateOnly := c.fs.Bool("validate-only", false, "")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := requireLink(*link); err != nil {
		return err
	}
	if !*alter {
		for _, f := range []string{"add-config", "add-config-file", "delete-config", "validate-only"} {
			if c.isSet(f) {
				return usagef("--%s needs --alter", f)
			}
		}
		return linksConfigsShow(ctx, c, *link)
	}
	if len(add) == 0 && *addFile == "" && len(del) == 0 {
		return usagef("--alter needs --add-config, --add-config-file or --delete-config")
	}
	set, err := mergeConfigs(*addFile, add)
	if err != nil {
		return err
	}
	type op struct {
		Name      string  `json:"name"`
		Value     *string `json:"value,omitempty"`
		Operation string  `json:"operation"`
	}
	var ops []op
	for _, s := range set {
		ops = append(ops, op{Name: s.Name, Value: &s.Value, Operation: "SET"})
	}
	for i, name := range del {
		if slices.Contains(del[:i], name) {
			continue
		}
		for _, s := range set {
			if s.Name == name {
				return usagef("config %q is both added and deleted", name)
			}
		}
		ops = append(ops, op{Name: name, Operation: "DELETE"})
	}
	path, err := c.clusterPath(ctx, "links", *link)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *validateOnly {
		q.Set("validate_only", "true")
	}
	body := struct {
		Data []op `json:"data"`
	}{ops}
	if err := c.api.do(ctx, http.MethodPut, path+"/configs:alter", q, body, nil); err != nil {
		return err
	}
	if c.json() {
		return nil
	}
	if *validateOnly {
		fmt.Fprintf(c.stdout, "Configs of cluster link %q can be altered (--validate-only: nothing was changed).\n", *link)
	} else {
		fmt.Fprintf(c.stdout, "Configs of cluster link %q altered: %d set, %d deleted.\n", *link, len(set), len(ops)-len(set))
	}
	return nil
}

func linksConfigsShow(ctx context.Context, c *cli, link string) error {
	path, err := c.clusterPath(ctx, "links", link, "configs")
	if err != nil {
		return err
	}
	var l listData
	if err := c.api.do(ctx, http.MethodGet, path, nil, nil, &l); err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(l.Data)
	}
	cs, err := items[linkConfigData](l)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		fmt.Fprintf(c.stdout, "Cluster link %q has no configs.\n", link)
		return nil
	}
	rows := make([][]string, len(cs))
	for i, d := range cs {
		v := str(d.Value)
		if d.Sensitive && v == "" {
			v = "[hidden]"
		}
		rows[i] = []string{d.Name, v, d.Source, strconv.FormatBool(d.ReadOnly), strconv.FormatBool(d.Sensitive)}
	}
	return c.printTable([]string{"NAME", "VALUE", "SOURCE", "READ ONLY", "SENSITIVE"}, rows)
}
