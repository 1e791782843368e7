package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order, each in a transaction of its own; the
// index+1 is the schema version kept in schema_version. Never edit a
// released migration: append one.
//
// Text that is compared or ordered is "ctext" (text COLLATE "C"): byte
// order, as the SQLite store sorts, whatever collation the database was
// created with, so both stores give the same order and the same reports.
// Times are text in the fixed layout of timeFmt: nanoseconds survive
// (timestamptz keeps microseconds) and text order is time order.
var migrations = []string{
	// 1: intelligence, provenance, names, actor links, findings, runs.
	`
CREATE TABLE sources (
	id          bigserial PRIMARY KEY,
	name        ctext NOT NULL,
	path        ctext NOT NULL,
	format      ctext NOT NULL,
	imported_at ctext NOT NULL,
	reliability ctext NOT NULL DEFAULT '',
	digest      ctext NOT NULL,
	UNIQUE (name, digest)
);
CREATE TABLE objects (
	id        ctext PRIMARY KEY,
	type      ctext NOT NULL,
	name      ctext NOT NULL DEFAULT '',
	modified  ctext NOT NULL,
	revoked   boolean NOT NULL DEFAULT false,
	source_id bigint NOT NULL, -- the first source; later ones are in object_sources
	markings  ctext NOT NULL DEFAULT '', -- marking ids, newline-separated
	data      bytea NOT NULL,
	raw       bytea
);
CREATE INDEX objects_type ON objects(type, name, id);
CREATE INDEX objects_source ON objects(source_id);
CREATE TABLE object_versions (
	id       ctext NOT NULL,
	modified ctext NOT NULL,
	data     bytea NOT NULL,
	raw      bytea,
	PRIMARY KEY (id, modified)
);
-- Sources of an object besides objects.source_id. A latent source
-- re-asserted a derived "indicates" relationship that another source
-- gave first: it is not listed as one of the relationship's sources, but
-- takes it over when those go (DeleteSource), as the SQLite store does.
CREATE TABLE object_sources (
	object_id ctext NOT NULL,
	source_id bigint NOT NULL,
	latent    boolean NOT NULL DEFAULT false,
	PRIMARY KEY (object_id, source_id)
);
CREATE INDEX object_sources_source ON object_sources(source_id);
CREATE TABLE names (
	norm      ctext NOT NULL,
	object_id ctext NOT NULL,
	kind      ctext NOT NULL,
	display   ctext NOT NULL,
	source_id bigint NOT NULL,
	PRIMARY KEY (norm, object_id, kind, source_id)
);
CREATE INDEX names_object ON names(object_id);
CREATE TABLE relationships (
	id         ctext PRIMARY KEY,
	type       ctext NOT NULL,
	source_ref ctext NOT NULL,
	target_ref ctext NOT NULL
);
CREATE INDEX relationships_source ON relationships(source_ref);
CREATE INDEX relationships_target ON relationships(target_ref);
CREATE TABLE indicator_values (
	indicator_id ctext NOT NULL,
	type         ctext NOT NULL,
	value        ctext NOT NULL,
	port         integer NOT NULL DEFAULT 0,
	issuer       ctext NOT NULL DEFAULT '',
	PRIMARY KEY (indicator_id, type, value, port, issuer)
);
CREATE INDEX indicator_values_type ON indicator_values(type);
-- What the matcher needs of each current indicator, in narrow rows read
-- in one pass; vals holds the observables as type TAB value TAB port TAB
-- issuer lines.
CREATE TABLE match_indicators (
	id           ctext PRIMARY KEY,
	modified     ctext NOT NULL,
	revoked      boolean NOT NULL,
	valid_from   ctext NOT NULL,
	valid_until  ctext NOT NULL,
	flags        integer NOT NULL, -- 1 host-only, 2 context
	pattern_type ctext NOT NULL,
	pattern      ctext NOT NULL,
	lists        ctext NOT NULL, -- warninglists, newline-separated
	vals         ctext NOT NULL
);
CREATE TABLE warninglists (
	name        ctext PRIMARY KEY,
	description ctext NOT NULL,
	version     bigint NOT NULL,
	match_type  ctext NOT NULL,
	category    ctext NOT NULL,
	attributes  ctext NOT NULL,
	entries     ctext NOT NULL,
	source_id   bigint NOT NULL
);
CREATE TABLE actor_links (
	id      bigserial PRIMARY KEY,
	a       ctext NOT NULL,
	b       ctext NOT NULL,
	rule    ctext NOT NULL,
	detail  ctext NOT NULL,
	created ctext NOT NULL,
	undone  boolean NOT NULL DEFAULT false,
	UNIQUE (a, b, rule)
);
CREATE TABLE sightings (
	key          ctext PRIMARY KEY,
	indicator_id ctext NOT NULL,
	time         ctext NOT NULL,
	value        ctext NOT NULL,
	src          ctext NOT NULL,
	dst          ctext NOT NULL,
	added        ctext NOT NULL, -- when the store stored it
	data         bytea NOT NULL
);
CREATE INDEX sightings_indicator ON sightings(indicator_id);
CREATE INDEX sightings_time ON sightings(time, key);
CREATE INDEX sightings_added ON sightings(added, key);
CREATE TABLE detections (
	id    ctext PRIMARY KEY,
	score double precision NOT NULL,
	data  bytea NOT NULL
);
CREATE TABLE analyses (
	seq      bigint PRIMARY KEY,
	id       ctext NOT NULL UNIQUE,
	created  ctext NOT NULL,
	snapshot ctext NOT NULL,
	document bytea
);
CREATE TABLE analysis_campaigns (
	analysis_seq bigint NOT NULL,
	ord          integer NOT NULL, -- order within the run
	id           ctext NOT NULL,
	norm         ctext NOT NULL,   -- id in lower case: ids compare ignoring case
	actor        ctext NOT NULL,
	estimate     ctext NOT NULL,
	confidence   ctext NOT NULL,
	likelihood   double precision NOT NULL,
	first_seen   ctext NOT NULL,
	last_seen    ctext NOT NULL,
	data         bytea,
	PRIMARY KEY (analysis_seq, ord)
);
CREATE UNIQUE INDEX analysis_campaigns_norm ON analysis_campaigns(norm, analysis_seq);
CREATE TABLE scans (
	seq        bigserial PRIMARY KEY,
	at         ctext NOT NULL,
	snapshot   ctext NOT NULL,
	files      integer NOT NULL,
	events     bigint NOT NULL,
	bytes      bigint NOT NULL,
	sightings  integer NOT NULL,
	new        integer NOT NULL,
	detections integer NOT NULL
);
`,
	// 2: what a TAXII server needs (server.go). Every stored version has
	// the time the store added it (rows stored before get an import time
	// of their object's sources), indexed in paging order so that a page is one range
	// scan; API keys, the audit trail, status resources, subscriptions.
	`
ALTER TABLE objects ADD COLUMN added ctext NOT NULL DEFAULT '';
ALTER TABLE object_versions ADD COLUMN added ctext NOT NULL DEFAULT '';
-- Rows stored before do not know which import added them: a current
-- version takes the latest import of any source of its object, a
-- superseded one the earliest.
CREATE TEMP TABLE object_imports ON COMMIT DROP AS
	SELECT x.id, min(s.imported_at) AS first, max(s.imported_at) AS last
	FROM (SELECT id, source_id FROM objects UNION ALL SELECT object_id, source_id FROM object_sources) x
	JOIN sources s ON s.id = x.source_id GROUP BY x.id;
UPDATE objects o SET added = i.last FROM object_imports i WHERE i.id = o.id;
UPDATE object_versions v SET added = i.first FROM object_imports i WHERE i.id = v.id;
CREATE INDEX objects_added ON objects(added, id);
CREATE INDEX objects_type_added ON objects(type, added, id);
CREATE INDEX object_versions_added ON object_versions(added, id, modified);
CREATE TABLE api_keys (
	id       ctext PRIMARY KEY,
	name     ctext NOT NULL,
	hash     bytea NOT NULL,
	tlp_max  ctext NOT NULL,
	internal boolean NOT NULL,
	admin    boolean NOT NULL,
	read     ctext NOT NULL, -- collections, newline-separated
	write    ctext NOT NULL,
	created  ctext NOT NULL,
	revoked  ctext NOT NULL DEFAULT '' -- '' while valid
);
CREATE UNIQUE INDEX api_keys_valid_name ON api_keys(name) WHERE revoked = '';
CREATE TABLE audit (
	seq     bigserial PRIMARY KEY,
	at      ctext NOT NULL,
	key     ctext NOT NULL,
	remote  ctext NOT NULL,
	method  ctext NOT NULL,
	path    ctext NOT NULL,
	status  integer NOT NULL,
	objects integer NOT NULL,
	took_ns bigint NOT NULL
);
CREATE TABLE taxii_status (
	id      ctext PRIMARY KEY,
	doc     bytea NOT NULL,
	expires ctext NOT NULL
);
CREATE INDEX taxii_status_expires ON taxii_status(expires);
CREATE TABLE subscriptions (
	name        ctext PRIMARY KEY,
	url         ctext NOT NULL,
	collection  ctext NOT NULL,
	added_after ctext NOT NULL,
	updated     ctext NOT NULL
);
`,
	// 3: the observable index (observations.go).
	migrationObservations,
	// 4: the analysts' verdicts (verdicts.go).
	migrationVerdicts,
	// 5: the detections' query columns (detections.go).
	migrationDetectionKeys,
	// 6: a key's latest request to one path, found without a scan of the
	// audit trail (the web UI's "since your last visit").
	"CREATE INDEX IF NOT EXISTS audit_key_path ON audit(key, path, seq);",
	// 7: list indicators kept compactly (shapes.go).
	migrationListShapes,
}

// migrationFill is Go a migration runs after its SQL, in the same
// transaction, for what SQL cannot derive; keyed by schema version.
var migrationFill = map[int]func(context.Context, pgx.Tx) error{
	5: fillDetectionKeys,
}

// migrationSQL is migration i with ctext spelled out.
func migrationSQL(i int) string {
	return strings.ReplaceAll(migrations[i], " ctext ", ` text COLLATE "C" `)
}
