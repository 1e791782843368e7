package behavior

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/whodunit-project/whodunit/internal/fileio"
)

// Allowlist is the user's own list of benign destinations. Its format, one
// entry per line:
//
//	# comment; on an entry line the comment is the entry's reason
//	203.0.113.7                     # one address
//	198.51.100.0/24                 # a network
//	updates.example.com             # a domain and all its subdomains ("*." prefix allowed)
//	10.1.2.3 -> 192.0.2.10          # only from this source (address or network)
//	10.1.2.0/24 -> backup.example.net
//	10.9.9.9 -> *                   # everything from this source
//
// Lines are at most 4096 bytes; blank lines are ignored. Errors name the file
// and line. Matches are reported as list "allowlist FILE:LINE" followed by the
// reason, and the default rules suppress them.
type Allowlist struct {
	name    string
	entries []allowEntry
	domains map[string]int // domain → index of the first entry
}

type allowEntry struct {
	line   int64
	reason string
	src    netip.Prefix // zero: any source
	anyDst bool
	dst    netip.Prefix // valid for address entries
	domain string       // non-empty for domain entries
}

// maxAllowLine bounds one allowlist line.
const maxAllowLine = 4096

// LoadAllowlist reads an allowlist file (gzip is detected).
func LoadAllowlist(path string) (*Allowlist, error) {
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("allowlist: %w", err)
	}
	defer in.Close()
	return ParseAllowlist(in.R, path)
}

// ParseAllowlist reads an allowlist from r; name is used in messages and in
// the list names of matches.
func ParseAllowlist(r io.Reader, name string) (*Allowlist, error) {
	a := &Allowlist{name: name, domains: map[string]int{}}
	lr := fileio.NewLineReader(r, maxAllowLine)
	for {
		line, err := lr.Next()
		if err == io.EOF {
			return a, nil
		}
		if errors.Is(err, fileio.ErrLineTooLong) {
			return nil, fmt.Errorf("allowlist %s:%d: line longer than %d bytes", name, lr.Line, maxAllowLine)
		}
		if err != nil {
			return nil, fmt.Errorf("allowlist %s:%d: %w", name, lr.Line, err)
		}
		e, ok, err := parseAllowLine(string(line))
		if err != nil {
			return nil, fmt.Errorf("allowlist %s:%d: %w", name, lr.Line, err)
		}
		if !ok {
			continue
		}
		e.line = lr.Line
		if e.domain != "" && !e.src.IsValid() {
			if _, dup := a.domains[e.domain]; !dup {
				a.domains[e.domain] = len(a.entries)
			}
		}
		a.entries = append(a.entries, e)
	}
}

// Len is the number of entries.
func (a *Allowlist) Len() int { return len(a.entries) }

func parseAllowLine(line string) (allowEntry, bool, error) {
	var e allowEntry
	if i := strings.IndexByte(line, '#'); i >= 0 {
		e.reason = strings.TrimSpace(line[i+1:])
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return e, false, nil
	}
	dst := line
	if i := strings.Index(line, "->"); i >= 0 {
		src := strings.TrimSpace(line[:i])
		dst = strings.TrimSpace(line[i+2:])
		p, err := parseNet(src)
		if err != nil {
			return e, false, fmt.Errorf("source %q: %v", src, err)
		}
		e.src = p
		if dst == "*" {
			e.anyDst = true
			return e, true, nil
		}
	}
	if strings.ContainsAny(dst, " \t") {
		return e, false, fmt.Errorf("%q: one destination per line (use \"src -> dst\" for pairs)", dst)
	}
	if looksLikeAddress(dst) {
		p, err := parseNet(dst)
		if err != nil {
			return e, false, fmt.Errorf("destination %q: %v", dst, err)
		}
		e.dst = p
		return e, true, nil
	}
	d, err := normalizeDomain(dst)
	if err != nil {
		return e, false, fmt.Errorf("destination %q: %v", dst, err)
	}
	e.domain = d
	return e, true, nil
}

func looksLikeAddress(s string) bool {
	if strings.Contains(s, ":") {
		return true
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' && c != '/' {
			return false
		}
	}
	return true
}

func parseNet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("not an address or network")
		}
		if p.Addr().Is4In6() {
			return p, fmt.Errorf("write IPv4 networks in dotted form")
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an address or network")
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// normalizeDomain lower-cases a domain, drops a leading "*." and a trailing
// dot, and checks its labels.
func normalizeDomain(s string) (string, error) {
	s = strings.TrimSuffix(strings.ToLower(strings.TrimPrefix(s, "*.")), ".")
	if s == "" || len(s) > 253 {
		return "", fmt.Errorf("not a domain name")
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("empty or over-long label")
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("character %q not allowed in a domain name", c)
			}
		}
	}
	return s, nil
}

func (a *Allowlist) listName(e *allowEntry) string {
	n := fmt.Sprintf("allowlist %s:%d", a.name, e.line)
	if e.reason != "" {
		n += " (" + e.reason + ")"
	}
	return n
}

// Benign reports entries without a source that match ip or name.
func (a *Allowlist) Benign(ip netip.Addr, name string) (string, bool) {
	if a == nil {
		return "", false
	}
	if name != "" {
		if i, ok := a.lookupDomain(name); ok {
			return a.listName(&a.entries[i]), true
		}
		return "", false
	}
	ip = ip.Unmap()
	for i := range a.entries {
		e := &a.entries[i]
		if !e.src.IsValid() && e.dst.IsValid() && e.dst.Contains(ip) {
			return a.listName(e), true
		}
	}
	return "", false
}

// lookupDomain walks name and its parent domains.
func (a *Allowlist) lookupDomain(name string) (int, bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for {
		if i, ok := a.domains[name]; ok {
			return i, true
		}
		dot := strings.IndexByte(name, '.')
		if dot < 0 {
			return 0, false
		}
		name = name[dot+1:]
	}
}

// BenignPair reports entries with a source that match src and dst or name.
func (a *Allowlist) BenignPair(src, dst netip.Addr, name string) (string, bool) {
	if a == nil {
		return "", false
	}
	src, dst = src.Unmap(), dst.Unmap()
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for i := range a.entries {
		e := &a.entries[i]
		if !e.src.IsValid() || !e.src.Contains(src) {
			continue
		}
		switch {
		case e.anyDst:
		case e.dst.IsValid() && dst.IsValid() && e.dst.Contains(dst):
		case e.domain != "" && name != "" && (name == e.domain || strings.HasSuffix(name, "."+e.domain)):
		default:
			continue
		}
		return a.listName(e), true
	}
	return "", false
}
