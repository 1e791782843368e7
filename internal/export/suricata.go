package export

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/whodunit-project/whodunit/internal/intel"
)

// SuricataSIDBase is the first sid of the rules Suricata gets; sids from
// 1,000,000 to 1,999,999 are the range reserved for local rules.
const SuricataSIDBase = 1_960_000

// suricataList is one kind of list file: how its values are written and
// the rules that read it ({set} is the dataset or list file name).
type suricataList struct {
	kind  string
	rules []string
}

// suricataKinds maps value types to the list they go into. Domains go
// into a string dataset (values in base64, as Suricata stores strings)
// read from DNS queries, TLS SNI and HTTP hosts; hashes into the file
// hash lists; addresses into IP reputation.
var suricataKinds = map[intel.ValueType]suricataList{
	intel.Domain: {"domain", []string{
		`alert dns any any -> any any (msg:"%s domain in DNS query"; dns.query; dataset:isset,%s,type string,load %s; %s)`,
		`alert tls any any -> any any (msg:"%s domain in TLS SNI"; tls.sni; dataset:isset,%s,type string,load %s; %s)`,
		`alert http any any -> any any (msg:"%s domain in HTTP host"; http.host; dataset:isset,%s,type string,load %s; %s)`}},
	intel.JA3:    {"ja3", []string{`alert tls any any -> any any (msg:"%s JA3 client fingerprint"; ja3.hash; dataset:isset,%s,type string,load %s; %s)`}},
	intel.JA3S:   {"ja3s", []string{`alert tls any any -> any any (msg:"%s JA3S server fingerprint"; ja3s.hash; dataset:isset,%s,type string,load %s; %s)`}},
	intel.MD5:    {"md5", []string{`alert http any any -> any any (msg:"%s file MD5"; filemd5:%[3]s; %[4]s)`}},
	intel.SHA1:   {"sha1", []string{`alert http any any -> any any (msg:"%s file SHA-1"; filesha1:%[3]s; %[4]s)`}},
	intel.SHA256: {"sha256", []string{`alert http any any -> any any (msg:"%s file SHA-256"; filesha256:%[3]s; %[4]s)`}},
	intel.IPv4:   {"ip", nil}, intel.IPv6: {"ip", nil}, intel.CIDR: {"ip", nil},
}

// Suricata writes, into a directory, one list file per actor and kind of
// value, the IP reputation files, and whodunit.rules whose rules use them
// with the actor in msg.
type Suricata struct {
	dir    string
	files  map[string]*bufio.Writer // list file name → writer
	closer map[string]*os.File
	lists  map[string]listUse // list file name → its actor and kind
	cats   map[string]int     // actor label → iprep category
	slugs  map[string]string  // actor label → its unique file-name part
	taken  map[string]bool
}

type listUse struct{ label, kind string }

// NewSuricata writes into dir, creating it.
func NewSuricata(dir string) (*Suricata, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Suricata{dir: dir, files: map[string]*bufio.Writer{}, closer: map[string]*os.File{},
		lists: map[string]listUse{}, cats: map[string]int{}, slugs: map[string]string{}, taken: map[string]bool{}}, nil
}

// Write implements Writer.
func (s *Suricata) Write(ind *Indicator) (string, error) {
	spec := ind.Indicator
	if why := sensorSkip(spec); why != "" {
		return why, nil
	}
	labels := ind.ActorNames()
	if len(labels) == 0 {
		labels = []string{"unattributed"}
	}
	written := 0
	for _, ob := range spec.Observables {
		k, ok := suricataKinds[ob.Type]
		if !ok || ob.Port != 0 || ob.Issuer != "" {
			continue
		}
		for _, label := range labels {
			if err := s.add(label, k.kind, ob.Value); err != nil {
				return "", err
			}
		}
		written++
	}
	if written == 0 {
		return "no value Suricata lists can hold", nil
	}
	return "", nil
}

func (s *Suricata) add(label, kind, value string) error {
	line := value
	name := s.slug(label) + "-" + kind + ".lst"
	switch kind {
	case "domain", "ja3", "ja3s":
		line = base64.StdEncoding.EncodeToString([]byte(value))
	case "ip":
		cat, ok := s.cats[label]
		if !ok {
			if len(s.cats) == 60 { // iprep has categories 1-60
				return fmt.Errorf("suricata: more than 60 actors have addresses; export fewer with --actor")
			}
			cat = len(s.cats) + 1
			s.cats[label] = cat
		}
		name, line = "whodunit.iprep", fmt.Sprintf("%s,%d,127", value, cat)
	}
	w, err := s.file(name)
	if err != nil {
		return err
	}
	if kind != "ip" {
		s.lists[name] = listUse{label, kind}
	}
	_, err = w.WriteString(line + "\n")
	return err
}

func (s *Suricata) file(name string) (*bufio.Writer, error) {
	if w, ok := s.files[name]; ok {
		return w, nil
	}
	f, err := os.Create(filepath.Join(s.dir, name))
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 32<<10)
	s.files[name], s.closer[name] = w, f
	return w, nil
}

// slug gives each actor label its own file-name part, so that "APT 1"
// and "APT1" never share a list.
func (s *Suricata) slug(label string) string {
	if sl, ok := s.slugs[label]; ok {
		return sl
	}
	base := slug(label)
	if base == "" {
		base = "actor"
	}
	sl := base
	for i := 2; s.taken[sl]; i++ {
		sl = fmt.Sprintf("%s-%d", base, i)
	}
	s.slugs[label], s.taken[sl] = sl, true
	return sl
}

// slug makes an actor name a file-name part: lower case, letters, digits, '-'.
func slug(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// Close implements Writer: it closes the lists and writes the rules, the
// IP reputation categories and a configuration fragment naming them.
func (s *Suricata) Close(sum *Summary) error {
	for name, w := range s.files {
		if err := w.Flush(); err != nil {
			return err
		}
		if err := s.closer[name].Close(); err != nil {
			return err
		}
		sum.Files = append(sum.Files, filepath.Join(s.dir, name))
	}
	var rules []string
	names := make([]string, 0, len(s.lists))
	for n := range s.lists {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		use := s.lists[n]
		for _, rt := range suricataKinds[kindType(use.kind)].rules {
			rules = append(rules, fmt.Sprintf(rt, ruleText(use.label), strings.TrimSuffix(n, ".lst"), n, "%SID%"))
		}
	}
	cats := make([]string, 0, len(s.cats))
	for label, id := range s.cats {
		cats = append(cats, fmt.Sprintf("%d,%s,%s", id, s.catName(label), ruleText(label)))
		rules = append(rules, fmt.Sprintf(`alert ip any any -> any any (msg:"%s address (IP reputation)"; iprep:any,%s,>,0; %s)`,
			ruleText(label), s.catName(label), "%SID%"))
	}
	sort.Strings(cats)
	sort.Strings(rules[len(rules)-len(cats):])
	for i := range rules {
		rules[i] = strings.Replace(rules[i], "%SID%", fmt.Sprintf("sid:%d; rev:1;", SuricataSIDBase+i), 1)
	}
	write := func(name, text string) error {
		p := filepath.Join(s.dir, name)
		sum.Files = append(sum.Files, p)
		return os.WriteFile(p, []byte(text), 0o644)
	}
	if err := write("whodunit.rules", strings.Join(rules, "\n")+"\n"); err != nil {
		return err
	}
	if len(cats) > 0 {
		if err := write("whodunit-categories.txt", strings.Join(cats, "\n")+"\n"); err != nil {
			return err
		}
	}
	sort.Strings(sum.Files)
	return write("whodunit.yaml", s.config(len(cats) > 0))
}

// config is the fragment of suricata.yaml that loads what was written.
func (s *Suricata) config(iprep bool) string {
	abs, err := filepath.Abs(s.dir)
	if err != nil {
		abs = s.dir
	}
	c := "%YAML 1.1\n---\n# include from suricata.yaml, or copy these keys into it\n" +
		"default-rule-path: " + abs + "\nrule-files:\n  - whodunit.rules\n"
	if iprep {
		c += "reputation-categories-file: " + filepath.Join(abs, "whodunit-categories.txt") +
			"\ndefault-reputation-path: " + abs + "\nreputation-files:\n  - whodunit.iprep\n"
	}
	return c
}

// catName is an actor's IP reputation short name (at most 32 characters).
func (s *Suricata) catName(label string) string {
	n := s.slug(label)
	if len(n) > 32 {
		n = n[:32]
	}
	return n
}

func kindType(kind string) intel.ValueType {
	for t, k := range suricataKinds {
		if k.kind == kind && k.rules != nil {
			return t
		}
	}
	return ""
}

// ruleText makes a name safe inside msg:"…": no quotes, semicolons or backslashes.
func ruleText(s string) string {
	return "whodunit " + strings.NewReplacer(`"`, "'", ";", ",", `\`, "/").Replace(s)
}
