package link

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/linkproxy/linkproxy/conf/clientprops"
)

// Link configs of type PASSWORD (sasl.jaas.config, ssl.keystore.password,
// ...) are written to the state topic encrypted, as Kafka brokers encrypt
// dynamic password configs with password.encoder.secret: anyone who can
// read the state topic learns the link's settings but not its secrets.
// Without a secret, a link with a password config is refused rather than
// stored in clear text.
//
// The cipher is AES-256-GCM, its key derived from the secret with
// PBKDF2-HMAC-SHA512 and a random salt; the property name is the
// authenticated data, so a value cannot be moved to another property. A
// value decrypted with password.encoder.old.secret, or stored in clear
// text before a secret was set, is written again with the current secret
// when the service starts: Kafka's way of rotating the secret.

// encryptedPrefix marks an encrypted value in a stored link record.
const encryptedPrefix = "linkproxy-encrypted:v1:"

// PasswordEncoder encrypts the password configs of links in the state
// topic (Kafka's password.encoder.* broker properties).
type PasswordEncoder struct {
	secret, old []byte
	iterations  int

	mu   sync.Mutex
	salt []byte            // of keys made here for encrypting
	keys map[string][]byte // derived keys by secret index and salt
}

// NewPasswordEncoder returns an encoder for secret; old, if not empty, is
// the previous secret, tried when secret does not decrypt a value.
// iterations is password.encoder.iterations.
func NewPasswordEncoder(secret, old string, iterations int) (*PasswordEncoder, error) {
	if secret == "" {
		return nil, errors.New("password.encoder.secret is empty")
	}
	if iterations < 1024 {
		return nil, fmt.Errorf("password.encoder.iterations %d is below Kafka's minimum of 1024", iterations)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return &PasswordEncoder{
		secret: []byte(secret), old: []byte(old), iterations: iterations,
		salt: salt, keys: make(map[string][]byte),
	}, nil
}

func (e *PasswordEncoder) key(which int, salt []byte, iterations int) ([]byte, error) {
	id := strconv.Itoa(which) + "/" + strconv.Itoa(iterations) + "/" + string(salt)
	e.mu.Lock()
	defer e.mu.Unlock()
	if k, ok := e.keys[id]; ok {
		return k, nil
	}
	secret := e.secret
	if which == 1 {
		secret = e.old
	}
	k, err := pbkdf2.Key(sha512.New, string(secret), salt, iterations, 32)
	if err != nil {
		return nil, err
	}
	e.keys[id] = k
	return k, nil
}

func gcmFor(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// encrypt returns the stored form of the value of property name.
func (e *PasswordEncoder) encrypt(name, value string) (string, error) {
	key, err := e.key(0, e.salt, e.iterations)
	if err != nil {
		return "", err
	}
	aead, err := gcmFor(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := aead.Seal(nil, nonce, []byte(value), []byte(name))
	b64 := base64.StdEncoding.EncodeToString
	return encryptedPrefix + strconv.Itoa(e.iterations) + ":" + b64(e.salt) + ":" + b64(nonce) + ":" + b64(ct), nil
}

// errNotDecrypted is why a stored value could not be read back; it never
// holds the value.
var errNotDecrypted = errors.New("neither password.encoder.secret nor password.encoder.old.secret decrypts it: set the secret it was stored with as password.encoder.old.secret, or set the config again")

// decrypt reads a stored value back; stale reports that it was not
// encrypted with the current secret and should be written again.
func (e *PasswordEncoder) decrypt(name, stored string) (value string, stale bool, err error) {
	rest, ok := strings.CutPrefix(stored, encryptedPrefix)
	if !ok {
		return stored, true, nil // clear text, from before a secret was set
	}
	f := strings.Split(rest, ":")
	if len(f) != 4 {
		return "", false, errors.New("malformed encrypted value")
	}
	iterations, err := strconv.Atoi(f[0])
	if err != nil || iterations < 1 {
		return "", false, errors.New("malformed encrypted value: iteration count")
	}
	var parts [3][]byte
	for i := range parts {
		if parts[i], err = base64.StdEncoding.DecodeString(f[i+1]); err != nil {
			return "", false, errors.New("malformed encrypted value: base64")
		}
	}
	salt, nonce, ct := parts[0], parts[1], parts[2]
	for which := range 2 {
		if which == 1 && len(e.old) == 0 {
			break
		}
		key, err := e.key(which, salt, iterations)
		if err != nil {
			return "", false, err
		}
		aead, err := gcmFor(key)
		if err != nil {
			return "", false, err
		}
		if len(nonce) != aead.NonceSize() {
			return "", false, errors.New("malformed encrypted value: nonce size")
		}
		if pt, err := aead.Open(nil, nonce, ct, []byte(name)); err == nil {
			return string(pt), which == 1 || iterations != e.iterations, nil
		}
	}
	return "", false, errNotDecrypted
}

// isPassword reports whether a link config holds a secret.
func isPassword(name string) bool {
	d, ok := linkRegistry.Lookup(name)
	return ok && d.Type == clientprops.TypePassword
}

// sealConfigs returns the configs as stored: passwords encrypted. Without
// an encoder, a password config is refused, naming it but not its value.
func sealConfigs(enc *PasswordEncoder, link string, cfgs map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(cfgs))
	for k, v := range cfgs {
		if !isPassword(k) {
			out[k] = v
			continue
		}
		if enc == nil {
			return nil, badRequest("cluster link %q: %s is a password config, which linkproxy stores only encrypted in the state topic: set password.encoder.secret in [proxy]", link, k)
		}
		s, err := enc.encrypt(k, v)
		if err != nil {
			return nil, fmt.Errorf("cluster link %q: encrypting %s: %w", link, k, err)
		}
		out[k] = s
	}
	return out, nil
}

// openConfigs reads stored configs back. Values that cannot be decrypted
// are left out and reported by name; stale reports values to write again.
func openConfigs(enc *PasswordEncoder, cfgs map[string]string) (out map[string]string, stale bool, failed map[string]error) {
	out = make(map[string]string, len(cfgs))
	for k, v := range cfgs {
		if !isPassword(k) {
			out[k] = v
			continue
		}
		if enc == nil {
			if strings.HasPrefix(v, encryptedPrefix) {
				if failed == nil {
					failed = make(map[string]error)
				}
				failed[k] = errors.New("it is stored encrypted and password.encoder.secret is not set: set it in [proxy] to the secret it was stored with")
				continue
			}
			out[k] = v
			continue
		}
		pt, st, err := enc.decrypt(k, v)
		if err != nil {
			if failed == nil {
				failed = make(map[string]error)
			}
			failed[k] = err
			continue
		}
		stale = stale || st
		out[k] = pt
	}
	return out, stale, failed
}
