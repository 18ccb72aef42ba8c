package conf

// ListenerTLS is how a TLS listener (SSL, SASL_SSL) serves TLS.
type ListenerTLS struct{}

// tlsListenerKeys are the [[listener]] keys parseListenerTLS reads.
var tlsListenerKeys []string

// parseListenerTLS reads the TLS keys of a listener: required on TLS
// listeners, refused on the others.
func parseListenerTLS(errs *errorList, at place, flat map[string]any, l *Listener) {}
