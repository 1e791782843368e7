package cli

import "strings"

// isPostgresDSN reports whether a --db value names a PostgreSQL server
// rather than a database file: a postgres:// or postgresql:// URL, or a
// libpq keyword string ("host=db.internal dbname=whodunit user=hunt").
// A keyword string counts only when every field is keyword=value with a
// libpq keyword and host or dbname is among them, so that a path such as
// "/srv/case=42/whodunit.db" stays a file (a file literally named
// "host=x.db" is given as "./host=x.db").
func isPostgresDSN(s string) bool {
	lower := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return true
	}
	fields, ok := dsnKeywords(strings.TrimSpace(s))
	return ok && (fields["host"] || fields["dbname"])
}

// libpqKeywords are the connection keywords a keyword DSN may use.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true, "passfile": true,
	"connect_timeout": true, "sslmode": true, "sslcert": true, "sslkey": true, "sslrootcert": true, "sslpassword": true,
	"sslnegotiation": true, "application_name": true, "target_session_attrs": true, "options": true, "service": true,
	"search_path": true, "client_encoding": true,
}

// dsnKeywords splits a keyword DSN into its keywords; ok is false when
// some field is not keyword=value with a known keyword. Values may be
// single-quoted, with backslash escapes, as libpq allows.
func dsnKeywords(s string) (map[string]bool, bool) {
	keys := map[string]bool{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, false
		}
		key := strings.TrimSpace(s[:eq])
		if !libpqKeywords[key] {
			return nil, false
		}
		keys[key] = true
		rest := strings.TrimLeft(s[eq+1:], " ")
		end := valueEnd(rest)
		if end < 0 {
			return nil, false
		}
		s = strings.TrimLeft(rest[end:], " \t")
	}
	return keys, len(keys) > 0
}

// valueEnd is where the value at the start of s ends: after its closing
// quote, or at the first blank; -1 for a quote that is never closed.
func valueEnd(s string) int {
	if !strings.HasPrefix(s, "'") {
		if i := strings.IndexAny(s, " \t"); i >= 0 {
			return i
		}
		return len(s)
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			return i + 1
		}
	}
	return -1
}
