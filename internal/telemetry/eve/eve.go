// Package eve reads Suricata's EVE JSON log (eve.json): one JSON object per
// line, an "event_type" naming the record and an object of the same name
// holding its details. It fills telemetry.Event from alert, dns (the old
// one-record-per-answer form, version 2 "answers"/"grouped", and version 3
// "queries"), tls, http, fileinfo, flow, netflow, smtp, email, anomaly and
// ssh records; any other event type keeps its five-tuple as KindOther.
package eve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/jsonscan"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textin"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

// DefaultMaxLineBytes bounds one line when MaxLineBytes is 0.
const DefaultMaxLineBytes = telemetry.DefaultMaxLineBytes

// Format is the EVE JSON format.
type Format struct {
	// MaxLineBytes bounds one line; a longer line is one bad record.
	MaxLineBytes int
	// Limits bound gzip decompression when Open gets compressed bytes.
	Limits fileio.Limits
	// Needs narrows what is decoded (zero: every field the reader knows).
	// MatchOnly leaves proto, app_proto and the alert, anomaly, flow and
	// netflow records undecoded (their values are still scanned over).
	Needs telemetry.Needs
}

// Name implements telemetry.Format.
func (Format) Name() string { return "eve" }

// Sniff recognises a first line that is a JSON object with "event_type"
// and "timestamp", as every EVE record has.
func (Format) Sniff(head []byte, name string) bool {
	head = bytes.TrimLeft(head, "\ufeff \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	return bytes.Contains(head, []byte(`"event_type"`)) && bytes.Contains(head, []byte(`"timestamp"`))
}

// Open implements telemetry.Format.
func (f Format) Open(r io.Reader, name string) (telemetry.Reader, error) {
	br, err := textin.Open(r, name, f.Limits)
	if err != nil {
		return nil, err
	}
	max := f.MaxLineBytes
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	lines := textin.NewLines("eve", name, br, max)
	return &reader{name: name, max: max, lr: lines.LR, lines: lines, matchOnly: f.Needs.MatchOnly}, nil
}

type reader struct {
	name    string
	max     int
	lr      *fileio.LineReader
	lines   *textin.Lines
	arena   textval.Arena
	doc     jsonscan.Doc
	grouped []string
	// matchOnly: see Format.Needs
	matchOnly bool
}

// Next implements telemetry.Reader.
func (r *reader) Next(ev *telemetry.Event) error {
	line, err := r.lines.Next()
	if err != nil {
		return err
	}
	ev.Reset()
	r.arena.Reset()
	r.grouped = r.grouped[:0]
	if err := r.decode(line, ev); err != nil {
		return r.lines.RecordError(err)
	}
	return nil
}

// fieldErr reports a value that does not fit its key; the value is copied
// because it may alias the line buffer.
func fieldErr(key, val, what string) error {
	if len(val) > 64 {
		val = val[:64] + "…"
	}
	return fmt.Errorf("%s: %s %q", key, what, strings.Clone(val))
}

func (r *reader) text(v jsonscan.Value) (string, error) { return jsonscan.Text(&r.arena, v) }

func (r *reader) decode(line []byte, ev *telemetry.Event) error {
	obj, err := r.doc.Object(line)
	if err != nil {
		return err
	}
	ev.File = r.name
	ev.Line = r.lr.Line
	ev.Offset = r.lr.Offset
	sawType := false
	for {
		k, _, v, ok := obj.Next()
		if !ok {
			break
		}
		if r.matchOnly && matchUnread(k) {
			continue
		}
		var err error
		switch string(k) {
		case "timestamp":
			err = r.timeField(v, "timestamp", &ev.Time)
		case "event_type":
			var s string
			if s, err = r.text(v); err == nil {
				ev.Log = s
				ev.Kind = kindOf(s)
				sawType = true
			}
		case "src_ip", "dest_ip":
			var s string
			if s, err = r.text(v); err == nil && s != "" {
				ip, ok := textval.Addr(s)
				if !ok {
					err = fieldErr(string(k), s, "not an IP address")
				} else if k[0] == 's' {
					ev.SrcIP = ip
				} else {
					ev.DstIP = ip
				}
			}
		case "src_port", "dest_port":
			var s string
			if s, err = r.text(v); err == nil && s != "" {
				p, ok := textval.Port(s)
				if !ok {
					err = fieldErr(string(k), s, "not a port")
				} else if k[0] == 's' {
					ev.SrcPort = p
				} else {
					ev.DstPort = p
				}
			}
		case "proto":
			var s string
			if s, err = r.text(v); err == nil {
				ev.Proto = proto(&r.arena, s)
			}
		case "app_proto":
			ev.Service, err = r.text(v)
		case "flow_id":
			ev.UID, err = r.text(v)
		case "alert":
			err = r.alert(v, ev)
		case "dns":
			err = r.dns(v, ev)
		case "tls":
			err = r.tls(v, ev)
		case "http":
			err = r.http(v, ev)
		case "fileinfo":
			err = r.fileinfo(v, ev)
		case "flow":
			err = r.flow(v, ev, false)
		case "netflow":
			err = r.flow(v, ev, true)
		case "smtp":
			err = r.smtp(v, ev)
		case "email":
			err = r.email(v, ev)
		case "anomaly":
			err = r.anomaly(v, ev)
		case "ssh":
			err = r.ssh(v, ev)
		}
		if err != nil {
			return err
		}
	}
	if err := obj.Err(); err != nil {
		return err
	}
	if !sawType {
		return errors.New(`no "event_type"`)
	}
	if len(ev.Answers) == 0 && len(r.grouped) > 0 {
		ev.Answers = append(ev.Answers, r.grouped...)
	}
	return nil
}

// matchUnread reports whether no matcher or sighting reads what the
// top-level member k fills: what Needs.MatchOnly may leave zero.
func matchUnread(k []byte) bool {
	switch string(k) {
	case "proto", "app_proto", "alert", "anomaly", "flow", "netflow":
		return true
	}
	return false
}

// kindOf maps an EVE event_type to the event kind.
func kindOf(t string) telemetry.Kind {
	switch t {
	case "alert":
		return telemetry.KindAlert
	case "dns":
		return telemetry.KindDNS
	case "tls":
		return telemetry.KindTLS
	case "http":
		return telemetry.KindHTTP
	case "fileinfo":
		return telemetry.KindFile
	case "flow", "netflow":
		return telemetry.KindConn
	case "smtp":
		return telemetry.KindSMTP
	case "anomaly":
		return telemetry.KindNotice
	case "ssh":
		return telemetry.KindSSH
	}
	return telemetry.KindOther
}

// proto lower-cases Suricata's protocol names ("TCP" → "tcp") without
// allocating for the common ones.
func proto(a *textval.Arena, s string) string {
	switch s {
	case "TCP":
		return "tcp"
	case "UDP":
		return "udp"
	case "ICMP":
		return "icmp"
	case "IPv6-ICMP":
		return "icmp6"
	case "SCTP":
		return "sctp"
	}
	return textval.Lower(a, s)
}

func (r *reader) timeField(v jsonscan.Value, key string, dst *timeT) error {
	s, err := r.text(v)
	if err != nil || s == "" {
		return err
	}
	t, ok := textval.Time(s)
	if !ok {
		return fieldErr(key, s, "not a timestamp")
	}
	*dst = t
	return nil
}

func (r *reader) intField(v jsonscan.Value, key string) (int64, bool, error) {
	s, err := r.text(v)
	if err != nil || s == "" {
		return 0, false, err
	}
	n, ok := textval.Int(s)
	if !ok {
		return 0, false, fieldErr(key, s, "not an integer")
	}
	return n, true, nil
}

func (r *reader) hexField(v jsonscan.Value, key string) (string, error) {
	s, err := r.text(v)
	if err != nil || s == "" {
		return "", err
	}
	h, ok := textval.Hex(&r.arena, s)
	if !ok {
		return "", fieldErr(key, s, "not hex")
	}
	return h, nil
}

// each calls fn for every member of an object value; other kinds are
// ignored (Suricata never puts them where an object belongs, but a
// hand-made file may).
func (r *reader) each(v jsonscan.Value, fn func(k []byte, v jsonscan.Value) error) error {
	if v.Kind != jsonscan.Object {
		return nil
	}
	o := r.doc.Enter(v)
	for {
		k, _, mv, ok := o.Next()
		if !ok {
			return o.Err()
		}
		if err := fn(k, mv); err != nil {
			return err
		}
	}
}

// elems calls fn for every element of an array value; a scalar counts as
// a one-element array.
func (r *reader) elems(v jsonscan.Value, fn func(v jsonscan.Value) error) error {
	if v.Kind != jsonscan.Array {
		if v.Kind == jsonscan.Null {
			return nil
		}
		return fn(v)
	}
	a := r.doc.EnterArray(v)
	for {
		el, ok := a.Next()
		if !ok {
			return a.Err()
		}
		if err := fn(el); err != nil {
			return err
		}
	}
}
