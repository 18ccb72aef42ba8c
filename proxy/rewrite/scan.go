package rewrite

// Per-API walks, field by field in the order kmsg decodes them (see
// scanner). Comments name the fields that are skipped.

// Sizes of the tagged structs kmsg decodes in partitions.
var (
	// DivergingEpoch (int32, int64), CurrentLeader (int32, int32),
	// SnapshotID (int64, int32).
	fetchPartitionTags = []int{12, 8, 12}
	// CurrentLeader (int32, int32).
	producePartitionTags = []int{8}
)

// scanFetch validates a Fetch response and reports whether it carries the
// Brokers tag. Only flexible versions can.
func scanFetch(version int16, body []byte) (brokers bool, err error) {
	r := newScanner(body)
	flex := version >= 12
	if version >= 1 {
		r.skip(4) // throttle
	}
	if version >= 7 {
		r.skip(2 + 4) // error code, session id
	}
	for range r.array(flex) {
		if version <= 12 {
			r.str(flex) // topic
		}
		if version >= 13 {
			r.skip(16) // topic id
		}
		for range r.array(flex) {
			r.skip(4 + 2 + 8) // partition, error code, high watermark
			if version >= 4 {
				r.skip(8) // last stable offset
			}
			if version >= 5 {
				r.skip(8) // log start offset
			}
			if version >= 4 {
				for range r.array(flex) { // aborted transactions
					r.skip(8 + 8)
					r.tags(flex)
				}
			}
			if version >= 11 {
				r.skip(4) // preferred read replica
			}
			r.nullableBytes(flex) // records
			if flex {
				r.fixedTags(fetchPartitionTags)
			}
			if r.bad {
				return false, r.err()
			}
		}
		r.tags(flex)
	}
	if flex {
		brokers = r.brokersTag()
	}
	return brokers, r.err()
}

// scanProduce validates a Produce response and reports whether it carries
// the Brokers tag. Only flexible versions can.
func scanProduce(version int16, body []byte) (brokers bool, err error) {
	r := newScanner(body)
	flex := version >= 9
	for range r.array(flex) {
		if version <= 12 {
			r.str(flex) // topic
		}
		if version >= 13 {
			r.skip(16) // topic id
		}
		for range r.array(flex) {
			r.skip(4 + 2 + 8) // partition, error code, base offset
			if version >= 2 {
				r.skip(8) // log append time
			}
			if version >= 5 {
				r.skip(8) // log start offset
			}
			if version >= 8 {
				for range r.array(flex) { // record errors
					r.skip(4) // relative offset
					r.nullableStr(flex)
					r.tags(flex)
				}
				r.nullableStr(flex) // error message
			}
			if flex {
				r.fixedTags(producePartitionTags)
			}
			if r.bad {
				return false, r.err()
			}
		}
		r.tags(flex)
	}
	if version >= 1 {
		r.skip(4) // throttle
	}
	if flex {
		brokers = r.brokersTag()
	}
	return brokers, r.err()
}

func scanMetadata(version int16, body []byte) error {
	r := newScanner(body)
	flex := version >= 9
	if version >= 3 {
		r.skip(4) // throttle
	}
	for range r.array(flex) {
		r.skip(4)   // node id
		r.str(flex) // host
		r.skip(4)   // port
		if version >= 1 {
			r.nullableStr(flex) // rack
		}
		r.tags(flex)
	}
	if version >= 2 {
		r.nullableStr(flex) // cluster id
	}
	if version >= 1 {
		r.skip(4) // controller id
	}
	for range r.array(flex) {
		r.skip(2) // error code
		if version < 12 {
			r.str(flex)
		} else {
			r.nullableStr(flex)
		}
		if version >= 10 {
			r.skip(16) // topic id
		}
		if version >= 1 {
			r.skip(1) // is internal
		}
		for range r.array(flex) {
			r.skip(2 + 4 + 4) // error code, partition, leader
			if version >= 7 {
				r.skip(4) // leader epoch
			}
			r.int32s(flex) // replicas
			r.int32s(flex) // isr
			if version >= 5 {
				r.int32s(flex) // offline replicas
			}
			r.tags(flex)
			if r.bad {
				return r.err()
			}
		}
		if version >= 8 {
			r.skip(4) // authorized operations
		}
		r.tags(flex)
	}
	if version >= 8 && version <= 10 {
		r.skip(4) // cluster authorized operations
	}
	if version >= 13 {
		r.skip(2) // error code
	}
	r.tags(flex)
	return r.err()
}

func scanFindCoordinator(version int16, body []byte) error {
	r := newScanner(body)
	flex := version >= 3
	if version >= 1 {
		r.skip(4) // throttle
	}
	if version <= 3 {
		r.skip(2) // error code
		if version >= 1 {
			r.nullableStr(flex) // error message
		}
		r.skip(4)   // node id
		r.str(flex) // host
		r.skip(4)   // port
	} else {
		for range r.array(flex) {
			r.str(flex)         // key
			r.skip(4)           // node id
			r.str(flex)         // host
			r.skip(4 + 2)       // port, error code
			r.nullableStr(flex) // error message
			r.tags(flex)
		}
	}
	r.tags(flex)
	return r.err()
}

func scanDescribeCluster(version int16, body []byte) error {
	r := newScanner(body)
	r.skip(4 + 2)       // throttle, error code
	r.nullableStr(true) // error message
	if version >= 1 {
		r.skip(1) // endpoint type
	}
	r.str(true) // cluster id
	r.skip(4)   // controller id
	for range r.array(true) {
		r.skip(4)           // node id
		r.str(true)         // host
		r.skip(4)           // port
		r.nullableStr(true) // rack
		if version >= 2 {
			r.skip(1) // is fenced
		}
		r.tags(true)
	}
	r.skip(4) // cluster authorized operations
	r.tags(true)
	return r.err()
}

func scanShareFetch(version int16, body []byte) error {
	r := newScanner(body)
	r.skip(4 + 2)       // throttle, error code
	r.nullableStr(true) // error message
	if version >= 1 {
		r.skip(4) // acquisition lock timeout
	}
	for range r.array(true) {
		r.skip(16) // topic id
		for range r.array(true) {
			r.skip(4 + 2)       // partition, error code
			r.nullableStr(true) // error message
			r.skip(2)           // acknowledge error code
			r.nullableStr(true) // acknowledge error message
			r.skip(4 + 4)       // current leader: id, epoch
			r.tags(true)
			r.nullableBytes(true) // records
			for range r.array(true) {
				r.skip(8 + 8 + 2) // first, last offset, delivery count
				r.tags(true)
			}
			r.tags(true)
			if r.bad {
				return r.err()
			}
		}
		r.tags(true)
	}
	for range r.array(true) {
		r.broker(true)
	}
	r.tags(true)
	return r.err()
}

func scanShareAcknowledge(version int16, body []byte) error {
	r := newScanner(body)
	r.skip(4 + 2)       // throttle, error code
	r.nullableStr(true) // error message
	if version >= 2 {
		r.skip(4) // acquisition lock timeout
	}
	for range r.array(true) {
		r.skip(16) // topic id
		for range r.array(true) {
			r.skip(4 + 2)       // partition, error code
			r.nullableStr(true) // error message
			r.skip(4 + 4)       // current leader: id, epoch
			r.tags(true)
			r.tags(true)
			if r.bad {
				return r.err()
			}
		}
		r.tags(true)
	}
	for range r.array(true) {
		r.broker(true)
	}
	r.tags(true)
	return r.err()
}

func scanApiVersions(version int16, body []byte) error {
	r := newScanner(body)
	flex := version >= 3
	r.skip(2) // error code
	for range r.array(flex) {
		r.skip(2 + 2 + 2) // key, min, max
		r.tags(flex)
	}
	if version >= 1 {
		r.skip(4) // throttle
	}
	if flex {
		r.someTags(func(key uint32, field scanner) bool {
			switch key {
			case 0, 2: // supported features, finalized features
				for range field.array(true) {
					field.str(true)
					field.skip(2 + 2)
					field.tags(true)
				}
			case 1: // finalized features epoch
				field.skip(8)
			case 3: // zk migration ready
				field.skip(1)
			}
			return !field.bad
		})
	}
	return r.err()
}
