package federation

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
)

// Response is the answer to a request the peer made.
type Response struct {
	Method, URI string
	StatusCode  int
	Body        []byte
	JSON        gjson.Result
}

func (r *Response) String() string {
	b := string(r.Body)
	if len(b) > 2000 {
		b = b[:2000] + "..."
	}
	return fmt.Sprintf("%s %s -> %d %s", r.Method, r.URI, r.StatusCode, b)
}

// httpFor returns a client that reaches the server's federation port from the test process,
// checking its certificate against the deployment's CA under the server's name.
func (p *Peer) httpFor(s *deploy.Server) *http.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.clients[s.Name]; c != nil {
		return c
	}
	c := &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: p.dep.CA.Pool(), ServerName: s.Name,
		}},
	}
	p.clients[s.Name] = c
	return c
}

// Do sends a federation request to the server, signed with the peer's key (X-Matrix), and
// returns whatever came back. path is already escaped; body is marshalled unless nil.
func (p *Peer) Do(s *deploy.Server, method, path string, query url.Values, body any) (*Response, error) {
	uri := path
	if len(query) > 0 {
		uri += "?" + query.Encode()
	}
	fr := fclient.NewFederationRequest(method, spec.ServerName(p.ServerName), spec.ServerName(s.Name), uri)
	if body != nil {
		if err := fr.SetContent(body); err != nil {
			return nil, fmt.Errorf("encoding the body: %w", err)
		}
	}
	if err := fr.Sign(spec.ServerName(p.ServerName), p.Signer.KeyID, p.Signer.Private); err != nil {
		return nil, fmt.Errorf("signing the request: %w", err)
	}
	hr, err := fr.HTTPRequest()
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(s.FederationURL)
	if err != nil {
		return nil, err
	}
	hr.URL.Scheme, hr.URL.Host = base.Scheme, base.Host
	hr.Host = s.Name
	if p.Debug {
		fmt.Fprintf(os.Stderr, "stickler peer: -> %s %s %s\n", method, uri, client.Truncate(string(fr.Content()), 1500))
	}
	res, err := p.httpFor(s).Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if p.Debug {
		fmt.Fprintf(os.Stderr, "stickler peer: <- %d %s\n", res.StatusCode, client.Truncate(string(data), 1500))
	}
	return &Response{Method: method, URI: uri, StatusCode: res.StatusCode, Body: data, JSON: gjson.ParseBytes(data)}, nil
}

// MustDo is Do that fails the test unless the answer is 2xx.
func (p *Peer) MustDo(t testing.TB, s *deploy.Server, method, path string, query url.Values, body any) *Response {
	t.Helper()
	res, err := p.Do(s, method, path, query, body)
	if err != nil {
		t.Fatalf("federation peer -> %s: %s %s: no answer: %v", s.Name, method, path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		t.Fatalf("federation peer -> %s: expected 2xx, got %s", s.Name, res)
	}
	return res
}

// TxnResult is the server's verdict on each PDU of a transaction: "" for accepted, else the
// error it gave.
type TxnResult map[string]string

// Send delivers PDUs to the server in one transaction (PUT /send) and returns its per-PDU
// verdicts. A non-200 answer fails the test.
func (p *Peer) Send(t testing.TB, s *deploy.Server, pdus ...*Event) TxnResult {
	t.Helper()
	raw := make([]json.RawMessage, 0, len(pdus))
	for _, e := range pdus {
		raw = append(raw, json.RawMessage(e.JSON))
	}
	return p.SendRaw(t, s, raw, nil)
}

// SendRaw delivers PDUs given as raw JSON (e.g. tampered ones) and EDUs in one transaction.
func (p *Peer) SendRaw(t testing.TB, s *deploy.Server, pdus []json.RawMessage, edus []any) TxnResult {
	t.Helper()
	if edus == nil {
		edus = []any{}
	}
	body := map[string]any{"origin": p.ServerName, "origin_server_ts": Now(), "pdus": pdus, "edus": edus}
	res := p.MustDo(t, s, "PUT", "/_matrix/federation/v1/send/"+url.PathEscape(p.NewTxnID()), nil, body)
	return verdicts(res)
}

// NewTxnID returns a transaction ID not used before by this peer.
func (p *Peer) NewTxnID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.txnSeq++
	return fmt.Sprintf("stickler-%d-%d", time.Now().UnixNano(), p.txnSeq)
}

// SendTxn sends one transaction under the given ID (a retry of a refused transaction reuses
// it) and returns the answer and, when it is 2xx, the per-PDU verdicts. It never fails the
// test: a test can watch a server refuse transactions (rate limits) and retry like a sender.
func (p *Peer) SendTxn(s *deploy.Server, txnID string, pdus []*Event) (*Response, TxnResult, error) {
	raw := make([]json.RawMessage, 0, len(pdus))
	for _, e := range pdus {
		raw = append(raw, json.RawMessage(e.JSON))
	}
	body := map[string]any{"origin": p.ServerName, "origin_server_ts": Now(), "pdus": raw, "edus": []any{}}
	res, err := p.Do(s, "PUT", "/_matrix/federation/v1/send/"+url.PathEscape(txnID), nil, body)
	if err != nil || res.StatusCode < 200 || res.StatusCode > 299 {
		return res, nil, err
	}
	return res, verdicts(res), nil
}

// verdicts reads the per-PDU results of a /send answer.
func verdicts(res *Response) TxnResult {
	out := TxnResult{}
	res.JSON.Get("pdus").ForEach(func(k, v gjson.Result) bool {
		if e := v.Get("error"); e.Exists() {
			out[k.Str] = e.String()
		} else {
			out[k.Str] = ""
		}
		return true
	})
	return out
}

// MustAccept fails the test unless every given event was accepted without an error.
func (r TxnResult) MustAccept(t testing.TB, events ...*Event) {
	t.Helper()
	for _, e := range events {
		msg, ok := r[e.ID]
		if !ok {
			t.Fatalf("the server's /send answer has no verdict for %s: %v", e.ID, r)
		}
		if msg != "" {
			t.Fatalf("the server refused %s in /send: %q (event: %s)", e.ID, msg, client.Truncate(string(e.JSON), 1500))
		}
	}
}

func escapePath(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}
