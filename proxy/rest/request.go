package rest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// decodeBody reads r's body, at most s.maxBody bytes, as one JSON value
// into v. Fields v does not know are ignored (as Confluent's clients send
// fields of newer API versions); anything after the value is refused.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err := dec.Decode(v); err != nil {
		return s.bodyError(err)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return badRequest("malformed request body: more than one JSON value")
	default:
		return s.bodyError(err)
	}
}

func (s *Server) bodyError(err error) error {
	var (
		tooBig *http.MaxBytesError
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return badRequest("request body is empty: a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed request body: unexpected end of JSON")
	case errors.As(err, &syn):
		return badRequest("malformed request body: %v (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("malformed request body: a JSON object is required, not %s", typ.Value)
		}
		return badRequest("malformed request body: %s must be %s, not %s", typ.Field, jsonType(typ.Type.Kind().String()), typ.Value)
	default:
		return badRequest("malformed request body: %v", err)
	}
}

// jsonType names a Go kind the way a JSON client thinks of it.
func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case kind == "slice", kind == "array":
		return "an array"
	default:
		return "an object"
	}
}

// boolParam is the boolean query parameter name: def when absent; "true"
// or "false" (any case) otherwise, and 400 naming it for anything else.
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	vs, ok := r.URL.Query()[name]
	if !ok {
		return def, nil
	}
	if len(vs) != 1 {
		return false, badRequest("query parameter %s is given %d times", name, len(vs))
	}
	switch strings.ToLower(vs[0]) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badRequest("query parameter %s must be true or false, not %q", name, vs[0])
}

// stringParam is the query parameter name, "" when absent; given twice,
// it is refused.
func stringParam(r *http.Request, name string) (string, error) {
	vs := r.URL.Query()[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", badRequest("query parameter %s is given %d times", name, len(vs))
}

// configMap turns ConfigData entries into a map: a name must be given, and
// only once; a null value means the config's default, so it is left out.
func configMap(field string, configs []configData) (map[string]string, error) {
	m := make(map[string]string, len(configs))
	seen := make(map[string]bool, len(configs))
	for i, c := range configs {
		if c.Name == "" {
			return nil, badRequest("%s[%d].name is required", field, i)
		}
		if seen[c.Name] {
			return nil, badRequest("%s: config %s is given more than once", field, c.Name)
		}
		seen[c.Name] = true
		if c.Value != nil {
			m[c.Name] = *c.Value
		}
	}
	return m, nil
}

// required is the 400 for a missing required body field.
func required(field string) error {
	return badRequest("%s is required", field)
}
