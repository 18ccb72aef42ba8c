//go:build linux

package main

import (
	"testing"

	"github.com/linkproxy/linkproxy/bench/internal/harness/harnesstest"
)

// TestQuick runs the bench with -quick as a smoke test of the whole
// harness: children start, every phase runs through both targets, the
// report prints, and the children are gone afterwards.
func TestQuick(t *testing.T) {
	out := harnesstest.RunQuick(t, "proxybench")
	harnesstest.ExpectLines(t, out,
		`== summary \(targets are reported, not asserted\)`,
		`produce ratio proxy/direct .* (met|not met)`,
		`consume ratio proxy/direct .* (met|not met)`,
		`added p99 latency .* ms .* (met|not met)`,
		`proxy CPU per MB .* ms .* (met|not met)`,
		`machine  nproc=\d+, .*go1`,
		`command  .*-quick -linkproxy `,
	)
	harnesstest.ExpectChildrenGone(t, out, `dev-cluster pid (\d+)\), proxy pid (\d+)`)
}
