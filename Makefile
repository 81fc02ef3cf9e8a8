# Vigil: rule-based network IDS for CommView mirror streams.
GO        ?= go
PKGS      := ./...
BIN       := bin/vigil
FUZZTIME  ?= 20s
# SIMD is GOEXPERIMENT=simd where the toolchain has it (Go 1.26 and on):
# build and bench then use rules/index's vectorised literal filter; empty
# otherwise (the default build, and the scalar filter).
SIMD      ?= $(shell GOEXPERIMENT=simd $(GO) list simd/archsimd >/dev/null 2>&1 && echo GOEXPERIMENT=simd)

.PHONY: build run test bench scale-bundle soak cluster cluster-bench fuzz lint clean

build: ## build bin/vigil
	$(SIMD) $(GO) build -o $(BIN) ./cmd/vigil

run: build ## listen for CommView on 127.0.0.1:5555 with embedded NATS and the default rules
	./$(BIN) run --data-dir .vigil-data

test: lint ## lint, then unit, integration and interoperability tests (fuzz seeds included), with the race detector
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	$(if $(SIMD),$(SIMD) $(GO) test -count=1 ./rules/index/...)

bench: ## performance table (PRODUCT.md §5): decode, 10..10,000 rules at GOMAXPROCS 1 and 2, vigil test on 1 M generated packets, live path, NATS
	GO=$(GO) $(SIMD) sh tools/bench.sh | tee bench.txt

scale-bundle: ## build .bundle/ (vigil, Suricata 7 with its libraries, peer rules) for tools/scale.sh, the scaling table on a machine without Go: copy it there, run `sh .bundle/scale.sh .bundle`
	GO=$(GO) $(SIMD) sh tools/scale-bundle.sh .bundle

soak: ## 10 minutes of vigil run against nats-server: 3 looping sensors, a reload every minute, one NATS restart; heap, goroutines and counters that must add up
	GO=$(GO) sh tools/soak.sh

cluster: ## a 3-node NATS cluster (embedded servers routed on loopback), one ingest and three evaluators: the alerts of one process, a reset back to its sensor, an evaluator killed mid-replay
	$(GO) test -count=1 -v -run 'TestSameAlerts|TestEvaluatorLost' ./cluster

cluster-bench: ## vigil run --role ingest and 1, 2, 4 --role evaluate processes on this machine: packets/s and the ratio to one
	GO=$(GO) sh tools/cluster.sh

fuzz: ## a short run of every fuzz target
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

lint: ## gofmt, go mod tidy, go vet, staticcheck
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) mod tidy -diff
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

clean:
	rm -rf bin .vigil-data bench.txt .bundle
