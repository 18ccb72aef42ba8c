//go:build linux

package main

import (
	"testing"

	"github.com/linkproxy/linkproxy/bench/internal/harness/harnesstest"
)

// TestQuick runs the bench with -quick as a smoke test of the whole
// harness: both clusters start, every codec is loaded and copied by the
// engine and the loop, the report prints, and the clusters are gone
// afterwards.
func TestQuick(t *testing.T) {
	out := harnesstest.RunQuick(t, "mirrorbench")
	lines := []string{
		`== summary \(targets are reported, not asserted\)`,
		`machine  nproc=\d+, .*go1`,
		`command  .*-quick -linkproxy `,
	}
	for _, codec := range []string{"none", "zstd", "lz4"} {
		lines = append(lines,
			codec+` +round 1/1 .*engine .* MB/s .*loop .* MB/s`,
			codec+` +throughput engine/loop +[\d.]+x .* (met|not met)$`,
			codec+` +CPU per GB loop/engine +[\d.]+x .* (met|not met)$`,
		)
	}
	harnesstest.ExpectLines(t, out, lines...)
	harnesstest.ExpectChildrenGone(t, out, `source dev-cluster pid (\d+) .*destination dev-cluster pid (\d+) `)
}
