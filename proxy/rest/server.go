// Package rest serves the Cluster Linking part of Confluent's REST v3 API
// (under /kafka/v3) for the fronted cluster: the cluster itself, its links,
// their configs and their mirror topics, all done by a link.Manager.
//
// Requests and answers follow Confluent Platform's kafka-rest v3 OpenAPI
// (ClusterData, ListLinksResponseData, ListLinkConfigsResponseData,
// ListMirrorTopicsResponseData, AlterMirrorStatusResponseData and the
// request bodies beside them), with its success statuses:
//
//	GET    /clusters, /clusters/{cluster_id}                            200
//	GET    /clusters/{cluster_id}/links                                 200
//	POST   /clusters/{cluster_id}/links?link_name=                      204
//	GET    .../links/{link_name}                                        200
//	DELETE .../links/{link_name}                                        200, no body
//	GET    .../links/{link_name}/configs[/{config_name}]                200
//	PUT    .../links/{link_name}/configs/{config_name}                  204
//	DELETE .../links/{link_name}/configs/{config_name}                  204
//	PUT    .../links/{link_name}/configs:alter                          204
//	GET    .../links/{link_name}/mirrors, .../links/-/mirrors           200
//	POST   .../links/{link_name}/mirrors                                204
//	GET    .../links/{link_name}/mirrors/{mirror_topic_name}            200
//	POST   .../links/{link_name}/mirrors:promote|failover|pause|resume  200
//
// Errors are the OpenAPI's Error, {"error_code", "message"}, with
// error_code equal to the HTTP status: a *link.Error's own, 400 for a
// malformed request (naming the parameter or field), 404 for another
// cluster than the fronted one or an unknown path, 405 for a known path
// with another method, 413 for a body over 1 MiB, 500 otherwise.
package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/linkproxy/linkproxy/mirror/link"
)

const (
	// apiPrefix is where Confluent Server serves REST v3.
	apiPrefix = "/kafka/v3"

	defaultMaxBody         = 1 << 20 // request bodies above this are refused with 413
	defaultShutdownTimeout = 5 * time.Second
)

// Server is the REST v3 API over a link.Manager.
type Server struct {
	m   link.Manager
	log hclog.Logger
	mux *http.ServeMux

	maxBody         int64
	shutdownTimeout time.Duration
}

// New returns a Server doing what it is asked with m. Nothing listens until
// Serve; Handler can also be mounted in another http.Server.
func New(m link.Manager, log hclog.Logger) *Server {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	s := &Server{
		m:               m,
		log:             log.Named("rest"),
		mux:             http.NewServeMux(),
		maxBody:         defaultMaxBody,
		shutdownTimeout: defaultShutdownTimeout,
	}
	s.routes()
	return s
}

// routes registers every endpoint. Patterns such as ".../mirrors:promote"
// are plain literal segments to ServeMux (the colon is not special), so
// they need no routing of their own; only a wildcard followed by a literal
// in one segment ("{name}:op") would, and the API has none.
func (s *Server) routes() {
	const (
		cluster = apiPrefix + "/clusters/{cluster_id}"
		links   = cluster + "/links"
		lnk     = links + "/{link_name}"
	)
	s.handle("GET "+apiPrefix+"/clusters", s.listClusters)
	s.handle("GET "+cluster, s.getCluster)

	s.handle("GET "+links, s.listLinks)
	s.handle("POST "+links, s.createLink)
	s.handle("GET "+lnk, s.getLink)
	s.handle("DELETE "+lnk, s.deleteLink)

	s.handle("GET "+lnk+"/configs", s.listLinkConfigs)
	s.handle("GET "+lnk+"/configs/{config_name}", s.getLinkConfig)
	s.handle("PUT "+lnk+"/configs/{config_name}", s.updateLinkConfig)
	s.handle("DELETE "+lnk+"/configs/{config_name}", s.resetLinkConfig)
	s.handle("PUT "+lnk+"/configs:alter", s.alterLinkConfigs)

	s.handle("GET "+links+"/-/mirrors", s.listAllMirrors)
	s.handle("GET "+lnk+"/mirrors", s.listMirrors)
	s.handle("POST "+lnk+"/mirrors", s.createMirror)
	s.handle("GET "+lnk+"/mirrors/{mirror_topic_name}", s.getMirror)
	for _, op := range []link.MirrorOp{link.OpPromote, link.OpFailover, link.OpPause, link.OpResume} {
		s.handle("POST "+lnk+"/mirrors:"+string(op), s.alterMirrors(op))
	}
}

// handlerFunc is an endpoint: it writes its answer, or returns the error
// to answer with.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// Handler is the API as an http.Handler: unknown paths and methods are
// answered with JSON errors too, and a panic in a handler with a 500.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
				if !sw.wrote {
					writeJSON(sw, http.StatusInternalServerError, errorBody{ErrorCode: http.StatusInternalServerError, Message: "Internal Server Error"})
				}
			}
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status(), "duration", time.Since(start))
		}()
		s.serve(sw, r)
	})
}

// serve routes r, turning ServeMux's own text/plain 404 and 405 answers
// into JSON ones (as Confluent's endpoint_not_found).
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if h, pattern := s.mux.Handler(r); pattern == "" {
		cw := &captureWriter{header: make(http.Header)}
		h.ServeHTTP(cw, r)
		switch cw.code {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			if allow := cw.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			// As Jersey words it: "HTTP 404 Not Found".
			msg := fmt.Sprintf("HTTP %d %s", cw.code, http.StatusText(cw.code))
			writeJSON(w, cw.code, errorBody{ErrorCode: cw.code, Message: msg})
		default: // a redirect to the cleaned path: pass it on as it is
			for k, v := range cw.header {
				w.Header()[k] = v
			}
			if cw.code == 0 {
				cw.code = http.StatusOK
			}
			w.WriteHeader(cw.code)
			_, _ = w.Write(cw.body.Bytes())
		}
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Serve answers requests on ln until ctx ends, then shuts down: requests
// under way get shutdownTimeout to finish, and are cut off after that. It
// returns nil once stopped by ctx, or why serving failed.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	select {
	case err := <-done:
		return err // Serve only returns early on a listener failure
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("requests still under way at shutdown; closing their connections", "timeout", s.shutdownTimeout, "error", err)
		_ = srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// statusWriter remembers the status written, for the request log.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// captureWriter holds what one of ServeMux's own handlers (not found,
// method not allowed, redirect) writes.
type captureWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *captureWriter) Header() http.Header { return w.header }

func (w *captureWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(b)
}

// baseURL is the API's address as the client reached it, for
// metadata.self: scheme, request host and /kafka/v3.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host + apiPrefix
}

// selfURL is baseURL followed by path segments, each escaped; a segment
// may hold a literal suffix already joined (as "mirrors").
func selfURL(r *http.Request, segments ...string) string {
	var b strings.Builder
	b.WriteString(baseURL(r))
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}
