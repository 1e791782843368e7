package pcap

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/telemetry"
)

// HTTP request parser states.
const (
	httpHeader     = iota // assembling a request header
	httpBody              // skipping a body of known length
	httpChunkSize         // reading a chunk-size line
	httpChunkData         // skipping chunk data (and its CRLF)
	httpChunkTrail        // skipping trailer lines after the last chunk
	httpResync            // after a hole: looking for the next request line
	httpTunnel            // after CONNECT: opaque bytes
)

// httpApp reads HTTP/1.x requests from the originator: method, URI, Host,
// User-Agent and Referer, one event per request. Bodies are skipped by
// Content-Length or chunked framing so that keep-alive requests are found.
type httpApp struct {
	state  int
	buf    []byte
	remain int64
	start  time.Time // time of the request's first packet
}

func (h *httpApp) data(r *Reader, f *flow, dir int, b []byte) {
	if dir != fromOrig {
		return
	}
	for len(b) > 0 {
		switch h.state {
		case httpHeader:
			if len(h.buf) == 0 {
				h.start = r.pkt.Time
			}
			old := len(h.buf)
			h.buf = append(h.buf, b...)
			end, sep := headerEnd(h.buf, old)
			if end < 0 {
				if len(h.buf) > r.opts.MaxStreamBuffer {
					h.buf = nil
					h.state = httpResync
				} else if i := bytes.IndexByte(h.buf, '\n'); i >= 0 && !looksHTTPRequest(h.buf) {
					h.buf = nil
					h.state = httpResync
				}
				return
			}
			used := end + sep - old
			h.request(r, f, h.buf[:end])
			h.buf = h.buf[:0]
			b = b[used:]
		case httpBody:
			n := int64(len(b))
			if n > h.remain {
				n = h.remain
			}
			h.remain -= n
			b = b[n:]
			if h.remain == 0 {
				h.state = httpHeader
			}
		case httpChunkSize, httpChunkTrail:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				h.buf = append(h.buf, b...)
				if len(h.buf) > 4096 {
					h.buf, h.state = nil, httpResync
				}
				return
			}
			line := append(h.buf, b[:i]...)
			b = b[i+1:]
			h.buf = h.buf[:0]
			line = bytes.TrimRight(line, "\r")
			if h.state == httpChunkTrail {
				if len(line) == 0 {
					h.state = httpHeader
				}
				continue
			}
			if j := bytes.IndexByte(line, ';'); j >= 0 {
				line = line[:j]
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
			switch {
			case err != nil || size < 0:
				h.state = httpResync
			case size == 0:
				h.state = httpChunkTrail
			default:
				h.remain = size + 2 // data and its CRLF
				h.state = httpChunkData
			}
		case httpChunkData:
			n := int64(len(b))
			if n > h.remain {
				n = h.remain
			}
			h.remain -= n
			b = b[n:]
			if h.remain == 0 {
				h.state = httpChunkSize
			}
		case httpResync:
			// A request line starts after a newline.
			i := bytes.IndexByte(b, '\n')
			for i >= 0 && !looksHTTPRequest(b[i+1:]) {
				j := bytes.IndexByte(b[i+1:], '\n')
				if j < 0 {
					i = -1
					break
				}
				i += 1 + j
			}
			if i < 0 {
				return
			}
			b = b[i+1:]
			h.state = httpHeader
		case httpTunnel:
			f.stopStreams()
			return
		}
	}
}

// headerEnd finds the blank line ending a header, searching from a little
// before from; it returns the header length and the separator length.
func headerEnd(b []byte, from int) (int, int) {
	from -= 3
	if from < 0 {
		from = 0
	}
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 1, 1
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 1, 2
		}
	}
	return -1, 0
}

// request parses one request header and emits its event.
func (h *httpApp) request(r *Reader, f *flow, hdr []byte) {
	line, rest, _ := bytes.Cut(hdr, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	method, after, ok := bytes.Cut(line, []byte(" "))
	// The version is optional (HTTP/0.9 style); the URI is what lies before it.
	uri := bytes.TrimSpace(after)
	if i := bytes.LastIndexByte(uri, ' '); i >= 0 && bytes.HasPrefix(uri[i+1:], []byte("HTTP/")) {
		uri = bytes.TrimSpace(uri[:i])
	}
	if !ok || len(uri) == 0 || !(isHTTPMethod(method) || methodToken(method)) {
		h.state = httpResync
		return
	}
	ev := r.emit(f, telemetry.KindHTTP, "http")
	ev.Time = h.start
	ev.Method = string(method)
	ev.URI = escapedString(uri)
	var length int64
	chunked := false
	for len(rest) > 0 {
		var l []byte
		l, rest, _ = bytes.Cut(rest, []byte("\n"))
		l = bytes.TrimRight(l, "\r")
		name, val, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		val = bytes.TrimSpace(val)
		switch {
		case bytes.EqualFold(name, []byte("Host")):
			ev.Host = escapedString(val)
		case bytes.EqualFold(name, []byte("User-Agent")):
			ev.UserAgent = escapedString(val)
		case bytes.EqualFold(name, []byte("Referer")):
			ev.Referrer = escapedString(val)
		case bytes.EqualFold(name, []byte("Content-Length")):
			if n, err := strconv.ParseInt(string(val), 10, 64); err == nil && n > 0 {
				length = n
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(val), []byte("chunked"))
		}
	}
	switch {
	case string(method) == "CONNECT":
		h.state = httpTunnel
	case chunked:
		h.state = httpChunkSize
	case length > 0:
		h.state, h.remain = httpBody, length
	default:
		h.state = httpHeader
	}
}

func escapedString(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '\\' {
			var sb strings.Builder
			writeEscaped(&sb, b)
			return sb.String()
		}
	}
	return string(b)
}

func (h *httpApp) gap(r *Reader, f *flow, dir int) {
	if dir == fromOrig && h.state != httpTunnel {
		h.buf = nil
		h.state = httpResync
	}
}

func (h *httpApp) finish(r *Reader, f *flow) {}
