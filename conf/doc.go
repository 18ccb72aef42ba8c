// Package conf reads linkproxy's TOML configuration file.
//
// The file uses Kafka's own property names and defaults wherever Kafka has
// one. Anything wrong or not supported yet is refused when linkproxy
// starts, never ignored: Parse and Load report every problem at once, in
// file order, each naming the table, the key, its line and the reason:
//
//	conf: linkproxy.toml:3: [cluster] "bootstrap.servers": empty: set it to the upstream brokers, e.g. "10.0.0.1:9092"
//	conf: linkproxy.toml:12: [[listener]] #2 key "advertised_hostt": unknown key (did you mean "advertised_host"?)
//
// A complete file, with every key and its default:
//
//	# The Kafka cluster this proxy fronts. Besides name, the keys are Kafka
//	# client properties for the upstream connection (package clientprops):
//	# bootstrap.servers is required, the others default as in Kafka.
//	[cluster]
//	name = "west"
//	"bootstrap.servers" = "10.0.0.1:9092,10.0.0.2:9092"  # or an array of strings
//	"client.id" = "linkproxy"
//	"client.dns.lookup" = "use_all_dns_ips"  # or resolve_canonical_bootstrap_servers_only
//	"security.protocol" = "PLAINTEXT"        # or SSL, SASL_PLAINTEXT, SASL_SSL
//	"metadata.max.age.ms" = 300000
//	"request.timeout.ms" = 30000
//	"retry.backoff.ms" = 100
//	"retry.backoff.max.ms" = 1000
//	"reconnect.backoff.ms" = 50
//	"reconnect.backoff.max.ms" = 1000
//	"socket.connection.setup.timeout.ms" = 10000
//	"socket.connection.setup.timeout.max.ms" = 30000
//	"connections.max.idle.ms" = 540000
//	"send.buffer.bytes" = 131072    # -1: the OS default
//	"receive.buffer.bytes" = 65536  # -1: the OS default
//	# TLS, with security.protocol = "SSL". Stores are read at start, a
//	# problem reported with the property. Set to anything but its default,
//	# an ssl.* key is refused with PLAINTEXT.
//	"ssl.truststore.type" = "JKS"   # JKS, PKCS12 or PEM (either of the first two reads both)
//	# "ssl.truststore.location" = "/etc/kafka/truststore.jks"  # without one: the system's CAs
//	# "ssl.truststore.password" = "..."            # optional for JKS, as in Java
//	# "ssl.truststore.certificates" = "-----BEGIN CERTIFICATE-----..."  # PEM inline, with type PEM
//	"ssl.keystore.type" = "JKS"     # a client certificate, if the brokers ask for one
//	# "ssl.keystore.location" = "/etc/kafka/client.p12"
//	# "ssl.keystore.password" = "..."              # not with PEM
//	# "ssl.key.password" = "..."                   # the key's: a JKS entry's, or an encrypted PEM key's
//	# "ssl.keystore.key" = "-----BEGIN PRIVATE KEY-----..."  # PEM inline, with type PEM, and
//	# "ssl.keystore.certificate.chain" = "-----BEGIN CERTIFICATE-----..."
//	"ssl.endpoint.identification.algorithm" = "https"  # "": do not verify the broker's host name
//	"ssl.enabled.protocols" = "TLSv1.2,TLSv1.3"
//	"ssl.protocol" = "TLSv1.3"      # TLSv1.2: no TLS 1.3 even if enabled
//	# "ssl.cipher.suites" = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,..."  # Java names; default: Go's
//	"ssl.keymanager.algorithm" = "SunX509"  # only the Java defaults are accepted
//	"ssl.trustmanager.algorithm" = "PKIX"
//	# ssl.engine.factory.class, ssl.provider and ssl.secure.random.implementation
//	# are refused unless empty: Go's TLS has no Java classes to load.
//	# SASL, with security.protocol = "SASL_PLAINTEXT" or "SASL_SSL": the
//	# proxy authenticates each of its connections to the brokers as itself.
//	"sasl.mechanism" = "GSSAPI"     # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER or GSSAPI
//	# "sasl.jaas.config" = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="linkproxy" password="...";'
//	# "sasl.kerberos.service.name" = "kafka"       # GSSAPI: the brokers' Kerberos service name
//	"sasl.kerberos.kinit.cmd" = "/usr/bin/kinit"
//	"sasl.kerberos.min.time.before.relogin" = 60000
//	"sasl.kerberos.ticket.renew.jitter" = 0.05
//	"sasl.kerberos.ticket.renew.window.factor" = 0.8
//	# "sasl.oauthbearer.token.endpoint.url" = "https://idp.example.com/oauth2/token"  # OAUTHBEARER client credentials
//	"sasl.oauthbearer.scope.claim.name" = "scope"
//	"sasl.oauthbearer.sub.claim.name" = "sub"
//	"sasl.login.refresh.buffer.seconds" = 300
//	"sasl.login.refresh.min.period.seconds" = 60
//	"sasl.login.refresh.window.factor" = 0.8
//	"sasl.login.refresh.window.jitter" = 0.05
//	"sasl.login.retry.backoff.ms" = 100
//	"sasl.login.retry.backoff.max.ms" = 10000
//	# sasl.client.callback.handler.class, sasl.login.class and
//	# sasl.login.callback.handler.class are refused: there are no Java classes.
//
//	# Proxy-wide settings; the table and each key are optional.
//	[proxy]
//	"socket.request.max.bytes" = 104857600  # largest request accepted, as the Kafka broker property
//	"connections.max.idle.ms" = 600000      # idle client connections are closed, as the Kafka broker property
//	max_inflight_requests = 100             # per client connection
//	passthrough_api_keys = []               # vendor API keys forwarded unparsed beyond the header, 0..32767
//	log_level = "info"                      # trace, debug, info, warn or error
//	# "password.encoder.secret" = "..."     # encrypts link passwords in the state topic; required for links with any
//	# "password.encoder.old.secret" = "..." # the previous secret while rotating
//	"password.encoder.iterations" = 4096
//
//	# Where clients connect; at least one. Clients bootstrap from listen;
//	# the broker with node ID N is served on broker_port_base + N, on the
//	# host of listen, and advertised to clients as advertised_host.
//	[[listener]]
//	name = "EXTERNAL"             # unique, upper case like Kafka listener names
//	listen = "0.0.0.0:19092"      # IP or host name, and a non-zero port
//	advertised_host = "proxy.example.com"  # defaults to the host of listen; required if that is 0.0.0.0 or ::
//	"security.protocol" = "PLAINTEXT"      # the default; or SSL, SASL_PLAINTEXT, SASL_SSL (see README, Security)
//	broker_port_base = 19100      # defaults to the listen port + 1
//
//	[[listener]]
//	name = "INTERNAL"
//	listen = "127.0.0.1:29092"    # brokers on 29093 + node ID, advertised as 127.0.0.1
//
// Dotted keys may be quoted, as above, or bare: bootstrap.servers = "..."
// means the same as "bootstrap.servers" = "...". Numbers of Kafka
// properties may also be written as strings ("5000").
package conf
