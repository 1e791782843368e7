# Whole-program scan benchmark: Zeek corpus, 10k and 1M indicator sets with
# planted hits, whodunit scan (one core, two cores) beside ripgrep -F, GNU
# grep -F, cat and wc -l in the same run. See bench/run.sh.
#   make bench-scan BENCH_SIZE=200MB               synthetic corpus
#   make bench-real BENCH_SIZE=1GB                 real ../shared/data logs replicated
BENCH_SIZE ?= 1GB
BENCH_DIR ?= $(or $(TMPDIR),/tmp)/whodunit-bench
BENCH_CORPUS ?= synthetic

.PHONY: bench-scan bench-real
bench-scan:
	BENCH_SIZE=$(BENCH_SIZE) BENCH_DIR=$(BENCH_DIR) BENCH_CORPUS=$(BENCH_CORPUS) bash bench/run.sh

bench-real:
	BENCH_SIZE=$(BENCH_SIZE) BENCH_DIR=$(BENCH_DIR) BENCH_CORPUS=real bash bench/run.sh
