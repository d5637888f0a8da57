package client

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// SendStickyBatch sends n sticky events of the given type and duration spread over the senders, a few at a time, and returns
// their IDs in send order per sender (a 429 is honoured: the server may slow senders down).
func SendStickyBatch(t testing.TB, senders []*Client, room, eventType string, duration time.Duration, n int) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan string, n)
	per := (n + len(senders) - 1) / len(senders)
	for si, c := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := si * per; i < min(n, (si+1)*per); i++ {
				id, err := sendWithRetry(c, room, eventType, duration, i)
				if err != "" {
					errs <- err
					return
				}
				ids[i] = id
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	return ids
}

// sendWithRetry sends one sticky event, waiting out 429s for up to a minute.
func sendWithRetry(c *Client, room, eventType string, duration time.Duration, i int) (string, string) {
	deadline := time.Now().Add(time.Minute)
	txn := TxnID()
	for {
		res, err := c.Try(c.SendRequest(room, eventType, txn, map[string]any{"i": i}, fmt.Sprint(duration.Milliseconds())))
		if err != nil {
			return "", fmt.Sprintf("sending sticky event %d: %v", i, err)
		}
		if res.StatusCode == 200 {
			return res.JSON.Get("event_id").Str, ""
		}
		if res.StatusCode != 429 || time.Now().After(deadline) {
			return "", fmt.Sprintf("sending sticky event %d: expected 200 (or 429 then 200), got %s", i, res)
		}
		wait := time.Duration(res.JSON.Get("retry_after_ms").Int()) * time.Millisecond
		time.Sleep(min(max(wait, 100*time.Millisecond), 5*time.Second)) // the server asked us to wait
	}
}
