# linkproxy: two commands for a new user, `make run` and `make test`.
SHELL     := /bin/bash
GO        ?= go
PKGS      := ./...
# Short fuzz runs inside `make test` count executions (package:target:count,
# sized to a few seconds each): a duration budget races Go's fuzz
# coordinator at its deadline and fails with "context deadline exceeded" and
# no crasher (golang/go#75804, fixed in Go 1.27). `make fuzz` runs every
# target for LONGFUZZ instead, and may show that flake at its end.
LONGFUZZ  ?= 2m
FUZZ_TARGETS := \
	./proxy/wire:FuzzReader:100000 \
	./proxy/wire:FuzzRequestHeader:100000 \
	./proxy/rewrite:FuzzResponse:80000 \
	./proxy/rewrite:FuzzClampApiVersions:50000 \
	./mirror/batch:FuzzSplit:15000 \
	./mirror/batch:FuzzRewrite:30000 \
	./proxy:FuzzGuardWalk:30000 \
	./proxy:FuzzGuardSplit:30000 \
	./proxy:FuzzAuthzWalk:30000 \
	./auth/sasl:FuzzAuthenticators:30000 \
	./auth/sasl:FuzzGSSAPI:30000 \
	./conf/clientprops:FuzzParseJAAS:30000 \
	./auth/principal:FuzzDistinguishedName:30000 \
	./auth/principal:FuzzParseRules:30000

.PHONY: run test deps vet unit fuzz-short fuzz bench build

## run: the embedded demo: a dev cluster, the proxy in front, live status
run:
	$(GO) run ./cmd/linkproxy demo

## test: install test dependencies, vet, run the whole suite with -race, short fuzz
test: deps vet unit fuzz-short

deps:
	bash integration/install-deps.sh

vet:
	$(GO) vet $(PKGS)

# LINKPROXY_REQUIRE_KDC: the Kerberos tests fail, rather than skip, when
# deps did not install the MIT KDC.
unit:
	LINKPROXY_REQUIRE_KDC=1 $(GO) test -race -count=1 -timeout 12m $(PKGS)

fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
		IFS=: read -r pkg fn n <<< "$$t"; \
		echo "fuzz $$pkg $$fn ($${FUZZTIME:-$${n}x})"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime "$${FUZZTIME:-$${n}x}" -fuzzminimizetime 1s || exit 1; \
	done

## fuzz: the same fuzz targets, LONGFUZZ each
fuzz:
	FUZZTIME=$(LONGFUZZ) $(MAKE) fuzz-short

## bench: proxy vs direct, and mirror engine vs a consume-produce loop; clusters in separate processes
bench: build
	$(GO) run ./bench/proxybench -linkproxy bin/linkproxy
	$(GO) run ./bench/mirrorbench -linkproxy bin/linkproxy

build:
	$(GO) build -o bin/linkproxy ./cmd/linkproxy
