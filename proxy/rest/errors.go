package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/linkproxy/linkproxy/mirror/link"
)

// errorBody is the OpenAPI's Error: error_code is the HTTP status here.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// apiError is a refusal made by this package itself (a malformed request).
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) *apiError {
	return errorf(http.StatusNotFound, format, args...)
}

// statusOf is the HTTP status a *link.Error asks for; one outside 400-599
// (a Manager bug) is answered as 500.
func statusOf(e *link.Error) int {
	if e.Status < 400 || e.Status > 599 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// writeError answers with err: an *apiError or *link.Error with its status
// and message; anything else is a 500 whose message is the error's text
// alone, and is logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ae     *apiError
		le     *link.Error
		status int
		msg    string
	)
	switch {
	case errors.As(err, &ae):
		status, msg = ae.status, ae.msg
	case errors.As(err, &le):
		status, msg = statusOf(le), le.Message
		if status >= 500 {
			s.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
		}
	default:
		status, msg = http.StatusInternalServerError, err.Error()
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			s.log.Debug("request canceled by its client", "method", r.Method, "path", r.URL.Path, "error", err)
		} else {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	writeJSON(w, status, errorBody{ErrorCode: status, Message: msg})
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types are written: cannot happen
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{ErrorCode: status, Message: "Internal Server Error"})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// noContent answers a success that carries no body.
func noContent(w http.ResponseWriter, status int) error {
	w.WriteHeader(status)
	return nil
}
