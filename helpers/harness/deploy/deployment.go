// Package deploy starts real homeserver containers for a test: n servers hs1..hsN that
// federate with each other over private Docker networks, with client and federation ports
// published on 127.0.0.1, and the faults the suite needs (partition, pause, crash).
package deploy

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"

	"stickler/helpers/harness/config"
	"stickler/helpers/harness/profile"
)

// Deployment is a set of federating servers created together.
type Deployment struct {
	ID      string
	Config  config.Settings
	CA      *CA
	Servers []*Server

	docker  *client.Client
	mainNet string            // user-defined network: published ports and host access, no aliases
	pairNet map[[2]int]string // one network per server pair, where each has its alias hsN

	mu        sync.Mutex
	destroyed bool
	log       func(format string, args ...any) // the test log of Deploy's test; nil: stderr

	faultMu sync.Mutex
	faults  map[openFault]func() // faults begun and not ended -> their span recorders

	test string // the top-level test that made it, for the run's profile ("" when unknown)
}

// openFault names a fault begun on one server.
type openFault struct {
	server int
	kind   Fault
}

// Server is one homeserver container.
type Server struct {
	Name          string // server name and network alias, "hs1"
	Index         int    // 1-based
	Image         string
	ContainerID   string
	ClientURL     string        // http://127.0.0.1:port, stable across Stop/Start
	FederationURL string        // https://127.0.0.1:port
	ReadyIn       time.Duration // its last start: from container start to the first 200 from /versions
	dep           *Deployment
	started       bool // started once: a later start is a restart with its data
}

// Debug says whether requests to this server should be logged (COMPLEMENT_DEBUG).
func (s *Server) Debug() bool { return s.dep.Config.Debug }

var (
	liveMu sync.Mutex
	live   = map[*Deployment]bool{}
)

// Deploy starts n servers and waits until each answers /versions. It fails the test with a
// clear message (and the server logs) when that cannot happen. The deployment is destroyed
// when the test ends.
func Deploy(t testing.TB, n int) *Deployment {
	t.Helper()
	cfg, err := config.Get()
	if err != nil {
		t.Fatalf("deploy: bad setting: %v", err)
	}
	d, err := newDeployment(context.Background(), cfg, n, t.Logf, rootTest(t))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	start := time.Now()
	t.Cleanup(func() {
		if t.Failed() || cfg.AlwaysPrintLogs {
			d.PrintLogs(t, start)
		}
		d.Destroy()
	})
	return d
}

// New creates and starts a deployment of n servers. On error nothing is left running.
func New(ctx context.Context, cfg config.Settings, n int) (*Deployment, error) {
	return newDeployment(ctx, cfg, n, nil, "")
}

// rootTest is the top-level test of t ("TestX" of "TestX/sub").
func rootTest(t testing.TB) string {
	root, _, _ := strings.Cut(t.Name(), "/")
	return root
}

// newDeployment is New with a log for what the deployer has to say (a slow start) and the
// top-level test it is for (the run's profile counts its starts there).
func newDeployment(ctx context.Context, cfg config.Settings, n int, logf func(string, ...any), test string) (*Deployment, error) {
	if n < 1 {
		return nil, fmt.Errorf("a deployment needs at least one server, asked for %d", n)
	}
	c, err := Docker()
	if err != nil {
		return nil, err
	}
	if err := startGuards(); err != nil {
		return nil, err
	}
	if interrupted.Load() {
		return nil, fmt.Errorf("the run was interrupted: no new deployment")
	}
	ca, err := NewCA()
	if err != nil {
		return nil, fmt.Errorf("making the CA: %w", err)
	}
	d := &Deployment{ID: newID(3), Config: cfg, CA: ca, docker: c, pairNet: map[[2]int]string{}, log: logf, test: test}
	liveMu.Lock()
	live[d] = true
	liveMu.Unlock()
	if err := d.create(ctx, n); err != nil {
		logs := d.tailLogs(ctx, 60)
		d.Destroy()
		return nil, fmt.Errorf("%w%s", err, logs)
	}
	return d, nil
}

func (d *Deployment) labels(extra ...string) map[string]string {
	l := procLabels()
	l[labelDeployment] = d.ID
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

func (d *Deployment) create(ctx context.Context, n int) error {
	for i := 1; i <= n; i++ {
		img := d.Config.ImageFor(fmt.Sprintf("hs%d", i))
		if _, err := d.docker.ImageInspect(ctx, img); err != nil {
			hint := "build it or set COMPLEMENT_BASE_IMAGE to an image you have"
			if img == config.DefaultImage {
				hint = "build it with ./run.sh or servers/synapse/build.sh"
			}
			return fmt.Errorf("image %q is not available: %s (docker image ls shows what you have)", img, hint)
		}
	}
	name := "stickler-" + d.ID
	id, err := d.createNetwork(ctx, name, false)
	if err != nil {
		return err
	}
	d.mainNet = id
	for i := 1; i <= n; i++ {
		for j := i + 1; j <= n; j++ {
			pn := fmt.Sprintf("%s-hs%d-hs%d", name, i, j)
			// Internal: these networks carry federation between two servers and nothing else.
			id, err := d.createNetwork(ctx, pn, true)
			if err != nil {
				return err
			}
			d.pairNet[[2]int{i, j}] = id
		}
	}
	for i := 1; i <= n; i++ {
		s, err := d.createServer(ctx, i)
		if err != nil {
			return err
		}
		d.Servers = append(d.Servers, s)
	}
	errs := make(chan error, n)
	for _, s := range d.Servers {
		go func() { errs <- d.startFresh(ctx, s) }()
	}
	var all []error
	for range d.Servers {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// startFresh starts a newly created server. Its host ports were free when chosen but are
// only bound at start, so another process may have taken one meanwhile: then the container is
// made again with other ports.
func (d *Deployment) startFresh(ctx context.Context, s *Server) error {
	for attempt := 1; ; attempt++ {
		err := s.startAndWait(ctx)
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "port is already allocated") && !strings.Contains(err.Error(), "address already in use") {
			return err
		}
		_ = d.docker.ContainerRemove(ctx, s.ContainerID, container.RemoveOptions{Force: true})
		fresh, cerr := d.createServer(ctx, s.Index)
		if cerr != nil {
			return cerr
		}
		*s = *fresh
	}
}

func (d *Deployment) createServer(ctx context.Context, i int) (*Server, error) {
	s := &Server{Name: fmt.Sprintf("hs%d", i), Index: i, dep: d}
	s.Image = d.Config.ImageFor(s.Name)
	clientPort, err := freePort()
	if err != nil {
		return nil, err
	}
	fedPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s.ClientURL = fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	s.FederationURL = fmt.Sprintf("https://127.0.0.1:%d", fedPort)
	env := append([]string{"SERVER_NAME=" + s.Name}, sharedEnv(d.Config.ShareEnvPrefix)...)
	cfg := &container.Config{
		Image:        s.Image,
		Env:          env,
		Labels:       d.labels(labelServer, s.Name),
		ExposedPorts: nat.PortSet{"8008/tcp": {}, "8448/tcp": {}},
	}
	host := &container.HostConfig{
		NetworkMode: container.NetworkMode(d.mainNet),
		// Fixed host ports, so URLs stay the same when a server is stopped and started.
		PortBindings: nat.PortMap{
			"8008/tcp": {{HostIP: "127.0.0.1", HostPort: fmt.Sprint(clientPort)}},
			"8448/tcp": {{HostIP: "127.0.0.1", HostPort: fmt.Sprint(fedPort)}},
		},
		ExtraHosts: []string{d.Config.HostRunningTest + ":host-gateway"},
	}
	resp, err := d.docker.ContainerCreate(ctx, cfg, host, nil, nil, fmt.Sprintf("stickler-%s-%s", d.ID, s.Name))
	if err != nil {
		return nil, fmt.Errorf("creating %s from %s: %w", s.Name, s.Image, err)
	}
	s.ContainerID = resp.ID
	if err := s.connectPeers(ctx, nil); err != nil {
		return s, err
	}
	if err := d.docker.CopyToContainer(ctx, s.ContainerID, "/", caTar(d.CA), container.CopyToContainerOptions{}); err != nil {
		return s, fmt.Errorf("copying the CA into %s: %w", s.Name, err)
	}
	return s, nil
}

// connectPeers attaches s to the network it shares with each other server (all of them when
// only is nil), under its alias, so the other server can resolve its name.
func (s *Server) connectPeers(ctx context.Context, only map[int]bool) error {
	for pair, id := range s.dep.pairNet {
		if pair[0] != s.Index && pair[1] != s.Index {
			continue
		}
		other := pair[0] + pair[1] - s.Index
		if only != nil && !only[other] {
			continue
		}
		err := s.dep.docker.NetworkConnect(ctx, id, s.ContainerID, &network.EndpointSettings{Aliases: []string{s.Name}})
		if err != nil && !strings.Contains(err.Error(), "already exists") {
			return fmt.Errorf("connecting %s to hs%d: %w", s.Name, other, err)
		}
	}
	return nil
}

func caTar(ca *CA) io.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, dir := range []string{"complement/", "complement/ca/"} {
		_ = tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755})
	}
	for name, data := range map[string][]byte{"complement/ca/ca.crt": ca.CertPEM, "complement/ca/ca.key": ca.KeyPEM} {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))})
		_, _ = tw.Write(data)
	}
	_ = tw.Close()
	return &buf
}

func freePort() (int, error) {
	// Below the kernel's ephemeral range (32768 and up here), so outgoing connections of this
	// and other processes do not take the port between this check and Docker's bind.
	for range 200 {
		port := 20000 + mrand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("finding a free port in 20000-31999: none after 200 tries")
}

// startSlots bounds how many servers start at once. A homeserver's start is CPU-bound (seconds
// of Python imports and schema setup); on a two-core machine a dozen starting together would
// each take a minute and miss the spawn timeout, while queued they take the same total time.
var startSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// FederationClient returns an HTTP client that trusts the deployment's CA, for talking to the
// server's federation port from the test process.
func (d *Deployment) FederationClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: d.CA.Pool()}},
	}
}

// Server returns hsN by name ("hs2"); it panics on an unknown name, a bug in the test.
func (d *Deployment) Server(name string) *Server {
	for _, s := range d.Servers {
		if s.Name == name {
			return s
		}
	}
	panic(fmt.Sprintf("deployment %s has no server %q", d.ID, name))
}

// Logs returns the server's output since the given time (zero: all of it).
func (s *Server) Logs(ctx context.Context, since time.Time) (string, error) {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true}
	if !since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
	}
	rc, err := s.dep.docker.ContainerLogs(ctx, s.ContainerID, opts)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		return out.String(), err
	}
	return out.String(), nil
}

// PrintLogs writes every server's logs since the given time into the test log.
func (d *Deployment) PrintLogs(t testing.TB, since time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range d.Servers {
		logs, err := s.Logs(ctx, since)
		if err != nil {
			t.Logf("=== logs of %s: unavailable: %v", s.Name, err)
			continue
		}
		if !d.Config.AlwaysPrintLogs {
			logs = tail(logs, printedLogLines)
		}
		t.Logf("=== logs of %s (%s) since %s ===\n%s=== end of logs of %s ===", s.Name, s.Image, since.Format(time.TimeOnly), logs, s.Name)
	}
}

// printedLogLines bounds the server log printed under a failing test (the span of a shared
// deployment holds other tests' requests too); COMPLEMENT_ALWAYS_PRINT_SERVER_LOGS prints all,
// and STICKLER_REPORT_DIR keeps every server's whole log in DIR/logs.
const printedLogLines = 150

// tail keeps the last n lines of a log, saying how many it cut.
func tail(logs string, n int) string {
	ls := strings.SplitAfter(logs, "\n")
	if len(ls) <= n {
		return logs
	}
	return fmt.Sprintf("... %d earlier line(s) cut ...\n", len(ls)-n) + strings.Join(ls[len(ls)-n:], "")
}

// saveLogs writes each server's whole log to DIR/logs when STICKLER_REPORT_DIR is set.
func (d *Deployment) saveLogs(ctx context.Context) {
	dir := d.Config.ReportDir
	if dir == "" {
		return
	}
	dir = filepath.Join(dir, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	for _, s := range d.Servers {
		if logs, err := s.Logs(ctx, time.Time{}); err == nil {
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s.log", d.ID, s.Name)), []byte(logs), 0o644)
		}
	}
}

// tailLogs returns the last lines of each server's logs, for errors raised before a test
// can print them.
func (d *Deployment) tailLogs(ctx context.Context, lines int) string {
	var b strings.Builder
	for _, s := range d.Servers {
		logs, err := s.Logs(ctx, time.Time{})
		if err != nil {
			continue
		}
		if strings.TrimSpace(logs) == "" {
			fmt.Fprintf(&b, "\n--- %s printed nothing ---", s.Name)
			continue
		}
		fmt.Fprintf(&b, "\n--- end of the log of %s ---\n%s", s.Name, strings.TrimRight(tail(logs, lines), "\n"))
	}
	return b.String()
}

// Destroy removes every container and network of the deployment. It is safe to call twice.
func (d *Deployment) Destroy() {
	d.mu.Lock()
	if d.destroyed {
		d.mu.Unlock()
		return
	}
	d.destroyed = true
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d.saveLogs(ctx)
	if profile.Enabled() {
		var wg sync.WaitGroup
		for _, s := range d.Servers {
			wg.Add(1)
			go func() { defer wg.Done(); s.recordCPU(ctx) }()
		}
		wg.Wait()
	}
	if _, err := removeLabelled(ctx, d.docker, map[string]string{labelDeployment: d.ID, labelProc: procID}); err != nil {
		fmt.Fprintf(os.Stderr, "stickler: removing deployment %s: %v\n", d.ID, err)
	}
	liveMu.Lock()
	delete(live, d)
	liveMu.Unlock()
}

func destroyAllLive() {
	liveMu.Lock()
	ds := make([]*Deployment, 0, len(live))
	for d := range live {
		ds = append(ds, d)
	}
	liveMu.Unlock()
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Add(1)
		go func() { defer wg.Done(); d.Destroy() }()
	}
	wg.Wait()
}

// ImageLabel returns a label of the server's image ("" when the image does not carry it): how
// an image declares optional features the suite can test, such as a spam checker it can
// trigger (README, image contract).
func (s *Server) ImageLabel(ctx context.Context, key string) (string, error) {
	img, err := s.dep.docker.ImageInspect(ctx, s.Image)
	if err != nil {
		return "", fmt.Errorf("inspecting image %s of %s: %w", s.Image, s.Name, err)
	}
	if img.Config == nil {
		return "", nil
	}
	return img.Config.Labels[key], nil
}
