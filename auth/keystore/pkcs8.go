package keystore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// Encrypted PKCS#8 private keys ("ENCRYPTED PRIVATE KEY" in PEM, RFC 5958)
// are what Kafka reads with ssl.key.password. Go's standard library parses
// PKCS#8 but cannot decrypt it, and neither go-pkcs12 nor keystore-go
// exports a decrypter, so this file implements the scheme every current
// tool writes: PBES2 (RFC 8018) with PBKDF2 and AES-CBC or 3DES-CBC. That
// covers OpenSSL's default (`openssl pkcs8 -topk8`: PBKDF2-HMAC-SHA256,
// AES-256-CBC), its -v2 choices, and Java's PBEWithHmacSHA*AndAES_*. The
// legacy PBES1 and PKCS#12 PBE schemes are refused with how to convert.

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	// PBES1 (pbeWith*, RFC 8018 A.3) and PKCS#12 PBE (RFC 7292 C) share
	// these prefixes.
	oidPBES1Prefix     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5}
	oidPKCS12PBEPrefix = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
)

type encryptedPrivateKeyInfo struct {
	Algo          pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"` // DEFAULT hmacWithSHA1
}

// errWrongKeyPassword is returned when decryption yields no key: a wrong
// password, almost always.
var errWrongKeyPassword = errors.New("wrong password: the private key does not decrypt with it")

// convertHint is how to turn an unsupported encrypted key into one that
// linkproxy (and Kafka) reads.
const convertHint = "re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out NEW`"

// decryptPKCS8 returns the DER PKCS#8 PrivateKeyInfo inside the DER
// EncryptedPrivateKeyInfo der. Errors never contain the password.
func decryptPKCS8(der []byte, password string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("not a valid encrypted PKCS#8 private key")
	}
	algo := info.Algo.Algorithm
	switch {
	case algo.Equal(oidPBES2):
	case hasPrefix(algo, oidPBES1Prefix), hasPrefix(algo, oidPKCS12PBEPrefix):
		return nil, fmt.Errorf("the key is encrypted with the legacy scheme %v (PBES1 or PKCS#12 PBE), which linkproxy does not read: %s", algo, convertHint)
	default:
		return nil, fmt.Errorf("the key is encrypted with an unknown scheme %v: %s", algo, convertHint)
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil || len(rest) > 0 {
		return nil, errors.New("the key's PBES2 parameters are malformed")
	}

	newCipher, keyLen, iv, err := pbes2Cipher(params.EncryptionScheme)
	if err != nil {
		return nil, err
	}
	key, err := pbes2Key(params.KeyDerivationFunc, password, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, fmt.Errorf("the key's cipher: %v", err)
	}
	data := info.EncryptedData
	bs := block.BlockSize()
	if len(data) == 0 || len(data)%bs != 0 || len(iv) != bs {
		return nil, errors.New("the encrypted key data is malformed")
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	// PKCS#7 padding: a wrong password leaves garbage here, nearly always.
	n := int(plain[len(plain)-1])
	if n == 0 || n > bs {
		return nil, errWrongKeyPassword
	}
	for _, b := range plain[len(plain)-n:] {
		if int(b) != n {
			return nil, errWrongKeyPassword
		}
	}
	return plain[:len(plain)-n], nil
}

func pbes2Cipher(scheme pkix.AlgorithmIdentifier) (newCipher func([]byte) (cipher.Block, error), keyLen int, iv []byte, err error) {
	switch a := scheme.Algorithm; {
	case a.Equal(oidAES128CBC):
		newCipher, keyLen = aes.NewCipher, 16
	case a.Equal(oidAES192CBC):
		newCipher, keyLen = aes.NewCipher, 24
	case a.Equal(oidAES256CBC):
		newCipher, keyLen = aes.NewCipher, 32
	case a.Equal(oidDESEDE3CBC):
		newCipher, keyLen = des.NewTripleDESCipher, 24
	default:
		return nil, 0, nil, fmt.Errorf("the key is encrypted with the cipher %v, which linkproxy does not read (AES-CBC and DES-EDE3-CBC only): %s", a, convertHint)
	}
	if rest, err := asn1.Unmarshal(scheme.Parameters.FullBytes, &iv); err != nil || len(rest) > 0 {
		return nil, 0, nil, errors.New("the key's cipher parameters (IV) are malformed")
	}
	return newCipher, keyLen, iv, nil
}

func pbes2Key(kdf pkix.AlgorithmIdentifier, password string, keyLen int) ([]byte, error) {
	switch {
	case kdf.Algorithm.Equal(oidPBKDF2):
	case kdf.Algorithm.Equal(oidScrypt):
		return nil, fmt.Errorf("the key is encrypted with an scrypt-derived key, which Kafka does not read either: %s", convertHint)
	default:
		return nil, fmt.Errorf("the key's key derivation %v is not PBKDF2: %s", kdf.Algorithm, convertHint)
	}
	var p pbkdf2Params
	if rest, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil || len(rest) > 0 {
		return nil, errors.New("the key's PBKDF2 parameters are malformed")
	}
	if p.KeyLength != 0 && p.KeyLength != keyLen {
		return nil, fmt.Errorf("the key's PBKDF2 key length %d does not fit its cipher (%d bytes)", p.KeyLength, keyLen)
	}
	// A bound against a file that would pin a CPU at start: OpenSSL
	// writes 2048 iterations, Java 10000, NIST asks for at least 1000.
	if p.Iterations < 1 || p.Iterations > 10_000_000 {
		return nil, fmt.Errorf("the key's PBKDF2 iteration count %d is out of range 1..10000000", p.Iterations)
	}
	var h func() hash.Hash
	switch prf := p.PRF.Algorithm; {
	case len(prf) == 0, prf.Equal(oidHMACSHA1):
		h = sha1.New
	case prf.Equal(oidHMACSHA224):
		h = sha256.New224
	case prf.Equal(oidHMACSHA256):
		h = sha256.New
	case prf.Equal(oidHMACSHA384):
		h = sha512.New384
	case prf.Equal(oidHMACSHA512):
		h = sha512.New
	default:
		return nil, fmt.Errorf("the key's PBKDF2 pseudo-random function %v is not HMAC-SHA1/224/256/384/512: %s", prf, convertHint)
	}
	key, err := pbkdf2.Key(h, password, p.Salt, p.Iterations, keyLen)
	if err != nil {
		return nil, fmt.Errorf("PBKDF2: %v", err) // parameters only, never the password
	}
	return key, nil
}

func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	return len(oid) > len(prefix) && oid[:len(prefix)].Equal(prefix)
}
