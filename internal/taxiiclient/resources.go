package taxiiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Discovery is the server's discovery resource.
type Discovery struct {
	Title    string   `json:"title"`
	Default  string   `json:"default"`
	APIRoots []string `json:"api_roots"`
}

// Collection is one collection resource.
type Collection struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Alias      string   `json:"alias"`
	CanRead    bool     `json:"can_read"`
	CanWrite   bool     `json:"can_write"`
	MediaTypes []string `json:"media_types"`
}

// Page is one page of a collection's objects.
type Page struct {
	Objects []json.RawMessage `json:"objects"`
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	// DateAddedFirst and DateAddedLast are the X-TAXII-Date-Added-*
	// headers, kept as the server wrote them.
	DateAddedFirst, DateAddedLast string `json:"-"`
}

// Query is what a page of objects is asked with.
type Query struct {
	AddedAfter string // the server's own timestamp text, passed through
	Next       string
	Limit      int
	Types      []string
}

// Status is a status resource.
type Status struct {
	ID           string          `json:"id"`
	Status       string          `json:"status"` // "pending" or "complete"
	TotalCount   int             `json:"total_count"`
	SuccessCount int             `json:"success_count"`
	FailureCount int             `json:"failure_count"`
	PendingCount int             `json:"pending_count"`
	Failures     []StatusDetails `json:"failures"`
}

// StatusDetails names one object of a status and why it failed.
type StatusDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message"`
}

// APIRoot resolves a URL to an API root: a discovery URL (one whose
// resource lists api_roots) gives its default root, or its only one;
// anything else is taken as the API root itself.
func (c *Client) APIRoot(ctx context.Context, u string) (string, error) {
	var d Discovery
	if _, err := c.getJSON(ctx, join(u), &d); err != nil {
		return "", err
	}
	if len(d.APIRoots) == 0 && d.Default == "" {
		return join(u), nil
	}
	root := d.Default
	if root == "" {
		if len(d.APIRoots) != 1 {
			return "", fmt.Errorf("%s: discovery lists %d API roots and no default: give one of them", u, len(d.APIRoots))
		}
		root = d.APIRoots[0]
	}
	ref, err := url.Parse(root)
	if err != nil {
		return "", fmt.Errorf("%s: API root %q: %w", u, root, err)
	}
	base, err := url.Parse(join(u))
	if err != nil {
		return "", err
	}
	return join(base.ResolveReference(ref).String()), nil
}

// Collections lists the API root's collections.
func (c *Client) Collections(ctx context.Context, root string) ([]Collection, error) {
	var doc struct {
		Collections []Collection `json:"collections"`
	}
	_, err := c.getJSON(ctx, join(root, "collections"), &doc)
	return doc.Collections, err
}

// ErrNoCollection is returned when no collection has the id or alias asked for.
var ErrNoCollection = errors.New("no such collection")

// Collection finds a collection by id or alias.
func (c *Client) Collection(ctx context.Context, root, idOrAlias string) (Collection, error) {
	list, err := c.Collections(ctx, root)
	if err != nil {
		return Collection{}, err
	}
	for _, col := range list {
		if col.ID == idOrAlias || col.Alias != "" && col.Alias == idOrAlias {
			return col, nil
		}
	}
	return Collection{}, fmt.Errorf("%s: %q: %w", root, idOrAlias, ErrNoCollection)
}

// Objects reads one page of a collection's objects.
func (c *Client) Objects(ctx context.Context, root, collection string, q Query) (Page, error) {
	v := url.Values{}
	if q.AddedAfter != "" {
		v.Set("added_after", q.AddedAfter)
	}
	if q.Next != "" {
		v.Set("next", q.Next)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if len(q.Types) > 0 {
		v.Set("match[type]", strings.Join(q.Types, ","))
	}
	target := join(root, "collections", collection, "objects")
	if len(v) > 0 {
		target += "?" + v.Encode()
	}
	var p Page
	h, err := c.getJSON(ctx, target, &p)
	if err != nil {
		return Page{}, err
	}
	p.DateAddedFirst = h.Get("X-TAXII-Date-Added-First")
	p.DateAddedLast = h.Get("X-TAXII-Date-Added-Last")
	return p, nil
}

// Post sends objects as one envelope and returns the status the server
// answered with.
func (c *Client) Post(ctx context.Context, root, collection string, objects []json.RawMessage) (Status, error) {
	body, err := json.Marshal(struct {
		Objects []json.RawMessage `json:"objects"`
	}{objects})
	if err != nil {
		return Status{}, err
	}
	target := join(root, "collections", collection, "objects")
	resp, err := c.do(ctx, http.MethodPost, target, body)
	if err != nil {
		return Status{}, err
	}
	var st Status
	if err := json.Unmarshal(resp.body, &st); err != nil {
		return Status{}, fmt.Errorf("%s: status: %w", target, decodeError(resp.body, err))
	}
	return st, nil
}

// Status reads a status resource.
func (c *Client) Status(ctx context.Context, root, id string) (Status, error) {
	var st Status
	_, err := c.getJSON(ctx, join(root, "status", id), &st)
	return st, err
}

// WaitStatus polls a status until it is complete, every poll, until ctx ends.
func (c *Client) WaitStatus(ctx context.Context, root string, st Status, poll time.Duration) (Status, error) {
	for st.Status != "complete" {
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(poll):
		}
		var err error
		if st, err = c.Status(ctx, root, st.ID); err != nil {
			return st, err
		}
	}
	return st, nil
}
