# Whole-program scan benchmark: synthetic Zeek corpus, 10k and 1M indicator
# sets with planted hits, whodunit scan vs ripgrep. See bench/run.sh.
#   make bench-scan BENCH_SIZE=200MB
BENCH_SIZE ?= 1GB
BENCH_DIR ?= $(or $(TMPDIR),/tmp)/whodunit-bench

.PHONY: bench-scan
bench-scan:
	BENCH_SIZE=$(BENCH_SIZE) BENCH_DIR=$(BENCH_DIR) bash bench/run.sh
