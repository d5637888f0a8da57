// Package client talks the Matrix client-server API to a server under test. Every call takes
// the test and fails it with the request and the answer when something unexpected comes back,
// so tests read as the scenario they check.
package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/harness/config"
	"stickler/helpers/harness/wire"
)

// Client is one logged-in device of one user on one server.
type Client struct {
	BaseURL     string // http://127.0.0.1:port
	UserID      string
	DeviceID    string
	AccessToken string
	Names       wire.Names
	HTTP        *http.Client
	Debug       bool
}

// Response is a finished request: status, raw body and the body as JSON.
type Response struct {
	Method, URL string
	StatusCode  int
	Body        []byte
	JSON        gjson.Result
}

// String shows the request and the answer, for failure messages.
func (r *Response) String() string {
	return fmt.Sprintf("%s %s -> %d %s", r.Method, r.URL, r.StatusCode, Truncate(string(r.Body), 2000))
}

var txnCounter atomic.Int64

// TxnID returns a transaction ID unique in this process.
func TxnID() string {
	return fmt.Sprintf("stickler-%d-%d", time.Now().UnixNano(), txnCounter.Add(1))
}

func newHTTPClient() *http.Client { return &http.Client{Timeout: 60 * time.Second} }

// NamesFromEnv returns the wire names STICKLER_NAMES selects, failing the test on a bad value.
func NamesFromEnv(t testing.TB) wire.Names {
	t.Helper()
	n, err := wire.Select(config.Must(t).Names)
	if err != nil {
		t.Fatalf("bad setting: %v", err)
	}
	return n
}

// Request describes one call: path segments are escaped one by one, so IDs with '!' ':' '$'
// are safe.
type Request struct {
	Method string
	Path   []string
	Query  url.Values
	Body   any // marshalled to JSON unless it is []byte
}

// Do performs a request and returns whatever came back; it fails the test only when no answer
// came at all.
func (c *Client) Do(t testing.TB, req Request) *Response {
	t.Helper()
	res, err := c.do(req)
	if err != nil {
		t.Fatalf("%s %s: no answer: %v", req.Method, c.url(req), err)
	}
	return res
}

// Try performs a request without a test, for goroutines (which must not call t.Fatal).
func (c *Client) Try(req Request) (*Response, error) { return c.do(req) }

// MustDo performs a request and fails the test unless the answer is 2xx.
func (c *Client) MustDo(t testing.TB, req Request) *Response {
	t.Helper()
	res := c.Do(t, req)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		t.Fatalf("%s as %s: expected 2xx, got %s", req.Method, c.UserID, res)
	}
	return res
}

func (c *Client) url(req Request) string {
	var b strings.Builder
	b.WriteString(c.BaseURL)
	for _, p := range req.Path {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	if len(req.Query) > 0 {
		b.WriteByte('?')
		b.WriteString(req.Query.Encode())
	}
	return b.String()
}

func (c *Client) do(req Request) (*Response, error) {
	var body io.Reader
	var raw []byte
	switch b := req.Body.(type) {
	case nil:
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("encoding body: %w", err)
		}
	}
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	u := c.url(req)
	hr, err := http.NewRequest(req.Method, u, body)
	if err != nil {
		return nil, err
	}
	if raw != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if c.AccessToken != "" {
		hr.Header.Set("Authorization", "Bearer "+c.AccessToken)
	}
	hc := c.HTTP
	if hc == nil {
		hc = newHTTPClient()
	}
	if c.Debug {
		fmt.Fprintf(os.Stderr, "stickler debug: %s %s %s\n", req.Method, u, Truncate(string(raw), 1000))
	}
	hres, err := hc.Do(hr)
	if err != nil {
		return nil, err
	}
	defer hres.Body.Close()
	data, err := io.ReadAll(hres.Body)
	if err != nil {
		return nil, fmt.Errorf("reading answer: %w", err)
	}
	if c.Debug {
		fmt.Fprintf(os.Stderr, "stickler debug: <- %d %s\n", hres.StatusCode, Truncate(string(data), 2000))
	}
	return &Response{Method: req.Method, URL: u, StatusCode: hres.StatusCode, Body: data, JSON: gjson.ParseBytes(data)}, nil
}

// Truncate shortens s to n bytes for a failure message, saying how much was cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... (%d more bytes)", len(s)-n)
}

// V3 builds the path of a /_matrix/client/v3 endpoint.
func V3(parts ...string) []string {
	return append([]string{"_matrix", "client", "v3"}, parts...)
}
