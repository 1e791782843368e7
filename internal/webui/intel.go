package webui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/whodunit-project/whodunit/internal/hunt"
	"github.com/whodunit-project/whodunit/internal/intel"
	"github.com/whodunit-project/whodunit/internal/server"
)

// errInternalOnly is answered to partner keys: the store's inventory is
// counted over every marking (a count by marking per key is not built),
// so only the server's own organisation sees it, and only it imports.
var errInternalOnly = errors.New("only internal or admin keys see the intelligence inventory and import")

// uploadMemory is how much of an upload is held in memory; the rest of a
// file goes to a temporary file until the import has read it.
const uploadMemory = 1 << 20

// sourceRow is one imported source with what it asserts.
type sourceRow struct {
	Name       string    `json:"name"`
	Format     string    `json:"format"`
	ImportedAt time.Time `json:"imported_at"`
	Objects    int       `json:"objects"`
}

// subscriptionRow is one TAXII subscription and where its pull stopped.
type subscriptionRow struct {
	Name       string    `json:"name"`
	URL        string    `json:"url"`
	Collection string    `json:"collection"`
	AddedAfter string    `json:"added_after"`
	Updated    time.Time `json:"updated"`
}

// typeCount is how many current objects of one type the store holds.
type typeCount struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// inventory is the intelligence page's figures, as the API answers them.
type inventory struct {
	Sources       []sourceRow       `json:"sources"`
	Subscriptions []subscriptionRow `json:"subscriptions"`
	Types         []typeCount       `json:"types"`
	ByMarking     map[string]int    `json:"by_marking"`
	Total         int               `json:"total"`
}

func mayImport(c *caller) bool { return c.key.Internal || c.key.Admin }

// inventory reads the sources, subscriptions and counts from the store.
func (u *UI) inventory(ctx context.Context, c *caller) (*inventory, error) {
	if !mayImport(c) {
		return nil, errInternalOnly
	}
	sums, err := u.st.SourceSummaries(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the sources: %w", err)
	}
	subs, err := u.st.Subscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the subscriptions: %w", err)
	}
	stats, err := u.st.IntelStats(ctx)
	if err != nil {
		return nil, fmt.Errorf("counting the intelligence: %w", err)
	}
	inv := &inventory{Sources: []sourceRow{}, Subscriptions: []subscriptionRow{}, Types: []typeCount{}, ByMarking: stats.ByMarking}
	for i := len(sums) - 1; i >= 0; i-- { // newest first
		s := sums[i]
		inv.Sources = append(inv.Sources, sourceRow{Name: s.Source.Name, Format: s.Source.Format, ImportedAt: s.Source.ImportedAt, Objects: s.Objects})
	}
	for _, s := range subs {
		inv.Subscriptions = append(inv.Subscriptions, subscriptionRow{s.Name, s.URL, s.Collection, s.AddedAfter, s.Updated})
	}
	for t, n := range stats.Objects {
		inv.Types = append(inv.Types, typeCount{t, n})
		inv.Total += n
	}
	sort.Slice(inv.Types, func(i, j int) bool { return inv.Types[i].Type < inv.Types[j].Type })
	return inv, nil
}

type intelView struct {
	layout
	Inventory *inventory
	Result    *importResult
	MaxUpload int64
}

func (u *UI) intelPage(w http.ResponseWriter, r *http.Request, c *caller) {
	u.showIntel(w, r, c, http.StatusOK, nil)
}

func (u *UI) showIntel(w http.ResponseWriter, r *http.Request, c *caller, status int, res *importResult) {
	inv, err := u.inventory(r.Context(), c)
	if err != nil {
		u.failPage(w, err)
		return
	}
	u.render(w, status, "intel", intelView{layout: u.layout(c, "Intelligence"), Inventory: inv, Result: res, MaxUpload: u.cfg.MaxUpload >> 20})
}

func (u *UI) intelAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	inv, err := u.inventory(r.Context(), c)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	writeJSON(w, http.StatusOK, inv)
}

// importResult is what one uploaded file's import did.
type importResult struct {
	File    string         `json:"file"`
	Source  string         `json:"source"`
	Format  string         `json:"format,omitempty"`
	Already bool           `json:"already,omitempty"`
	Objects map[string]int `json:"objects"`
	Skipped int            `json:"skipped"`
	// Errors are the bad records (file:line: why), the first
	// intel.MaxReportedErrors.
	Errors []string `json:"errors"`
	// Error says why the whole file was refused; nothing was stored.
	Error string `json:"error,omitempty"`
}

// importForm imports the uploaded file and shows the page with the result.
func (u *UI) importForm(w http.ResponseWriter, r *http.Request, c *caller) {
	res, err := u.importUpload(r, c)
	if err != nil {
		u.failPage(w, err)
		return
	}
	status := http.StatusOK
	if res.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	u.showIntel(w, r, c, status, res)
}

func (u *UI) importAPI(w http.ResponseWriter, r *http.Request, c *caller) {
	res, err := u.importUpload(r, c)
	if err != nil {
		u.failJSON(w, err)
		return
	}
	status := http.StatusCreated
	if res.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, res)
}

// importUpload checks who asks, reads the form's file and imports it.
func (u *UI) importUpload(r *http.Request, c *caller) (*importResult, error) {
	if !mayImport(c) {
		return nil, errInternalOnly
	}
	if err := u.parseUpload(r); err != nil {
		return nil, badRequest{err}
	}
	f, hdr, err := uploadedFile(r)
	if err != nil {
		return nil, badRequest{err}
	}
	defer f.Close()
	res, err := u.importFile(r.Context(), c, f, hdr.Filename)
	if err == nil {
		if n := server.NoteFrom(r.Context()); n != nil {
			n.Objects = res.count()
		}
	}
	return res, err
}

// parseUpload reads a multipart form once, bounded by MaxUpload.
func (u *UI) parseUpload(r *http.Request) error {
	if r.MultipartForm != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, u.cfg.MaxUpload+uploadMemory)
	if err := r.ParseMultipartForm(uploadMemory); err != nil {
		return fmt.Errorf("the upload (at most %d MiB): %w", u.cfg.MaxUpload>>20, err)
	}
	return nil
}

func uploadStatus(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// uploadedFile is the form's one file, under a name that is a plain base
// name (it names the file in the results and the source's path).
func uploadedFile(r *http.Request) (multipart.File, *multipart.FileHeader, error) {
	if r.MultipartForm == nil {
		return nil, nil, errors.New("send the file as multipart/form-data, field \"file\"")
	}
	files := r.MultipartForm.File["file"]
	if len(files) != 1 {
		return nil, nil, fmt.Errorf("send exactly one file in the field \"file\" (got %d)", len(files))
	}
	hdr := files[0]
	name, err := uploadName(hdr.Filename)
	if err != nil {
		return nil, nil, err
	}
	hdr.Filename = name
	f, err := hdr.Open()
	return f, hdr, err
}

// uploadName is the plain base name an upload is kept under: formats
// sniff by name, and it names the file in results.
func uploadName(filename string) (string, error) {
	name := filepath.Base(strings.ReplaceAll(filename, "\\", "/"))
	if name == "." || name == "/" || name == ".." || strings.ContainsAny(name, "\x00\r\n") || len(name) > 200 {
		return "", fmt.Errorf("the upload's file name %q is not usable", filename)
	}
	return name, nil
}

// importFile copies the upload into a private directory under its own
// name (formats sniff by name and content) and imports it through
// hunt.Import in one transaction, under the key's name as the source.
func (u *UI) importFile(ctx context.Context, c *caller, f io.Reader, name string) (*importResult, error) {
	dir, err := os.MkdirTemp("", "whodunit-upload-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, name)
	if err := writeFile(path, f); err != nil {
		return nil, err
	}
	labels := intel.DefaultOptions()
	labels.Source = c.key.Name
	results, err := hunt.Import(ctx, u.st, hunt.ImportOptions{Paths: []string{path}, Labels: labels, Log: u.cfg.Log})
	if err != nil && len(results) == 0 {
		return nil, fmt.Errorf("importing %s: %w", name, err)
	}
	return describeImport(results[0], name, c.key.Name, dir), nil
}

func writeFile(path string, r io.Reader) error {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("reading the upload: %w", err)
	}
	return out.Close()
}

// describeImport turns a file's result into the answer, naming the file
// by its uploaded name rather than the temporary path.
func describeImport(fr intel.FileResult, name, source, dir string) *importResult {
	hide := func(s string) string { return strings.ReplaceAll(s, dir+string(filepath.Separator), "") }
	res := &importResult{File: name, Source: source, Format: fr.Format, Already: fr.Already,
		Objects: fr.Stats.Objects, Skipped: fr.Stats.Skipped, Errors: []string{}}
	if res.Objects == nil {
		res.Objects = map[string]int{}
	}
	for _, e := range fr.Stats.Errors {
		res.Errors = append(res.Errors, hide(e.Error()))
	}
	if fr.Err != nil {
		res.Error = hide(fr.Err.Error())
		if fr.LooksLike != "" {
			res.Error += " (it looks like " + fr.LooksLike + ")"
		}
	}
	return res
}

func (r *importResult) count() int {
	n := 0
	for _, v := range r.Objects {
		n += v
	}
	return n
}
