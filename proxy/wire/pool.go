package wire

import (
	"math/bits"
	"sync"
)

// Pool recycles frame buffers in power-of-two size classes so that steady
// traffic allocates nothing. Buffers above the largest class are allocated
// and dropped: frames that large are rare and would pin memory.
type Pool struct {
	classes [numClasses]sync.Pool
}

const (
	minClassShift = 9  // 512 B
	maxClassShift = 24 // 16 MiB
	numClasses    = maxClassShift - minClassShift + 1
)

func class(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// Get returns a buffer of length n.
func (p *Pool) Get(n int) []byte {
	c := class(n)
	if c >= numClasses {
		return make([]byte, n)
	}
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<(c+minClassShift))
}

// Put gives a buffer back; buffers not from Get are accepted and sorted by
// capacity.
func (p *Pool) Put(b []byte) {
	c := cap(b)
	if c < 1<<minClassShift || c > 1<<maxClassShift || c&(c-1) != 0 {
		return
	}
	b = b[:0]
	p.classes[class(c)].Put(&b)
}
