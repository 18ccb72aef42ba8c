package clientprops

import (
	"errors"

	"github.com/twmb/franz-go/pkg/sasl"
)

// kerberosMechanism is GSSAPI for a Krb5LoginModule sasl.jaas.config.
func kerberosMechanism(opts map[string]string, p *Props) (sasl.Mechanism, error) {
	return nil, errors.New("GSSAPI is not implemented yet")
}
