package zeek_test

import (
	"testing"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/readertest"
	"github.com/whodunit-project/whodunit/internal/telemetry/zeek"
)

// fuzzRead reads everything a format makes of data: it must end within
// one record a line, and every error but the last must be a record error.
func fuzzRead(t *testing.T, f telemetry.Format, data []byte) {
	readertest.Fuzz(t, f, data, "fuzz", len(data)+1, nil)
}

// narrowest is the least a reader may be asked to decode.
var narrowest = telemetry.Needs{MatchOnly: true, Skip: allGroups}

func FuzzZeekTSV(f *testing.F) {
	f.Add([]byte(hdr + "1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq\ta,b\t1.0,2\n"))
	f.Add([]byte(hdr + "1.5\tC1\tfe80::1\t1\t10.0.0.2\t53\t\\x41\\\\\t(empty)\t-\n#close\t1\n" + hdr))
	f.Add([]byte("#separator \\x7c\n#fields|ts|id.orig_h|label\n1|1.2.3.4|x\n"))
	f.Add([]byte("#fields\tts\tx   label   detailed-label\n1\ta   b   c\n"))
	f.Add(gz(f, hdr+"1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t53\tq\t-\t-\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, zeek.TSV{MaxLineBytes: 4096}, data)
		fuzzRead(t, zeek.TSV{MaxLineBytes: 4096, Needs: narrowest}, data)
	})
}

func FuzzZeekJSON(f *testing.F) {
	f.Add([]byte(`{"_path":"dns","ts":1.5,"id.orig_h":"10.0.0.1","answers":["a","b"],"TTLs":[1,2.5]}` + "\n"))
	f.Add([]byte(`{"ts":"2020-01-02T03:04:05Z","id":{"orig_h":"::1","resp_p":80},"host":"h","client":"\\x16\\x03"}`))
	f.Add([]byte(`{"_path":"x509","fingerprint":"AB","certificate.serial":"-0F","san.dns":[],"k\u0065y":null}`))
	f.Add([]byte(`{"a":[[[[{}]]]],"b":"\ud83d\ude00","c":-1.5e3}` + "\n{bad\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, zeek.JSON{MaxLineBytes: 4096}, data)
		fuzzRead(t, zeek.JSON{MaxLineBytes: 4096, Needs: narrowest}, data)
	})
}
