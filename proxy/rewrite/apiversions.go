package rewrite

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// unsupportedVersion is UNSUPPORTED_VERSION. A broker that cannot parse an
// ApiVersions request version answers with it in v0 format (KIP-511), so
// that any client can read the answer.
const unsupportedVersion int16 = 35

// ClampApiVersions rewrites an ApiVersions response body so that the client
// only negotiates versions the proxy can handle: each key's MaxVersion
// becomes min(broker max, allowed max); keys allowed rejects, and keys whose
// clamped max falls below their min, are removed. Everything else, features
// included, is kept.
//
// A body that does not decode at version, or that decodes with
// UNSUPPORTED_VERSION, is read (and written back) in v0 format, which is how
// brokers answer request versions they do not know. For a version kmsg does
// not know, only such a v0 UNSUPPORTED_VERSION answer is accepted.
//
// As with Response, out is body itself when nothing changed, and otherwise
// the re-encoded body appended to dst, which must not share memory with body.
func ClampApiVersions(version int16, body []byte, allowed func(key int16) (maxVersion int16, ok bool), dst []byte) ([]byte, error) {
	resp, err := decodeApiVersions(version, body)
	if err != nil {
		return nil, fmt.Errorf("clamping ApiVersions v%d response: %w", version, err)
	}

	changed := false
	kept := resp.ApiKeys[:0]
	for _, k := range resp.ApiKeys {
		allowedMax, ok := allowed(k.ApiKey)
		if !ok {
			changed = true
			continue
		}
		if k.MaxVersion > allowedMax {
			k.MaxVersion = allowedMax
			changed = true
		}
		if k.MaxVersion < k.MinVersion {
			changed = true
			continue
		}
		kept = append(kept, k)
	}
	if !changed {
		return body, nil
	}
	resp.ApiKeys = kept
	return resp.AppendTo(dst), nil
}

func decodeApiVersions(version int16, body []byte) (kmsg.ApiVersionsResponse, error) {
	v0 := kmsg.ApiVersionsResponse{Version: 0}
	if !KnownVersion(apiVersionsKey, version) {
		// A version kmsg does not know is one the proxy cannot read; the
		// only answer it can handle is the broker not knowing it either.
		if decodeApiVersionsAt(&v0, body) == nil && v0.ErrorCode == unsupportedVersion {
			return v0, nil
		}
		return v0, ErrUnsupported
	}
	resp := kmsg.ApiVersionsResponse{Version: version}
	err := decodeApiVersionsAt(&resp, body)
	if version > 0 && (err != nil || resp.ErrorCode == unsupportedVersion) {
		if decodeApiVersionsAt(&v0, body) == nil {
			return v0, nil
		}
	}
	return resp, err
}

func decodeApiVersionsAt(resp *kmsg.ApiVersionsResponse, body []byte) error {
	if err := scanApiVersions(resp.Version, body); err != nil {
		return err
	}
	return decode(resp, body)
}
