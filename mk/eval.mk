# make eval: behavioural analytics on the labelled Stratosphere captures
# (needs the shared data directory beside the repository, or DATA=path).
# Prints precision and recall per dataset and whether each target is met:
# first with the defaults (MISP warninglists, the project's vendor lists, the
# embedded geo data for destinations' autonomous systems), then with the
# example site allowlist as well. Fails when a target is not met.
DATA ?= ../shared/data
EVAL_ALLOWLIST ?= internal/behavior/eval/testdata/site.allow

.PHONY: eval eval-bench
eval:
	go run ./cmd/whodunit-eval -data $(DATA)
	@echo
	go run ./cmd/whodunit-eval -data $(DATA) -details=false -allowlist $(EVAL_ALLOWLIST)

# the scale benchmark: 10 million conn records over 100,000 pairs
# (BEHAVIOR_BENCH_EVENTS / BEHAVIOR_BENCH_PAIRS make it smaller)
eval-bench:
	go test ./internal/behavior -run '^$$' -bench Conn10M -benchtime 1x
