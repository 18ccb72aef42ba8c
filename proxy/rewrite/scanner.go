package rewrite

import "fmt"

// Every body is walked by a scanner before kmsg sees it, for two reasons.
//
// Produce and Fetch are the hot path: since KIP-951 their responses may
// carry a Brokers tagged field, but almost none do, and a kmsg decode costs
// allocations per partition. The walk tells, without allocating, whether
// there is anything to rewrite at all.
//
// kmsg trusts counts it reads: a tag section claiming 2^32-1 fields makes it
// loop that many times once the data has run out, and an array count is
// only checked against the bytes left, so a small body can make it allocate
// a hundred times its size. The walk refuses such bodies first.
//
// The scanner therefore mirrors kmsg's decoding field by field and must
// never accept a body kmsg would reject: each check is kmsg's or stricter,
// and the stricter ones only refuse encodings Kafka never produces.
type scanner struct {
	src  []byte
	size int // len of the whole body, to report where it went wrong
	bad  bool
	at   int
}

func newScanner(body []byte) scanner {
	return scanner{src: body, size: len(body)}
}

func (r *scanner) fail() {
	if !r.bad {
		r.bad = true
		r.at = r.size - len(r.src)
	}
	r.src = nil
}

func (r *scanner) err() error {
	if !r.bad {
		return nil
	}
	return fmt.Errorf("%w: invalid or truncated field at byte %d", ErrMalformed, r.at)
}

func (r *scanner) skip(n int) {
	if n < 0 || n > len(r.src) {
		r.fail()
		return
	}
	r.src = r.src[n:]
}

// sub returns a scanner over the next n bytes, for tagged fields that kmsg
// decodes from their own span.
func (r *scanner) sub(n int) scanner {
	if n < 0 || n > len(r.src) {
		r.fail()
		return scanner{bad: true}
	}
	s := scanner{src: r.src[:n:n], size: n}
	r.src = r.src[n:]
	return s
}

func (r *scanner) int16() int16 {
	if len(r.src) < 2 {
		r.fail()
		return 0
	}
	v := int16(r.src[0])<<8 | int16(r.src[1])
	r.src = r.src[2:]
	return v
}

func (r *scanner) int32() int32 {
	if len(r.src) < 4 {
		r.fail()
		return 0
	}
	v := int32(r.src[0])<<24 | int32(r.src[1])<<16 | int32(r.src[2])<<8 | int32(r.src[3])
	r.src = r.src[4:]
	return v
}

// uvarint reads an unsigned varint of at most 32 bits, refusing overflowing
// encodings just as kmsg does. Single bytes (counts, small lengths, empty
// tag sections) are by far the most common and take the inlined path.
func (r *scanner) uvarint() uint32 {
	if s := r.src; len(s) > 0 && s[0] < 0x80 {
		r.src = s[1:]
		return uint32(s[0])
	}
	return r.uvarintLong()
}

func (r *scanner) uvarintLong() uint32 {
	s := r.src
	var x uint32
	for i := 0; i < len(s) && i < 4; i++ {
		x |= uint32(s[i]&0x7f) << (7 * i)
		if s[i] < 0x80 {
			r.src = s[i+1:]
			return x
		}
	}
	// The fifth byte holds the top 4 bits; more would overflow 32 bits.
	if len(s) < 5 || s[4] > 0x0f {
		r.fail()
		return 0
	}
	r.src = s[5:]
	return x | uint32(s[4])<<28
}

// length reads a string or bytes length: compact (stored plus one) in
// flexible versions, int16 or int32 otherwise. Negative is null.
func (r *scanner) length(flex, int32Len bool) int {
	switch {
	case flex:
		return int(r.uvarint()) - 1
	case int32Len:
		return int(r.int32())
	default:
		return int(r.int16())
	}
}

// str skips a non-nullable string; kmsg refuses a null one.
func (r *scanner) str(flex bool) {
	n := r.length(flex, false)
	if n < 0 {
		r.fail()
		return
	}
	r.skip(n)
}

func (r *scanner) nullableStr(flex bool) {
	if n := r.length(flex, false); n >= 0 {
		r.skip(n)
	}
}

func (r *scanner) nullableBytes(flex bool) {
	if n := r.length(flex, true); n >= 0 {
		r.skip(n)
	}
}

// array reads an array length. Null and other negative counts read as
// empty, as in kmsg; a count above the bytes left is refused, as in kmsg
// (every element takes at least one byte), which also bounds every loop
// over the result. Compact counts kmsg would wrap to negative are refused.
func (r *scanner) array(flex bool) int {
	var n int
	if flex {
		n = int(r.uvarint()) - 1
	} else {
		n = int(r.int32())
	}
	if n > len(r.src) {
		r.fail()
		return 0
	}
	return max(n, 0)
}

// int32s skips an array of int32.
func (r *scanner) int32s(flex bool) {
	r.skip(4 * r.array(flex))
}

// tagCount reads the number of fields of a tag section. Each field takes at
// least two bytes, so a count above the bytes left is refused: this is the
// count kmsg would otherwise loop on.
func (r *scanner) tagCount() uint32 {
	n := r.uvarint()
	if uint64(n) > uint64(len(r.src)) {
		r.fail()
		return 0
	}
	return n
}

// tags skips the tag section of a flexible struct none of whose fields kmsg
// decodes. Non-flexible versions have none.
func (r *scanner) tags(flex bool) {
	if !flex {
		return
	}
	if len(r.src) > 0 && r.src[0] == 0 {
		r.src = r.src[1:]
		return
	}
	r.someTags(nil)
}

// someTags skips a tag section, handing each field to known first. known
// walks the fields kmsg decodes the way kmsg does and reports whether they
// are valid (kmsg fails the whole body if such a field is short, but
// ignores bytes left over); it returns true for fields kmsg keeps opaque.
// The field is passed by value so that it stays on the stack.
func (r *scanner) someTags(known func(key uint32, field scanner) (valid bool)) {
	for n := r.tagCount(); n > 0 && !r.bad; n-- {
		key := r.uvarint()
		field := r.sub(int(r.uvarint()))
		if r.bad {
			return
		}
		if known != nil && !known(key, field) {
			r.fail()
			return
		}
	}
}

// fixedTags skips a tag section whose fields with key k < len(fixed) kmsg
// decodes as fixed[k] bytes of fixed-size fields followed by a tag section.
func (r *scanner) fixedTags(fixed []int) {
	if len(r.src) > 0 && r.src[0] == 0 {
		r.src = r.src[1:]
		return
	}
	r.someTags(func(key uint32, field scanner) bool {
		if uint64(key) >= uint64(len(fixed)) {
			return true
		}
		field.skip(fixed[key])
		field.tags(true)
		return !field.bad
	})
}

// broker skips the NodeID, Host, Port, Rack, tags struct that every
// KIP-951 style broker list uses.
func (r *scanner) broker(flex bool) {
	r.skip(4)
	r.str(flex)
	r.skip(4)
	r.nullableStr(flex)
	r.tags(flex)
}

// brokersTag walks the top-level tag section of Produce and Fetch, whose
// field 0 is the Brokers list, and reports whether that field is present.
func (r *scanner) brokersTag() (found bool) {
	if len(r.src) > 0 && r.src[0] == 0 {
		r.src = r.src[1:]
		return false
	}
	r.someTags(func(key uint32, field scanner) bool {
		if key != 0 {
			return true
		}
		found = true
		for range field.array(true) {
			field.broker(true)
		}
		return !field.bad
	})
	return found
}
