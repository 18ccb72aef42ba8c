package conf

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/linkproxy/linkproxy/conf/internal/tomlval"
)

// The [proxy] keys. The dotted ones are Kafka broker properties with
// Kafka's defaults; the others are linkproxy's own.
const (
	keySocketRequestMaxBytes = "socket.request.max.bytes"
	keyConnectionsMaxIdle    = "connections.max.idle.ms"
	keyMaxInflight           = "max_inflight_requests"
	keyPassthroughAPIKeys    = "passthrough_api_keys"
	keyLogLevel              = "log_level"
	keyEncoderSecret         = "password.encoder.secret"
	keyEncoderOldSecret      = "password.encoder.old.secret"
	keyEncoderIterations     = "password.encoder.iterations"
)

// Kafka's password.encoder properties that pick the cipher: linkproxy's is
// fixed (mirror/link/secrets.go), so they are refused rather than ignored.
var encoderFixed = []string{
	"password.encoder.cipher.algorithm", "password.encoder.key.length", "password.encoder.keyfactory.algorithm",
}

var (
	proxyKeys = []string{keyConnectionsMaxIdle, keyLogLevel, keyMaxInflight, keyPassthroughAPIKeys,
		keyEncoderIterations, keyEncoderOldSecret, keyEncoderSecret, keySocketRequestMaxBytes}
	logLevels = []string{"trace", "debug", "info", "warn", "error"}
)

func defaultProxy() Proxy {
	return Proxy{
		SocketRequestMaxBytes:     104857600,
		ConnectionsMaxIdle:        600000 * time.Millisecond,
		MaxInflightRequests:       100,
		LogLevel:                  "info",
		PasswordEncoderIterations: 4096,
	}
}

func parseProxy(errs *errorList, v any) Proxy {
	p := defaultProxy()
	if v == nil {
		return p
	}
	m, ok := v.(map[string]any)
	if !ok {
		errs.add(topLevel, "proxy", "must be a table: write [proxy]")
		return p
	}
	flat, dups := flatten(m)
	for _, key := range dups {
		errs.add(proxyPlace, key, "set twice, once quoted and once as dotted keys")
	}
	for _, key := range sortedKeys(flat) {
		val := flat[key]
		var err error
		switch key {
		case keySocketRequestMaxBytes:
			var n int64
			if n, err = asIntIn(val, 1, math.MaxInt32); err == nil {
				p.SocketRequestMaxBytes = int32(n)
			}
		case keyConnectionsMaxIdle:
			var n int64
			if n, err = asIntIn(val, 1, math.MaxInt64/int64(time.Millisecond)); err == nil {
				p.ConnectionsMaxIdle = time.Duration(n) * time.Millisecond
			}
		case keyMaxInflight:
			var n int64
			if n, err = asIntIn(val, 1, math.MaxInt32); err == nil {
				p.MaxInflightRequests = int(n)
			}
		case keyPassthroughAPIKeys:
			p.PassthroughAPIKeys, err = parseAPIKeys(val)
		case keyLogLevel:
			p.LogLevel, err = parseLogLevel(val)
		case keyEncoderSecret, keyEncoderOldSecret:
			sec, isString := val.(string)
			if !isString {
				err = fmt.Errorf("expected a string, got %s", tomlval.Describe(val, false))
			} else if sec == "" {
				err = fmt.Errorf("empty: give a secret of at least 16 characters, or remove %s", key)
			} else if len(sec) < 16 {
				err = fmt.Errorf("too short (%d characters): give at least 16, as it is the only key to the link passwords in the state topic", len(sec))
			}
			if err == nil && key == keyEncoderSecret {
				p.PasswordEncoderSecret = sec
			} else if err == nil {
				p.PasswordEncoderOldSecret = sec
			}
		case keyEncoderIterations:
			var n int64
			if n, err = asIntIn(val, 1024, math.MaxInt32); err == nil {
				p.PasswordEncoderIterations = int(n)
			}
		default:
			if slices.Contains(encoderFixed, key) {
				err = fmt.Errorf("not supported: linkproxy encrypts link passwords with AES-256-GCM and a PBKDF2-HMAC-SHA512 key, which is not configurable; remove %s", key)
				break
			}
			err = fmt.Errorf("%s", unknownKey(key, proxyKeys))
		}
		if err != nil {
			errs.add(proxyPlace, key, "%v", err)
		}
	}
	if _, set := flat[keyEncoderSecret]; !set && p.PasswordEncoderOldSecret != "" {
		errs.add(proxyPlace, keyEncoderOldSecret, "set without %s: the old secret only decrypts what the current one then encrypts again; set %s", keyEncoderSecret, keyEncoderSecret)
	}
	return p
}

func parseAPIKeys(v any) ([]int16, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected an array of integers, e.g. [1000, 1001], got %s", tomlval.Describe(v, true))
	}
	var keys []int16
	seen := make(map[int64]bool)
	var problems []string
	for i, e := range arr {
		n, err := asIntIn(e, 0, math.MaxInt16)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("element %d: %v", i+1, err))
		case seen[n]:
			problems = append(problems, fmt.Sprintf("element %d: %d is listed twice", i+1, n))
		default:
			seen[n] = true
			keys = append(keys, int16(n))
		}
	}
	if problems != nil {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return keys, nil
}

func parseLogLevel(v any) (string, error) {
	s, err := asString(v)
	if err != nil {
		return "", err
	}
	for _, l := range logLevels {
		if strings.EqualFold(s, l) {
			return l, nil
		}
	}
	return "", fmt.Errorf("%q is not a log level: use one of %s", s, strings.Join(logLevels, ", "))
}
