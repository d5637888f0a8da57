package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, in the shape CI systems read (Jenkins, GitLab, GitHub test-report actions):
// one <testsuite> per Go package, one <testcase> per counted test. Verdicts map as
//
//	pass             no child element
//	fail             <failure type="failure">
//	unexpected-pass  <failure type="unexpected-pass"> (the expectations file must be updated)
//	fails-differently <failure type="fails-differently"> (a known failure with other codes)
//	unfinished       <error type="unfinished"> (timeout or crash)
//	warning          <system-out> with "WARNING (SHOULD failed)" (the test passes in JUnit terms)
//	observed         no child element, the observation as a property
//	expected-fail    <skipped message="expected failure: REASON"> (as pytest reports xfail)
//	skip             <skipped message="REASON">
//
// so the JUnit totals fail exactly when the run fails.

type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	Name    string   `xml:"name,attr"`
	junitCounts
	Suites []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name string `xml:"name,attr"`
	junitCounts
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	seconds    float64
}

// junitCounts are the totals <testsuites> and each <testsuite> carry, as attributes after
// the name (encoding/xml writes an embedded struct's fields in place).
type junitCounts struct {
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Time     string `xml:"time,attr"`
}

// add adds o's test counts (not its time) to c.
func (c *junitCounts) add(o junitCounts) {
	c.Tests += o.Tests
	c.Failures += o.Failures
	c.Errors += o.Errors
	c.Skipped += o.Skipped
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitProblem   `xml:"failure,omitempty"`
	Error      *junitProblem   `xml:"error,omitempty"`
	Skipped    *junitProblem   `xml:"skipped,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Type    string `xml:"type,attr,omitempty"`
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes the run as JUnit XML.
func WriteJUnit(w io.Writer, s *Summary) error {
	suites := junitSuites{Name: "stickler"}
	byPkg := map[string]*junitSuite{}
	var order []string
	var total float64
	for _, t := range s.Tests {
		if !t.Counted {
			continue
		}
		pkg := t.Package
		if pkg == "" {
			pkg = "(build)"
		}
		su := byPkg[pkg]
		if su == nil {
			su = newJUnitSuite(pkg, s.Meta)
			byPkg[pkg] = su
			order = append(order, pkg)
		}
		total += su.addCase(t)
	}
	for _, pkg := range order {
		su := byPkg[pkg]
		su.Time = fmt.Sprintf("%.3f", su.seconds)
		suites.add(su.junitCounts)
		suites.Suites = append(suites.Suites, *su)
	}
	suites.Time = fmt.Sprintf("%.3f", total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suites); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// newJUnitSuite starts the <testsuite> of one Go package, with the run's image and
// expectations file as properties and its time as the timestamp.
func newJUnitSuite(pkg string, m Meta) *junitSuite {
	su := &junitSuite{Name: pkg}
	if m.Image != "" {
		su.Properties = append(su.Properties, junitProperty{"image", m.Image})
	}
	if m.Expectations != "" {
		su.Properties = append(su.Properties, junitProperty{"expectations", m.Expectations})
	}
	if !m.Generated.IsZero() {
		su.Timestamp = m.Generated.UTC().Format("2006-01-02T15:04:05")
	}
	return su
}

// addCase adds t to the suite as a <testcase>, its verdict mapped as the table above says,
// counts it, and returns its time in seconds.
func (su *junitSuite) addCase(t TestSummary) float64 {
	secs := float64(t.ElapsedMS) / 1000
	c := junitCase{Name: t.Name, Classname: su.Name, Time: fmt.Sprintf("%.3f", secs)}
	for _, id := range t.Covers {
		c.Properties = append(c.Properties, junitProperty{"requirement", id})
	}
	for _, ch := range sortedChoices(t.Choices) {
		c.Properties = append(c.Properties, junitProperty{"choice:" + ch.Test, ch.Behaviour})
	}
	su.Tests++
	switch t.Verdict {
	case Failed:
		su.Failures++
		c.Failure = &junitProblem{Type: "failure", Message: firstLine(failureMessage(t)), Body: failureBody(t)}
	case FailsDifferently:
		su.Failures++
		c.Failure = &junitProblem{Type: "fails-differently", Message: t.Difference, Body: failureBody(t)}
	case Warning:
		c.SystemOut = "WARNING (SHOULD failed; fails the run only with STICKLER_STRICT=1): " + failureMessage(t) + "\n" + failureBody(t)
	case UnexpectedPass:
		su.Failures++
		c.Failure = &junitProblem{Type: "unexpected-pass", Message: fmt.Sprintf("passed, but the expectations file says it fails (%s): remove that line", t.Expectation.Reason)}
	case Unfinished:
		su.Errors++
		c.Error = &junitProblem{Type: "unfinished", Message: "never finished (timeout or crash)", Body: t.Failure}
	case ExpectedFail:
		su.Skipped++
		msg := "expected failure"
		if t.Expectation != nil {
			msg += ": " + t.Expectation.Reason
		}
		c.Skipped = &junitProblem{Message: msg}
		c.SystemOut = t.Failure
	case Skipped, ExpectedSkip:
		su.Skipped++
		c.Skipped = &junitProblem{Message: t.SkipReason}
	}
	su.Cases = append(su.Cases, c)
	su.seconds += secs
	return secs
}

// failureMessage is the most telling line of a failure: a divergence, else the first line
// the test logged that looks like an error, else the last line.
func failureMessage(t TestSummary) string {
	if len(t.Diverged) > 0 {
		return fmt.Sprintf("%s diverged: %s", t.Diverged[0].Client, t.Diverged[0].Why)
	}
	lines := strings.Split(strings.TrimSpace(t.Failure), "\n")
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "...") {
			return stripLocation(l)
		}
	}
	return "failed"
}

func failureBody(t TestSummary) string {
	var b strings.Builder
	for _, d := range t.Diverged {
		fmt.Fprintf(&b, "%s diverged: %s\n", d.Client, d.Why)
	}
	b.WriteString(t.Failure)
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
