package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Mechanism names, as Kafka spells them.
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// Mechanisms are the mechanisms this package implements.
var Mechanisms = []string{Plain, ScramSHA256, ScramSHA512, OAuthBearer, GSSAPI}

// Iteration bounds of SCRAM entries: Kafka's minimum for both SCRAM
// mechanisms and the maximum its kafka-configs tool accepts.
const (
	MinIterations     = 4096
	MaxIterations     = 16384
	DefaultIterations = 4096
)

// saltLen is the salt size of entries NewEntry makes.
const saltLen = 24

// hashFor returns the hash of a SCRAM mechanism, nil for any other.
func hashFor(mechanism string) func() hash.Hash {
	switch mechanism {
	case ScramSHA256:
		return sha256.New
	case ScramSHA512:
		return sha512.New
	}
	return nil
}

// Entry is one line of a credentials file: the SCRAM credential of a user
// for one mechanism.
type Entry struct {
	User       string
	Mechanism  string // ScramSHA256 or ScramSHA512
	Iterations int
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
}

// NewEntry salts and hashes password (its UTF-8 bytes, as Kafka hashes
// them) for user and a SCRAM mechanism, with a fresh random salt.
func NewEntry(user, mechanism string, password []byte, iterations int) (Entry, error) {
	if err := checkUser(user); err != nil {
		return Entry{}, err
	}
	if hashFor(mechanism) == nil {
		return Entry{}, fmt.Errorf("mechanism %q: entries are %s or %s (PLAIN passwords are checked against them)", mechanism, ScramSHA512, ScramSHA256)
	}
	if iterations < MinIterations || iterations > MaxIterations {
		return Entry{}, fmt.Errorf("iterations %d: use %d to %d, the bounds Kafka sets for SCRAM", iterations, MinIterations, MaxIterations)
	}
	if len(password) == 0 {
		return Entry{}, errors.New("empty password: Kafka refuses empty passwords")
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return Entry{}, err
	}
	stored, server, err := derive(mechanism, password, salt, iterations)
	if err != nil {
		return Entry{}, err
	}
	return Entry{User: user, Mechanism: mechanism, Iterations: iterations, Salt: salt, StoredKey: stored, ServerKey: server}, nil
}

// String is the entry's line, without a newline.
func (e Entry) String() string {
	b64 := base64.StdEncoding.EncodeToString
	return strings.Join([]string{e.User, e.Mechanism, strconv.Itoa(e.Iterations), b64(e.Salt), b64(e.StoredKey), b64(e.ServerKey)}, ":")
}

// derive computes a SCRAM credential's StoredKey and ServerKey from a
// password (RFC 5802 section 3).
func derive(mechanism string, password, salt []byte, iterations int) (storedKey, serverKey []byte, err error) {
	h := hashFor(mechanism)
	salted, err := pbkdf2.Key(h, string(password), salt, iterations, h().Size())
	if err != nil {
		return nil, nil, err
	}
	clientKey := hmacOf(h, salted, []byte("Client Key"))
	sum := h()
	sum.Write(clientKey)
	return sum.Sum(nil), hmacOf(h, salted, []byte("Server Key")), nil
}

func hmacOf(h func() hash.Hash, key, data []byte) []byte {
	m := hmac.New(h, key)
	m.Write(data)
	return m.Sum(nil)
}

func checkUser(user string) error {
	switch {
	case user == "":
		return errors.New("empty user name")
	case strings.HasPrefix(user, "#"):
		return errors.New("a user name may not start with '#', which starts a comment")
	case strings.ContainsFunc(user, unicode.IsControl):
		return errors.New("the user name holds a control character")
	}
	return nil
}

type userMech struct{ user, mechanism string }

// Credentials are the entries of a credentials file.
type Credentials struct {
	entries map[userMech]Entry
	// For users not in the file: a secret that derives their salt and
	// keys, and the iteration count and salt size most entries have.
	secret     []byte
	iterations map[string]int
	saltLen    int
	fakeMech   string // the SCRAM mechanism PLAIN fakes for unknown users
}

// Len is the number of entries.
func (c *Credentials) Len() int { return len(c.entries) }

// lookup returns the entry of user for a SCRAM mechanism.
func (c *Credentials) lookup(user, mechanism string) (Entry, bool) {
	e, ok := c.entries[userMech{user, mechanism}]
	return e, ok
}

// plainEntry returns the entry a PLAIN password of user is checked
// against: SCRAM-SHA-512, else SCRAM-SHA-256.
func (c *Credentials) plainEntry(user string) (Entry, bool) {
	if e, ok := c.lookup(user, ScramSHA512); ok {
		return e, true
	}
	return c.lookup(user, ScramSHA256)
}

// fake returns the entry an unknown user gets: stable for the name and
// the file, and matching no password.
func (c *Credentials) fake(user, mechanism string) Entry {
	seed := hmacOf(sha256.New, c.secret, []byte(mechanism+"\x00"+user))
	expand := func(label string, n int) []byte {
		return hmacOf(sha512.New, seed, []byte(label))[:n]
	}
	size := hashFor(mechanism)().Size()
	it := c.iterations[mechanism]
	if it == 0 {
		it = DefaultIterations
	}
	return Entry{User: user, Mechanism: mechanism, Iterations: it,
		Salt: expand("salt", c.saltLen), StoredKey: expand("stored", size), ServerKey: expand("server", size)}
}

// ParseCredentials reads a credentials file's contents (see the package
// documentation for the format). Errors name lines and fields, never the
// values, which are secret.
func ParseCredentials(data []byte) (*Credentials, error) {
	c := &Credentials{
		entries:    make(map[userMech]Entry),
		secret:     hmacOf(sha256.New, []byte("linkproxy sasl credentials"), data),
		iterations: make(map[string]int),
	}
	lineOf := make(map[userMech]int)
	counts := make(map[string]map[int]int) // mechanism → iterations → entries
	salts := make(map[int]int)             // salt size → entries
	var errs []error
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		e, err := parseEntry(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		k := userMech{e.User, e.Mechanism}
		if prev, dup := lineOf[k]; dup {
			errs = append(errs, fmt.Errorf("line %d: user %q has a %s entry on line %d already", n, e.User, e.Mechanism, prev))
			continue
		}
		lineOf[k] = n
		c.entries[k] = e
		if counts[e.Mechanism] == nil {
			counts[e.Mechanism] = make(map[int]int)
		}
		counts[e.Mechanism][e.Iterations]++
		salts[len(e.Salt)]++
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for mech, byIt := range counts {
		c.iterations[mech] = mostCommon(byIt)
	}
	c.saltLen = min(max(mostCommon(salts), 1), 64)
	if len(salts) == 0 {
		c.saltLen = saltLen
	}
	c.fakeMech = ScramSHA512
	if len(counts[ScramSHA256]) > 0 && len(counts[ScramSHA512]) == 0 {
		c.fakeMech = ScramSHA256
	}
	return c, nil
}

// mostCommon returns the key with the highest count, the smallest on a tie.
func mostCommon(m map[int]int) int {
	best, bestN := 0, 0
	for k, n := range m {
		if n > bestN || (n == bestN && k < best) {
			best, bestN = k, n
		}
	}
	return best
}

const entryFormat = "user:mechanism:iterations:salt:storedKey:serverKey"

func parseEntry(s string) (Entry, error) {
	// The user name may hold colons: the five fields after it cannot.
	parts := strings.Split(s, ":")
	if len(parts) < 6 {
		return Entry{}, fmt.Errorf("%d fields separated by ':', want 6: %s", len(parts), entryFormat)
	}
	k := len(parts) - 5
	f := parts[k:]
	e := Entry{User: strings.Join(parts[:k], ":"), Mechanism: f[0]}
	if err := checkUser(e.User); err != nil {
		return Entry{}, err
	}
	h := hashFor(e.Mechanism)
	if h == nil {
		return Entry{}, fmt.Errorf("user %q: mechanism %q: use %s or %s (PLAIN passwords are checked against these entries)", e.User, e.Mechanism, ScramSHA512, ScramSHA256)
	}
	it, err := strconv.Atoi(f[1])
	if err != nil || it < MinIterations || it > MaxIterations {
		return Entry{}, fmt.Errorf("user %q: iterations must be a number from %d to %d, the bounds Kafka sets for SCRAM", e.User, MinIterations, MaxIterations)
	}
	e.Iterations = it
	size := h().Size()
	for i, field := range []struct {
		name string
		dst  *[]byte
		size int // 0: any non-zero length
	}{{"salt", &e.Salt, 0}, {"storedKey", &e.StoredKey, size}, {"serverKey", &e.ServerKey, size}} {
		b, err := base64.StdEncoding.DecodeString(f[2+i])
		switch {
		case err != nil:
			return Entry{}, fmt.Errorf("user %q: %s is not standard base64", e.User, field.name)
		case len(b) == 0:
			return Entry{}, fmt.Errorf("user %q: %s is empty", e.User, field.name)
		case field.size > 0 && len(b) != field.size:
			return Entry{}, fmt.Errorf("user %q: %s is %d bytes; %s needs %d", e.User, field.name, len(b), e.Mechanism, field.size)
		}
		*field.dst = b
	}
	return e, nil
}

// File is a credentials file, re-read when it changes on disk so that
// users can be added or removed without a restart.
type File struct {
	path string

	mu      sync.Mutex
	cur     *Credentials
	stamp   fileStamp // of cur
	bad     fileStamp // a version that did not parse, not retried until it changes
	checked time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// recheck is how often File looks at the file's modification time.
const recheck = time.Second

// OpenFile reads the credentials file at path.
func OpenFile(path string) (*File, error) {
	f := &File{path: path}
	c, st, err := f.read()
	if err != nil {
		return nil, err
	}
	f.cur, f.stamp, f.checked = c, st, time.Now()
	return f, nil
}

// Path is the file's path.
func (f *File) Path() string { return f.path }

func (f *File) read() (*Credentials, fileStamp, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, fileStamp{}, err
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return nil, fileStamp{}, err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(fh); err != nil {
		return nil, fileStamp{}, fmt.Errorf("%s: %w", f.path, err)
	}
	c, err := ParseCredentials(buf.Bytes())
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("%s: %w", f.path, err)
	}
	return c, fileStamp{info.ModTime(), info.Size()}, nil
}

// Current returns the credentials in use. At most once a second it checks
// whether the file changed and re-reads it: reloaded reports a change
// taken; err a changed file that could not be read or parsed, reported
// once per change, the previous credentials staying in use.
func (f *File) Current() (c *Credentials, reloaded bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if now.Sub(f.checked) < recheck {
		return f.cur, false, nil
	}
	f.checked = now
	info, statErr := os.Stat(f.path)
	if statErr != nil {
		missing := fileStamp{size: -1}
		if f.bad == missing {
			return f.cur, false, nil
		}
		f.bad = missing
		return f.cur, false, statErr
	}
	st := fileStamp{info.ModTime(), info.Size()}
	if st == f.stamp || st == f.bad {
		return f.cur, false, nil
	}
	nc, nst, err := f.read()
	if err != nil {
		f.bad = st
		return f.cur, false, err
	}
	f.cur, f.stamp, f.bad = nc, nst, fileStamp{}
	return nc, true, nil
}
