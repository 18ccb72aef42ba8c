package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/linkproxy/linkproxy/mirror/link"
)

func TestUnknownRoutes(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/", 404, ""},
		{"GET", "/kafka/v3", 404, ""},
		{"GET", "/v3/clusters", 404, ""},
		{"GET", cluster + "/topics", 404, ""},
		{"GET", cluster + "/links/link-1/tasks", 404, ""},
		{"POST", cluster + "/links/link-1/mirrors:promote-local-and-start-remote-mirror", 404, ""},
		{"POST", "/kafka/v3/clusters", 405, "GET, HEAD"},
		{"PUT", cluster + "/links/link-1", 405, "DELETE, GET, HEAD"},
		{"GET", cluster + "/links/link-1/mirrors:promote", 405, "POST"},
		{"GET", cluster + "/links/link-1/configs:alter", 405, "PUT"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do(tc.method, tc.path, "")
			errorIs(t, rec, tc.status, fmt.Sprintf("HTTP %d %s", tc.status, http.StatusText(tc.status)))
			if got := rec.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
}

// Errors from the Manager: a *link.Error (also wrapped) with its status
// and message; anything else a logged 500 with the error's text.
func TestManagerErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		msg    string
		logged string
	}{
		{"link.Error 503", link.Errorf(503, "cluster link %q is starting; try again", "link-1"), 503, `cluster link "link-1" is starting`, "request failed"},
		{"link.Error 409", link.Errorf(409, "busy"), 409, "busy", ""},
		{"wrapped link.Error", fmt.Errorf("store: %w", link.Errorf(404, "gone")), 404, "gone", ""},
		{"link.Error without status", &link.Error{Message: "oops"}, 500, "oops", "request failed"},
		{"plain error", errors.New("state topic: NOT_LEADER_FOR_PARTITION"), 500, "state topic: NOT_LEADER_FOR_PARTITION", "request failed"},
		{"plain empty error", errors.New(""), 500, "Internal Server Error", "request failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.fake.fail = tc.err
			errorIs(t, f.do("GET", "/kafka/v3/clusters", ""), tc.status, tc.msg)
			logs := f.logs.String()
			if tc.logged != "" && !strings.Contains(logs, tc.logged) {
				t.Errorf("error not logged: %q", logs)
			}
			if tc.logged == "" && strings.Contains(logs, "request failed") {
				t.Errorf("a client error was logged as a failure: %q", logs)
			}
		})
	}
}

type panicManager struct{ *fakeManager }

func (panicManager) Links(context.Context) ([]link.Link, error) { panic("boom") }

func TestPanicIs500(t *testing.T) {
	logs := &syncBuffer{}
	s := New(panicManager{newFake()}, hclog.New(&hclog.LoggerOptions{Output: logs}))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", cluster+"/links", nil))
	errorIs(t, rec, 500, "Internal Server Error")
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("panic not logged: %q", logs)
	}
}

// blockingManager holds Links until released (or the request ends).
type blockingManager struct {
	*fakeManager
	entered chan struct{}
	release chan struct{}
}

func (b blockingManager) Links(ctx context.Context) ([]link.Link, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return b.fakeManager.Links(ctx)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// serve runs s.Serve on a loopback listener from httptest, and returns its
// address and Serve's result.
func serve(t *testing.T, ctx context.Context, s *Server) (string, <-chan error) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil) // only for its loopback listener
	ln := ts.Listener
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), done
}

func waitServe(t *testing.T, done <-chan error, within time.Duration) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(within):
		t.Fatalf("Serve did not return within %v of its context ending", within)
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := New(newFake(), hclog.NewNullLogger())
	addr, done := serve(t, ctx, s)

	resp, err := http.Get(addr + "/kafka/v3/clusters/dest-cluster-1")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	err = json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET cluster: %d %v", resp.StatusCode, err)
	}
	if self := c["metadata"].(map[string]any)["self"]; self != addr+"/kafka/v3/clusters/dest-cluster-1" {
		t.Errorf("self = %v, want the address served", self)
	}

	cancel()
	waitServe(t, done, 5*time.Second)
	if _, err := http.Get(addr + "/kafka/v3/clusters"); err == nil {
		t.Error("still answering after Serve returned")
	}
}

// A request under way when the context ends is let finish.
func TestServeGraceful(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := blockingManager{newFake(), make(chan struct{}, 1), make(chan struct{})}
	s := New(m, hclog.NewNullLogger())
	addr, done := serve(t, ctx, s)

	type result struct {
		status int
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(addr + cluster + "/links")
		if err != nil {
			got <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got <- result{status: resp.StatusCode}
	}()
	<-m.entered
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) with a request under way", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(m.release)
	if r := <-got; r.err != nil || r.status != 200 {
		t.Errorf("request under way at shutdown: %d %v, want 200", r.status, r.err)
	}
	waitServe(t, done, 5*time.Second)
}

// A request that outlasts shutdownTimeout is cut off, and Serve returns.
func TestServeShutdownTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := blockingManager{newFake(), make(chan struct{}, 1), make(chan struct{})}
	defer close(m.release)
	logs := &syncBuffer{}
	s := New(m, hclog.New(&hclog.LoggerOptions{Output: logs}))
	s.shutdownTimeout = 100 * time.Millisecond
	addr, done := serve(t, ctx, s)

	got := make(chan error, 1)
	go func() {
		resp, err := http.Get(addr + cluster + "/links")
		if err == nil {
			resp.Body.Close()
		}
		got <- err
	}()
	<-m.entered
	cancel()
	waitServe(t, done, 5*time.Second)
	if err := <-got; err == nil {
		t.Error("the cut-off request got an answer")
	}
	if !strings.Contains(logs.String(), "requests still under way at shutdown") {
		t.Errorf("cut-off not logged: %q", logs)
	}
}

func TestServeListenerFails(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	ts.Listener.Close()
	s := New(newFake(), hclog.NewNullLogger())
	if err := s.Serve(context.Background(), ts.Listener); err == nil {
		t.Error("Serve on a closed listener returned nil")
	}
}
