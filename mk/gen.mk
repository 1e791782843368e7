# Generated files. `make gen` rebuilds every generated file whose inputs are
# in this repository or in the shared data directory (DATA, default
# ../shared/data); `make gen-check` runs it and fails when a generated file
# differs from what is committed (CI runs it). Every generator writes the
# same bytes for the same input. Without DATA the generators are skipped,
# loudly, and gen-check checks nothing.
#
# Not rebuilt here, because their inputs are npm packages that are not in
# the repository and CI cannot fetch: internal/geo/data/geo.bin.gz and
# internal/geo/data/NOTICE (make geo-refresh, mk/geo.mk) and
# internal/report/worldmap/shapes_gen.go (make worldmap-refresh, mk/report.mk).
# The verbatim copies of upstream files in examples/intel (apt1.json, the
# APT1 .dat files, the OpenIOC files, the warninglists) are copies, not
# generated.
DATA ?= ../shared/data
ATTACK_GROUPS ?= G0006,G0007,G0022,G0005,G0025,G0026,G0013,G0085
GALAXY_VALUES ?= APT1,APT28

# What `make gen` writes; gen-check compares exactly these with git.
GENERATED := \
	examples/intel/attack-subset.json.gz \
	examples/intel/misp-galaxy-threat-actor-subset.json \
	examples/telemetry \
	examples/telemetry-manifest.json.gz \
	internal/behavior/bigram_table.go

.PHONY: gen gen-check
gen:
	@if [ ! -d '$(DATA)' ]; then \
		echo "WARNING: gen: $(DATA) is absent; no generated file was rebuilt" >&2; exit 0; fi; \
	set -ex; \
	$(GO) run ./tools/attack-subset -groups $(ATTACK_GROUPS) -out examples/intel/attack-subset.json.gz \
		'$(DATA)/intel/attack/enterprise-attack.json.gz'; \
	$(GO) run ./tools/galaxy-subset -values $(GALAXY_VALUES) '$(DATA)/intel/misp-galaxy/threat-actor.json' \
		> examples/intel/misp-galaxy-threat-actor-subset.json.tmp; \
	mv examples/intel/misp-galaxy-threat-actor-subset.json.tmp examples/intel/misp-galaxy-threat-actor-subset.json; \
	$(GO) run ./tools/demo-data -shared '$(DATA)' -out examples/telemetry; \
	$(GO) run ./internal/behavior/internal/genbigram \
		-list '$(DATA)/intel/misp-warninglists/lists/cloudflare-top100k/list.json' -out internal/behavior/bigram_table.go

# Untracked files under the generated paths count as a difference too.
gen-check: gen
	@git diff --stat --exit-code -- $(GENERATED) || \
		{ echo "gen-check: generated files differ from the committed ones; run make gen and commit them" >&2; exit 1; }
	@new=$$(git ls-files --others --exclude-standard -- $(GENERATED)); \
	if [ -n "$$new" ]; then echo "gen-check: generated but not committed: $$new" >&2; exit 1; fi
	@echo "gen-check: generated files are up to date"
