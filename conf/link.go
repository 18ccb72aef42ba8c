package conf

// conf imports mirror/link for its property registry (link.ParseConfig),
// so that link properties are checked at start, each with its line, like
// every other key. mirror/link must therefore never import conf: it takes
// declared links as its own type, which the caller builds from Link. Both
// parse Kafka properties with conf/clientprops, the one parser of them.

import (
	"errors"
	"fmt"

	"github.com/linkproxy/linkproxy/conf/clientprops"
	"github.com/linkproxy/linkproxy/mirror/link"
)

// Link is a cluster link declared in the file ([[link]]): a connection
// from the fronted (destination) cluster to a source cluster, with the
// mirror topics declared under it ([[link.mirror]]).
type Link struct {
	Name string
	// Configs are the link's properties as written, dotted keys joined
	// (name and the mirror tables aside); Config is them parsed.
	Configs map[string]any
	Config  *link.Config
	Mirrors []Mirror
}

// Mirror is a mirror topic declared under its link.
type Mirror struct {
	SourceTopic string
	// MirrorTopic is the destination topic: cluster.link.prefix followed
	// by SourceTopic, filled in when the file leaves it out.
	MirrorTopic string
}

const (
	linkTable        = "[[link]]"
	keyMirror        = "mirror"
	keySourceTopic   = "source_topic"
	keyMirrorTopic   = "mirror_topic"
	mirrorTablesHint = "mirror topics are an array of tables: write [[link.mirror]] with source_topic"
)

var mirrorKeys = []string{keyMirrorTopic, keySourceTopic}

// declaredMirror is where a mirror topic was first declared, for
// duplicates.
type declaredMirror struct {
	link, mirror int // from 1
}

func parseLinks(errs *errorList, v any) []Link {
	elems, ok := tableArray(v)
	if !ok {
		errs.add(topLevel, "link", "must be an array of tables: write [[link]], not [link]")
		return nil
	}
	var links []Link
	names := make(map[string]int)              // link name → index, from 1
	mirrors := make(map[string]declaredMirror) // mirror topic → where
	occ := 0                                   // [[link.mirror]] headers so far, as the position scanner counts them
	for i, m := range elems {
		at := place{table: linkTable, index: i + 1}
		l, ms, inline := parseLink(errs, at, m)
		if l.Name != "" {
			if j, dup := names[l.Name]; dup {
				errs.add(at, keyName, "duplicate link name %q, also used by [[link]] #%d", l.Name, j)
			} else {
				names[l.Name] = i + 1
			}
		}
		for j, mm := range ms {
			mp := mirrorPlace{errs: errs, link: i, index: j, occ: occ, inline: inline}
			if !inline {
				occ++
			}
			mir, ok := parseMirror(mp, mm, l.Config)
			if !ok {
				continue
			}
			if d, dup := mirrors[mir.MirrorTopic]; dup {
				mp.add(keySourceTopic, "mirror topic %q is already declared by [[link]] #%d [[link.mirror]] #%d: a topic can mirror one source only", mir.MirrorTopic, d.link, d.mirror)
				continue
			}
			mirrors[mir.MirrorTopic] = declaredMirror{i + 1, j + 1}
			l.Mirrors = append(l.Mirrors, mir)
		}
		links = append(links, l)
	}
	return links
}

// tableArray returns the tables of an array of tables, written as
// [[name]] or inline as name = [{...}, {...}]; ok is false for anything
// else. nil is an empty array.
func tableArray(v any) (elems []map[string]any, ok bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case []map[string]any:
		return x, true
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			elems = append(elems, m)
		}
		return elems, true
	}
	return nil, false
}

// parseLink returns the link with what passed validation, its mirror
// tables, and whether those were written inline (mirror = [{...}]) rather
// than as [[link.mirror]] headers.
func parseLink(errs *errorList, at place, m map[string]any) (l Link, mirrors []map[string]any, inline bool) {
	// Take the mirror tables out before flattening: flatten would turn
	// them into properties. A bare dotted mirror.start.offset.spec is a
	// table, not an array, and stays a property.
	if mv, ok := m[keyMirror]; ok {
		if _, isTable := mv.(map[string]any); !isTable {
			rest := make(map[string]any, len(m))
			for k, v := range m {
				if k != keyMirror {
					rest[k] = v
				}
			}
			m = rest
			_, inline = mv.([]any)
			var ok bool
			if mirrors, ok = tableArray(mv); !ok {
				errs.add(at, keyMirror, "%s", mirrorTablesHint)
			}
		}
	}

	flat, dups := flatten(m)
	for _, key := range dups {
		errs.add(at, key, "set twice, once quoted and once as dotted keys")
	}
	for _, key := range []string{keyMirror + "." + keySourceTopic, keyMirror + "." + keyMirrorTopic} {
		if _, ok := flat[key]; ok {
			errs.add(at, key, "%s, not [link.mirror]", mirrorTablesHint)
			delete(flat, key)
		}
	}

	// Everything but name is a link property.
	name, ok := flat[keyName]
	delete(flat, keyName)
	switch s, err := asString(name); {
	case !ok:
		errs.add(at, keyName, `missing: name the link, e.g. "west-to-east"`)
	case err != nil:
		errs.add(at, keyName, "%v", err)
	default:
		if err := link.CheckTopicName(s); err != nil {
			errs.add(at, keyName, "link name %v", err)
		} else {
			l.Name = s
		}
	}

	l.Configs = flat
	cfg, err := link.ParseConfig(flat)
	if err != nil {
		for _, e := range unwrapAll(err) {
			var pe *clientprops.Error
			if errors.As(e, &pe) {
				errs.add(at, pe.Name, "%s", pe.Reason)
			} else {
				errs.add(at, "", "%v", e)
			}
		}
	}
	l.Config = cfg
	return l, mirrors, inline
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// mirrorPlace is where a [[link.mirror]] table is. errorList.add cannot
// name it: its errors read "[[link]] #1 [[link.mirror]] #2 key ...",
// numbering the mirror within its link, and its line comes from the
// position scanner, which counts [[link.mirror]] headers across the
// whole file (occ).
type mirrorPlace struct {
	errs   *errorList
	link   int // the link, from 0
	index  int // the mirror within the link, from 0
	occ    int // the [[link.mirror]] header in the file, from 0
	inline bool
}

func (p mirrorPlace) add(key, format string, args ...any) {
	l := p.errs
	e := &Error{
		File:   l.file,
		Table:  fmt.Sprintf("%s #%d [[link.mirror]]", linkTable, p.link+1),
		Index:  p.index + 1,
		Key:    key,
		Reason: fmt.Sprintf(format, args...),
	}
	if !p.inline {
		e.Line = l.pos.line("link.mirror", p.occ, key)
	}
	if e.Line == 0 {
		e.Line = l.pos.line("link", p.link, keyMirror)
	}
	l.errs = append(l.errs, e)
}

// parseMirror returns the mirror topic and whether it is valid. cfg is the
// link's configuration, nil if it has errors: the mirror topic's name then
// cannot be checked against cluster.link.prefix.
func parseMirror(p mirrorPlace, m map[string]any, cfg *link.Config) (Mirror, bool) {
	var mir Mirror
	valid := true
	flat, dups := flatten(m)
	for _, key := range dups {
		p.add(key, "set twice, once quoted and once as dotted keys")
		valid = false
	}
	for _, key := range sortedKeys(flat) {
		if key != keySourceTopic && key != keyMirrorTopic {
			p.add(key, "%s", unknownKey(key, mirrorKeys))
			valid = false
		}
	}

	if v, ok := flat[keySourceTopic]; !ok {
		p.add(keySourceTopic, `missing: name the topic on the source cluster, e.g. "orders"`)
		valid = false
	} else if s, err := asString(v); err != nil {
		p.add(keySourceTopic, "%v", err)
		valid = false
	} else if err := link.CheckTopicName(s); err != nil {
		p.add(keySourceTopic, "topic name %v", err)
		valid = false
	} else {
		mir.SourceTopic = s
	}

	if v, ok := flat[keyMirrorTopic]; ok {
		if s, err := asString(v); err != nil {
			p.add(keyMirrorTopic, "%v", err)
			valid = false
		} else if err := link.CheckTopicName(s); err != nil {
			p.add(keyMirrorTopic, "topic name %v", err)
			valid = false
		} else {
			mir.MirrorTopic = s
		}
	}
	if !valid || cfg == nil {
		return mir, false
	}

	// As in Confluent, a mirror topic has its source's name, after the
	// link's prefix.
	want := cfg.Prefix + mir.SourceTopic
	switch {
	case mir.MirrorTopic == "":
		if err := link.CheckTopicName(want); err != nil {
			p.add(keySourceTopic, "the mirror topic's name, cluster.link.prefix followed by source_topic: %v", err)
			return mir, false
		}
		mir.MirrorTopic = want
	case mir.MirrorTopic != want:
		if cfg.Prefix == "" {
			p.add(keyMirrorTopic, "%q: a mirror topic has its source topic's name, %q; leave mirror_topic out, or set cluster.link.prefix on the link", mir.MirrorTopic, want)
		} else {
			p.add(keyMirrorTopic, "%q: a mirror topic's name is cluster.link.prefix (%q) followed by the source topic's name: %q; leave mirror_topic out", mir.MirrorTopic, cfg.Prefix, want)
		}
		return mir, false
	}
	return mir, true
}
