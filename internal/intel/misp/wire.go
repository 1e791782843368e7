package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// MISP writes numbers and booleans as JSON strings in some versions and as
// JSON values in others; these types read both.

type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		return errors.New("want a string or a number")
	}
	*f = flexString(b)
	return nil
}

type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "1", "true":
		*f = true
	case "0", "false", "", "null":
		*f = false
	default:
		return fmt.Errorf("%q is not a boolean", string(s))
	}
	return nil
}

// unixTime reads a UNIX timestamp in seconds ("1700000000" or 1700000000).
type unixTime time.Time

func (u *unixTime) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*u = unixTime{}
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(s)), 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return fmt.Errorf("timestamp %q is not UNIX seconds", string(s))
	}
	*u = unixTime(time.Unix(n, 0).UTC())
	return nil
}

func (u unixTime) time() time.Time { return time.Time(u) }

type wireOrg struct {
	UUID string     `json:"uuid"`
	Name string     `json:"name"`
	ID   flexString `json:"id"`
}

type wireTag struct {
	Name string `json:"name"`
}

type wireSharingGroup struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

type wireCluster struct {
	UUID        string                     `json:"uuid"`
	Value       string                     `json:"value"`
	TagName     string                     `json:"tag_name"`
	Description string                     `json:"description"`
	Type        string                     `json:"type"`
	Meta        map[string]json.RawMessage `json:"meta"`
	Related     []wireRelated              `json:"related"`
}

type wireRelated struct {
	DestUUID string `json:"dest-uuid"`
	Type     string `json:"type"`
}

type wireGalaxy struct {
	UUID          string        `json:"uuid"`
	Name          string        `json:"name"`
	Type          string        `json:"type"`
	GalaxyCluster []wireCluster `json:"GalaxyCluster"`
}

type wireAttribute struct {
	UUID           string            `json:"uuid"`
	Type           string            `json:"type"`
	Category       string            `json:"category"`
	Value          flexString        `json:"value"`
	ToIDS          flexBool          `json:"to_ids"`
	Distribution   flexString        `json:"distribution"`
	SharingGroup   *wireSharingGroup `json:"SharingGroup"`
	Timestamp      unixTime          `json:"timestamp"`
	Comment        string            `json:"comment"`
	FirstSeen      string            `json:"first_seen"`
	LastSeen       string            `json:"last_seen"`
	Deleted        flexBool          `json:"deleted"`
	ObjectRelation string            `json:"object_relation"`
	Tag            []wireTag         `json:"Tag"`
	Galaxy         []wireGalaxy      `json:"Galaxy"`
}

type wireObject struct {
	UUID         string            `json:"uuid"`
	Name         string            `json:"name"`
	MetaCategory string            `json:"meta-category"`
	Comment      string            `json:"comment"`
	Distribution flexString        `json:"distribution"`
	SharingGroup *wireSharingGroup `json:"SharingGroup"`
	Timestamp    unixTime          `json:"timestamp"`
	Deleted      flexBool          `json:"deleted"`
	Attribute    []json.RawMessage `json:"Attribute"`
}

type wireEvent struct {
	UUID          string            `json:"uuid"`
	ID            flexString        `json:"id"`
	Info          string            `json:"info"`
	Date          string            `json:"date"`
	Timestamp     unixTime          `json:"timestamp"`
	ThreatLevelID flexString        `json:"threat_level_id"`
	Analysis      flexString        `json:"analysis"`
	Distribution  flexString        `json:"distribution"`
	SharingGroup  *wireSharingGroup `json:"SharingGroup"`
	Orgc          *wireOrg          `json:"Orgc"`
	Org           *wireOrg          `json:"Org"`
	Tag           []wireTag         `json:"Tag"`
	Galaxy        []wireGalaxy      `json:"Galaxy"`
}

// attrRecord is one attribute with where it starts in the file.
type attrRecord struct {
	offset int64
	raw    json.RawMessage
	w      wireAttribute
	err    error // the attribute could not be decoded
}

type objRecord struct {
	offset int64
	raw    json.RawMessage
	w      wireObject
	attrs  []*attrRecord
	err    error
}

// event is one decoded MISP event.
type event struct {
	offset  int64
	meta    map[string]json.RawMessage // every key but Attribute and Object, verbatim
	w       wireEvent
	attrs   []*attrRecord
	objects []*objRecord
}

// limitReader fails once more than max bytes have been read.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, fmt.Errorf("input is larger than %d MiB", l.max>>20)
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// parser reads MISP JSON documents: {"Event": {...}}, {"response": [...]}
// (a REST search result), a bare array of either, or a bare event object.
type parser struct {
	dec *json.Decoder
}

func (p *parser) fail(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = errors.New("unexpected end of input (truncated JSON?)")
	}
	return fmt.Errorf("offset %d: %w", intel.JSONErrorOffset(p.dec, err), err)
}

func (p *parser) delim(want json.Delim) error {
	tok, err := p.dec.Token()
	if err != nil {
		return p.fail(err)
	}
	if tok != want {
		return p.fail(fmt.Errorf("expected %q, found %v", want, tok))
	}
	return nil
}

// parseDocument reads every event of a document.
func parseDocument(r io.Reader, max int64) ([]*event, error) {
	p := &parser{dec: json.NewDecoder(&limitReader{r: r, max: max})}
	p.dec.UseNumber()
	tok, err := p.dec.Token()
	if err == io.EOF {
		return nil, errors.New("empty input")
	}
	if err != nil {
		return nil, p.fail(err)
	}
	var events []*event
	switch tok {
	case json.Delim('{'):
		events, err = p.topObject()
	case json.Delim('['):
		events, err = p.eventArray()
	default:
		return nil, p.fail(errors.New("not a JSON object or array"))
	}
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, p.fail(errors.New("data after the end of the document"))
	}
	if len(events) == 0 {
		return nil, errors.New("no MISP event in the document")
	}
	return events, nil
}

// topObject reads an object whose '{' was consumed: a wrapper with
// "Event" or "response", or a bare event.
func (p *parser) topObject() ([]*event, error) {
	start := p.dec.InputOffset() - 1
	bare := &event{offset: start, meta: map[string]json.RawMessage{}}
	var events []*event
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		switch key {
		case "Event":
			off := valueStart(p.dec)
			if err := p.delim('{'); err != nil {
				return nil, err
			}
			ev := &event{offset: off, meta: map[string]json.RawMessage{}}
			if err := p.eventBody(ev); err != nil {
				return nil, err
			}
			events = append(events, ev)
		case "response":
			if err := p.delim('['); err != nil {
				return nil, err
			}
			evs, err := p.eventArray()
			if err != nil {
				return nil, err
			}
			events = append(events, evs...)
		default:
			if err := p.eventField(bare, key); err != nil {
				return nil, err
			}
		}
	}
	if err := p.delim('}'); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		if _, ok := bare.meta["info"]; ok || len(bare.attrs) > 0 || len(bare.objects) > 0 {
			if err := bare.decodeMeta(); err != nil {
				return nil, fmt.Errorf("offset %d: %w", bare.offset, err)
			}
			events = append(events, bare)
		}
	}
	return events, nil
}

// eventArray reads the elements of an array whose '[' was consumed.
func (p *parser) eventArray() ([]*event, error) {
	var events []*event
	for p.dec.More() {
		if err := p.delim('{'); err != nil {
			return nil, err
		}
		evs, err := p.topObject()
		if err != nil {
			return nil, err
		}
		events = append(events, evs...)
	}
	if err := p.delim(']'); err != nil {
		return nil, err
	}
	return events, nil
}

func (p *parser) key() (string, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return "", p.fail(err)
	}
	k, ok := tok.(string)
	if !ok {
		return "", p.fail(fmt.Errorf("expected an object key, found %v", tok))
	}
	return k, nil
}

// eventBody reads the fields of an event object whose '{' was consumed.
func (p *parser) eventBody(ev *event) error {
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return err
		}
		if err := p.eventField(ev, key); err != nil {
			return err
		}
	}
	if err := p.delim('}'); err != nil {
		return err
	}
	if err := ev.decodeMeta(); err != nil {
		return fmt.Errorf("offset %d: %w", ev.offset, err)
	}
	return nil
}

func (p *parser) eventField(ev *event, key string) error {
	switch key {
	case "Attribute":
		return p.records(func(off int64, raw json.RawMessage) {
			ev.attrs = append(ev.attrs, decodeAttr(off, raw))
		})
	case "Object":
		return p.records(func(off int64, raw json.RawMessage) {
			o := &objRecord{offset: off, raw: raw}
			if err := json.Unmarshal(raw, &o.w); err != nil {
				o.err = fmt.Errorf("object: %w", err)
			}
			for _, a := range o.w.Attribute {
				o.attrs = append(o.attrs, decodeAttr(off, a))
			}
			o.w.Attribute = nil
			ev.objects = append(ev.objects, o)
		})
	}
	var raw json.RawMessage
	if err := p.dec.Decode(&raw); err != nil {
		return p.fail(err)
	}
	ev.meta[key] = raw
	return nil
}

// records reads an array of objects one by one, with their offsets. A null
// array is read as empty.
func (p *parser) records(fn func(int64, json.RawMessage)) error {
	tok, err := p.dec.Token()
	if err != nil {
		return p.fail(err)
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('[') {
		return p.fail(fmt.Errorf("expected an array, found %v", tok))
	}
	for p.dec.More() {
		off := valueStart(p.dec)
		var raw json.RawMessage
		if err := p.dec.Decode(&raw); err != nil {
			return p.fail(err)
		}
		fn(off, raw)
	}
	_, err = p.dec.Token()
	if err != nil {
		return p.fail(err)
	}
	return nil
}

func decodeAttr(off int64, raw json.RawMessage) *attrRecord {
	a := &attrRecord{offset: off, raw: raw}
	if err := json.Unmarshal(raw, &a.w); err != nil {
		a.err = fmt.Errorf("attribute: %w", err)
	}
	return a
}

func (ev *event) decodeMeta() error {
	b, err := json.Marshal(ev.meta)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &ev.w); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	return nil
}

// valueStart returns the byte offset of the next JSON value: InputOffset
// stands before the comma and blanks that separate it from the last one.
func valueStart(dec *json.Decoder) int64 {
	off := dec.InputOffset()
	var buf [64]byte
	n, _ := dec.Buffered().Read(buf[:])
	for i := 0; i < n; i++ {
		switch buf[i] {
		case ' ', '\t', '\r', '\n', ',', ':':
			continue
		}
		return off + int64(i)
	}
	return off
}
