package cli

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/whodunit-project/whodunit/internal/fileio"
	"github.com/whodunit-project/whodunit/internal/intel"
)

// actorFinder is what suggesting --actor reads of a store.
type actorFinder interface {
	FindByName(ctx context.Context, name string, types ...string) ([]*intel.Object, error)
}

// suggestActors prints, for each Zeek intel file imported without
// --actor whose own meta.source or meta.desc names an actor, the --actor
// that would attribute its indicators: a list says whose it is in words,
// not in relationships, and without them nothing points to the actor.
func (app *App) suggestActors(ctx context.Context, db actorFinder, results []intel.FileResult, opt intel.Options) {
	if opt.Actor != "" || app.Quiet {
		return
	}
	for _, r := range results {
		if r.Err != nil || r.Ignored || r.Format != "zeek-intel" {
			continue
		}
		for _, meta := range zeekIntelMeta(r.Path) {
			if names := actorNames(ctx, db, meta); len(names) > 0 {
				app.infof("hint: %s says its indicators come from %q, which names %s; nothing was attributed to an actor: import it with --actor %s to do so",
					r.Path, meta, strings.Join(names, " and "), quoteArg(names[0]))
				break
			}
		}
	}
}

// zeekIntelMeta reads the distinct meta.source and meta.desc values of
// the first lines of a Zeek intel file.
func zeekIntelMeta(path string) []string {
	in, err := fileio.Open(path, fileio.DefaultLimits)
	if err != nil {
		return nil
	}
	defer in.Close()
	var cols []int
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(string(in.Head), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if rest, ok := strings.CutPrefix(line, "#fields\t"); ok {
			cols = nil
			for i, f := range strings.Split(rest, "\t") {
				if f == "meta.source" || f == "meta.desc" {
					cols = append(cols, i)
				}
			}
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		for _, c := range cols {
			if c < len(fields) && fields[c] != "-" && fields[c] != "" && !seen[fields[c]] && len(out) < 20 {
				seen[fields[c]] = true
				out = append(out, fields[c])
			}
		}
	}
	return out
}

// actorLabel is the shape of the common public names of groups.
var actorLabel = regexp.MustCompile(`^(?i)(APT|FIN|UNC|TA|TG|G)[0-9]{1,4}$`)

// actorNames are the actors text names: words shaped like a group's
// label (APT1), and words or word pairs the store knows as an actor.
func actorNames(ctx context.Context, db actorFinder, text string) []string {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	found := map[string]bool{}
	var candidates []string
	for i, w := range words {
		if actorLabel.MatchString(w) {
			found[strings.ToUpper(w)] = true
			continue
		}
		if len(w) >= 4 && strings.ToLower(w) != w {
			candidates = append(candidates, w) // a proper noun, perhaps a group's
		}
		if i+1 < len(words) {
			candidates = append(candidates, w+" "+words[i+1])
		}
	}
	for _, c := range candidates {
		objs, err := db.FindByName(ctx, c, intel.TypeIntrusionSet, intel.TypeThreatActor)
		if err == nil && len(objs) > 0 {
			found[objs[0].Name] = true
		}
	}
	out := make([]string, 0, len(found))
	for n := range found {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// quoteArg quotes a name for a shell command line when it needs it.
func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t'\"$") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
