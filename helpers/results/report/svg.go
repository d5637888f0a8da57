package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"

	"stickler/helpers/harness/timeline"
)

// The timeline picture of one test, drawn as inline SVG from its timeline records:
//
//   - an axis of seconds since the first record;
//   - a row per server that was cut off, paused or down, with the span as a bar, and the same
//     span shaded across the whole picture;
//   - a row per sticky event: its lifetime (origin_server_ts to + min(duration, 1h)) as a bar
//     in its server's colour, and under it a lane per client: a dot when the client was
//     delivered it, and a line to the client's local expiry (receipt + remaining time); a
//     hollow dot for a delivery without the remaining-time field;
//   - a row per client with map snapshots (diamonds) and divergences (red crosses);
//   - named instants (timeline.Mark) as dashed vertical lines.
//
// Every mark has a <title>, so hovering shows the details without any script.

const (
	svgWidth   = 980
	labelWidth = 230
	plotX0     = labelWidth + 10
	plotX1     = svgWidth - 24
	axisHeight = 34
	rowGap     = 4
	laneHeight = 8
	barHeight  = 12
	maxSticky  = 3600000 // ms: the one-hour cap (TIME-2)
)

// clientColours are told apart by people with the common colour-vision deficiencies.
var clientColours = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7f4f24", "#444444"}

var serverColours = []string{"#9ecae1", "#a1d99b", "#fdd0a2", "#dadaeb", "#fcbba1", "#c7e9c0", "#d9d9d9"}

var faultColours = map[timeline.FaultKind]string{
	timeline.Partition: "#f28e2b",
	timeline.Pause:     "#4e79a7",
	timeline.Crash:     "#e15759",
}

func faultColour(k timeline.FaultKind) string {
	if c, ok := faultColours[k]; ok {
		return c
	}
	return "#999999"
}

func faultWord(k timeline.FaultKind) string {
	switch k {
	case timeline.Partition:
		return "cut off (partition)"
	case timeline.Pause:
		return "paused"
	case timeline.Crash:
		return "down (crash/restart)"
	}
	return string(k)
}

type tlEvent struct {
	id, key, server string
	start, dur      int64
	sent            bool
	seen            map[string][]timeline.Record // client -> deliveries
}

func (e *tlEvent) end() int64 { return e.start + min(e.dur, maxSticky) }

// timelinePicture is a drawn timeline and the legend that goes with it.
type timelinePicture struct {
	SVG     template.HTML
	Clients []legendItem
	Faults  []legendItem
	Start   string // wall-clock time of the axis' zero
}

type legendItem struct{ Name, Colour string }

// drawTimeline draws a test's timeline, or returns ok=false when it has nothing to draw. It
// runs in three steps: collect (records -> events, clients, faults), lay out (time range,
// scale, colours) and draw (rows, overlays, axis).
func drawTimeline(recs []timeline.Record) (timelinePicture, bool) {
	d := collect(recs)
	if len(d.events) == 0 && len(d.faults) == 0 && len(d.mapRecs) == 0 {
		return timelinePicture{}, false
	}
	l := layOut(d, recs)
	return l.picture(d, draw(d, l)), true
}

// tlData is what a test's timeline records say, grouped for drawing.
type tlData struct {
	events                        []*tlEvent // by start, then ID
	clients, servers, faultServer []string   // in order of first appearance
	faults, marks                 []timeline.Record
	mapRecs                       map[string][]timeline.Record // client -> map snapshots and divergences
}

// collect groups the records by sticky event, client, server and fault.
func collect(recs []timeline.Record) *tlData {
	d := &tlData{mapRecs: map[string][]timeline.Record{}}
	byID := map[string]*tlEvent{}
	seenClient, seenServer, seenFaultServer := map[string]bool{}, map[string]bool{}, map[string]bool{}
	addClient := func(c string) {
		if c != "" && !seenClient[c] {
			seenClient[c] = true
			d.clients = append(d.clients, c)
		}
	}
	addServer := func(s string) {
		if s != "" && !seenServer[s] {
			seenServer[s] = true
			d.servers = append(d.servers, s)
		}
	}
	event := func(id string, start int64) *tlEvent {
		e := byID[id]
		if e == nil {
			e = &tlEvent{id: id, start: start, seen: map[string][]timeline.Record{}}
			byID[id] = e
			d.events = append(d.events, e)
		}
		return e
	}
	for _, r := range recs {
		switch r.Kind {
		case timeline.KindSent:
			e := event(r.Event, r.At)
			e.key, e.server, e.start, e.dur, e.sent = r.Key, r.Server, r.At, r.DurationMS, true
			addServer(r.Server)
		case timeline.KindSeen:
			e := event(r.Event, r.At)
			e.seen[r.Client] = append(e.seen[r.Client], r)
			addClient(r.Client)
		case timeline.KindFault:
			d.faults = append(d.faults, r)
			addServer(r.Server)
			if !seenFaultServer[r.Server] {
				seenFaultServer[r.Server] = true
				d.faultServer = append(d.faultServer, r.Server)
			}
		case timeline.KindMap, timeline.KindDiverged:
			d.mapRecs[r.Client] = append(d.mapRecs[r.Client], r)
			addClient(r.Client)
		case timeline.KindMark:
			d.marks = append(d.marks, r)
		}
	}
	sort.SliceStable(d.events, func(i, j int) bool {
		if d.events[i].start != d.events[j].start {
			return d.events[i].start < d.events[j].start
		}
		return d.events[i].id < d.events[j].id
	})
	return d
}

// tlLayout is where things go: the time range and its scale, and the colours.
type tlLayout struct {
	first, t0, t1 int64 // axis zero (first record) and the drawn range
	clientColour  map[string]string
	serverColour  map[string]string
}

// x maps an instant to a horizontal position (possibly outside the plot).
func (l tlLayout) x(ms int64) float64 {
	return plotX0 + float64(ms-l.t0)/float64(l.t1-l.t0)*float64(plotX1-plotX0)
}

// clip maps an instant to a position inside the plot.
func (l tlLayout) clip(ms int64) float64 { return math.Max(plotX0, math.Min(plotX1, l.x(ms))) }

// layOut chooses the time range: every instant something happened, plus lifetimes that end
// soon after (a one-hour lifetime must not squash a ten-second test into a sliver).
func layOut(d *tlData, recs []timeline.Record) tlLayout {
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	touch := func(ms int64) {
		first, last = min(first, ms), max(last, ms)
	}
	for _, r := range recs {
		switch r.Kind {
		case timeline.KindMark, timeline.KindMap, timeline.KindDiverged, timeline.KindSeen, timeline.KindSent, timeline.KindFault:
			touch(r.At)
		}
		if r.Kind == timeline.KindFault && r.To > 0 {
			touch(r.To)
		}
	}
	span := max(last-first, 1000)
	reach := last + span*35/100
	for _, e := range d.events {
		if e.sent && e.end() <= reach {
			touch(e.end())
		}
		for _, ds := range e.seen {
			for _, s := range ds {
				if s.RemainingMS != nil && s.At+*s.RemainingMS <= reach {
					touch(s.At + *s.RemainingMS)
				}
			}
		}
	}
	span = max(last-first, 1000)
	l := tlLayout{first: first, t0: first - span*3/100, t1: last + span*3/100, clientColour: map[string]string{}, serverColour: map[string]string{}}
	for i, c := range d.clients {
		l.clientColour[c] = clientColours[i%len(clientColours)]
	}
	for i, s := range d.servers {
		l.serverColour[s] = serverColours[i%len(serverColours)]
	}
	return l
}

// picture wraps the drawn SVG with its legend.
func (l tlLayout) picture(d *tlData, svg template.HTML) timelinePicture {
	pic := timelinePicture{SVG: svg, Start: time.UnixMilli(l.first).UTC().Format("15:04:05.000 UTC")}
	for _, c := range d.clients {
		pic.Clients = append(pic.Clients, legendItem{c, l.clientColour[c]})
	}
	kinds := map[timeline.FaultKind]bool{}
	for _, f := range d.faults {
		if !kinds[f.Fault] {
			kinds[f.Fault] = true
			pic.Faults = append(pic.Faults, legendItem{faultWord(f.Fault), faultColour(f.Fault)})
		}
	}
	return pic
}

// canvas is the SVG being drawn, row by row from the top.
type canvas struct {
	body strings.Builder
	y    int
}

// row draws a row's label (and its shading) at the current height.
func (c *canvas) row(label, title string, h int, shade bool) {
	if shade {
		fmt.Fprintf(&c.body, `<rect x="0" y="%d" width="%d" height="%d" fill="#f6f8fa"/>`, c.y, svgWidth, h)
	}
	fmt.Fprintf(&c.body, `<text x="%d" y="%d" class="lbl"><title>%s</title>%s</text>`, labelWidth, c.y+h/2+4, esc(title), esc(shorten(label, 34)))
}

// draw draws the rows (servers with outages, sticky events with client lanes, client maps),
// then the outage bands and marks over them, and the axis.
func draw(d *tlData, l tlLayout) template.HTML {
	c := &canvas{y: axisHeight}
	drawFaultRows(c, d, l)
	drawEventRows(c, d, l)
	drawMapRows(c, d, l)
	bottom := c.y + 4
	over := drawOverlay(d, l, bottom)
	axis := drawAxis(l, bottom)
	height := bottom + 18
	return template.HTML(fmt.Sprintf(`<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="timeline">%s%s%s</svg>`,
		svgWidth, height, svgWidth, height, axis, c.body.String(), over))
}

// drawFaultRows draws a row per server that was cut off, paused or down.
func drawFaultRows(c *canvas, d *tlData, l tlLayout) {
	for _, s := range d.faultServer {
		h := barHeight + 2*rowGap
		c.row(s, "server "+s, h, false)
		for _, f := range d.faults {
			if f.Server != s {
				continue
			}
			x0, x1 := l.clip(f.At), l.clip(f.To)
			fmt.Fprintf(&c.body, `<rect class="fault" x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s"><title>%s %s from %s to %s (%s)</title></rect>`,
				x0, c.y+rowGap, math.Max(x1-x0, 2), barHeight, faultColour(f.Fault), esc(s), esc(faultWord(f.Fault)),
				rel(f.At, l.first), rel(f.To, l.first), time.Duration(f.To-f.At)*time.Millisecond)
			if x1-x0 > 60 {
				fmt.Fprintf(&c.body, `<text x="%.1f" y="%d" class="inbar">%s</text>`, x0+4, c.y+rowGap+barHeight-2, esc(faultWord(f.Fault)))
			}
		}
		c.y += h
	}
}

// drawEventRows draws a row per sticky event: its lifetime, and a lane per client with its
// deliveries and local expiries.
func drawEventRows(c *canvas, d *tlData, l tlLayout) {
	first := l.first
	for i, e := range d.events {
		h := barHeight + len(d.clients)*laneHeight + 3*rowGap
		label := e.key
		if label == "" {
			label = "?"
		}
		label += " " + shortID(e.id)
		title := fmt.Sprintf("event %s, key %s", e.id, e.key)
		if e.sent {
			label += " (" + e.server + ")"
			title += fmt.Sprintf(", sent by %s at %s, duration_ms %d", e.server, rel(e.start, first), e.dur)
		} else {
			title += " (not recorded as sent: lifetime unknown)"
		}
		c.row(label, title, h, i%2 == 0)
		by := c.y + rowGap
		if e.sent {
			x0, x1 := l.clip(e.start), l.clip(e.end())
			fmt.Fprintf(&c.body, `<rect class="life" x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s" stroke="#555" stroke-width="0.6"><title>%s sticky from %s to %s (%d ms)</title></rect>`,
				x0, by, math.Max(x1-x0, 1.5), barHeight, l.serverColour[e.server], esc(e.id), rel(e.start, first), rel(e.end(), first), min(e.dur, maxSticky))
			if l.x(e.end()) > plotX1 {
				fmt.Fprintf(&c.body, `<text x="%d" y="%d" class="more">▸ ends %s</text>`, plotX1-70, by+barHeight-2, rel(e.end(), first))
			}
		}
		for li, cl := range d.clients {
			ly := by + barHeight + rowGap + li*laneHeight + laneHeight/2
			col := l.clientColour[cl]
			for _, s := range e.seen[cl] {
				cx := l.clip(s.At)
				if s.RemainingMS == nil {
					fmt.Fprintf(&c.body, `<circle class="seen" cx="%.1f" cy="%d" r="3" fill="#fff" stroke="%s" stroke-width="1.4"><title>%s got %s at %s without the remaining-time field (not sticky)</title></circle>`,
						cx, ly, col, esc(cl), esc(e.id), rel(s.At, first))
					continue
				}
				end := s.At + *s.RemainingMS
				ex := l.clip(end)
				fmt.Fprintf(&c.body, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5" opacity="0.55"/>`, cx, ly, ex, ly, col)
				if l.x(end) <= plotX1 {
					fmt.Fprintf(&c.body, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5"/>`, ex, ly-3, ex, ly+3, col)
				}
				fmt.Fprintf(&c.body, `<circle class="seen" cx="%.1f" cy="%d" r="3.2" fill="%s"><title>%s saw %s at %s with %d ms remaining: sticky for it until %s</title></circle>`,
					cx, ly, col, esc(cl), esc(e.id), rel(s.At, first), *s.RemainingMS, rel(end, first))
			}
		}
		c.y += h
	}
}

// drawMapRows draws a row per client with map snapshots (diamonds) and divergences (crosses).
func drawMapRows(c *canvas, d *tlData, l tlLayout) {
	for _, cl := range d.clients {
		rs := d.mapRecs[cl]
		if len(rs) == 0 {
			continue
		}
		h := 18
		c.row("map of "+cl, "what "+cl+"'s map held, and where it diverged", h, false)
		cy := c.y + h/2
		fmt.Fprintf(&c.body, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1" opacity="0.35"/>`, plotX0, cy, plotX1, cy, l.clientColour[cl])
		for _, r := range rs {
			cx := l.clip(r.At)
			if r.Kind == timeline.KindDiverged {
				fmt.Fprintf(&c.body, `<g class="diverged"><title>%s diverged at %s: %s</title><path d="M%.1f %d l8 8 M%.1f %d l-8 8" stroke="#c00" stroke-width="2.6"/></g>`,
					esc(cl), rel(r.At, l.first), esc(r.Text), cx-4, cy-4, cx+4, cy-4)
			} else {
				fmt.Fprintf(&c.body, `<path class="mapstate" d="M%.1f %d l4 4 l-4 4 l-4 -4 z" fill="%s"><title>%s's map at %s: %s</title></path>`,
					cx, cy-4, l.clientColour[cl], esc(cl), rel(r.At, l.first), esc(r.Text))
			}
		}
		c.y += h
	}
}

// drawOverlay shades outages across every row and draws the named instants.
func drawOverlay(d *tlData, l tlLayout, bottom int) string {
	var over strings.Builder
	for _, f := range d.faults {
		x0, x1 := l.clip(f.At), l.clip(f.To)
		fmt.Fprintf(&over, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" opacity="0.13"><title>%s %s</title></rect>`,
			x0, axisHeight, math.Max(x1-x0, 2), bottom-axisHeight, faultColour(f.Fault), esc(f.Server), esc(faultWord(f.Fault)))
	}
	for _, m := range d.marks {
		mx := l.clip(m.At)
		fmt.Fprintf(&over, `<line class="mark" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222" stroke-dasharray="4 3"/><text x="%.1f" y="%d" class="marklbl">%s</text>`,
			mx, axisHeight-4, mx, bottom, mx+3, bottom+12, esc(m.Text))
	}
	return over.String()
}

// drawAxis draws the seconds axis with its grid lines.
func drawAxis(l tlLayout, bottom int) string {
	var axis strings.Builder
	step := tickStep(l.t1 - l.t0)
	fmt.Fprintf(&axis, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, plotX0, axisHeight-6, plotX1, axisHeight-6)
	for k := int64(math.Ceil(float64(l.t0-l.first) / float64(step))); l.first+k*step <= l.t1; k++ {
		tx := l.x(l.first + k*step)
		fmt.Fprintf(&axis, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e3e3e3"/><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888"/><text x="%.1f" y="%d" class="tick">%s</text>`,
			tx, axisHeight-6, tx, bottom, tx, axisHeight-10, tx, axisHeight-6, tx, axisHeight-14, rel(l.first+k*step, l.first))
	}
	return axis.String()
}

// tickStep picks a round interval giving at most about ten ticks.
func tickStep(span int64) int64 {
	for _, s := range []int64{50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000, 1800000, 3600000} {
		if span/s <= 10 {
			return s
		}
	}
	return 7200000
}

// rel formats an instant as seconds after the axis' zero.
func rel(ms, zero int64) string {
	d := ms - zero
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	switch {
	case d == 0:
		return "0s"
	case d < 60000 && d%1000 == 0:
		return fmt.Sprintf("%s%ds", sign, d/1000)
	case d < 60000:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%s%.3f", sign, float64(d)/1000), "0"), ".") + "s"
	}
	return sign + (time.Duration(d) * time.Millisecond).String()
}

func shortID(id string) string {
	if len(id) > 9 {
		return id[:8] + "…"
	}
	return id
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func esc(s string) string { return html.EscapeString(s) }
