package keystore

import (
	"crypto/tls"
	"reflect"
	"strings"
	"testing"
)

func TestParseProtocol(t *testing.T) {
	for in, want := range map[string]uint16{"TLSv1.3": tls.VersionTLS13, "tlsv1.2": tls.VersionTLS12, "TLS": tls.VersionTLS13} {
		if got, err := ParseProtocol(in); err != nil || got != want {
			t.Errorf("ParseProtocol(%q) = %v, %v", in, got, err)
		}
	}
	for in, want := range map[string]string{"TLSv1.1": "disabled in current JVMs", "SSLv3": "disabled", "DTLS": "not a TLS protocol"} {
		if _, err := ParseProtocol(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseProtocol(%q): %v, want %q", in, err, want)
		}
	}
}

func TestProtocolVersions(t *testing.T) {
	for _, tt := range []struct {
		in     []string
		lo, hi uint16
		err    string
	}{
		{in: []string{"TLSv1.2", "TLSv1.3"}, lo: tls.VersionTLS12, hi: tls.VersionTLS13},
		{in: []string{"TLSv1.3"}, lo: tls.VersionTLS13, hi: tls.VersionTLS13},
		{in: []string{"tlsv1.2"}, lo: tls.VersionTLS12, hi: tls.VersionTLS12},
		{in: []string{"TLSv1.3", "TLSv1.2"}, lo: tls.VersionTLS12, hi: tls.VersionTLS13},
		{in: []string{"TLSv1.1", "TLSv1.2", "TLS1.3"}, err: `not supported: TLSv1.1 (disabled in current JVMs), "TLS1.3" (not a TLS protocol)`},
		{in: nil, err: "empty"},
	} {
		lo, hi, err := ProtocolVersions(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || lo != tt.lo || hi != tt.hi {
			t.Errorf("%v: %x..%x, %v", tt.in, lo, hi, err)
		}
	}
}

func TestParseCipherSuites(t *testing.T) {
	s, ok, err := ParseCipherSuites([]string{
		"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "tls_ecdhe_ecdsa_with_aes_128_gcm_sha256",
		"TLS_EMPTY_RENEGOTIATION_INFO_SCSV", "TLS_RSA_WITH_AES_128_GCM_SHA256",
		"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", // twice
	})
	want := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
	if err != nil || !ok || !reflect.DeepEqual(s.TLS12, want) || s.TLS13 {
		t.Errorf("got %+v %v %v", s, ok, err)
	}
	// A list without TLS 1.3 suites turns TLS 1.3 off, as in Java.
	if lo, hi, err := s.Versions(tls.VersionTLS12, tls.VersionTLS13); err != nil || lo != tls.VersionTLS12 || hi != tls.VersionTLS12 {
		t.Errorf("Versions: %x..%x %v", lo, hi, err)
	}
	if _, _, err := s.Versions(tls.VersionTLS13, tls.VersionTLS13); err == nil || !strings.Contains(err.Error(), "no suite listed is usable with the enabled protocols (TLSv1.3)") {
		t.Errorf("Versions TLS 1.3 only: %v", err)
	}

	s, ok, err = ParseCipherSuites([]string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"})
	if err != nil || !ok || !s.TLS13 || s.TLS12 != nil {
		t.Errorf("TLS 1.3 suites: %+v %v", s, err)
	}
	if lo, hi, err := s.Versions(tls.VersionTLS12, tls.VersionTLS13); err != nil || lo != tls.VersionTLS13 || hi != tls.VersionTLS13 {
		t.Errorf("Versions: %x..%x %v", lo, hi, err)
	}

	if _, ok, err := ParseCipherSuites(nil); ok || err != nil {
		t.Errorf("empty list: %v %v", ok, err)
	}
	// Java's SSL_ aliases map to the TLS_ names.
	if _, _, err := ParseCipherSuites([]string{"SSL_RSA_WITH_3DES_EDE_CBC_SHA"}); err == nil || !strings.Contains(err.Error(), "insecure and disabled in Java too: SSL_RSA_WITH_3DES_EDE_CBC_SHA") {
		t.Errorf("3DES: %v", err)
	}
	for in, want := range map[string]string{
		"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256": "not implemented by linkproxy's TLS (Go's): TLS_DHE_RSA_WITH_AES_128_GCM_SHA256; it implements TLS_ECDHE_",
		"TLS_AES_128_GCM_SHA256":              "lists some TLS 1.3 suites but not all",
		"TLS_ECDHE_RSA_WITH_RC4_128_SHA":      "insecure",
	} {
		if _, _, err := ParseCipherSuites([]string{in}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

func TestDecryptPKCS8Malformed(t *testing.T) {
	for name, der := range map[string][]byte{
		"empty":   nil,
		"garbage": []byte("garbage"),
	} {
		if _, err := decryptPKCS8(der, "pw"); err == nil || !strings.Contains(err.Error(), "not a valid encrypted PKCS#8") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
