# whodunit — build, test, benchmark, fuzz, demo. Also, from mk/*.mk:
# lint (gofmt, go vet, staticcheck), gen and gen-check (generated files),
# bench-scan, eval, geo-refresh and worldmap-refresh.
GO      ?= go
FUZZTIME ?= 10s
BIN     := bin/whodunit

.PHONY: build test bench bench-go fuzz demo vet fmt clean

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/whodunit

# The whole test suite: vet, then every test with the race detector.
# The allocation test of the warninglists runs once more without the race
# detector, which blurs the allocation counts of regex lists.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 40m ./...
	$(GO) test -count=1 -run TestNoAllocOnMiss ./internal/intel/warninglist/

# Micro-benchmarks of every package, then the whole-program scan benchmark
# (mk/bench.mk; BENCH_SIZE=1GB by default).
bench: bench-go bench-scan
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A short run of every fuzz target (FUZZTIME each).
fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz-all.sh

demo:
	$(GO) run ./cmd/whodunit demo

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

clean:
	rm -rf bin whodunit-demo

-include mk/*.mk
