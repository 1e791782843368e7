package server

import (
	"fmt"
	"net/http"
	"strings"
)

// Mount serves TAXII under its path prefixes ("/taxii2/", "/API-ROOT/")
// and the web interface at every other path. A prefix the interface
// uses itself (reserved) is refused, since one of the two would be
// unreachable.
func Mount(ui http.Handler, reserved []string, taxii http.Handler, taxiiPrefixes ...string) (http.Handler, error) {
	mux := http.NewServeMux()
	for _, p := range taxiiPrefixes {
		seg := strings.Trim(p, "/")
		for _, r := range reserved {
			if strings.EqualFold(seg, strings.Trim(r, "/")) {
				return nil, fmt.Errorf("path /%s/ is the web interface's; choose another TAXII API root", seg)
			}
		}
		mux.Handle("/"+seg+"/", taxii)
	}
	mux.Handle("/", ui)
	return mux, nil
}
