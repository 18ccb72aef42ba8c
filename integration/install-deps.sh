#!/usr/bin/env bash
# Installs the third-party Kafka clients that the integration tests drive:
#   - kcat (Debian package) when `kcat` is not on PATH;
#   - kafkajs@2.2.4 (npm) into <repo>/.deps/node when missing.
#   - MIT Kerberos (krb5-kdc, krb5-admin-server, krb5-user) and Cyrus SASL's
#     GSSAPI plugin (libsasl2-modules-gssapi-mit) for the GSSAPI tests;
#   - openssl, which README's certificate commands use.
# Idempotent: does nothing (quickly) when both are already present.
set -euo pipefail

KAFKAJS_VERSION="2.2.4"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_prefix="${repo_root}/.deps/node"

log() { echo "install-deps: $*"; }
die() { echo "install-deps: ERROR: $*" >&2; exit 1; }

# apt_install installs Debian packages, refreshing the package lists only
# when a first attempt fails (a fresh machine may have none yet).
apt_install() {
	command -v apt-get >/dev/null 2>&1 || die "$* missing and apt-get is not available; install it manually"
	local sudo_cmd=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || die "$* missing and we are not root (no sudo); install it manually"
		sudo_cmd=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	log "installing $*: apt-get install -y $*"
	if ! "${sudo_cmd[@]}" apt-get install -y -q "$@"; then
		log "install failed; running apt-get update and retrying"
		"${sudo_cmd[@]}" apt-get update -q || die "apt-get update failed"
		"${sudo_cmd[@]}" apt-get install -y -q "$@" || die "apt-get install -y $* failed"
	fi
}

# --- kcat -------------------------------------------------------------------
if command -v kcat >/dev/null 2>&1; then
	log "kcat already installed: $(command -v kcat)"
else
	apt_install kcat
	command -v kcat >/dev/null 2>&1 || die "kcat still not on PATH after install"
	log "kcat installed: $(command -v kcat)"
fi

# --- openssl (README's certificate commands, TestReadmeSecurityExample) ------
if command -v openssl >/dev/null 2>&1; then
	log "openssl already installed: $(command -v openssl)"
else
	apt_install openssl
fi

# --- MIT Kerberos (KDC, kadmin.local, kinit) for the GSSAPI tests -----------
# krb5kdc and kadmin.local live in /usr/sbin, which a non-root PATH may lack.
# libsasl2-modules-gssapi-mit is Cyrus SASL's GSSAPI plugin, which kcat's
# librdkafka loads for sasl.mechanisms=GSSAPI.
gssapi_plugin() { compgen -G "/usr/lib/*/sasl2/libgssapiv2.so*" >/dev/null; }
if [ -x /usr/sbin/krb5kdc ] && [ -x /usr/sbin/kadmin.local ] && command -v kinit >/dev/null 2>&1 && gssapi_plugin; then
	log "MIT Kerberos already installed: /usr/sbin/krb5kdc, $(command -v kinit), Cyrus SASL GSSAPI plugin"
else
	# krb5-admin-server's and krb5-kdc's postinst ask debconf questions;
	# noninteractive keeps the defaults, and the tests make their own realm.
	# The packages' scripts would start the KDC and kadmind as services;
	# a policy-rc.d that says no keeps a machine without a realm (or
	# without an init system) from failing the install. Ours only.
	policy=""
	if [ ! -e /usr/sbin/policy-rc.d ] && [ -w /usr/sbin ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy=/usr/sbin/policy-rc.d
		trap 'rm -f "$policy"' EXIT
	fi
	apt_install krb5-kdc krb5-admin-server krb5-user libsasl2-modules-gssapi-mit
	if [ -n "$policy" ]; then rm -f "$policy"; trap - EXIT; fi
	[ -x /usr/sbin/krb5kdc ] || die "krb5kdc still not in /usr/sbin after install"
	gssapi_plugin || die "the Cyrus SASL GSSAPI plugin (libgssapiv2.so) still missing after install"
	log "MIT Kerberos installed"
fi

# --- kafkajs ----------------------------------------------------------------
if [ -d "${node_prefix}/node_modules/kafkajs" ]; then
	log "kafkajs already installed in ${node_prefix}/node_modules/kafkajs"
else
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		apt_install nodejs npm
	fi
	mkdir -p "${node_prefix}"
	log "installing kafkajs@${KAFKAJS_VERSION}: npm install --prefix ${node_prefix}"
	(cd "${repo_root}" && npm install --prefix .deps/node --no-audit --no-fund "kafkajs@${KAFKAJS_VERSION}") \
		|| die "npm install kafkajs@${KAFKAJS_VERSION} failed"
	[ -d "${node_prefix}/node_modules/kafkajs" ] || die "kafkajs not found in ${node_prefix}/node_modules after install"
	log "kafkajs installed in ${node_prefix}/node_modules/kafkajs"
fi

log "done"
