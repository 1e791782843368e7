# make lint: formatting, go vet and staticcheck over the whole module; it
# fails on any finding. staticcheck is pinned (0.8.2 is the release for Go
# 1.26) and installed by scripts/staticcheck.sh into GOBIN or GOPATH/bin
# when missing. Checks are staticcheck's defaults (no staticcheck.conf).
STATICCHECK_VERSION ?= v0.8.2

.PHONY: lint lint-fmt lint-vet lint-staticcheck
lint: lint-fmt lint-vet lint-staticcheck

lint-fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then \
		echo "gofmt: these files need gofmt -w:" >&2; echo "$$out" >&2; exit 1; fi

lint-vet:
	$(GO) vet ./...

lint-staticcheck:
	GO=$(GO) bash scripts/staticcheck.sh $(STATICCHECK_VERSION) ./...
