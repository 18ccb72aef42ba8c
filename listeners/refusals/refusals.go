// Package refusals spaces the log lines of refused connections and
// requests: a client that keeps failing (a wrong password, a plaintext
// client on a TLS port, a denied topic) gets one line per reason every
// Every, and the next line counts those left out, so that the log stays
// readable and a busy client cannot flood it.
package refusals

import (
	"sync"
	"time"
)

// Every is how often one key is logged.
const Every = 10 * time.Second

// maxKeys bounds the memory a flood of distinct keys (client hosts) takes:
// past it, keys not seen within Every are forgotten.
const maxKeys = 4096

// Log remembers when each key was last logged. The zero value is ready.
type Log[K comparable] struct {
	mu   sync.Mutex
	last map[K]*entry
}

type entry struct {
	at         time.Time
	suppressed int
}

// Allow reports whether to log k now and, if so, how many lines of k were
// left out since the last one.
func (l *Log[K]) Allow(k K, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = make(map[K]*entry)
	}
	e, ok := l.last[k]
	if ok && now.Sub(e.at) < Every {
		e.suppressed++
		return false, 0
	}
	if len(l.last) >= maxKeys {
		for k, e := range l.last {
			if now.Sub(e.at) >= Every {
				delete(l.last, k)
			}
		}
	}
	n := 0
	if ok {
		n = e.suppressed
	}
	l.last[k] = &entry{at: now}
	return true, n
}
