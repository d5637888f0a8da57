package blueprints

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
)

// Mixed deployments: some servers implement sticky events, some do not (COMPAT). Which is
// which is read from each server's /versions, never from its image name, so any pair of images
// given through COMPLEMENT_BASE_IMAGE_HSn works.

// MixedRoomVersion is the room version of the mixed rooms: one every server knows (Dendrite
// v0.13.8 stops at 11) and that the federation peer can sign.
const MixedRoomVersion = "10"

// Roles sorts a deployment's servers by what they advertise.
type Roles struct {
	Implementing    []*deploy.Server // advertise sticky events under the selected names
	NonImplementing []*deploy.Server // advertise neither the unstable nor the stable flag
	Other           []string         // neither (e.g. unstable names only in a stable run), with why
}

// Classify reads /versions of every server of d.
func Classify(t testing.TB, d *deploy.Deployment) Roles {
	t.Helper()
	names := client.NamesFromEnv(t)
	unstable, _ := wire.Select("unstable")
	stable, _ := wire.Select("stable")
	var r Roles
	for _, s := range d.Servers {
		anon := &client.Client{BaseURL: s.ClientURL, Names: names}
		v := anon.MustDo(t, client.Request{Method: "GET", Path: []string{"_matrix", "client", "versions"}}).JSON
		switch {
		case wire.Support(v, names) == "":
			r.Implementing = append(r.Implementing, s)
		case wire.Support(v, unstable) != "" && wire.Support(v, stable) != "":
			r.NonImplementing = append(r.NonImplementing, s)
		default:
			r.Other = append(r.Other, fmt.Sprintf("%s (%s): %s", s.Name, s.Image, wire.Support(v, names)))
		}
	}
	return r
}

// Describe lists the roles, for skip and failure messages.
func (r Roles) Describe() string {
	list := func(ss []*deploy.Server) string {
		var out []string
		for _, s := range ss {
			out = append(out, fmt.Sprintf("%s (%s)", s.Name, s.Image))
		}
		if len(out) == 0 {
			return "none"
		}
		return strings.Join(out, ", ")
	}
	d := fmt.Sprintf("implementing: %s; not implementing: %s", list(r.Implementing), list(r.NonImplementing))
	if len(r.Other) > 0 {
		d += "; implementing under the other wire names only: " + strings.Join(r.Other, ", ")
	}
	return d
}

// RequireMix ends the test as not applicable (spec.NotApplicable), saying why, unless the
// deployment has at least impl servers that implement sticky events and at least non servers
// that advertise nothing of them. A Synapse-only run lacks the second kind, a Dendrite-only run
// the first.
func (r Roles) RequireMix(t testing.TB, impl, non int) {
	t.Helper()
	if len(r.NonImplementing) < non {
		spec.NotApplicable(t, "needs %d server(s) that do not implement MSC4354: set STICKLER_SERVER=mixed or COMPLEMENT_BASE_IMAGE_HS2 to such an image (this deployment: %s)", non, r.Describe())
	}
	if len(r.Implementing) < impl {
		spec.NotApplicable(t, "needs %d server(s) that implement MSC4354 (advertise %s under STICKLER_NAMES=%s): set STICKLER_SERVER=mixed, or COMPLEMENT_BASE_IMAGE_HS1 and _HS3 to such an image (this deployment: %s)",
			impl, client.NamesFromEnv(t).VersionsFlag, client.NamesFromEnv(t).Set, r.Describe())
	}
}

// MixedRoomBody is the createRoom body of a public room of MixedRoomVersion.
func MixedRoomBody() map[string]any {
	body := client.PublicRoom("")
	body["room_version"] = MixedRoomVersion
	return body
}

// MixedFederation is a public room of MixedRoomVersion on the shared deployment of n servers,
// created on the first implementing server, with a fresh user on every server (joined through
// the creator's server), each join seen everywhere. It skips unless the deployment has at
// least impl implementing and non non-implementing servers. Users follow D.Servers' order.
func MixedFederation(t testing.TB, n, impl, non int) (*Federation, Roles) {
	t.Helper()
	d := deploy.Shared(t, n)
	roles := Classify(t, d)
	roles.RequireMix(t, impl, non)
	start := time.Now()
	creator := roles.Implementing[0]
	b := &Federation{D: d}
	users := map[*deploy.Server]*client.Client{}
	for _, s := range d.Servers {
		users[s] = NewUser(t, s, "user"+s.Name)
	}
	b.Room = users[creator].CreateRoom(t, MixedRoomBody())
	for _, s := range d.Servers {
		if s != creator {
			users[s].JoinRoom(t, b.Room, creator.Name)
		}
		b.Users = append(b.Users, users[s])
	}
	for _, u := range b.Users {
		for _, v := range b.Users {
			u.WaitMembership(t, b.Room, v.UserID, "join", client.DefaultWait)
		}
	}
	t.Logf("blueprint: mixed %d-server room %s (version %s) on %s ready in %v; %s",
		n, b.Room, MixedRoomVersion, creator.Name, time.Since(start).Round(time.Millisecond), roles.Describe())
	return b, roles
}

// UserOn returns the blueprint's user on server s.
func (b *Federation) UserOn(s *deploy.Server) *client.Client { return b.Users[s.Index-1] }
