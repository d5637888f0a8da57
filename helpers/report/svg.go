package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"

	"stickler/helpers/timeline"
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

// drawTimeline draws a test's timeline, or returns ok=false when it has nothing to draw.
func drawTimeline(recs []timeline.Record) (timelinePicture, bool) {
	var events []*tlEvent
	byID := map[string]*tlEvent{}
	var clients, servers, faultServers []string
	seenClient, seenServer, seenFaultServer := map[string]bool{}, map[string]bool{}, map[string]bool{}
	addClient := func(c string) {
		if c != "" && !seenClient[c] {
			seenClient[c] = true
			clients = append(clients, c)
		}
	}
	addServer := func(s string) {
		if s != "" && !seenServer[s] {
			seenServer[s] = true
			servers = append(servers, s)
		}
	}
	var faults, marks []timeline.Record
	mapRecs := map[string][]timeline.Record{}
	for _, r := range recs {
		switch r.Kind {
		case timeline.KindSent:
			e := byID[r.Event]
			if e == nil {
				e = &tlEvent{id: r.Event, seen: map[string][]timeline.Record{}}
				byID[r.Event] = e
				events = append(events, e)
			}
			e.key, e.server, e.start, e.dur, e.sent = r.Key, r.Server, r.At, r.DurationMS, true
			addServer(r.Server)
		case timeline.KindSeen:
			e := byID[r.Event]
			if e == nil {
				e = &tlEvent{id: r.Event, start: r.At, seen: map[string][]timeline.Record{}}
				byID[r.Event] = e
				events = append(events, e)
			}
			e.seen[r.Client] = append(e.seen[r.Client], r)
			addClient(r.Client)
		case timeline.KindFault:
			faults = append(faults, r)
			addServer(r.Server)
			if !seenFaultServer[r.Server] {
				seenFaultServer[r.Server] = true
				faultServers = append(faultServers, r.Server)
			}
		case timeline.KindMap, timeline.KindDiverged:
			mapRecs[r.Client] = append(mapRecs[r.Client], r)
			addClient(r.Client)
		case timeline.KindMark:
			marks = append(marks, r)
		}
	}
	if len(events) == 0 && len(faults) == 0 && len(mapRecs) == 0 {
		return timelinePicture{}, false
	}
	sort.SliceStable(events, func(i, j int) bool {
		if events[i].start != events[j].start {
			return events[i].start < events[j].start
		}
		return events[i].id < events[j].id
	})

	// The time range: every instant something happened, plus lifetimes that end soon after;
	// a one-hour lifetime must not squash a ten-second test into a sliver.
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	touch := func(ms int64) {
		first, last = min(first, ms), max(last, ms)
	}
	for _, r := range recs {
		if r.Kind == timeline.KindMark || r.Kind == timeline.KindMap || r.Kind == timeline.KindDiverged || r.Kind == timeline.KindSeen || r.Kind == timeline.KindSent || r.Kind == timeline.KindFault {
			touch(r.At)
		}
		if r.Kind == timeline.KindFault && r.To > 0 {
			touch(r.To)
		}
	}
	span := max(last-first, 1000)
	reach := last + span*35/100
	for _, e := range events {
		if e.sent && e.end() <= reach {
			touch(e.end())
		}
		for _, ds := range e.seen {
			for _, d := range ds {
				if d.RemainingMS != nil && d.At+*d.RemainingMS <= reach {
					touch(d.At + *d.RemainingMS)
				}
			}
		}
	}
	span = max(last-first, 1000)
	t0, t1 := first-span*3/100, last+span*3/100
	x := func(ms int64) float64 {
		return plotX0 + float64(ms-t0)/float64(t1-t0)*float64(plotX1-plotX0)
	}
	clip := func(ms int64) float64 { return math.Max(plotX0, math.Min(plotX1, x(ms))) }

	clientColour := map[string]string{}
	pic := timelinePicture{Start: time.UnixMilli(first).UTC().Format("15:04:05.000 UTC")}
	for i, c := range clients {
		clientColour[c] = clientColours[i%len(clientColours)]
		pic.Clients = append(pic.Clients, legendItem{c, clientColour[c]})
	}
	serverColour := map[string]string{}
	for i, s := range servers {
		serverColour[s] = serverColours[i%len(serverColours)]
	}
	kinds := map[timeline.FaultKind]bool{}
	for _, f := range faults {
		if !kinds[f.Fault] {
			kinds[f.Fault] = true
			pic.Faults = append(pic.Faults, legendItem{faultWord(f.Fault), faultColour(f.Fault)})
		}
	}

	var body strings.Builder
	y := axisHeight
	row := func(label, title string, h int, shade bool) {
		if shade {
			fmt.Fprintf(&body, `<rect x="0" y="%d" width="%d" height="%d" fill="#f6f8fa"/>`, y, svgWidth, h)
		}
		fmt.Fprintf(&body, `<text x="%d" y="%d" class="lbl"><title>%s</title>%s</text>`, labelWidth, y+h/2+4, esc(title), esc(shorten(label, 34)))
	}

	// Server rows with their outages.
	for _, s := range faultServers {
		h := barHeight + 2*rowGap
		row(s, "server "+s, h, false)
		for _, f := range faults {
			if f.Server != s {
				continue
			}
			x0, x1 := clip(f.At), clip(f.To)
			fmt.Fprintf(&body, `<rect class="fault" x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s"><title>%s %s from %s to %s (%s)</title></rect>`,
				x0, y+rowGap, math.Max(x1-x0, 2), barHeight, faultColour(f.Fault), esc(s), esc(faultWord(f.Fault)),
				rel(f.At, first), rel(f.To, first), time.Duration(f.To-f.At)*time.Millisecond)
			if x1-x0 > 60 {
				fmt.Fprintf(&body, `<text x="%.1f" y="%d" class="inbar">%s</text>`, x0+4, y+rowGap+barHeight-2, esc(faultWord(f.Fault)))
			}
		}
		y += h
	}
	bandsTop := axisHeight

	// Event rows.
	for i, e := range events {
		lanes := len(clients)
		h := barHeight + lanes*laneHeight + 3*rowGap
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
		row(label, title, h, i%2 == 0)
		by := y + rowGap
		if e.sent {
			x0, x1 := clip(e.start), clip(e.end())
			fmt.Fprintf(&body, `<rect class="life" x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s" stroke="#555" stroke-width="0.6"><title>%s sticky from %s to %s (%d ms)</title></rect>`,
				x0, by, math.Max(x1-x0, 1.5), barHeight, serverColour[e.server], esc(e.id), rel(e.start, first), rel(e.end(), first), min(e.dur, maxSticky))
			if x(e.end()) > plotX1 {
				fmt.Fprintf(&body, `<text x="%d" y="%d" class="more">▸ ends %s</text>`, plotX1-70, by+barHeight-2, rel(e.end(), first))
			}
		}
		for li, c := range clients {
			ly := by + barHeight + rowGap + li*laneHeight + laneHeight/2
			for _, d := range e.seen[c] {
				cx := clip(d.At)
				col := clientColour[c]
				if d.RemainingMS != nil {
					ex := clip(d.At + *d.RemainingMS)
					fmt.Fprintf(&body, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5" opacity="0.55"/>`, cx, ly, ex, ly, col)
					if x(d.At+*d.RemainingMS) <= plotX1 {
						fmt.Fprintf(&body, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5"/>`, ex, ly-3, ex, ly+3, col)
					}
					fmt.Fprintf(&body, `<circle class="seen" cx="%.1f" cy="%d" r="3.2" fill="%s"><title>%s saw %s at %s with %d ms remaining: sticky for it until %s</title></circle>`,
						cx, ly, col, esc(c), esc(e.id), rel(d.At, first), *d.RemainingMS, rel(d.At+*d.RemainingMS, first))
				} else {
					fmt.Fprintf(&body, `<circle class="seen" cx="%.1f" cy="%d" r="3" fill="#fff" stroke="%s" stroke-width="1.4"><title>%s got %s at %s without the remaining-time field (not sticky)</title></circle>`,
						cx, ly, col, esc(c), esc(e.id), rel(d.At, first))
				}
			}
		}
		y += h
	}

	// Client map rows.
	for _, c := range clients {
		rs := mapRecs[c]
		if len(rs) == 0 {
			continue
		}
		h := 18
		row("map of "+c, "what "+c+"'s map held, and where it diverged", h, false)
		cy := y + h/2
		fmt.Fprintf(&body, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1" opacity="0.35"/>`, plotX0, cy, plotX1, cy, clientColour[c])
		for _, r := range rs {
			cx := clip(r.At)
			if r.Kind == timeline.KindDiverged {
				fmt.Fprintf(&body, `<g class="diverged"><title>%s diverged at %s: %s</title><path d="M%.1f %d l8 8 M%.1f %d l-8 8" stroke="#c00" stroke-width="2.6"/></g>`,
					esc(c), rel(r.At, first), esc(r.Text), cx-4, cy-4, cx+4, cy-4)
			} else {
				fmt.Fprintf(&body, `<path class="mapstate" d="M%.1f %d l4 4 l-4 4 l-4 -4 z" fill="%s"><title>%s's map at %s: %s</title></path>`,
					cx, cy-4, clientColour[c], esc(c), rel(r.At, first), esc(r.Text))
			}
		}
		y += h
	}
	bottom := y + 4

	// Outage bands and marks over everything, then the axis.
	var over strings.Builder
	for _, f := range faults {
		x0, x1 := clip(f.At), clip(f.To)
		fmt.Fprintf(&over, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" opacity="0.13"><title>%s %s</title></rect>`,
			x0, bandsTop, math.Max(x1-x0, 2), bottom-bandsTop, faultColour(f.Fault), esc(f.Server), esc(faultWord(f.Fault)))
	}
	for _, m := range marks {
		mx := clip(m.At)
		fmt.Fprintf(&over, `<line class="mark" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222" stroke-dasharray="4 3"/><text x="%.1f" y="%d" class="marklbl">%s</text>`,
			mx, axisHeight-4, mx, bottom, mx+3, bottom+12, esc(m.Text))
	}
	var axis strings.Builder
	step := tickStep(t1 - t0)
	fmt.Fprintf(&axis, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, plotX0, axisHeight-6, plotX1, axisHeight-6)
	for k := int64(math.Ceil(float64(t0-first) / float64(step))); first+k*step <= t1; k++ {
		tx := x(first + k*step)
		fmt.Fprintf(&axis, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e3e3e3"/><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888"/><text x="%.1f" y="%d" class="tick">%s</text>`,
			tx, axisHeight-6, tx, bottom, tx, axisHeight-10, tx, axisHeight-6, tx, axisHeight-14, rel(first+k*step, first))
	}
	height := bottom + 18
	pic.SVG = template.HTML(fmt.Sprintf(`<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="timeline">%s%s%s</svg>`,
		svgWidth, height, svgWidth, height, axis.String(), body.String(), over.String()))
	return pic, true
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
