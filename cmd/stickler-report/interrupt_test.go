package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// signalAfter is a stream that delivers a signal once its first n lines have been read, as
// Ctrl-C reaches the report while the tests still run.
type signalAfter struct {
	lines []string
	n     int
	sigs  *chan<- os.Signal
}

func (s *signalAfter) Read(p []byte) (int, error) {
	if len(s.lines) == 0 {
		return 0, io.EOF
	}
	if s.n == 0 && *s.sigs != nil {
		*s.sigs <- syscall.SIGINT
	}
	s.n--
	l := s.lines[0] + "\n"
	s.lines = s.lines[1:]
	return copy(p, l), nil
}

const interruptedStream = `{"Action":"run","Package":"stickler/tests","Test":"TestA"}
{"Action":"output","Package":"stickler/tests","Test":"TestA","Output":"    a_test.go:9: STICKLER: {\"kind\":\"covers\",\"ids\":[\"SEND-1\"]}\n"}
{"Action":"pass","Package":"stickler/tests","Test":"TestA","Elapsed":1}
{"Action":"run","Package":"stickler/tests","Test":"TestB"}
{"Action":"output","Package":"stickler/tests","Output":"stickler: interrupt received, removing deployments\n"}
{"Action":"output","Package":"stickler/tests","Test":"TestB","Output":"    b_test.go:3: deploy: starting hs2: Error response from daemon: No such container: 5ecff1\n"}
{"Action":"fail","Package":"stickler/tests","Test":"TestB","Elapsed":2}
{"Action":"run","Package":"stickler/tests","Test":"TestC"}
{"Action":"output","Package":"stickler/tests","Output":"FAIL\tstickler/tests\t3.0s\n"}
{"Action":"fail","Package":"stickler/tests","Elapsed":3}`

func TestInterruptedRun(t *testing.T) {
	var sigs chan<- os.Signal
	old := notifyInterrupt
	notifyInterrupt = func(c chan<- os.Signal) { sigs = c }
	defer func() { notifyInterrupt = old }()

	for _, toFile := range []bool{false, true} {
		dir := t.TempDir()
		file := filepath.Join(dir, "interrupted.txt")
		args := []string{"-live", "-dir", dir}
		if toFile {
			args = append(args, "-interrupted", file)
		}
		sigs = nil
		in := &signalAfter{lines: strings.Split(interruptedStream, "\n"), n: 4, sigs: &sigs}
		var out, errb bytes.Buffer
		code := run(args, in, &out, &errb, nil)
		if code != 130 {
			t.Fatalf("exit %d, want 130 (interrupted)\n%s%s", code, out.String(), errb.String())
		}
		text := out.String()
		want := "run interrupted (SIGINT) after 0s: of the tests that finished, 1 passed, 0 failed, 0 skipped, 0 warnings; 2 test(s) cut short"
		if toFile {
			b, _ := os.ReadFile(file)
			if strings.TrimSpace(string(b)) != want {
				t.Errorf("-interrupted file holds %q, want %q", b, want)
			}
			if strings.Contains(text, "interrupted") {
				t.Errorf("with -interrupted the line goes to the file only:\n%s", text)
			}
		} else if !strings.Contains(text, "stickler: "+want+"\n") {
			t.Errorf("the output lacks %q:\n%s", "stickler: "+want, text)
		}
		for _, bad := range []string{"TestB", "Error response from daemon", "== Requirements ==", "FAIL"} {
			if strings.Contains(text, bad) {
				t.Errorf("after the interrupt nothing of the removal should show, but %q does:\n%s", bad, text)
			}
		}
		if !strings.Contains(text, "TestA") {
			t.Errorf("the test that finished before the interrupt should be listed live:\n%s", text)
		}
		if _, err := os.Stat(filepath.Join(dir, "results.json")); err != nil {
			t.Errorf("the stream of an interrupted run is kept in results.json: %v", err)
		}
	}
}
