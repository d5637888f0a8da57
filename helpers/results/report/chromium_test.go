package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
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

// renderInChromium writes page as the file name in a fresh directory (STICKLER_REPORT_KEEP=DIR
// keeps it and the screenshot there instead), and has headless Chromium build its DOM and take
// a width×2400 screenshot as the file shot. It returns the DOM and the screenshot, and skips
// the test, saying why, when there is no Chromium.
func renderInChromium(t *testing.T, page []byte, name, shot string, width int) (string, image.Image) {
	t.Helper()
	browser := findChromium()
	if browser == "" {
		t.Skipf("skipped: no Chromium on PATH; install it with `apt-get install -y %s` (Debian) to render the HTML report", chromiumPackage)
	}
	dir := t.TempDir()
	if keep := os.Getenv("STICKLER_REPORT_KEEP"); keep != "" {
		dir = keep
		os.MkdirAll(dir, 0o755)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir() // a fresh profile: no state from other runs, no first-run prompts
	common := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + profile, "--hide-scrollbars", fmt.Sprintf("--window-size=%d,2400", width)}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom, err := exec.CommandContext(ctx, browser, append(common, "--dump-dom", "file://"+file)...).Output()
	if err != nil {
		t.Fatalf("%s --dump-dom: %v", browser, err)
	}
	shotFile := filepath.Join(dir, shot)
	if out, err := exec.CommandContext(ctx, browser, append(common, "--screenshot="+shotFile, "file://"+file)...).CombinedOutput(); err != nil {
		t.Fatalf("%s --screenshot: %v\n%s", browser, err, out)
	}
	f, err := os.Open(shotFile)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	return string(dom), img
}

// failRed reports whether the screenshot shows the red of a FAIL badge or cell (#cf222e) above
// row maxY (anywhere when maxY is 0), looking at every step-th pixel.
func failRed(img image.Image, maxY, step int) bool {
	bounds := img.Bounds()
	if maxY == 0 {
		maxY = bounds.Max.Y
	}
	for y := bounds.Min.Y; y < bounds.Max.Y && y < maxY; y += step {
		for x := bounds.Min.X; x < bounds.Max.X; x += step {
			r, g, bl, _ := img.At(x, y).RGBA()
			if within(r>>8, 0xcf) && within(g>>8, 0x22) && within(bl>>8, 0x2e) {
				return true
			}
		}
	}
	return false
}

func within(v, want uint32) bool { return v+12 >= want && v <= want+12 }

// TestHTMLInChromium renders the synthetic run's report.html in headless Chromium: the DOM the
// browser builds must hold the report's key elements, and a screenshot must show a page with
// content. STICKLER_REPORT_KEEP=DIR keeps report.html and screenshot.png there for a look.
func TestHTMLInChromium(t *testing.T) {
	res, exp := readSynthetic(t)
	var b bytes.Buffer
	if err := WriteHTML(&b, Summarize(res, Rules{Expectations: exp}, Meta{Image: "stickler-synapse:synthetic", Names: "unstable", Expectations: "expectations.txt", Generated: base})); err != nil {
		t.Fatal(err)
	}
	d, img := renderInChromium(t, b.Bytes(), "report.html", "screenshot.png", 1280)
	if miss := missing(d,
		`<table class="matrix">`, `id="req-MAP-2" data-outcome="fail"`, `id="req-DISCOVER-1" data-outcome="pass"`,
		`id="failures"`, `bob@hs2 diverged:`, `<svg class="timeline"`, `class="life"`, `class="fault"`,
		`class="seen"`, `class="diverged"`, `class="mapstate"`, `class="mark"`, `id="skipped"`, `class="durbar"`,
	); len(miss) > 0 {
		t.Errorf("the DOM Chromium built lacks %q", miss)
	}
	if rows := strings.Count(d, `<tr class="req"`); rows != len(spec.Catalogue) {
		t.Errorf("the requirement matrix has %d rows in the browser, want %d (one per catalogue entry)", rows, len(spec.Catalogue))
	}
	if n := strings.Count(d, "<svg "); n != 2 {
		t.Errorf("the browser sees %d SVG pictures, want 2", n)
	}

	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2400 {
		t.Errorf("screenshot size %v", b)
	}
	// A page that rendered has text, badges and pictures: many distinct colours, among them
	// the red of the FAIL badge near the top.
	colours := map[uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("the screenshot has %d distinct colours: the page did not render", len(colours))
	}
	if !failRed(img, 200, 3) {
		t.Errorf("no FAIL badge red near the top of the screenshot")
	}
}

// TestCompareHTMLInChromium renders the side-by-side page of synthetic runs: the browser must
// build every requirement row with one cell per run, and the screenshot must show the red of a
// FAIL cell. STICKLER_REPORT_KEEP=DIR keeps compare.html and compare.png there.
func TestCompareHTMLInChromium(t *testing.T) {
	c, _ := syntheticComparison(t)
	var b bytes.Buffer
	if err := WriteCompareHTML(&b, c, base); err != nil {
		t.Fatal(err)
	}
	d, img := renderInChromium(t, b.Bytes(), "compare.html", "compare.png", 1400)
	if rows := strings.Count(d, `<tr class="req`); rows != len(spec.Catalogue) {
		t.Errorf("the browser built %d requirement rows, want %d", rows, len(spec.Catalogue))
	}
	if cells := strings.Count(d, `<td class="cell`); cells != 3*len(spec.Catalogue) { // "cell" and the collapsed "cell ni"
		t.Errorf("the browser built %d cells, want %d (3 runs)", cells, 3*len(spec.Catalogue))
	}
	if !failRed(img, 0, 2) {
		t.Errorf("no FAIL red (#cf222e) anywhere in the screenshot: the cells did not render")
	}
}
