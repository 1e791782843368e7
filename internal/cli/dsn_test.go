package cli

import "testing"

func TestIsPostgresDSN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"postgres://hunt@db.internal:5432/whodunit?sslmode=require", true},
		{"postgresql://localhost/whodunit", true},
		{"POSTGRES://localhost/whodunit", true},
		{"host=db.internal dbname=whodunit user=hunt", true},
		{"dbname=whodunit", true},
		{"host=/var/run/postgresql  dbname=whodunit", true},
		{"host=db password='it\\'s a \\\\ secret' dbname=w", true},
		{"host=db password='it''s' dbname=w", false}, // libpq has no '' escape
		{"user=hunt port=5432", false},               // neither host nor dbname
		{"host=db dbname='unclosed", false},
		{"whodunit.db", false},
		{"./whodunit.db", false},
		{"/srv/case=42/whodunit.db", false},
		{"host=x.db", true}, // a file of that name is ./host=x.db
		{"notes host=x dbname=y", false},
		{"colour=red dbname=y", false},
		{"case-42/host=1.db", false},
		{"", false},
		{"postgres", false},
		{"file:whodunit.db", false},
	} {
		if got := isPostgresDSN(tc.in); got != tc.want {
			t.Errorf("isPostgresDSN(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
