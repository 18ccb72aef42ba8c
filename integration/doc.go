// Package integration holds linkproxy's end-to-end tests: in-process kfake
// clusters, the proxy in front, and real clients (franz-go, Sarama, kcat,
// kafkajs) driven through it. Run them with `make test`, which installs
// kcat and kafkajs first.
package integration
