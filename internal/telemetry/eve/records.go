package eve

import (
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/jsonscan"
	"github.com/whodunit-project/whodunit/internal/telemetry/internal/textval"
)

type timeT = time.Time

func (r *reader) alert(v jsonscan.Value, ev *telemetry.Event) error {
	return r.each(v, func(k []byte, v jsonscan.Value) error {
		var err error
		switch string(k) {
		case "signature":
			ev.Signature, err = r.text(v)
		case "signature_id":
			var n int64
			if n, _, err = r.intField(v, "alert.signature_id"); err == nil {
				ev.SignatureID = n
			}
		case "severity":
			var n int64
			if n, _, err = r.intField(v, "alert.severity"); err == nil {
				ev.Severity = int(n)
			}
		}
		return err
	})
}

func (r *reader) anomaly(v jsonscan.Value, ev *telemetry.Event) error {
	return r.each(v, func(k []byte, v jsonscan.Value) error {
		var err error
		if string(k) == "event" {
			ev.Signature, err = r.text(v)
		}
		return err
	})
}

// dns reads all three generations of the DNS record: version 1 logs one
// record per answer (rrname, rrtype, rdata, ttl); version 2 puts the
// answers in "answers" (detailed) and/or "grouped" (by type); version 3
// moves the question into "queries".
func (r *reader) dns(v jsonscan.Value, ev *telemetry.Event) error {
	return r.each(v, func(k []byte, v jsonscan.Value) error {
		var err error
		switch string(k) {
		case "rrname":
			var s string
			if s, err = r.text(v); err == nil && ev.Query == "" {
				ev.Query = s
			}
		case "rrtype":
			var s string
			if s, err = r.text(v); err == nil && ev.QType == "" {
				ev.QType = s
			}
		case "rcode":
			ev.RCode, err = r.text(v)
		case "rdata":
			var s string
			if s, err = r.text(v); err == nil && s != "" {
				ev.Answers = append(ev.Answers, s)
			}
		case "ttl":
			err = r.ttl(v, ev)
		case "queries":
			err = r.elems(v, func(q jsonscan.Value) error {
				return r.each(q, func(k []byte, v jsonscan.Value) error {
					var err error
					var s string
					switch string(k) {
					case "rrname":
						if s, err = r.text(v); err == nil && ev.Query == "" {
							ev.Query = s
						}
					case "rrtype":
						if s, err = r.text(v); err == nil && ev.QType == "" {
							ev.QType = s
						}
					}
					return err
				})
			})
		case "answers":
			err = r.elems(v, func(a jsonscan.Value) error {
				if a.Kind == jsonscan.String {
					s, err := r.text(a)
					if err == nil && s != "" {
						ev.Answers = append(ev.Answers, s)
					}
					return err
				}
				// a detailed answer: rdata with its ttl (records such as
				// SOA carry an object instead of rdata and are skipped)
				var rdata string
				var ttl jsonscan.Value
				err := r.each(a, func(k []byte, v jsonscan.Value) error {
					var err error
					switch string(k) {
					case "rdata":
						rdata, err = r.text(v)
					case "ttl":
						ttl = v
					}
					return err
				})
				if err != nil || rdata == "" {
					return err
				}
				ev.Answers = append(ev.Answers, rdata)
				if ttl.Kind != jsonscan.Invalid {
					return r.ttl(ttl, ev)
				}
				return nil
			})
		case "grouped":
			err = r.each(v, func(_ []byte, list jsonscan.Value) error {
				return r.elems(list, func(a jsonscan.Value) error {
					if a.Kind != jsonscan.String {
						return nil
					}
					s, err := r.text(a)
					if err == nil && s != "" {
						r.grouped = append(r.grouped, s)
					}
					return err
				})
			})
		}
		return err
	})
}

func (r *reader) ttl(v jsonscan.Value, ev *telemetry.Event) error {
	s, err := r.text(v)
	if err != nil || s == "" {
		return err
	}
	f, ok := textval.Float(s)
	if !ok {
		return fieldErr("dns.ttl", s, "not a number")
	}
	ev.TTLs = append(ev.TTLs, f)
	return nil
}

func (r *reader) tls(v jsonscan.Value, ev *telemetry.Event) error {
	return r.each(v, func(k []byte, v jsonscan.Value) error {
		var err error
		switch string(k) {
		case "sni":
			ev.SNI, err = r.text(v)
		case "subject":
			ev.CertSubject, err = r.text(v)
		case "issuerdn":
			ev.CertIssuer, err = r.text(v)
		case "version":
			ev.TLSVersion, err = r.text(v)
		case "serial":
			var s string
			if s, err = r.text(v); err == nil && s != "" {
				h, ok := textval.Serial(&r.arena, s)
				if !ok {
					return fieldErr("tls.serial", s, "not a hex serial number")
				}
				ev.CertSerial = h
			}
		case "fingerprint":
			var h string
			if h, err = r.hexField(v, "tls.fingerprint"); err == nil && h != "" {
				switch len(h) {
				case 40:
					ev.CertSHA1 = h
				case 64:
					ev.CertSHA256 = h
				}
			}
		case "notbefore", "not_before":
			err = r.timeField(v, "tls.notbefore", &ev.NotBefore)
		case "notafter", "not_after":
			err = r.timeField(v, "tls.notafter", &ev.NotAfter)
		case "ja3", "ja3s":
			dst := &ev.JA3
			if len(k) == 4 {
				dst = &ev.JA3S
			}
			if v.Kind == jsonscan.String {
				*dst, err = r.hexField(v, "tls."+string(k))
				return err
			}
			err = r.each(v, func(kk []byte, v jsonscan.Value) error {
				var err error
				if string(kk) == "hash" {
					*dst, err = r.hexField(v, "tls.ja3.hash")
				}
				return err
			})
		}
		return err
	})
}

func (r *reader) http(v jsonscan.Value, ev *telemetry.Event) error {
	return r.each(v, func(k []byte, v jsonscan.Value) error {
		var err error
		switch string(k) {
		case "hostname":
			ev.Host, err = r.text(v)
		case "url":
			ev.URI, err = r.text(v)
		case "http_user_agent":
			ev.UserAgent, err = r.text(v)
		case "http_refer":
			ev.Referrer, err = r.text(v)
		case "http_method":
			ev.Method, err = r.text(v)
		case "http_content_type":
			if ev.MIMEType == "" {
				ev.MIMEType, err = r.text(v)
			}
		case "status":
			var n int64
			var ok bool
			if n, ok, err = r.intField(v, "http.status"); ok {
				ev.StatusCode = int(n)
			}
		}
		return err
	})
}

func (r *reader) fileinfo(v jsonscan.Value, ev *telemetry.Event) error {
	return r.each(v, func(k []byte, v jsonscan.Value) error {
		var err error
		switch string(k) {
		case "filename":
			ev.FileName, err = r.text(v)
		case "md5":
			ev.MD5, err = r.hexField(v, "fileinfo.md5")
		case "sha1":
			ev.SHA1, err = r.hexField(v, "fileinfo.sha1")
		case "sha256":
			ev.SHA256, err = r.hexField(v, "fileinfo.sha256")
		case "mimetype", "mime_type":
			ev.MIMEType, err = r.text(v)
		case "size":
			var n int64
			var ok bool
			if n, ok, err = r.intField(v, "fileinfo.size"); ok {
				ev.FileSize = n
			}
		}
		return err
	})
}

// flow reads a flow record (both directions) or a netflow record (one).
func (r *reader) flow(v jsonscan.Value, ev *telemetry.Event, oneWay bool) error {
	var start, end time.Time
	var age int64
	err := r.each(v, func(k []byte, v jsonscan.Value) error {
		var err error
		var n int64
		var ok bool
		switch string(k) {
		case "pkts_toserver", "pkts":
			if n, ok, err = r.intField(v, "flow.pkts_toserver"); ok {
				ev.SrcPackets = n
			}
		case "pkts_toclient":
			if n, ok, err = r.intField(v, "flow.pkts_toclient"); ok {
				ev.DstPackets = n
			}
		case "bytes_toserver", "bytes":
			if n, ok, err = r.intField(v, "flow.bytes_toserver"); ok {
				ev.SrcBytes = n
			}
		case "bytes_toclient":
			if n, ok, err = r.intField(v, "flow.bytes_toclient"); ok {
				ev.DstBytes = n
			}
		case "start":
			err = r.timeField(v, "flow.start", &start)
		case "end":
			err = r.timeField(v, "flow.end", &end)
		case "age":
			if n, ok, err = r.intField(v, "flow.age"); ok {
				age = n
			}
		case "state":
			if !oneWay {
				ev.ConnState, err = r.text(v)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case !start.IsZero() && !end.IsZero() && !end.Before(start):
		ev.Duration = end.Sub(start)
	case age > 0:
		ev.Duration = time.Duration(age) * time.Second
	}
	return nil
}

// address strips the angle brackets SMTP puts around an address.
func address(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

func (r *reader) smtp(v jsonscan.Value, ev *telemetry.Event) error {
	return r.each(v, func(k []byte, v jsonscan.Value) error {
		switch string(k) {
		case "mail_from":
			s, err := r.text(v)
			ev.MailFrom = address(s)
			return err
		case "rcpt_to":
			return r.elems(v, func(a jsonscan.Value) error {
				s, err := r.text(a)
				if err == nil && s != "" {
					ev.RcptTo = append(ev.RcptTo, address(s))
				}
				return err
			})
		}
		return nil
	})
}

func (r *reader) email(v jsonscan.Value, ev *telemetry.Event) error {
	return r.each(v, func(k []byte, v jsonscan.Value) error {
		switch string(k) {
		case "from":
			s, err := r.text(v)
			ev.From = s
			return err
		case "to":
			return r.elems(v, func(a jsonscan.Value) error {
				s, err := r.text(a)
				if err == nil && s != "" {
					ev.To = append(ev.To, s)
				}
				return err
			})
		case "subject":
			s, err := r.text(v)
			ev.Subject = s
			return err
		case "attachment":
			return r.elems(v, func(a jsonscan.Value) error {
				s, err := r.text(a)
				if err == nil && ev.FileName == "" {
					ev.FileName = s
				}
				return err
			})
		}
		return nil
	})
}

// ssh keeps the client's software banner, the SSH analogue of a user agent.
func (r *reader) ssh(v jsonscan.Value, ev *telemetry.Event) error {
	return r.each(v, func(k []byte, v jsonscan.Value) error {
		if string(k) != "client" {
			return nil
		}
		return r.each(v, func(k []byte, v jsonscan.Value) error {
			var err error
			if string(k) == "software_version" {
				ev.UserAgent, err = r.text(v)
			}
			return err
		})
	})
}
