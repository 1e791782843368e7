# Embedded geolocation database (internal/geo/data). `make geo-refresh`
# packs the openly licensed ip-location-db packages with npm into a
# temporary directory (never committed), rebuilds geo.bin.gz and NOTICE with
# internal/geo/gen, and runs the geo tests. Pin a version with e.g.
#   make geo-refresh GEO_ASN_PKG=@ip-location-db/asn@2.3.2026061719
GEO_COUNTRY_PKG  ?= @ip-location-db/geo-whois-asn-country
GEO_REGISTRY_PKG ?= @ip-location-db/asn-country
GEO_ASN_PKG      ?= @ip-location-db/asn
GEO_DATA_DIR     ?= internal/geo/data

.PHONY: geo-refresh
geo-refresh:
	@command -v npm >/dev/null || { echo "geo-refresh: npm is needed" >&2; exit 1; }
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	c=$$(cd "$$tmp" && npm pack --silent '$(GEO_COUNTRY_PKG)' | tail -n 1); \
	r=$$(cd "$$tmp" && npm pack --silent '$(GEO_REGISTRY_PKG)' | tail -n 1); \
	a=$$(cd "$$tmp" && npm pack --silent '$(GEO_ASN_PKG)' | tail -n 1); \
	go run ./internal/geo/gen -country "$$tmp/$$c" -registry "$$tmp/$$r" -asn "$$tmp/$$a" \
		-out $(GEO_DATA_DIR)/geo.bin.gz -notice $(GEO_DATA_DIR)/NOTICE; \
	go test ./internal/geo/...
