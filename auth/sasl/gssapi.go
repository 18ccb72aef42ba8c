package sasl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// GSSAPI is Kafka's name for SASL/GSSAPI with Kerberos V5 (RFC 4752).
const GSSAPI = "GSSAPI"

// Kerberos is a listener's GSSAPI acceptor: its service keytab and
// principal, and the rules that map client principals to user names.
type Kerberos struct {
	settings  *service.Settings
	principal string // the service principal; "*": any in the keytab
	rules     *KerberosRules
}

// NewKerberos accepts tickets for principal ("kafka/host@REALM", or "*"
// for any principal in the keytab, as Java's Krb5LoginModule allows on
// acceptors), decrypting them with kt. Clients' principals are mapped with
// rules (nil: DEFAULT for the principal's realm).
func NewKerberos(kt *keytab.Keytab, principal string, rules *KerberosRules) (*Kerberos, error) {
	opts := []func(*service.Settings){service.DecodePAC(false)}
	realm := ""
	if principal != "*" {
		name, r, ok := strings.Cut(principal, "@")
		if !ok || name == "" || r == "" {
			return nil, fmt.Errorf("service principal %q: write it as service/host@REALM", principal)
		}
		realm = r
		pn := types.NewPrincipalName(0, name)
		if _, _, err := kt.GetEncryptionKey(pn, realm, 0, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
			if _, _, err2 := kt.GetEncryptionKey(pn, realm, 0, etypeID.AES128_CTS_HMAC_SHA1_96); err2 != nil {
				return nil, fmt.Errorf("the keytab has no AES key for %s: export one with kadmin (ktadd -k FILE %s)", principal, name)
			}
		}
		opts = append(opts, service.KeytabPrincipal(name))
	}
	if rules == nil {
		rules, _ = ParseKerberosRules(realm, nil)
	}
	return &Kerberos{settings: service.NewSettings(kt, opts...), principal: principal, rules: rules}, nil
}

// DefaultRealm is the default_realm of krb5.conf (KRB5_CONFIG, else
// /etc/krb5.conf), which Kafka's DEFAULT rule strips, or fallback when
// there is none. Java reads java.security.krb5.conf instead.
func DefaultRealm(fallback string) string {
	path := "/etc/krb5.conf"
	if env := os.Getenv("KRB5_CONFIG"); env != "" {
		path, _, _ = strings.Cut(env, ":")
	}
	if c, err := config.Load(path); err == nil && c.LibDefaults.DefaultRealm != "" {
		return c.LibDefaults.DefaultRealm
	}
	return fallback
}

// LoadKeytab reads a keytab file.
func LoadKeytab(path string) (*keytab.Keytab, error) {
	kt, err := keytab.Load(path)
	if err != nil {
		return nil, fmt.Errorf("keytab %s: %w", path, err)
	}
	return kt, nil
}

// RFC 4752 security layers; Kafka offers only "no security layer" (its
// listeners get integrity and privacy from TLS).
const (
	layerNone = 0x01
	// maxReceive is what Java's GssKrb5Server announces by default
	// (javax.security.sasl.maxbuffer); it means nothing without a layer.
	maxReceive = 65536
)

// gssapiAuth is the acceptor side of one exchange, in the steps Java's
// GssKrb5Server takes: the AP-REQ, answered with an AP-REP if the client
// asked for mutual authentication (the client then sends an empty token)
// or else directly with the security-layer offer; then the client's wrapped
// choice of layer.
type gssapiAuth struct {
	k     *Kerberos
	stage int
	key   types.EncryptionKey // per-message key (RFC 4121 section 2)
	seq   uint64              // the acceptor's sequence number
	peer  string              // the client's principal, once verified
	user  string
}

// newAuthenticator starts a GSSAPI exchange against k.
func (k *Kerberos) newAuthenticator() Authenticator { return &gssapiAuth{k: k} }

func (a *gssapiAuth) Mechanism() string { return GSSAPI }
func (a *gssapiAuth) User() string      { return a.user }

func (a *gssapiAuth) fail(reason string) *Error {
	return &Error{Reason: reason, User: a.user}
}

func (a *gssapiAuth) Step(token []byte) (out []byte, done bool, err error) {
	// gokrb5 parses the client's bytes before anything is verified; a
	// panic in it must fail this exchange, not the proxy.
	defer func() {
		if r := recover(); r != nil {
			out, done, err = nil, false, a.fail(fmt.Sprintf("GSSAPI: malformed token (%v)", r))
		}
	}()
	a.stage++
	switch a.stage {
	case 1:
		return a.accept(token)
	case 2:
		if len(token) != 0 {
			return nil, false, a.fail("GSSAPI: the client sent data after the AP-REP; it should have sent an empty token")
		}
		out, err := a.offer()
		return out, false, err
	case 3:
		return a.choice(token)
	}
	return nil, false, a.fail("GSSAPI token after the exchange ended")
}

// cfxEtypes are the enctypes whose per-message tokens are RFC 4121's,
// which this acceptor speaks; older ones (DES, 3DES, RC4) use RFC 1964's.
var cfxEtypes = map[int32]bool{
	etypeID.AES128_CTS_HMAC_SHA1_96:    true,
	etypeID.AES256_CTS_HMAC_SHA1_96:    true,
	etypeID.AES128_CTS_HMAC_SHA256_128: true,
	etypeID.AES256_CTS_HMAC_SHA384_192: true,
}

func (a *gssapiAuth) accept(token []byte) ([]byte, bool, error) {
	var t spnego.KRB5Token
	if err := t.Unmarshal(token); err != nil {
		return nil, false, a.fail("GSSAPI: the client's first token is not a Kerberos V5 context token: " + err.Error())
	}
	if !t.IsAPReq() {
		return nil, false, a.fail("GSSAPI: the client's first token is not an AP-REQ")
	}
	ok, creds, err := service.VerifyAPREQ(&t.APReq, a.k.settings)
	if err != nil || !ok {
		reason := "AP-REQ not valid"
		if err != nil {
			reason = err.Error()
		}
		// Most often a ticket for another service principal, or a
		// keytab whose key version the KDC has since changed.
		return nil, false, a.fail(fmt.Sprintf("GSSAPI: refused the client's ticket for %s: %s", a.k.principal, reason))
	}
	a.peer = creds.CName().PrincipalNameString() + "@" + creds.Domain()
	auth := t.APReq.Authenticator
	a.key = t.APReq.Ticket.DecryptedEncPart.Key
	if auth.SubKey.KeyType != 0 {
		a.key = auth.SubKey // RFC 4121 4.2.2: the initiator's subkey, as no acceptor subkey is sent
	}
	if !cfxEtypes[a.key.KeyType] {
		return nil, false, a.fail(fmt.Sprintf("GSSAPI: client %s uses encryption type %d; linkproxy accepts AES (RFC 4121) keys only: configure the KDC or client for aes256-cts-hmac-sha1-96", a.peer, a.key.KeyType))
	}
	a.seq = uint64(uint32(auth.SeqNumber))

	mutual := types.IsFlagSet(&t.APReq.APOptions, flags.APOptionMutualRequired)
	if auth.Cksum.CksumType == chksumtype.GSSAPI && len(auth.Cksum.Checksum) >= 24 {
		mutual = mutual || binary.LittleEndian.Uint32(auth.Cksum.Checksum[20:24])&gssapi.ContextFlagMutual != 0
	}
	if !mutual {
		a.stage = 2
		out, err := a.offer()
		return out, false, err
	}
	rep, err := apRep(auth, t.APReq.Ticket.DecryptedEncPart.Key)
	if err != nil {
		return nil, false, a.fail("GSSAPI: building the AP-REP: " + err.Error())
	}
	return rep, false, nil
}

// encAPRepPart is EncAPRepPart without the subkey, which gokrb5's type
// would marshal empty.
type encAPRepPart struct {
	CTime          time.Time `asn1:"generalized,explicit,tag:0"`
	Cusec          int       `asn1:"explicit,tag:1"`
	SequenceNumber int64     `asn1:"optional,explicit,tag:3"`
}

// apRep is the GSS context token holding the KRB_AP_REP (RFC 4120 5.5.2)
// that answers auth: its time, and the authenticator's sequence number as
// ours, encrypted in the ticket's session key.
func apRep(auth types.Authenticator, sessionKey types.EncryptionKey) ([]byte, error) {
	part, err := asn1.Marshal(encAPRepPart{CTime: auth.CTime, Cusec: auth.Cusec, SequenceNumber: int64(uint32(auth.SeqNumber))})
	if err != nil {
		return nil, err
	}
	part = asn1tools.AddASNAppTag(part, asnAppTag.EncAPRepPart)
	enc, err := crypto.GetEncryptedData(part, sessionKey, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, err
	}
	rep, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: enc})
	if err != nil {
		return nil, err
	}
	rep = asn1tools.AddASNAppTag(rep, asnAppTag.APREP)
	oid, err := asn1.Marshal(gssapi.OIDKRB5.OID())
	if err != nil {
		return nil, err
	}
	body := append(append(oid, 0x02, 0x00), rep...) // TOK_ID KRB_AP_REP
	return asn1tools.AddASNAppTag(body, 0), nil
}

// offer is the server's wrapped security-layer message (RFC 4752 3.3).
func (a *gssapiAuth) offer() ([]byte, error) {
	payload := []byte{layerNone, maxReceive >> 16 & 0xff, maxReceive >> 8 & 0xff, maxReceive & 0xff}
	et, err := crypto.GetEtype(a.key.KeyType)
	if err != nil {
		return nil, a.fail("GSSAPI: " + err.Error())
	}
	wt := gssapi.WrapToken{
		Flags:     0x01, // SentByAcceptor; no sealing, no acceptor subkey
		EC:        uint16(et.GetHMACBitLength() / 8),
		SndSeqNum: a.seq,
		Payload:   payload,
	}
	if err := wt.SetCheckSum(a.key, keyusage.GSSAPI_ACCEPTOR_SEAL); err != nil {
		return nil, a.fail("GSSAPI: wrapping the security-layer offer: " + err.Error())
	}
	b, err := wt.Marshal()
	if err != nil {
		return nil, a.fail("GSSAPI: wrapping the security-layer offer: " + err.Error())
	}
	return b, nil
}

// choice checks the client's wrapped answer: the layer it chose, its
// maximum size and an optional authorization id, which Kafka ignores (its
// callback authorizes the authenticated principal itself).
func (a *gssapiAuth) choice(token []byte) ([]byte, bool, error) {
	payload, err := unwrap(token, a.key)
	if err != nil {
		return nil, false, a.fail(fmt.Sprintf("GSSAPI: the security-layer answer of %s: %v", a.peer, err))
	}
	if len(payload) < 4 {
		return nil, false, a.fail("GSSAPI: the security-layer answer is shorter than 4 bytes")
	}
	if payload[0] != layerNone {
		return nil, false, a.fail(fmt.Sprintf("GSSAPI: %s chose security layer %#x; Kafka listeners offer only none (0x01): use TLS (SASL_SSL) for integrity and privacy", a.peer, payload[0]))
	}
	user, err := a.k.rules.ShortName(a.peer)
	if err != nil {
		return nil, false, a.fail("GSSAPI: " + err.Error())
	}
	a.user = user
	return []byte{}, true, nil
}

// unwrap verifies an initiator's RFC 4121 Wrap token without
// confidentiality and returns its payload.
func unwrap(token []byte, key types.EncryptionKey) ([]byte, error) {
	if len(token) >= gssapi.HdrLen {
		if token[2]&0x02 != 0 {
			return nil, errors.New("the token is sealed (confidentiality), which no Kafka security layer uses")
		}
		// Undo the right rotation (RRC) some initiators apply.
		if rrc := int(binary.BigEndian.Uint16(token[6:8])); rrc != 0 {
			body := token[gssapi.HdrLen:]
			if len(body) == 0 {
				return nil, errors.New("empty wrap token")
			}
			rrc %= len(body)
			rotated := append(append([]byte{}, body[rrc:]...), body[:rrc]...)
			token = append(append([]byte{}, token[:gssapi.HdrLen]...), rotated...)
		}
	}
	var wt gssapi.WrapToken
	if err := wt.Unmarshal(token, false); err != nil {
		return nil, err
	}
	if ok, _ := wt.Verify(key, keyusage.GSSAPI_INITIATOR_SEAL); !ok {
		return nil, errors.New("wrap token checksum does not verify")
	}
	return wt.Payload, nil
}
