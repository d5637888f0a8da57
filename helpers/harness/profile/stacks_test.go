package profile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A dump in runtime.Stack's format, shortened: one goroutine per state the profile knows.
const fakeDump = `goroutine 1 [chan receive]:
testing.(*T).Run(0xc000007860, {0x9e1c6d, 0x8}, 0xa1b2c0)
	/go/src/testing/testing.go:1750 +0x3ab
testing.runTests.func1(0xc000007860)
	/go/src/testing/testing.go:2161 +0x37
testing.(*M).Run(0xc0000b4000)
	/go/src/testing/testing.go:2100 +0x10
stickler/helpers/harness/deploy.Main(0xc0000b4000)
	/work/helpers/harness/deploy/shared.go:60 +0x10
stickler/tests.TestMain(0xc0000b4000)
	/work/tests/main_test.go:13 +0x10
main.main()
	_testmain.go:100 +0x10

goroutine 20 [sleep]:
time.Sleep(0x2540be400)
	/go/src/runtime/time.go:300 +0xf2
stickler/tests.TestSleeper(0xc0001a4000)
	/work/tests/time_test.go:64 +0x1e5
testing.tRunner(0xc0001a4000, 0xa1b2c0)
	/go/src/testing/testing.go:1690 +0xf4
created by testing.(*T).Run in goroutine 1
	/go/src/testing/testing.go:1743 +0x390

goroutine 21 [select]:
stickler/helpers/harness/client.(*Stream).Next(0xc0002)
	/work/helpers/harness/client/stream.go:100 +0x10
stickler/helpers/harness/client.Poll(0x1, 0x0, 0xc00)
	/work/helpers/harness/client/wait.go:30 +0x50
stickler/tests.TestPoller.func1(0xc0001a4100)
	/work/tests/sync_test.go:10 +0x20
testing.tRunner(0xc0001a4100, 0xa1b2c0)
	/go/src/testing/testing.go:1690 +0xf4
created by testing.(*T).Run in goroutine 30
	/go/src/testing/testing.go:1743 +0x390

goroutine 30 [chan receive]:
testing.(*T).Run(0xc0001a4200, {0x9e1c6d, 0x8}, 0xa1b2c0)
	/go/src/testing/testing.go:1750 +0x3ab
stickler/tests.TestPoller(0xc0001a4200)
	/work/tests/sync_test.go:8 +0x20
testing.tRunner(0xc0001a4200, 0xa1b2c0)
	/go/src/testing/testing.go:1690 +0xf4
created by testing.(*T).Run in goroutine 1
	/go/src/testing/testing.go:1743 +0x390

goroutine 40 [IO wait]:
internal/poll.runtime_pollWait(0x7f, 0x72)
	/go/src/runtime/netpoll.go:351 +0x85
stickler/helpers/harness/deploy.(*Server).waitReady(0xc0003)
	/work/helpers/harness/deploy/readiness.go:180 +0x10
stickler/helpers/harness/deploy.(*Server).startAndWait(0xc0003, {0xb, 0xc})
	/work/helpers/harness/deploy/readiness.go:170 +0x10
stickler/helpers/harness/deploy.(*Deployment).create.func1()
	/work/helpers/harness/deploy/deployment.go:180 +0x10
created by stickler/helpers/harness/deploy.(*Deployment).create in goroutine 41
	/work/helpers/harness/deploy/deployment.go:179 +0x10

goroutine 41 [chan receive]:
stickler/helpers/harness/deploy.(*Deployment).create(0xc0004, {0xb, 0xc}, 0x2)
	/work/helpers/harness/deploy/deployment.go:183 +0x10
stickler/helpers/harness/deploy.newDeployment({0xb, 0xc}, {0x1}, 0x2, 0x0, {0x0, 0x0})
	/work/helpers/harness/deploy/deployment.go:130 +0x10
stickler/helpers/harness/deploy.Deploy({0xb, 0xc}, 0x2)
	/work/helpers/harness/deploy/deployment.go:88 +0x10
stickler/tests.TestStarter(0xc0001a4300)
	/work/tests/fed_test.go:20 +0x20
testing.tRunner(0xc0001a4300, 0xa1b2c0)
	/go/src/testing/testing.go:1690 +0xf4
created by testing.(*T).Run in goroutine 1
	/go/src/testing/testing.go:1743 +0x390

goroutine 50 [chan receive]:
testing.(*T).Parallel(0xc0001a4400)
	/go/src/testing/testing.go:1500 +0x200
stickler/tests.TestWaiter(0xc0001a4400)
	/work/tests/send_test.go:20 +0x20
testing.tRunner(0xc0001a4400, 0xa1b2c0)
	/go/src/testing/testing.go:1690 +0xf4
created by testing.(*T).Run in goroutine 1
	/go/src/testing/testing.go:1743 +0x390

goroutine 60 [IO wait]:
internal/poll.runtime_pollWait(0x7f, 0x72)
	/go/src/runtime/netpoll.go:351 +0x85
net/http.(*persistConn).readLoop(0xc0005)
	/go/src/net/http/transport.go:2200 +0x10
created by net/http.(*Transport).dialConn in goroutine 20
	/go/src/net/http/transport.go:1900 +0x10

goroutine 70 [select]:
stickler/helpers/harness/client.(*Stream).Next(0xc0002)
	/work/helpers/harness/client/stream.go:100 +0x10
stickler/blueprints.watch.func1()
	/work/blueprints/watch.go:10 +0x10
created by stickler/blueprints.watch in goroutine 20
	/work/blueprints/watch.go:9 +0x10

goroutine 80 [select]:
net/http.(*persistConn).roundTrip(0xc0006)
	/go/src/net/http/transport.go:2600 +0x10
net/http.(*Client).do(0xc0007, 0xc0008)
	/go/src/net/http/client.go:600 +0x10
stickler/helpers/harness/client.(*Client).Do(0xc0009)
	/work/helpers/harness/client/client.go:100 +0x10
stickler/tests.TestRequester(0xc0001a4500)
	/work/tests/send_test.go:30 +0x20
testing.tRunner(0xc0001a4500, 0xa1b2c0)
	/go/src/testing/testing.go:1690 +0xf4
created by testing.(*T).Run in goroutine 1
	/go/src/testing/testing.go:1743 +0x390
`

func TestClassify(t *testing.T) {
	gs := parseStacks([]byte(fakeDump))
	if len(gs) != 10 {
		t.Fatalf("parsed %d goroutines, want 10", len(gs))
	}
	if g := gs[1]; g.id != 20 || g.state != "sleep" || g.frames[0] != "time.Sleep" || g.frames[1] != "stickler/tests.TestSleeper" || g.parent != 1 {
		t.Errorf("goroutine 20 parsed as %+v", g)
	}
	owner := map[int64]string{}
	got := classify(gs, owner)
	want := map[string]State{
		"TestSleeper":   Sleep,       // goroutine 70 (started by a blueprint for it) runs, the sleep ranks first
		"TestPoller":    Polling,     // its subtest polls; the parent only waits for the subtest
		"TestStarter":   ServerStart, // and goroutine 40, started by the deployer for it
		"TestWaiter":    Queued,
		"TestRequester": Request,
	}
	for test, s := range want {
		if got[test] != s {
			t.Errorf("%s: got %q, want %q", test, got[test], s)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want only %v (connections and the testing package count for no test)", got, want)
	}
	if owner[40] != "TestStarter" || owner[70] != "TestSleeper" {
		t.Errorf("owners: %v", owner)
	}
	// The same goroutine in the test's cleanup, outside the test's function, still counts for
	// the test it served.
	cleanup := []goroutine{{id: 41, state: "select", frames: []string{
		"stickler/helpers/harness/deploy.(*Deployment).Destroy", "stickler/helpers/harness/deploy.Deploy.func1",
		"testing.(*common).Cleanup.func1", "testing.tRunner"}}}
	if got := classify(cleanup, owner); got["TestStarter"] != Teardown {
		t.Errorf("cleanup: got %v, want TestStarter in teardown", got)
	}
}

// The real format: a goroutine asleep in time.Sleep, seen from this process.
func TestParseRealStacks(t *testing.T) {
	started := make(chan struct{})
	go func() { close(started); time.Sleep(time.Minute) }()
	<-started
	time.Sleep(20 * time.Millisecond)
	buf := make([]byte, 1<<20)
	gs := parseStacks(buf[:runtime.Stack(buf, true)])
	for _, g := range gs {
		if g.state == "sleep" && len(g.frames) > 1 && g.frames[0] == "time.Sleep" && strings.HasPrefix(g.frames[1], "stickler/helpers/harness/profile.TestParseRealStacks") && g.parent > 0 {
			return
		}
	}
	t.Errorf("no goroutine asleep in time.Sleep under TestParseRealStacks among %d parsed: %+v", len(gs), gs)
}

// A recording from Begin to End: starts and server CPU go into the file, as do the samples.
func TestBeginEnd(t *testing.T) {
	RecordStart(Start{Server: "ignored"}) // before Begin: nothing is recorded
	Begin(10 * time.Millisecond)
	RecordStart(Start{Server: "hs1", Fresh: true, Ready: 2 * time.Second})
	RecordServerCPU(ServerCPU{Server: "hs1", CPU: time.Second})
	time.Sleep(50 * time.Millisecond)
	dir := t.TempDir()
	path, err := End(dir, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "profile-p1.json" {
		t.Errorf("path %s", path)
	}
	files, err := Read(dir)
	if err != nil || len(files) != 1 {
		t.Fatalf("Read: %v, %d files", err, len(files))
	}
	f := files[0]
	if len(f.Starts) != 1 || f.Starts[0].Server != "hs1" || len(f.ServerCPU) != 1 || f.Samples == 0 || f.ProcessCPU <= 0 {
		t.Errorf("file: %+v", f)
	}
	if Enabled() {
		t.Error("still enabled after End")
	}
	_ = os.Remove(path)

	// A process that ran no test (go test -list) writes nothing.
	Begin(time.Hour)
	if path, err := End(dir, "p2"); path != "" || err != nil {
		t.Errorf("no test ran: got %q, %v; want nothing written", path, err)
	}
}
