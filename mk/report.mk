# World map of the HTML report (internal/report/worldmap). `make
# worldmap-refresh` packs the world-atlas npm package (TopoJSON of Natural
# Earth's admin-0 countries) into a temporary directory (never committed) and
# regenerates shapes_gen.go with internal/report/worldmap/gen.
WORLDMAP_PKG ?= world-atlas@2.0.2
WORLDMAP_DIR ?= internal/report/worldmap

.PHONY: worldmap-refresh
worldmap-refresh:
	@command -v npm >/dev/null || { echo "worldmap-refresh: npm is needed" >&2; exit 1; }
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	p=$$(cd "$$tmp" && npm pack --silent '$(WORLDMAP_PKG)' | tail -n 1); \
	tar -xzf "$$tmp/$$p" -C "$$tmp"; \
	go run ./$(WORLDMAP_DIR)/gen -in "$$tmp/package/countries-110m.json" \
		-source "$(WORLDMAP_PKG), Natural Earth admin-0 countries 1:110m" -out $(WORLDMAP_DIR)/shapes_gen.go; \
	go test ./$(WORLDMAP_DIR)/...
