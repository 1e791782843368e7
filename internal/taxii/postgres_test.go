package taxii_test

import (
	"context"
	"testing"

	"github.com/whodunit-project/whodunit/internal/store/postgres"
	"github.com/whodunit-project/whodunit/internal/store/postgres/pgtest"
)

// openStore opens the store the tests run over: SQLite, or PostgreSQL
// while TestOverPostgres runs them again.
var openStore = openSQLite

func openPostgres(t testing.TB) serverStore {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestOverPostgres runs the specification tests again over PostgreSQL.
func TestOverPostgres(t *testing.T) {
	pgtest.NewDatabase(t) // skips loudly (fails under CI) without a server
	openStore = openPostgres
	defer func() { openStore = openSQLite }()
	for name, test := range map[string]func(*testing.T){
		"Collections":    TestCollections,
		"ObjectsPaging":  TestObjectsPaging,
		"MatchFilters":   TestMatchFilters,
		"Versions":       TestVersionsMedallion,
		"NotFound":       TestObjectNotFoundHidesWhatIsAboveTheCeiling,
		"TLP":            TestTLPCeilings,
		"Filled":         TestFilteredPagesAreFilled,
		"NextTokens":     TestNextTokens,
		"PostStatus":     TestPostStatus,
		"PostRefusals":   TestPostRefusals,
		"Findings":       TestFindings,
		"ListIndicators": TestListIndicatorsServeAsSTIX,
		"Operator":       TestOperatorCollections,
		"PostTwice":      TestPostTwice,
		"StatusLife":     TestStatusLifetime,
		"FindingsCamp":   TestFindingsCampaigns,
		"FindingsPaging": TestFindingsPagingMerged,
		"DeleteInbox":    TestDeleteObjectFromInbox,
		"DeleteRules":    TestDeleteObjectRules,
		"DeleteListed":   TestDeleteListIndicator,
		"Implied":        TestImpliedRelationshipsServed,
	} {
		t.Run(name, test)
	}
}
