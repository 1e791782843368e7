package postgres

import "strings"

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
}

// migrationSQL is migration i with ctext spelled out.
func migrationSQL(i int) string {
	return strings.ReplaceAll(migrations[i], " ctext ", ` text COLLATE "C" `)
}
