package main

// The shared half of the REST commands ("linkproxy links ..." and
// "linkproxy mirrors ..."): subcommand dispatch and exit codes, the common
// flags, a small client for Confluent's REST v3 API (the link and mirror
// endpoints under /kafka/v3/clusters/{cluster_id}/links that "linkproxy
// serve" answers on its [rest] listener), config flags and properties files,
// and the two output formats: aligned tables for people, the API's data
// objects as JSON for scripts.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	defaultRESTURL = "http://127.0.0.1:8090"
	restURLEnv     = "LINKPROXY_REST_URL"
	restTimeout    = 30 * time.Second
)

// commonFlagsUsage ends the usage of every REST subcommand.
const commonFlagsUsage = `
Common flags:
  --rest-url URL        linkproxy's REST API (default ` + defaultRESTURL + `,
                        or $` + restURLEnv + ` when set)
  --cluster-id ID       cluster to act on (default: the single cluster that
                        GET /kafka/v3/clusters returns)
  -o, --output FORMAT   table (default, for people) or json (the API's data
                        objects, for scripts; commands whose API call returns
                        no content print nothing)
`

// configValuesUsage explains --config and its relatives; subcommands that
// take configs include it.
const configValuesUsage = `
Config values: --config takes k=v or a comma list k1=v1,k2=v2 and may be
repeated. A comma piece without "=" continues the previous value, so
bootstrap.servers=a:9092,b:9092 is one config; k=[v1,v2] brackets a value
that holds commas. --config-file is a Java properties file (k=v or k: v
lines, # and ! comments, backslash continuations); --config overrides it.
`

// usageError is a mistake on the command line: the command prints it with
// the subcommand's usage and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// verb is one subcommand of a command group, such as "create" of "links".
type verb struct {
	name  string
	usage string // the complete usage, without the common flags
	run   func(ctx context.Context, c *cli, args []string) error
}

// runGroup runs "linkproxy GROUP VERB [flags]" and returns the exit code:
// 0, 1 for a failed operation, 2 for a usage error.
func runGroup(ctx context.Context, group, groupUsage string, verbs []verb, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, groupUsage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, groupUsage)
		return 0
	}
	i := slices.IndexFunc(verbs, func(v verb) bool { return v.name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "linkproxy %s: unknown subcommand %q\n\n%s", group, args[0], groupUsage)
		return 2
	}
	v := verbs[i]
	c := newCLI(group+" "+v.name, v.usage+commonFlagsUsage, stdout, stderr)
	return c.exit(v.run(ctx, c, args[1:]))
}

// cli is one run of a REST subcommand: its flags, output and API client.
type cli struct {
	name   string // "links create", for messages
	usage  string
	stdout io.Writer
	stderr io.Writer
	fs     *flag.FlagSet

	restURL   string
	clusterID string
	output    string

	api *restClient // set by parse
}

func newCLI(name, usage string, stdout, stderr io.Writer) *cli {
	c := &cli{name: name, usage: usage, stdout: stdout, stderr: stderr}
	c.fs = flag.NewFlagSet("linkproxy "+name, flag.ContinueOnError)
	// Errors and usage are printed by exit, once, in our format.
	c.fs.SetOutput(io.Discard)
	c.fs.Usage = func() {}
	def := defaultRESTURL
	if env := os.Getenv(restURLEnv); env != "" {
		def = env
	}
	c.fs.StringVar(&c.restURL, "rest-url", def, "")
	c.fs.StringVar(&c.clusterID, "cluster-id", "", "")
	c.fs.StringVar(&c.output, "o", "table", "")
	c.fs.StringVar(&c.output, "output", "table", "")
	return c
}

// parse parses the subcommand's flags (defined on c.fs before the call),
// refuses positional arguments and sets up the API client.
func (c *cli) parse(args []string) error {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		// The flag package names flags with one dash; the usage, with two.
		return usageError{flagNameRE.ReplaceAllString(err.Error(), "$1--$2")}
	}
	if c.fs.NArg() > 0 {
		return usagef("unexpected argument %q (values go with flags, such as --link NAME)", c.fs.Arg(0))
	}
	switch c.output {
	case "table", "json":
	default:
		return usagef("-o %q: want table or json", c.output)
	}
	base, err := normalizeRESTURL(c.restURL)
	if err != nil {
		return usageError{err.Error()}
	}
	c.api = &restClient{base: base, http: &http.Client{Timeout: restTimeout}}
	return nil
}

var flagNameRE = regexp.MustCompile(`(flag(?: provided but not defined:| needs an argument:)? )-([a-z][a-z-]+)`)

// exit prints err as its kind asks and returns the exit code.
func (c *cli) exit(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(c.stdout, c.usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "linkproxy %s: %s\n\n%s", c.name, ue.msg, c.usage)
		return 2
	default:
		fmt.Fprintf(c.stderr, "linkproxy %s: %v\n", c.name, err)
		return 1
	}
}

func (c *cli) json() bool { return c.output == "json" }

// isSet reports whether the flag was given on the command line.
func (c *cli) isSet(name string) bool {
	set := false
	c.fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// cluster returns --cluster-id, or else the id of the one cluster the API
// knows.
func (c *cli) cluster(ctx context.Context) (string, error) {
	if c.clusterID != "" {
		return c.clusterID, nil
	}
	var list struct {
		Data []struct {
			ClusterID string `json:"cluster_id"`
		} `json:"data"`
	}
	if err := c.api.do(ctx, http.MethodGet, "/clusters", nil, nil, &list); err != nil {
		return "", err
	}
	switch len(list.Data) {
	case 0:
		return "", fmt.Errorf("the REST API at %s lists no cluster; pass --cluster-id", c.api.base)
	case 1:
		if list.Data[0].ClusterID == "" {
			return "", fmt.Errorf("the REST API at %s lists a cluster without an id; pass --cluster-id", c.api.base)
		}
		c.clusterID = list.Data[0].ClusterID
		return c.clusterID, nil
	default:
		ids := make([]string, len(list.Data))
		for i, d := range list.Data {
			ids[i] = d.ClusterID
		}
		return "", fmt.Errorf("the REST API at %s lists %d clusters (%s); pass --cluster-id", c.api.base, len(ids), strings.Join(ids, ", "))
	}
}

// clusterPath returns /clusters/{id} followed by the escaped segments.
func (c *cli) clusterPath(ctx context.Context, segments ...string) (string, error) {
	id, err := c.cluster(ctx)
	if err != nil {
		return "", err
	}
	p := "/clusters/" + url.PathEscape(id)
	for _, s := range segments {
		p += "/" + url.PathEscape(s)
	}
	return p, nil
}

// normalizeRESTURL accepts http(s)://host:port with an optional path prefix
// (a trailing /kafka or /kafka/v3 is dropped) or a bare host:port.
func normalizeRESTURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("--rest-url is empty")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("--rest-url %q: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("--rest-url %q: want an http or https URL", s)
	}
	if u.Host == "" {
		return "", fmt.Errorf("--rest-url %q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--rest-url %q: want no query or fragment", s)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/v3")
	p = strings.TrimSuffix(p, "/kafka")
	u.Path, u.RawPath = p, ""
	return strings.TrimRight(u.String(), "/"), nil
}

// restClient calls the REST v3 API under base+"/kafka/v3".
type restClient struct {
	base string
	http *http.Client
}

// apiError is an error answer of the API, {"error_code":..., "message":...}
// in the usual case.
type apiError struct {
	Status  int    // HTTP status
	Code    int    // error_code, 0 if none
	Message string // message, or the body, or the status text
}

func (e *apiError) Error() string { return e.Message }

// do sends body (if not nil) as JSON and decodes a successful answer into
// out (if not nil). path is relative to /kafka/v3 and already escaped.
func (r *restClient) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := r.base + "/kafka/v3" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, restTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "linkproxy-cli")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.http.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("cannot connect to the REST API at %s (connection refused): "+
				"check that \"linkproxy serve\" is running with a [rest] listener there, "+
				"or point --rest-url (or $%s) at it", r.base, restURLEnv)
		}
		return fmt.Errorf("cannot reach the REST API at %s: %v", r.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %v", method, u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeAPIError(resp, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer: %v", method, u, err)
	}
	return nil
}

func decodeAPIError(resp *http.Response, data []byte) error {
	e := &apiError{Status: resp.StatusCode}
	var body struct {
		ErrorCode *int    `json:"error_code"`
		Message   *string `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil && body.Message != nil && *body.Message != "" {
		if body.ErrorCode != nil {
			e.Code = *body.ErrorCode
		}
		e.Message = *body.Message
		return e
	}
	// text/plain answers carry the message as the body; HTML and the like
	// are not worth printing.
	text := strings.TrimSpace(string(data))
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") && text != "" && utf8.ValidString(text) {
		if len(text) > 500 {
			text = text[:500] + "..."
		}
		e.Message = text
		return e
	}
	e.Message = fmt.Sprintf("HTTP %s from %s %s", resp.Status, resp.Request.Method, resp.Request.URL.Path)
	return e
}

// listData is the envelope of the API's collections; data is kept raw so
// that -o json prints exactly what the API sent.
type listData struct {
	Data json.RawMessage `json:"data"`
}

// items decodes the collection's data for tables.
func items[T any](l listData) ([]T, error) {
	var out []T
	if len(l.Data) == 0 || string(l.Data) == "null" {
		return nil, nil
	}
	if err := json.Unmarshal(l.Data, &out); err != nil {
		return nil, fmt.Errorf("unexpected answer: %v", err)
	}
	return out, nil
}

// printJSON prints raw JSON indented; a missing collection prints as [].
func (c *cli) printJSON(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("[]")
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := c.stdout.Write(buf.Bytes())
	return err
}

// printJSONArray prints objects as one JSON array.
func (c *cli) printJSONArray(objs []json.RawMessage) error {
	if objs == nil {
		objs = []json.RawMessage{}
	}
	b, err := json.Marshal(objs)
	if err != nil {
		return err
	}
	return c.printJSON(b)
}

// printTable prints rows under header, aligned.
func (c *cli) printTable(header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, s := range r {
			cells[i] = cell(s)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// printFields prints "Name: value" lines with the values aligned.
func (c *cli) printFields(fields [][2]string) error {
	tw := tabwriter.NewWriter(c.stdout, 0, 8, 1, ' ', 0)
	for _, f := range fields {
		fmt.Fprintf(tw, "%s:\t%s\n", f[0], cell(f[1]))
	}
	return tw.Flush()
}

// cell keeps a value on one line of a table.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func formatMillis(ms int64) string {
	if ms <= 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

// --- flags ---

// listFlag is a repeatable flag whose values may also be comma lists, for
// topic and config names (which cannot hold commas).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return fmt.Errorf("empty name in %q", s)
		}
		*l = append(*l, p)
	}
	return nil
}

// kv is one config.
type kv struct{ name, value string }

// configFlag is a repeatable --config k=v[,k2=v2...] flag.
type configFlag []kv

func (f *configFlag) String() string {
	parts := make([]string, len(*f))
	for i, c := range *f {
		parts[i] = c.name + "=" + c.value
	}
	return strings.Join(parts, ",")
}

func (f *configFlag) Set(s string) error {
	pairs, err := parseConfigList(s)
	if err != nil {
		return err
	}
	*f = append(*f, pairs...)
	return nil
}

// parseConfigList parses "k1=v1,k2=v2" as kafka-configs does, with
// brackets protecting commas ("k=[a,b]" is k = "a,b"), and one leniency: a
// piece without "=" continues the previous value, so
// "bootstrap.servers=a:9092,b:9092" is one config.
func parseConfigList(s string) ([]kv, error) {
	var pieces []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				pieces = append(pieces, s[start:i])
				start = i + 1
			}
		}
	}
	pieces = append(pieces, s[start:])
	var out []kv
	for _, p := range pieces {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			if len(out) == 0 {
				return nil, fmt.Errorf("%q is not k=v", p)
			}
			out[len(out)-1].value += "," + p
			continue
		}
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, fmt.Errorf("%q: empty config name", p)
		}
		out = append(out, kv{k, v})
	}
	for i := range out {
		v := strings.TrimSpace(out[i].value)
		if len(v) >= 2 && v[0] == '[' && v[len(v)-1] == ']' {
			v = v[1 : len(v)-1]
		}
		out[i].value = v
	}
	return out, nil
}

// configData is a config in the API's requests.
type configData struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// mergeConfigs reads the properties file (if any) and lays the flag's
// configs over it, sorted by name.
func mergeConfigs(file string, flags configFlag) ([]configData, error) {
	m := map[string]string{}
	if file != "" {
		props, err := readPropertiesFile(file)
		if err != nil {
			return nil, err
		}
		for _, p := range props {
			m[p.name] = p.value
		}
	}
	for _, p := range flags {
		m[p.name] = p.value
	}
	out := make([]configData, 0, len(m))
	for k, v := range m {
		out = append(out, configData{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readPropertiesFile(path string) ([]kv, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	props, err := parseProperties(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return props, nil
}

// parseProperties parses a Java properties file as java.util.Properties.load
// does (the text taken as UTF-8): logical lines joined at odd trailing
// backslashes, blank lines and # or ! comments skipped, the key ending at
// the first unescaped '=', ':' or white space, escapes \t \n \r \f \uXXXX
// and \x for any other x. Later keys win.
func parseProperties(text string) ([]kv, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 16<<20)
	var out []kv
	lineNo := 0
	for sc.Scan() {
		lineNo++
		first := lineNo
		line := strings.TrimLeft(strings.TrimSuffix(sc.Text(), "\r"), " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for endsInEscape(line) {
			line = line[:len(line)-1]
			if !sc.Scan() {
				break
			}
			lineNo++
			line += strings.TrimLeft(strings.TrimSuffix(sc.Text(), "\r"), " \t\f")
		}
		k, v, err := splitProperty(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", first, err)
		}
		out = append(out, kv{k, v})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// endsInEscape reports whether line ends in an odd number of backslashes.
func endsInEscape(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (key, value string, err error) {
	i := 0
	for i < len(line) {
		ch := line[i]
		if ch == '\\' {
			i += 2
			continue
		}
		if ch == '=' || ch == ':' || ch == ' ' || ch == '\t' || ch == '\f' {
			break
		}
		i++
	}
	if i > len(line) {
		i = len(line)
	}
	rawKey, rest := line[:i], line[i:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	if key, err = unescapeProperty(rawKey); err != nil {
		return "", "", err
	}
	if value, err = unescapeProperty(rest); err != nil {
		return "", "", err
	}
	return key, value, nil
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			r, ok := hex4(s[i+1:])
			if !ok {
				return "", fmt.Errorf("malformed \\uxxxx escape in %q", s)
			}
			i += 4
			// A surrogate pair is two escapes, as Java writes them.
			if utf16.IsSurrogate(r) && strings.HasPrefix(s[i+1:], `\u`) {
				if r2, ok := hex4(s[i+3:]); ok {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			b.WriteRune(r)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// hex4 decodes the four hex digits that start s.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(s[:4], 16, 16)
	return rune(n), err == nil
}
