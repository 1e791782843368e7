package store

import "time"

// ScanRecord is the summary of one scan, kept so that an analysis run
// later (report, attribute) can say how much telemetry was read.
type ScanRecord struct {
	Seq        int64     `json:"seq"` // assigned by the store: 1, 2, … in the order scans were stored
	At         time.Time `json:"at"`  // when the scan ended (the caller's, or now)
	Snapshot   string    `json:"snapshot"`
	Files      int       `json:"files"`
	Events     int64     `json:"events"`
	Bytes      int64     `json:"bytes"`
	Sightings  int       `json:"sightings"`     // matched, suppressed ones included
	New        int       `json:"new_sightings"` // not stored before
	Detections int       `json:"detections"`
}

// ScanTotals adds up scans: every event and byte read by any of them.
// A file scanned twice counts twice: it was read twice.
func ScanTotals(scans []ScanRecord) (events, bytes int64) {
	for _, s := range scans {
		events += s.Events
		bytes += s.Bytes
	}
	return events, bytes
}
