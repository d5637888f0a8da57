package report

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stickler/helpers/spec"
)

// chromiumPackage is the Debian package that provides the browser this test drives.
const chromiumPackage = "chromium"

// findChromium returns the headless-capable browser on PATH, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestHTMLInChromium renders the synthetic run's report.html in headless Chromium: the DOM the
// browser builds must hold the report's key elements, and a screenshot must show a page with
// content. STICKLER_REPORT_KEEP=DIR keeps report.html and screenshot.png there for a look.
func TestHTMLInChromium(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		t.Skipf("skipped: no Chromium on PATH; install it with `apt-get install -y %s` (Debian) to render the HTML report", chromiumPackage)
	}
	dir := t.TempDir()
	if keep := os.Getenv("STICKLER_REPORT_KEEP"); keep != "" {
		dir = keep
		os.MkdirAll(dir, 0o755)
	}
	res, exp := readSynthetic(t)
	var b bytes.Buffer
	if err := WriteHTML(&b, Summarize(res, Rules{Expectations: exp}, Meta{Image: "stickler-synapse:synthetic", Names: "unstable", Expectations: "expectations.txt", Generated: base})); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir() // a fresh profile: no state from other runs, no first-run prompts
	common := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + profile, "--hide-scrollbars", "--window-size=1280,2400"}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom, err := exec.CommandContext(ctx, browser, append(common, "--dump-dom", "file://"+page)...).Output()
	if err != nil {
		t.Fatalf("%s --dump-dom: %v", browser, err)
	}
	d := string(dom)
	for _, want := range []string{
		`<table class="matrix">`, `id="req-MAP-2" data-outcome="fail"`, `id="req-DISCOVER-1" data-outcome="pass"`,
		`id="failures"`, `bob@hs2 diverged:`, `<svg class="timeline"`, `class="life"`, `class="fault"`,
		`class="seen"`, `class="diverged"`, `class="mapstate"`, `class="mark"`, `id="skipped"`, `class="durbar"`,
	} {
		if !strings.Contains(d, want) {
			t.Errorf("the DOM Chromium built lacks %s", want)
		}
	}
	if rows := strings.Count(d, `<tr class="req"`); rows != len(spec.Catalogue) {
		t.Errorf("the requirement matrix has %d rows in the browser, want %d (one per catalogue entry)", rows, len(spec.Catalogue))
	}
	if n := strings.Count(d, "<svg "); n != 2 {
		t.Errorf("the browser sees %d SVG pictures, want 2", n)
	}

	shot := filepath.Join(dir, "screenshot.png")
	if out, err := exec.CommandContext(ctx, browser, append(common, "--screenshot="+shot, "file://"+page)...).CombinedOutput(); err != nil {
		t.Fatalf("%s --screenshot: %v\n%s", browser, err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2400 {
		t.Errorf("screenshot size %v", b)
	}
	// A page that rendered has text, badges and pictures: many distinct colours, among them
	// the red of the FAIL badge (#cf222e) near the top.
	colours := map[uint32]bool{}
	red := false
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if y < 200 && within(r>>8, 0xcf) && within(g>>8, 0x22) && within(bl>>8, 0x2e) {
				red = true
			}
		}
	}
	if len(colours) < 50 {
		t.Errorf("the screenshot has %d distinct colours: the page did not render", len(colours))
	}
	if !red {
		t.Errorf("no FAIL badge red near the top of the screenshot")
	}
}

func within(v, want uint32) bool { return v+12 >= want && v <= want+12 }

// TestCompareHTMLInChromium renders the side-by-side page of synthetic runs: the browser must
// build every requirement row with one cell per run, and the screenshot must show the red of a
// FAIL cell. STICKLER_REPORT_KEEP=DIR keeps compare.html and compare.png there.
func TestCompareHTMLInChromium(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		t.Skipf("skipped: no Chromium on PATH; install it with `apt-get install -y %s` (Debian) to render the HTML report", chromiumPackage)
	}
	dir := t.TempDir()
	if keep := os.Getenv("STICKLER_REPORT_KEEP"); keep != "" {
		dir = keep
		os.MkdirAll(dir, 0o755)
	}
	c, _ := syntheticComparison(t)
	var b bytes.Buffer
	if err := WriteCompareHTML(&b, c, base); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "compare.html")
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--hide-scrollbars", "--window-size=1400,2400"}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom, err := exec.CommandContext(ctx, browser, append(common, "--dump-dom", "file://"+page)...).Output()
	if err != nil {
		t.Fatalf("%s --dump-dom: %v", browser, err)
	}
	d := string(dom)
	if rows := strings.Count(d, `<tr class="req`); rows != len(spec.Catalogue) {
		t.Errorf("the browser built %d requirement rows, want %d", rows, len(spec.Catalogue))
	}
	if cells := strings.Count(d, `<td class="cell"`); cells != 3*len(spec.Catalogue) {
		t.Errorf("the browser built %d cells, want %d (3 runs)", cells, 3*len(spec.Catalogue))
	}
	shot := filepath.Join(dir, "compare.png")
	if out, err := exec.CommandContext(ctx, browser, append(common, "--screenshot="+shot, "file://"+page)...).CombinedOutput(); err != nil {
		t.Fatalf("%s --screenshot: %v\n%s", browser, err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	red := false
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y && !red; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if within(r>>8, 0xcf) && within(g>>8, 0x22) && within(bl>>8, 0x2e) {
				red = true
				break
			}
		}
	}
	if !red {
		t.Errorf("no FAIL red (#cf222e) anywhere in the screenshot: the cells did not render")
	}
}
