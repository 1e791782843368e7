package pcap

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

const (
	maxSMTPLine  = 4096
	maxRecipient = 1000
)

// SMTP client-side states.
const (
	smtpCommand = iota
	smtpData    // message lines until "."
	smtpBDAT    // BDAT chunk bytes
)

// smtpApp reads the client side of an SMTP session: the envelope (MAIL
// FROM, RCPT TO) and the From, To and Subject headers of each message. One
// event per mail transaction.
type smtpApp struct {
	line     []byte
	overlong bool
	state    int
	remain   int64
	bdatLast bool

	active    bool
	start     time.Time
	mailFrom  string
	rcpts     []string
	from      string
	to        []string
	subject   string
	inHeaders bool
	lastHdr   string // header a folded line continues
}

func (s *smtpApp) data(r *Reader, f *flow, dir int, b []byte) {
	if dir != fromOrig {
		return
	}
	for len(b) > 0 && !f.appDone {
		if s.state == smtpBDAT {
			n := int64(len(b))
			if n > s.remain {
				n = s.remain
			}
			s.remain -= n
			b = b[n:]
			if s.remain == 0 {
				s.state = smtpCommand
				if s.bdatLast {
					s.emit(r, f)
				}
			}
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			s.appendLine(b)
			return
		}
		s.appendLine(b[:i])
		b = b[i+1:]
		line := bytes.TrimRight(s.line, "\r")
		s.lineIn(r, f, line)
		s.line, s.overlong = s.line[:0], false
	}
}

func (s *smtpApp) appendLine(b []byte) {
	room := maxSMTPLine - len(s.line)
	if len(b) > room {
		b = b[:room]
		s.overlong = true
	}
	s.line = append(s.line, b...)
}

func (s *smtpApp) lineIn(r *Reader, f *flow, line []byte) {
	if s.state == smtpData {
		if len(line) == 1 && line[0] == '.' {
			s.state = smtpCommand
			s.emit(r, f)
			return
		}
		if s.inHeaders {
			s.header(line)
		}
		return
	}
	upper := bytes.ToUpper(bytes.TrimSpace(line[:min(len(line), 10)]))
	switch {
	case bytes.HasPrefix(upper, []byte("MAIL FROM:")):
		if s.active {
			s.emit(r, f)
		}
		s.active, s.start = true, r.pkt.Time
		s.mailFrom = mailAddress(line[len("MAIL FROM:"):])
	case bytes.HasPrefix(upper, []byte("RCPT TO:")):
		if len(s.rcpts) < maxRecipient {
			s.rcpts = append(s.rcpts, mailAddress(line[len("RCPT TO:"):]))
		}
	case string(upper) == "DATA":
		s.state, s.inHeaders, s.lastHdr = smtpData, true, ""
	case bytes.HasPrefix(upper, []byte("BDAT ")):
		fields := strings.Fields(string(line[5:]))
		if len(fields) == 0 {
			return
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || n < 0 {
			return
		}
		s.state, s.remain = smtpBDAT, n
		s.bdatLast = len(fields) > 1 && strings.EqualFold(fields[1], "LAST")
		if n == 0 {
			s.state = smtpCommand
			if s.bdatLast {
				s.emit(r, f)
			}
		}
	case string(upper) == "RSET" || string(upper) == "QUIT":
		if len(s.rcpts) > 0 {
			s.emit(r, f)
		}
		s.reset()
	case string(upper) == "STARTTLS":
		if len(s.rcpts) > 0 {
			s.emit(r, f)
		}
		f.stopStreams() // the rest is encrypted
	}
}

// header reads the message headers that name people and the subject.
func (s *smtpApp) header(line []byte) {
	if len(line) == 0 {
		s.inHeaders = false
		return
	}
	if line[0] == ' ' || line[0] == '\t' {
		v := strings.TrimSpace(escapedString(line))
		switch s.lastHdr {
		case "subject":
			s.subject += " " + v
		case "to":
			s.to = appendAddrs(s.to, v)
		case "from":
			s.from += " " + v
		}
		return
	}
	name, val, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		s.lastHdr = ""
		return
	}
	v := strings.TrimSpace(escapedString(val))
	switch {
	case bytes.EqualFold(name, []byte("From")):
		s.from, s.lastHdr = v, "from"
	case bytes.EqualFold(name, []byte("To")):
		s.to, s.lastHdr = appendAddrs(s.to, v), "to"
	case bytes.EqualFold(name, []byte("Subject")):
		s.subject, s.lastHdr = v, "subject"
	default:
		s.lastHdr = ""
	}
}

func appendAddrs(list []string, v string) []string {
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" && len(list) < maxRecipient {
			list = append(list, a)
		}
	}
	return list
}

// mailAddress takes the address out of "<addr> params" or "addr params".
func mailAddress(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '<' {
		if i := bytes.IndexByte(b, '>'); i > 0 {
			return escapedString(b[1:i])
		}
		return escapedString(b[1:])
	}
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	return escapedString(b)
}

func (s *smtpApp) emit(r *Reader, f *flow) {
	if s.active || len(s.rcpts) > 0 || s.from != "" {
		ev := r.emit(f, telemetry.KindSMTP, "smtp")
		if !s.start.IsZero() {
			ev.Time = s.start
		}
		ev.MailFrom, ev.RcptTo = s.mailFrom, s.rcpts
		ev.From, ev.To, ev.Subject = s.from, s.to, s.subject
	}
	s.reset()
}

func (s *smtpApp) reset() {
	s.active, s.start = false, time.Time{}
	s.mailFrom, s.rcpts, s.from, s.to, s.subject = "", nil, "", nil, ""
	s.inHeaders, s.lastHdr = false, ""
}

func (s *smtpApp) gap(r *Reader, f *flow, dir int) {
	if dir == fromOrig {
		s.line, s.overlong = s.line[:0], false
		if s.state == smtpBDAT {
			// Chunk framing is lost.
			f.stopStreams()
		}
	}
}

func (s *smtpApp) finish(r *Reader, f *flow) {
	s.emit(r, f)
}
