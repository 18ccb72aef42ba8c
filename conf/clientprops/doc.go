// Package clientprops is linkproxy's one parser of Kafka client properties,
// shared by the proxy's upstream connection ([cluster] in the config file)
// and, later, every cluster link.
//
// A [Registry] holds property definitions ([Def]): Kafka's name, type and
// default, a validation, and whether linkproxy supports the property yet.
// Known but unsupported properties are refused with the
// reason rather than ignored. security.protocol SSL and the ssl.*
// properties give TLS (tls.go), its key and trust stores read at parse
// time with package auth/keystore. SASL_PLAINTEXT and SASL_SSL with
// sasl.mechanism and sasl.jaas.config (Java's JAAS syntax, jaas.go) give
// SASL (sasl.go): PLAIN, SCRAM-SHA-256/512, OAUTHBEARER with a client
// credentials token endpoint (oauth.go) and GSSAPI (kerberos.go); the
// proxy's raw connections authenticate in Dialer (saslauth.go), franz-go
// clients with kgo.SASL. [Client] is the registry of client
// properties; callers extend it with [Registry.With]:
//
//	links := clientprops.Client.With(clientprops.Def{
//		Name: "link.mode", Type: clientprops.TypeString, Default: "destination",
//		Validate: clientprops.OneOf("destination", "bidirectional"),
//	})
//	props, errs := links.Parse(table)
//
// Values may be written the Java way or the TOML way: 5000 or "5000" for
// numbers, true or "true" for booleans, "a:9092,b:9092" or
// ["a:9092", "b:9092"] for lists. Errors are [*Error] values naming the
// property; the conf package adds the position in the file. Password values
// never appear in errors, [Props.Redacted] or any fmt output of [Props].
//
// [Props.KgoOpts], [Props.Dialer] and [Backoff] turn the properties into
// what linkproxy's upstream connections run with.
package clientprops
