package sqlite

import (
	"context"
	"database/sql"
)

// migrations are applied in order; the index+1 is the schema version kept
// in PRAGMA user_version. Never edit a released migration: append one.
var migrations = []migration{
	// 1: intelligence, provenance, names, actor links, scan results.
	{sql: `
CREATE TABLE sources (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	path        TEXT NOT NULL,
	format      TEXT NOT NULL,
	imported_at TEXT NOT NULL,
	reliability TEXT NOT NULL DEFAULT '',
	digest      TEXT NOT NULL,
	UNIQUE (name, digest)
);
CREATE TABLE objects (
	id         TEXT PRIMARY KEY,
	type       TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	modified   TEXT NOT NULL,
	revoked    INTEGER NOT NULL DEFAULT 0,
	source_id  INTEGER NOT NULL, -- the first source; later ones are in object_sources
	data       BLOB NOT NULL,
	raw        BLOB
) WITHOUT ROWID;
CREATE INDEX objects_type ON objects(type);
CREATE INDEX objects_source ON objects(source_id);
CREATE TABLE object_versions (
	id       TEXT NOT NULL,
	modified TEXT NOT NULL,
	data     BLOB NOT NULL,
	raw      BLOB,
	PRIMARY KEY (id, modified)
) WITHOUT ROWID;
-- Sources of an object besides objects.source_id.
CREATE TABLE object_sources (
	object_id TEXT NOT NULL,
	source_id INTEGER NOT NULL,
	PRIMARY KEY (object_id, source_id)
) WITHOUT ROWID;
CREATE INDEX object_sources_source ON object_sources(source_id);
CREATE TABLE names (
	norm      TEXT NOT NULL,
	object_id TEXT NOT NULL,
	kind      TEXT NOT NULL,
	display   TEXT NOT NULL,
	source_id INTEGER NOT NULL,
	PRIMARY KEY (norm, object_id, kind, source_id)
) WITHOUT ROWID;
CREATE INDEX names_object ON names(object_id);
CREATE TABLE relationships (
	id         TEXT PRIMARY KEY,
	type       TEXT NOT NULL,
	source_ref TEXT NOT NULL,
	target_ref TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX relationships_source ON relationships(source_ref);
CREATE INDEX relationships_target ON relationships(target_ref);
CREATE TABLE indicator_values (
	indicator_id TEXT NOT NULL,
	type         TEXT NOT NULL,
	value        TEXT NOT NULL,
	port         INTEGER NOT NULL DEFAULT 0,
	issuer       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (indicator_id, type, value, port, issuer)
) WITHOUT ROWID;
-- What the matcher needs of each current indicator, in narrow rows read
-- in one pass, so compiling a snapshot of millions never decodes JSON.
-- vals holds the observables as type TAB value TAB port TAB issuer lines.
CREATE TABLE match_indicators (
	id          TEXT PRIMARY KEY,
	modified    TEXT NOT NULL,
	revoked     INTEGER NOT NULL,
	valid_from  TEXT NOT NULL,
	valid_until TEXT NOT NULL,
	flags       INTEGER NOT NULL, -- 1 host-only, 2 context
	pattern_type TEXT NOT NULL,
	pattern     TEXT NOT NULL,
	lists       TEXT NOT NULL, -- warninglists, newline-separated
	vals        TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE warninglists (
	name        TEXT PRIMARY KEY,
	description TEXT NOT NULL,
	version     INTEGER NOT NULL,
	match_type  TEXT NOT NULL,
	category    TEXT NOT NULL,
	attributes  TEXT NOT NULL,
	entries     BLOB NOT NULL,
	source_id   INTEGER NOT NULL
);
CREATE TABLE actor_links (
	id      INTEGER PRIMARY KEY,
	a       TEXT NOT NULL,
	b       TEXT NOT NULL,
	rule    TEXT NOT NULL,
	detail  TEXT NOT NULL,
	created TEXT NOT NULL,
	undone  INTEGER NOT NULL DEFAULT 0,
	UNIQUE (a, b, rule)
);
CREATE TABLE sightings (
	key          TEXT PRIMARY KEY,
	indicator_id TEXT NOT NULL,
	time         TEXT NOT NULL,
	data         BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX sightings_indicator ON sightings(indicator_id);
CREATE INDEX sightings_time ON sightings(time);
CREATE TABLE detections (
	id    TEXT PRIMARY KEY,
	score REAL NOT NULL,
	data  BLOB NOT NULL
) WITHOUT ROWID;
`},
	// 2: indicators that differ from their neighbours in a list only by
	// value are kept as one narrow row each plus a shape they share; see
	// shape.go.
	{sql: `
CREATE TABLE indicator_shapes (
	id          INTEGER PRIMARY KEY,
	source_id   INTEGER NOT NULL,
	modified    TEXT NOT NULL,
	pattern     TEXT NOT NULL, -- 's': the value's STIX pattern, 'v': the value itself
	raw         TEXT NOT NULL, -- 'n': no raw, 'c': {"value": value}, 'r': the row's raw
	indicates   TEXT NOT NULL, -- the actor every indicator of the shape indicates, or ''
	template    BLOB NOT NULL  -- the shared fields, as objects.data
);
CREATE INDEX indicator_shapes_indicates ON indicator_shapes(indicates) WHERE indicates <> '';
CREATE TABLE list_indicators (
	id    TEXT PRIMARY KEY,
	shape INTEGER NOT NULL,
	type  TEXT NOT NULL,
	value TEXT NOT NULL,
	port  INTEGER NOT NULL,
	lists TEXT NOT NULL, -- warninglists, newline-separated
	raw   BLOB
) WITHOUT ROWID;
`},
	// 3: what a server pages and filters sightings by, in columns; the
	// time each sighting was stored; analysis runs and their campaigns;
	// objects' markings in a column; and the stored JSON of objects with
	// the field names of intel's tags instead of Go's (upgrade.go).
	{sql: `
ALTER TABLE sightings ADD COLUMN value TEXT NOT NULL DEFAULT '';
ALTER TABLE sightings ADD COLUMN src   TEXT NOT NULL DEFAULT '';
ALTER TABLE sightings ADD COLUMN dst   TEXT NOT NULL DEFAULT '';
ALTER TABLE sightings ADD COLUMN added TEXT NOT NULL DEFAULT ''; -- when the store stored it
CREATE INDEX sightings_added ON sightings(added, key);
ALTER TABLE objects ADD COLUMN markings TEXT NOT NULL DEFAULT ''; -- marking ids, newline-separated
CREATE TABLE analyses (
	seq      INTEGER PRIMARY KEY,
	id       TEXT NOT NULL UNIQUE,
	created  TEXT NOT NULL,
	snapshot TEXT NOT NULL,
	document BLOB
);
CREATE TABLE analysis_campaigns (
	analysis_seq INTEGER NOT NULL,
	ord          INTEGER NOT NULL, -- order within the run
	id           TEXT NOT NULL,
	norm         TEXT NOT NULL,    -- id in lower case: ids compare ignoring case
	actor        TEXT NOT NULL,
	estimate     TEXT NOT NULL,
	confidence   TEXT NOT NULL,
	likelihood   REAL NOT NULL,
	first_seen   TEXT NOT NULL,
	last_seen    TEXT NOT NULL,
	data         BLOB,
	PRIMARY KEY (analysis_seq, ord)
) WITHOUT ROWID;
CREATE UNIQUE INDEX analysis_campaigns_norm ON analysis_campaigns(norm, analysis_seq);
`, upgrade: upgradeToV3},
	// 4: the summary of every scan, for analyses run after it; and the
	// stored sightings and detections with snake_case keys instead of
	// Go's field names (upgrade4.go).
	{sql: `
CREATE TABLE scans (
	seq        INTEGER PRIMARY KEY,
	at         TEXT NOT NULL,
	snapshot   TEXT NOT NULL,
	files      INTEGER NOT NULL,
	events     INTEGER NOT NULL,
	bytes      INTEGER NOT NULL,
	sightings  INTEGER NOT NULL,
	new        INTEGER NOT NULL,
	detections INTEGER NOT NULL
);
`, upgrade: upgradeToV4},
	// 5: what a TAXII server needs (server.go). Every stored version has
	// the time the store added it (rows stored before get an import time
	// of their object's sources), indexed in paging order so that a page is one range
	// scan; API keys, the audit trail, status resources, subscriptions.
	{sql: `
ALTER TABLE objects ADD COLUMN added TEXT NOT NULL DEFAULT '';
ALTER TABLE object_versions ADD COLUMN added TEXT NOT NULL DEFAULT '';
ALTER TABLE list_indicators ADD COLUMN added TEXT NOT NULL DEFAULT '';
ALTER TABLE indicator_shapes ADD COLUMN added TEXT NOT NULL DEFAULT '';
-- Rows stored before do not know which import added them: a current
-- version takes the latest import of any source of its object, a
-- superseded one the earliest; a list row, its shape's.
UPDATE objects SET added = coalesce((SELECT max(s.imported_at) FROM sources s WHERE s.id = objects.source_id
	OR s.id IN (SELECT source_id FROM object_sources WHERE object_id = objects.id)), '');
UPDATE indicator_shapes SET added = coalesce((SELECT imported_at FROM sources s WHERE s.id = indicator_shapes.source_id), '');
UPDATE list_indicators SET added = coalesce((SELECT added FROM indicator_shapes sh WHERE sh.id = list_indicators.shape), '');
UPDATE object_versions SET added = coalesce((SELECT min(s.imported_at) FROM sources s WHERE s.id IN (
	SELECT source_id FROM objects WHERE id = object_versions.id
	UNION ALL SELECT sh.source_id FROM list_indicators l JOIN indicator_shapes sh ON sh.id = l.shape WHERE l.id = object_versions.id
	UNION ALL SELECT source_id FROM object_sources WHERE object_id = object_versions.id)), '');
CREATE INDEX objects_added ON objects(added, id);
CREATE INDEX objects_type_added ON objects(type, added, id);
CREATE INDEX object_versions_added ON object_versions(added, id, modified);
CREATE INDEX list_indicators_added ON list_indicators(added, id);
CREATE TABLE api_keys (
	id       TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	hash     BLOB NOT NULL,
	tlp_max  TEXT NOT NULL,
	internal INTEGER NOT NULL,
	admin    INTEGER NOT NULL,
	read     TEXT NOT NULL, -- collections, newline-separated
	write    TEXT NOT NULL,
	created  TEXT NOT NULL,
	revoked  TEXT NOT NULL DEFAULT '' -- '' while valid
) WITHOUT ROWID;
CREATE UNIQUE INDEX api_keys_valid_name ON api_keys(name) WHERE revoked = '';
CREATE TABLE audit (
	seq     INTEGER PRIMARY KEY,
	at      TEXT NOT NULL,
	key     TEXT NOT NULL,
	remote  TEXT NOT NULL,
	method  TEXT NOT NULL,
	path    TEXT NOT NULL,
	status  INTEGER NOT NULL,
	objects INTEGER NOT NULL,
	took_ns INTEGER NOT NULL
);
CREATE TABLE taxii_status (
	id      TEXT PRIMARY KEY,
	doc     BLOB NOT NULL,
	expires TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX taxii_status_expires ON taxii_status(expires);
CREATE TABLE subscriptions (
	name        TEXT PRIMARY KEY,
	url         TEXT NOT NULL,
	collection  TEXT NOT NULL,
	added_after TEXT NOT NULL,
	updated     TEXT NOT NULL
) WITHOUT ROWID;
`},
	// 6: objects and object_versions as rowid tables (upgrade6.go).
	migration6,
	// 7: the observable index (observations.go).
	migrationObservations,
	// 8: the analysts' verdicts (verdicts.go).
	migrationVerdicts,
	// 9: paging implied relationships by shape (server_implied.go).
	migrationImplied,
	// 10: the detections' query columns (detections.go).
	migrationDetectionKeys,
	// 11: a key's latest request to one path, found without a scan of the
	// audit trail (the web UI's "since your last visit").
	{sql: "CREATE INDEX IF NOT EXISTS audit_key_path ON audit(key, path, seq)"},
	// 12: sightings as a rowid table, in the order they were stored: a
	// WITHOUT ROWID table keeps each row (its JSON included) in the
	// b-tree of its random key, so every insert landed on a random page
	// and split it; now rows are appended and only the key's index is
	// random.
	{sql: `
CREATE TABLE sightings_by_seq (
	seq          INTEGER PRIMARY KEY,
	key          TEXT NOT NULL UNIQUE,
	indicator_id TEXT NOT NULL,
	time         TEXT NOT NULL,
	data         BLOB NOT NULL,
	value        TEXT NOT NULL DEFAULT '',
	src          TEXT NOT NULL DEFAULT '',
	dst          TEXT NOT NULL DEFAULT '',
	added        TEXT NOT NULL DEFAULT ''
);
INSERT INTO sightings_by_seq(key, indicator_id, time, data, value, src, dst, added)
	SELECT key, indicator_id, time, data, value, src, dst, added FROM sightings ORDER BY added, key;
DROP TABLE sightings;
ALTER TABLE sightings_by_seq RENAME TO sightings;
CREATE INDEX sightings_indicator ON sightings(indicator_id);
CREATE INDEX sightings_time ON sightings(time);
CREATE INDEX sightings_added ON sightings(added, key);
`},
}

// migration is one schema version: SQL, then Go for what SQL cannot do
// (rewriting stored JSON), in the same transaction.
type migration struct {
	sql     string
	upgrade func(ctx context.Context, tx *sql.Tx) error
}
