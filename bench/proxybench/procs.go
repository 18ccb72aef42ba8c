package main

import (
	"errors"
	"sync"
	"time"

	"github.com/linkproxy/linkproxy/bench/internal/harness"
)

// procs stops every child it was given, last started first, so that the
// proxy goes before the cluster it fronts.
type procs struct {
	mu   sync.Mutex
	list []*harness.Child
}

func (ps *procs) add(c *harness.Child) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.list = append(ps.list, c)
}

func (ps *procs) stopAll(grace time.Duration) error {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	var errs []error
	for i := len(list) - 1; i >= 0; i-- {
		if err := list[i].Stop(grace); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
