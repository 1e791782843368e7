package server

import (
	"fmt"
	"net/http"
	"path"
	"strings"
)

// Mount serves TAXII under its path prefixes ("/taxii2/", "/API-ROOT/")
// and the web interface at every other path. A prefix the interface
// uses itself (reserved) is refused, since one of the two would be
// unreachable.
func Mount(ui http.Handler, reserved []string, taxii http.Handler, taxiiPrefixes ...string) (http.Handler, error) {
	mux := http.NewServeMux()
	owned := map[string]bool{}
	for _, p := range taxiiPrefixes {
		seg := strings.Trim(p, "/")
		for _, r := range reserved {
			if strings.EqualFold(seg, strings.Trim(r, "/")) {
				return nil, fmt.Errorf("path /%s/ is the web interface's; choose another TAXII API root", seg)
			}
		}
		mux.Handle("/"+seg+"/", taxii)
		owned[seg] = true
	}
	mux.Handle("/", ui)
	// An unclean TAXII path ("//taxii2/", "/taxii2") goes to TAXII itself,
	// which answers in TAXII JSON; the mux would redirect it in HTML.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if owned[firstSegment(r.URL.Path)] {
			taxii.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}), nil
}

// firstSegment is the first path segment of p once cleaned.
func firstSegment(p string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
	return seg
}
