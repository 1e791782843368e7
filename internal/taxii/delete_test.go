package taxii_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/whodunit-project/whodunit/internal/taxii"
)

// versionsOf are the versions the versions endpoint (§5.8) lists.
func versionsOf(t *testing.T, f *fixture, key, col, id string) []string {
	t.Helper()
	r := f.get(key, col+"objects/"+id+"/versions/")
	if r.code == http.StatusNotFound {
		return nil
	}
	var doc struct{ Versions []string }
	if err := json.Unmarshal(r.body, &doc); err != nil || r.code != 200 {
		t.Fatalf("versions of %s: %d %s", id, r.code, r.body)
	}
	return doc.Versions
}

// TestDeleteObjectFromInbox (TAXII 2.1 §5.7 Delete An Object): a key
// that may write to the inbox deletes what keys posted there, one version
// (match[version]) or every version; the answer is 200 and the object is
// gone from every collection.
func TestDeleteObjectFromInbox(t *testing.T) {
	f := newFixture(t, openStore(t), taxii.Config{})
	f.post("internal", inboxC+"objects/", envelopeOf(medallionObjects(t)))
	ind := "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e" // three versions
	obj := inboxC + "objects/" + ind + "/"
	if r := f.do(http.MethodDelete, "green", obj, nil); r.code != 403 {
		t.Fatalf("a key that may not write to the inbox: %d", r.code)
	}
	if r := f.do(http.MethodDelete, "writer", obj, nil); r.code != 403 {
		t.Fatalf("a key that may write but not read: %d", r.code)
	}
	// §3.4.1 match[version] on DELETE: first, a timestamp, last
	if r := f.do(http.MethodDelete, "internal", obj+"?match[version]=first", nil); r.code != 200 {
		t.Fatalf("DELETE first version: %d %s", r.code, r.body)
	}
	if v := versionsOf(t, f, "internal", inboxC, ind); len(v) != 2 || v[0] != "2016-12-25T12:30:59.444Z" {
		t.Fatalf("versions after deleting the first: %v", v)
	}
	if r := f.do(http.MethodDelete, "internal", obj+"?match[version]=2016-12-25T12:30:59.444Z", nil); r.code != 200 {
		t.Fatalf("DELETE a version by timestamp: %d %s", r.code, r.body)
	}
	if r := f.do(http.MethodDelete, "internal", obj+"?match[version]=2016-12-25T12:30:59.444Z", nil); r.code != 404 {
		t.Fatalf("DELETE a version no longer there: %d %s", r.code, r.body)
	}
	if r := f.do(http.MethodDelete, "internal", obj+"?match[version]=soon", nil); r.code != 400 {
		t.Fatalf("a bad match[version]: %d", r.code)
	}
	if r := f.do(http.MethodDelete, "internal", obj+"?match[type]=indicator", nil); r.code != 400 {
		t.Fatalf("match[type] is not a filter of DELETE: %d", r.code)
	}
	if r := f.do(http.MethodDelete, "internal", obj+"?match[version]=last", nil); r.code != 200 {
		t.Fatalf("DELETE the last version left: %d %s", r.code, r.body)
	}
	for _, col := range []string{inboxC, intelC} {
		if r := f.get("internal", col+"objects/"+ind+"/"); r.code != 404 {
			t.Fatalf("GET %s after DELETE: %d", col, r.code)
		}
	}
	if r := f.do(http.MethodDelete, "internal", obj, nil); r.code != 404 {
		t.Fatalf("DELETE again: %d", r.code)
	}
	// every version at once; the other objects stay
	mal := "malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec"
	if r := f.do(http.MethodDelete, "internal", inboxC+"objects/"+mal+"/", nil); r.code != 200 {
		t.Fatalf("DELETE all versions: %d %s", r.code, r.body)
	}
	if v := versionsOf(t, f, "internal", intelC, mal); v != nil {
		t.Fatalf("versions after DELETE: %v", v)
	}
	if e, _ := f.envelope("internal", inboxC+"objects/"); len(e.Objects) != 3 {
		t.Fatalf("the inbox holds %d objects after two deletes, want 3", len(e.Objects))
	}
}

// TestDeleteObjectRules (§5.7 with §1.6.7 access): deleting the current
// version of an object that has older ones alone is a 409; intel is for
// admin keys; what is above the key's ceiling is a 404; an object that
// other intelligence asserts too is not deleted through the inbox; the
// findings are not deleted.
func TestDeleteObjectRules(t *testing.T) {
	f := apt1Fixture(t)
	f.post("internal", inboxC+"objects/", envelopeOf(medallionObjects(t)))
	ind := "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e"
	if r := f.do(http.MethodDelete, "internal", inboxC+"objects/"+ind+"/?match[version]=last", nil); r.code != 409 {
		t.Fatalf("DELETE the current version alone: %d %s", r.code, r.body)
	}
	if v := versionsOf(t, f, "internal", inboxC, ind); len(v) != 3 {
		t.Fatalf("a refused delete changed the versions: %v", v)
	}
	sets, _ := f.envelope("admin", intelC+"objects/?match[type]=intrusion-set")
	if len(sets.Objects) != 1 {
		t.Fatalf("apt1.json: %d intrusion sets", len(sets.Objects))
	}
	apt1 := head(t, sets.Objects[0]).ID
	if r := f.do(http.MethodDelete, "internal", intelC+"objects/"+apt1+"/", nil); r.code != 403 {
		t.Fatalf("a key that is not admin deletes from intel: %d", r.code)
	}
	if r := f.do(http.MethodDelete, "admin", intelC+"objects/"+markedID(5)+"/", nil); r.code != 404 {
		t.Fatalf("DELETE of a TLP:RED object: %d, want the 404 of what is not there", r.code)
	}
	if r := f.do(http.MethodDelete, "admin", intelC+"objects/"+apt1+"/", nil); r.code != 200 {
		t.Fatalf("admin DELETE from intel: %d %s", r.code, r.body)
	}
	if r := f.get("admin", intelC+"objects/"+apt1+"/"); r.code != 404 {
		t.Fatalf("GET after DELETE: %d", r.code)
	}
	// the same indicator posted and imported from a file: not the inbox's to delete
	f.post("internal", inboxC+"objects/", envelopeOf([]json.RawMessage{objectOf(t, f, "internal", intelC, markedID(3))}))
	if r := f.do(http.MethodDelete, "internal", inboxC+"objects/"+markedID(3)+"/", nil); r.code != 403 {
		t.Fatalf("DELETE through the inbox of imported intelligence: %d %s", r.code, r.body)
	}
	if r := f.do(http.MethodDelete, "admin", findC+"objects/"+markedID(3)+"/", nil); r.code != 403 {
		t.Fatalf("DELETE from findings: %d", r.code)
	}
}

// TestDeleteListIndicator: an indicator of a list (stored compactly by
// SQLite) is deleted alone; the rest of its list stays.
func TestDeleteListIndicator(t *testing.T) {
	f := newFixture(t, openStore(t), taxii.Config{})
	f.importFile(shared+"/intel/apt1/apt1-fqdn.dat", "apt1-fqdn")
	e, _ := f.envelope("admin", intelC+"objects/?match[type]=indicator&limit=2")
	if len(e.Objects) != 2 {
		t.Fatalf("%d indicators", len(e.Objects))
	}
	gone, kept := head(t, e.Objects[0]).ID, head(t, e.Objects[1]).ID
	if r := f.do(http.MethodDelete, "admin", intelC+"objects/"+gone+"/", nil); r.code != 200 {
		t.Fatalf("DELETE a list indicator: %d %s", r.code, r.body)
	}
	if r := f.get("admin", intelC+"objects/"+gone+"/"); r.code != 404 {
		t.Fatalf("GET the deleted list indicator: %d", r.code)
	}
	if r := f.get("admin", intelC+"objects/"+kept+"/"); r.code != 200 {
		t.Fatalf("GET another indicator of the list: %d", r.code)
	}
}

// objectOf is the one object id in col as key sees it.
func objectOf(t *testing.T, f *fixture, key, col, id string) json.RawMessage {
	t.Helper()
	e, _ := f.envelope(key, col+"objects/"+id+"/")
	if len(e.Objects) != 1 {
		t.Fatalf("%s: %d objects", id, len(e.Objects))
	}
	return e.Objects[0]
}
