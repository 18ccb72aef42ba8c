package sasl

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

const testRealm = "TEST.REALM"

func testKeytab(t testing.TB, password string, principals ...string) *keytab.Keytab {
	t.Helper()
	kt := keytab.New()
	for _, p := range principals {
		if err := kt.AddEntry(p, testRealm, password, time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
			t.Fatal(err)
		}
	}
	return kt
}

// initiator is what a Kerberos client puts in its first GSSAPI token.
type initiator struct {
	client   string // e.g. "alice"
	service  string // e.g. "kafka/localhost"
	mutual   bool
	subkey   bool
	flagOnly bool // ask for mutual auth with the GSS checksum flag only
	kt       *keytab.Keytab
}

// token forges the AP-REQ a KDC-issued ticket would carry, encrypted with
// the service key in i.kt, and returns it with the per-message key and the
// authenticator.
func (i initiator) token(t testing.TB) ([]byte, types.EncryptionKey, types.EncryptionKey, types.Authenticator) {
	t.Helper()
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, i.client)
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_INST, i.service)
	now := time.Now().UTC()
	tkt, session, err := messages.NewTicket(cname, testRealm, sname, testRealm, types.NewKrbFlags(), i.kt,
		etypeID.AES256_CTS_HMAC_SHA1_96, 1, now, now, now.Add(time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := types.NewAuthenticator(testRealm, cname)
	if err != nil {
		t.Fatal(err)
	}
	cksum := make([]byte, 24)
	binary.LittleEndian.PutUint32(cksum, 16)
	gssFlags := uint32(gssapi.ContextFlagInteg | gssapi.ContextFlagConf)
	if i.mutual || i.flagOnly {
		gssFlags |= gssapi.ContextFlagMutual
	}
	binary.LittleEndian.PutUint32(cksum[20:], gssFlags)
	auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: cksum}
	key := session
	if i.subkey {
		if err := auth.GenerateSeqNumberAndSubKey(etypeID.AES256_CTS_HMAC_SHA1_96, 32); err != nil {
			t.Fatal(err)
		}
		key = auth.SubKey
	}
	req, err := messages.NewAPReq(tkt, session, auth)
	if err != nil {
		t.Fatal(err)
	}
	if i.mutual {
		types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	oid, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	return asn1tools.AddASNAppTag(append(append(oid, 1, 0), b...), 0), key, session, auth
}

// wrapAnswer checks the server's security-layer offer and answers it with
// layer, as franz-go's and Java's clients do.
func wrapAnswer(t testing.TB, offer []byte, key types.EncryptionKey, layer byte) []byte {
	t.Helper()
	var wt gssapi.WrapToken
	if err := wt.Unmarshal(offer, true); err != nil {
		t.Fatalf("offer: %v", err)
	}
	if ok, err := wt.Verify(key, keyusage.GSSAPI_ACCEPTOR_SEAL); !ok {
		t.Fatalf("offer does not verify: %v", err)
	}
	if !bytes.Equal(wt.Payload, []byte{0x01, 0x01, 0x00, 0x00}) {
		t.Fatalf("offer payload %x, want 01010000 (no layer, 65536)", wt.Payload)
	}
	answer := append([]byte{layer}, wt.Payload[1:]...)
	answer = append(answer, "alice"...) // an authzid, which Kafka ignores
	rt, err := gssapi.NewInitiatorWrapToken(answer, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGSSAPI(t *testing.T) {
	svc := "kafka/localhost"
	kt := testKeytab(t, "service secret", svc, "kafka/otherhost")
	rules, err := ParseKerberosRules(testRealm, []string{"RULE:[1:$1@$0](admin@.*)s/.*/root/", "DEFAULT"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKerberos(kt, svc+"@"+testRealm, rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		in       initiator
		layer    byte
		wantUser string
		wantErr  string // in the failure's Reason
	}{
		{name: "no mutual, session key (franz-go)", in: initiator{client: "alice", service: svc}, layer: 1, wantUser: "alice"},
		{name: "mutual via AP option, subkey (MIT, Java)", in: initiator{client: "alice", service: svc, mutual: true, subkey: true}, layer: 1, wantUser: "alice"},
		{name: "mutual via GSS flag", in: initiator{client: "alice", service: svc, flagOnly: true}, layer: 1, wantUser: "alice"},
		{name: "rule maps the principal", in: initiator{client: "admin", service: svc}, layer: 1, wantUser: "root"},
		{name: "ticket for another service", in: initiator{client: "alice", service: "kafka/otherhost"}, wantErr: "refused the client's ticket"},
		{name: "ticket encrypted with another key", in: initiator{client: "alice", service: svc, kt: testKeytab(t, "old secret", svc)}, wantErr: "refused the client's ticket"},
		{name: "client asks for integrity", in: initiator{client: "alice", service: svc}, layer: 2, wantErr: "chose security layer 0x2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.kt == nil {
				tc.in.kt = kt
			}
			tok, key, session, auth := tc.in.token(t)
			a, err := NewAuthenticator(GSSAPI, Verifiers{Kerberos: k})
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := a.Step(tok)
			if err == nil && (tc.in.mutual || tc.in.flagOnly) {
				checkAPRep(t, out, session, auth)
				out, done, err = a.Step(nil)
			}
			if err == nil {
				if done {
					t.Fatal("done before the security layer exchange")
				}
				_, done, err = a.Step(wrapAnswer(t, out, key, tc.layer))
			}
			if tc.wantErr != "" {
				e, ok := IsError(err)
				if !ok || !strings.Contains(e.Reason, tc.wantErr) {
					t.Fatalf("err %v, want an *Error with %q", err, tc.wantErr)
				}
				if a.User() != "" {
					t.Fatalf("User %q after a failure", a.User())
				}
				return
			}
			if err != nil || !done {
				t.Fatalf("done %v, err %v", done, err)
			}
			if a.User() != tc.wantUser {
				t.Fatalf("User %q, want %q", a.User(), tc.wantUser)
			}
			if _, _, err := a.Step(nil); err == nil {
				t.Fatal("a token after the end was accepted")
			}
		})
	}
}

// checkAPRep decrypts the AP-REP as the initiator does and checks it
// echoes the authenticator's time and sequence number.
func checkAPRep(t *testing.T, out []byte, session types.EncryptionKey, auth types.Authenticator) {
	t.Helper()
	var tok spnego.KRB5Token
	if err := tok.Unmarshal(out); err != nil || !tok.IsAPRep() {
		t.Fatalf("answer to a mutual AP-REQ is not an AP-REP token: %v", err)
	}
	plain, err := crypto.DecryptEncPart(tok.APRep.EncPart, session, keyusage.AP_REP_ENCPART)
	if err != nil {
		t.Fatal(err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		t.Fatal(err)
	}
	if !part.CTime.Equal(auth.CTime.Truncate(time.Second)) || part.Cusec != auth.Cusec || part.SequenceNumber != int64(uint32(auth.SeqNumber)) {
		t.Fatalf("AP-REP part %+v does not echo the authenticator (%v, %d, %d)", part, auth.CTime, auth.Cusec, auth.SeqNumber)
	}
}

func TestGSSAPIReplay(t *testing.T) {
	kt := testKeytab(t, "service secret", "kafka/localhost")
	k, err := NewKerberos(kt, "kafka/localhost@"+testRealm, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _, _ := initiator{client: "alice", service: "kafka/localhost", kt: kt}.token(t)
	if _, _, err := k.newAuthenticator().Step(tok); err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.newAuthenticator().Step(tok); err == nil || !strings.Contains(err.Error(), "replay") {
		t.Fatalf("a replayed AP-REQ: err %v, want a replay refusal", err)
	}
}

func TestNewKerberos(t *testing.T) {
	kt := testKeytab(t, "pw", "kafka/localhost")
	for _, tc := range []struct{ principal, wantErr string }{
		{"kafka/localhost@" + testRealm, ""},
		{"*", ""},
		{"kafka/otherhost@" + testRealm, "no AES key for kafka/otherhost@"},
		{"kafka/localhost", "service/host@REALM"},
	} {
		_, err := NewKerberos(kt, tc.principal, nil)
		if (tc.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err %v, want %q", tc.principal, err, tc.wantErr)
		}
	}
}

func FuzzGSSAPI(f *testing.F) {
	kt := testKeytab(f, "service secret", "kafka/localhost")
	k, err := NewKerberos(kt, "kafka/localhost@"+testRealm, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range []initiator{
		{client: "alice", service: "kafka/localhost", kt: kt},
		{client: "alice", service: "kafka/localhost", kt: kt, mutual: true, subkey: true},
	} {
		tok, key, _, _ := in.token(f)
		a := k.newAuthenticator()
		offer, _, err := a.Step(tok)
		if err != nil {
			f.Fatal(err)
		}
		if in.mutual {
			if offer, _, err = a.Step(nil); err != nil {
				f.Fatal(err)
			}
		}
		// The answer's key differs from the fresh exchange's: the seed
		// reaches the checksum check, not past it.
		f.Add(tok, []byte{}, wrapAnswer(f, offer, key, 1))
	}
	f.Fuzz(func(t *testing.T, first, second, third []byte) {
		a := k.newAuthenticator()
		for _, tok := range [][]byte{first, second, third} {
			_, done, err := a.Step(tok)
			if err != nil {
				if _, ok := IsError(err); !ok {
					t.Fatalf("error %T is not an *Error", err)
				}
				return
			}
			if done {
				if a.User() == "" {
					t.Fatal("done without a user")
				}
				return
			}
		}
	})
}
