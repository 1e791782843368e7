// Package taxiiclient is a TAXII 2.1 client: discovery, collections, pages
// of objects, posting envelopes and polling their status. It speaks only the
// protocol; what is done with the objects (import, push of findings) lives
// in hunt. Transient failures (network errors, 429, 5xx) are retried with
// exponential backoff; every answer is bounded in size.
package taxiiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MediaTAXII is the TAXII 2.1 media type, sent and expected.
const MediaTAXII = "application/taxii+json;version=2.1"

// DefaultMaxBody bounds one answer's body.
const DefaultMaxBody = 64 << 20

// Client talks to one TAXII 2.1 server. The zero value is not usable: use New.
type Client struct {
	HTTP *http.Client
	// Key is sent as "Authorization: Bearer KEY" when set; User and
	// Password as HTTP Basic when Key is empty and User is set.
	Key, User, Password string
	// Retries is how many times a transient failure is retried.
	Retries int
	// Backoff is the first wait between retries; it doubles each time,
	// with jitter, up to MaxBackoff. A Retry-After header wins when longer.
	Backoff, MaxBackoff time.Duration
	MaxBody             int64
}

// New returns a client with a 60-second timeout per request, 5 retries
// from 500 ms up to 30 s, and DefaultMaxBody.
func New() *Client {
	return &Client{HTTP: &http.Client{Timeout: 60 * time.Second}, Retries: 5,
		Backoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second, MaxBody: DefaultMaxBody}
}

// Error is a TAXII error answer: its HTTP status and the error object.
type Error struct {
	URL         string
	Status      int
	Title       string `json:"title"`
	Description string `json:"description"`
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d", e.URL, e.Status)
	if e.Title != "" {
		msg += ": " + e.Title
	}
	if e.Description != "" {
		msg += " (" + e.Description + ")"
	}
	return msg
}

// transient reports whether a status is worth retrying.
func transient(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

// response is one answer read whole (bounded).
type response struct {
	header http.Header
	body   []byte
}

// do sends one request, retrying transient failures. body may be nil.
func (c *Client) do(ctx context.Context, method, target string, body []byte) (response, error) {
	var last error
	wait := c.Backoff
	for attempt := 0; ; attempt++ {
		resp, retryAfter, err := c.once(ctx, method, target, body)
		if err == nil {
			return resp, nil
		}
		last = err
		var te *Error
		if errors.As(err, &te) && !transient(te.Status) || attempt >= c.Retries || ctx.Err() != nil {
			return response{}, last
		}
		d := jitter(wait)
		if retryAfter > d {
			d = retryAfter
		}
		select {
		case <-ctx.Done():
			return response{}, fmt.Errorf("%w (after %v)", ctx.Err(), last)
		case <-time.After(d):
		}
		wait = min(2*wait, c.MaxBackoff)
	}
}

// jitter spreads retries of many clients: a wait between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

func (c *Client) once(ctx context.Context, method, target string, body []byte) (response, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return response{}, 0, err
	}
	req.Header.Set("Accept", MediaTAXII)
	if body != nil {
		req.Header.Set("Content-Type", MediaTAXII)
	}
	c.authorize(req)
	res, err := c.HTTP.Do(req)
	if err != nil {
		return response{}, 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, c.MaxBody+1))
	if err != nil {
		return response{}, 0, fmt.Errorf("%s: reading the answer: %w", target, err)
	}
	if int64(len(data)) > c.MaxBody {
		return response{}, 0, &Error{URL: target, Status: res.StatusCode, Title: fmt.Sprintf("answer larger than %d bytes", c.MaxBody)}
	}
	if res.StatusCode/100 != 2 {
		e := &Error{URL: target, Status: res.StatusCode}
		_ = json.Unmarshal(data, e)
		return response{}, retryAfter(res.Header.Get("Retry-After")), e
	}
	return response{header: res.Header, body: data}, 0, nil
}

func (c *Client) authorize(req *http.Request) {
	switch {
	case c.Key != "":
		req.Header.Set("Authorization", "Bearer "+c.Key)
	case c.User != "":
		req.SetBasicAuth(c.User, c.Password)
	}
}

// retryAfter reads a Retry-After header in seconds (the HTTP-date form is
// ignored); it is capped at five minutes.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, 5*time.Minute)
}

// getJSON fetches target and decodes its body into v.
func (c *Client) getJSON(ctx context.Context, target string, v any) (http.Header, error) {
	resp, err := c.do(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		return nil, fmt.Errorf("%s: %w", target, decodeError(resp.body, err))
	}
	return resp.header, nil
}

// decodeError names the byte offset of a JSON syntax or type error.
func decodeError(body []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("offset %d: %w", se.Offset, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("offset %d: %w", te.Offset, err)
	}
	return err
}

// join appends path segments to a base URL, keeping one slash between
// them and a trailing slash, as TAXII resources are named.
func join(base string, parts ...string) string {
	s := strings.TrimRight(base, "/")
	for _, p := range parts {
		s += "/" + url.PathEscape(p)
	}
	return s + "/"
}
