package main

// linkproxy mirrors: mirror topics over the REST API, after Confluent's
// kafka-mirrors tool.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const mirrorsUsage = `Usage: linkproxy mirrors COMMAND [flags]

Manage mirror topics through linkproxy's REST API (Confluent REST v3).

Commands:
  create     create a mirror topic on a cluster link
  list       list mirror topics, of one link or of all
  describe   show mirror topics with their per-partition lags
  promote    stop mirroring once caught up; the topics become writable
  failover   stop mirroring now; the topics become writable
  pause      pause mirroring
  resume     resume paused mirroring

Run "linkproxy mirrors COMMAND -h" for a command's flags.
`

const mirrorsCreateUsage = `Usage: linkproxy mirrors create --link NAME --mirror-topic TOPIC [--source-topic TOPIC]
         [--replication-factor N] [--config k=v[,k=v...]]... [--config-file FILE]

Create a mirror topic that copies a source topic over a cluster link.

Flags:
  --link NAME                the cluster link (required)
  --mirror-topic TOPIC       name of the mirror topic (default: the source topic's
                             name, with the link's prefix if it has one)
  --source-topic TOPIC       topic to mirror (default: --mirror-topic); one of
                             the two is required
  --replication-factor N     replication factor of the mirror topic (default:
                             the cluster's)
  --config k=v               topic config of the mirror topic (repeatable;
                             comma lists allowed)
  --config-file FILE         topic configs from a properties file
` + configValuesUsage

const mirrorsListUsage = `Usage: linkproxy mirrors list [--link NAME] [--mirror-status STATUS]

List mirror topics.

Flags:
  --link NAME              only this link's mirror topics (default: all links)
  --mirror-status STATUS   only mirror topics in this status: ACTIVE, FAILED,
                           PAUSED, STOPPED, PENDING_STOPPED, PENDING_SYNCHRONIZE
                           or PENDING_MIRROR
`

const mirrorsDescribeUsage = `Usage: linkproxy mirrors describe [--link NAME] [--mirror-topic TOPIC]... [--mirror-status STATUS]

Show mirror topics with the lag of every partition (partition, lag and
last source fetch offset).

Flags:
  --link NAME              the link (required with --mirror-topic; without it,
                           the mirror topics of all links)
  --mirror-topic TOPIC     mirror topic to show (repeatable; comma lists
                           allowed; default: all of the link's)
  --mirror-status STATUS   without --mirror-topic: only mirror topics in this
                           status

With -o json, one --mirror-topic prints its object, otherwise an array.
`

// mirrorsAlterUsage is the usage of promote, failover, pause and resume.
func mirrorsAlterUsage(op, what string) string {
	return `Usage: linkproxy mirrors ` + op + ` --link NAME --mirror-topic TOPIC... [--validate-only]

` + what + `

Flags:
  --link NAME              the link (required)
  --mirror-topic TOPIC     mirror topic (required; repeatable; comma lists
                           allowed; --topics is the same flag)
  --validate-only          check the change; change nothing

Each topic succeeds or fails by itself: the command prints every topic's
result and exits 1 if any failed.
`
}

// mirrors runs "linkproxy mirrors ..." and returns the exit code.
func mirrors(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runGroup(ctx, "mirrors", mirrorsUsage, mirrorsVerbs(), args, stdout, stderr)
}

func mirrorsVerbs() []verb {
	return []verb{
		{"create", mirrorsCreateUsage, mirrorsCreate},
		{"list", mirrorsListUsage, mirrorsList},
		{"describe", mirrorsDescribeUsage, mirrorsDescribe},
		{"promote", mirrorsAlterUsage("promote",
			"Promote mirror topics: stop mirroring once they have caught up with\n"+
				"their source topics, then make them writable."), mirrorsAlter("promote")},
		{"failover", mirrorsAlterUsage("failover",
			"Fail mirror topics over: stop mirroring now, whatever their lag, and\n"+
				"make them writable."), mirrorsAlter("failover")},
		{"pause", mirrorsAlterUsage("pause", "Pause mirror topics."), mirrorsAlter("pause")},
		{"resume", mirrorsAlterUsage("resume", "Resume paused mirror topics."), mirrorsAlter("resume")},
	}
}

// mirrorLag is MirrorLag.
type mirrorLag struct {
	Partition             int   `json:"partition"`
	Lag                   int64 `json:"lag"`
	LastSourceFetchOffset int64 `json:"last_source_fetch_offset"`
}

func maxLag(lags []mirrorLag) string {
	if len(lags) == 0 {
		return ""
	}
	m := lags[0].Lag
	for _, l := range lags[1:] {
		m = max(m, l.Lag)
	}
	return strconv.FormatInt(m, 10)
}

// mirrorData is ListMirrorTopicsResponseData.
type mirrorData struct {
	LinkName        string      `json:"link_name"`
	MirrorTopicName string      `json:"mirror_topic_name"`
	SourceTopicName string      `json:"source_topic_name"`
	NumPartitions   int         `json:"num_partitions"`
	MirrorLags      []mirrorLag `json:"mirror_lags"`
	MirrorStatus    string      `json:"mirror_status"`
	StateTimeMs     int64       `json:"state_time_ms"`
}

// alterMirrorData is AlterMirrorStatusResponseData.
type alterMirrorData struct {
	MirrorTopicName string      `json:"mirror_topic_name"`
	ErrorCode       *int        `json:"error_code"`
	ErrorMessage    *string     `json:"error_message"`
	MirrorLags      []mirrorLag `json:"mirror_lags"`
}

func (d alterMirrorData) failed() bool {
	return (d.ErrorCode != nil && *d.ErrorCode != 0) || str(d.ErrorMessage) != ""
}

func mirrorsCreate(ctx context.Context, c *cli, args []string) error {
	link := c.fs.String("link", "", "")
	mirror := c.fs.String("mirror-topic", "", "")
	source := c.fs.String("source-topic", "", "")
	rf := c.fs.Int("replication-factor", 0, "")
	var configs configFlag
	c.fs.Var(&configs, "config", "")
	configFile := c.fs.String("config-file", "", "")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := requireLink(*link); err != nil {
		return err
	}
	if *mirror == "" && *source == "" {
		return usagef("--mirror-topic or --source-topic is required")
	}
	if strings.Contains(*mirror, ",") {
		return usagef("create makes one mirror topic at a time; --mirror-topic %q holds a comma", *mirror)
	}
	if *rf < 0 {
		return usagef("--replication-factor %d: want a positive number", *rf)
	}
	cfg, err := mergeConfigs(*configFile, configs)
	if err != nil {
		return err
	}
	src := *source
	if src == "" {
		src = *mirror
	}
	path, err := c.clusterPath(ctx, "links", *link, "mirrors")
	if err != nil {
		return err
	}
	body := struct {
		SourceTopicName   string       `json:"source_topic_name"`
		MirrorTopicName   string       `json:"mirror_topic_name,omitempty"`
		ReplicationFactor int          `json:"replication_factor,omitempty"`
		Configs           []configData `json:"configs,omitempty"`
	}{src, *mirror, *rf, cfg}
	if err := c.api.do(ctx, http.MethodPost, path, nil, body, nil); err != nil {
		return err
	}
	if c.json() {
		return nil
	}
	name := *mirror
	if name == "" {
		name = src
	}
	fmt.Fprintf(c.stdout, "Mirror topic %q created on cluster link %q (source topic %q).\n", name, *link, src)
	return nil
}

// listMirrors gets the mirror topics of link, or of all links if link is "".
func listMirrors(ctx context.Context, c *cli, link, status string) (listData, error) {
	if link == "" {
		link = "-"
	}
	var l listData
	path, err := c.clusterPath(ctx, "links", link, "mirrors")
	if err != nil {
		return l, err
	}
	q := url.Values{}
	if status != "" {
		q.Set("mirror_status", strings.ToUpper(status))
	}
	err = c.api.do(ctx, http.MethodGet, path, q, nil, &l)
	return l, err
}

func mirrorsList(ctx context.Context, c *cli, args []string) error {
	link := c.fs.String("link", "", "")
	status := c.fs.String("mirror-status", "", "")
	if err := c.parse(args); err != nil {
		return err
	}
	l, err := listMirrors(ctx, c, *link, *status)
	if err != nil {
		return err
	}
	if c.json() {
		return c.printJSON(l.Data)
	}
	ms, err := items[mirrorData](l)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		fmt.Fprintln(c.stdout, "No mirror topics.")
		return nil
	}
	rows := make([][]string, len(ms))
	for i, m := range ms {
		rows[i] = []string{m.LinkName, m.MirrorTopicName, m.SourceTopicName, m.MirrorStatus,
			strconv.Itoa(m.NumPartitions), maxLag(m.MirrorLags), formatMillis(m.StateTimeMs)}
	}
	return c.printTable([]string{"LINK NAME", "MIRROR TOPIC", "SOURCE TOPIC", "STATUS", "PARTITIONS", "MAX LAG", "STATUS SINCE"}, rows)
}

func mirrorsDescribe(ctx context.Context, c *cli, args []string) error {
	link := c.fs.String("link", "", "")
	var topics listFlag
	c.fs.Var(&topics, "mirror-topic", "")
	status := c.fs.String("mirror-status", "", "")
	if err := c.parse(args); err != nil {
		return err
	}
	var raws []json.RawMessage
	if len(topics) > 0 {
		if *link == "" {
			return usagef("--mirror-topic needs --link")
		}
		if *status != "" {
			return usagef("--mirror-status filters the link's mirror topics; it does not go with --mirror-topic")
		}
		for _, t := range topics {
			path, err := c.clusterPath(ctx, "links", *link, "mirrors", t)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.api.do(ctx, http.MethodGet, path, nil, nil, &raw); err != nil {
				return err
			}
			raws = append(raws, raw)
		}
	} else {
		l, err := listMirrors(ctx, c, *link, *status)
		if err != nil {
			return err
		}
		if len(l.Data) > 0 && string(l.Data) != "null" {
			if err := json.Unmarshal(l.Data, &raws); err != nil {
				return fmt.Errorf("unexpected answer: %v", err)
			}
		}
	}
	if c.json() {
		if len(topics) == 1 {
			return c.printJSON(raws[0])
		}
		return c.printJSONArray(raws)
	}
	if len(raws) == 0 {
		fmt.Fprintln(c.stdout, "No mirror topics.")
		return nil
	}
	for i, raw := range raws {
		var m mirrorData
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("unexpected answer: %v", err)
		}
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		if err := c.printFields([][2]string{
			{"Mirror topic", m.MirrorTopicName},
			{"Link name", m.LinkName},
			{"Source topic", m.SourceTopicName},
			{"Status", m.MirrorStatus},
			{"Status since", formatMillis(m.StateTimeMs)},
			{"Partitions", strconv.Itoa(m.NumPartitions)},
			{"Max lag", maxLag(m.MirrorLags)},
		}); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout)
		if err := c.printLags(m.MirrorLags); err != nil {
			return err
		}
	}
	return nil
}

func (c *cli) printLags(lags []mirrorLag) error {
	rows := make([][]string, len(lags))
	for i, l := range lags {
		rows[i] = []string{strconv.Itoa(l.Partition), strconv.FormatInt(l.Lag, 10), strconv.FormatInt(l.LastSourceFetchOffset, 10)}
	}
	return c.printTable([]string{"PARTITION", "LAG", "LAST SOURCE FETCH OFFSET"}, rows)
}

// mirrorsAlter returns the command for POST .../mirrors:op.
func mirrorsAlter(op string) func(ctx context.Context, c *cli, args []string) error {
	return func(ctx context.Context, c *cli, args []string) error {
		link := c.fs.String("link", "", "")
		var topics listFlag
		c.fs.Var(&topics, "mirror-topic", "")
		c.fs.Var(&topics, "topics", "")
		validateOnly := c.fs.Bool("validate-only", false, "")
		if err := c.parse(args); err != nil {
			return err
		}
		if err := requireLink(*link); err != nil {
			return err
		}
		if len(topics) == 0 {
			return usagef("--mirror-topic is required")
		}
		path, err := c.clusterPath(ctx, "links", *link, "mirrors")
		if err != nil {
			return err
		}
		q := url.Values{}
		if *validateOnly {
			q.Set("validate_only", "true")
		}
		body := struct {
			MirrorTopicNames []string `json:"mirror_topic_names"`
		}{topics}
		var l listData
		if err := c.api.do(ctx, http.MethodPost, path+":"+op, q, body, &l); err != nil {
			return err
		}
		results, err := items[alterMirrorData](l)
		if err != nil {
			return err
		}
		if c.json() {
			if err := c.printJSON(l.Data); err != nil {
				return err
			}
		} else {
			rows := make([][]string, len(results))
			for i, r := range results {
				res := "OK"
				if r.failed() {
					res = "FAILED: " + alterError(r)
				}
				rows[i] = []string{r.MirrorTopicName, maxLag(r.MirrorLags), res}
			}
			if err := c.printTable([]string{"MIRROR TOPIC", "MAX LAG", "RESULT"}, rows); err != nil {
				return err
			}
			if *validateOnly {
				fmt.Fprintln(c.stdout, "--validate-only: nothing was changed.")
			}
		}
		var failed []string
		for _, r := range results {
			if r.failed() {
				failed = append(failed, r.MirrorTopicName+": "+alterError(r))
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("%d of %d mirror topics failed: %s", len(failed), len(results), strings.Join(failed, "; "))
		}
		return nil
	}
}

func alterError(r alterMirrorData) string {
	if m := str(r.ErrorMessage); m != "" {
		return m
	}
	return "error code " + strconv.Itoa(*r.ErrorCode)
}
