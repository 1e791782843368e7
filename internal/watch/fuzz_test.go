package watch

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseCheckpoint: any bytes give a checkpoint that passes its own
// checks or an error naming the file, never a panic; a checkpoint that
// parses writes back to one that parses the same.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte(`{"version":1,"files":[],"alerts_offset":0}`))
	f.Add([]byte(`{"version":1,"files":[{"path":"/zeek/current/dns.log","dev":2049,"ino":1311,"head_len":4096,` +
		`"head_sha256":"` + string(bytes.Repeat([]byte("ab"), 32)) + `","offset":90210,"line":412,` +
		`"source":"sha256:0123456789abcdef0123456789abcdef/dns.log","format":"zeek","header":"I3NlcGFyYXRvciBceDA5Cg=="}],` +
		`"alerts_offset":5120,"detections":["beacon-1"]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"files":[{"offset":-1}]}`))
	f.Add([]byte(`{"version":1} {}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCheckpoint(data, "state.json")
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte("state.json")) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseCheckpoint(again, "state.json")
		if err != nil {
			t.Fatalf("a parsed checkpoint does not parse again: %v\n%s", err, again)
		}
		if len(c2.Files) != len(c.Files) || c2.AlertsOffset != c.AlertsOffset {
			t.Fatalf("round trip changed the checkpoint")
		}
	})
}
