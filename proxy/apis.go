package proxy

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/linkproxy/linkproxy/proxy/rewrite"
)

// apis is the table of API keys the proxy forwards and the newest version
// of each it can handle; it is what ApiVersions responses are clamped to.
type apis struct {
	maxVersion [1 << 15]int16 // -1: not forwarded
	opaque     [1 << 15]bool  // vendor keys: forwarded both ways unparsed
}

func newAPIs(passthrough []int16) *apis {
	a := new(apis)
	for i := range a.maxVersion {
		a.maxVersion[i] = -1
	}
	for k := int16(0); k <= kmsg.MaxKey; k++ {
		if v, ok := rewrite.KnownMaxVersion(k); ok {
			a.maxVersion[k] = v
		}
	}
	// Vendor keys are forwarded at whatever version the broker offers:
	// the proxy never decodes them.
	for _, k := range passthrough {
		if k >= 0 {
			a.maxVersion[k] = 1<<15 - 1
			a.opaque[k] = true
		}
	}
	return a
}

func (a *apis) max(key int16) (int16, bool) {
	if key < 0 {
		return 0, false
	}
	v := a.maxVersion[key]
	return v, v >= 0
}

func kmsgName(key int16) string {
	if n := kmsg.NameForKey(key); n != "" {
		return n
	}
	return "Unknown"
}

// binaryPutLength sets a frame's length prefix from its size.
func binaryPutLength(frame []byte) {
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
}
