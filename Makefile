# linkproxy: two commands for a new user, `make run` and `make test`.
GO        ?= go
PKGS      := ./...
# Short fuzz runs inside `make test`; `make fuzz` runs them longer.
FUZZTIME  ?= 4s
LONGFUZZ  ?= 2m
FUZZ_TARGETS := \
	./proxy/wire:FuzzReader \
	./proxy/wire:FuzzRequestHeader \
	./proxy/rewrite:FuzzResponse \
	./proxy/rewrite:FuzzClampApiVersions \
	./mirror/batch:FuzzSplit \
	./mirror/batch:FuzzRewrite

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

unit:
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s || exit 1; \
	done

## fuzz: the same fuzz targets, longer
fuzz:
	$(MAKE) fuzz-short FUZZTIME=$(LONGFUZZ)

## bench: proxy vs direct, and mirror engine vs a consume-produce loop; clusters in separate processes
bench: build
	$(GO) run ./bench/proxybench -linkproxy bin/linkproxy
	$(GO) run ./bench/mirrorbench -linkproxy bin/linkproxy

build:
	$(GO) build -o bin/linkproxy ./cmd/linkproxy
