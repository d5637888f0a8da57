package deploy

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
)

// The allocator walks the pool from its random start, wraps around, and never offers a subnet
// that overlaps a host route.
func TestSubnetAllocatorWalksPoolAvoidingRoutes(t *testing.T) {
	pool := netip.MustParsePrefix("10.1.0.0/24") // 16 subnets of /28
	avoid := []netip.Prefix{netip.MustParsePrefix("10.1.0.32/27")}
	a := newSubnetAllocator(pool, 28, avoid, func(n int) int { return n - 1 }) // start at the last slot
	var got []string
	for range 16 {
		p, ok := a.take()
		if !ok {
			t.Fatalf("the pool has 14 subnets clear of the route, but take() ran dry after %v", got)
		}
		got = append(got, p.String())
	}
	want := "10.1.0.240/28 10.1.0.0/28 10.1.0.16/28 10.1.0.64/28"
	if s := strings.Join(got[:4], " "); s != want {
		t.Fatalf("expected the walk to start at the last slot, wrap, and skip 10.1.0.32/27 (two /28s): want %q, got %q", want, s)
	}
	for _, s := range got {
		if avoid[0].Overlaps(netip.MustParsePrefix(s)) {
			t.Fatalf("offered %s, which overlaps the host route %v", s, avoid[0])
		}
	}
	all := newSubnetAllocator(pool, 28, []netip.Prefix{pool}, func(int) int { return 0 })
	if p, ok := all.take(); ok {
		t.Fatalf("a pool covered by a host route has no subnet to offer, got %v", p)
	}
}

// A subnet Docker says is taken is skipped for the next; any other error is returned at once;
// a pool where every try is taken ends with a message that says what to do.
func TestCreateNetworkRetriesOnOverlap(t *testing.T) {
	a := newSubnetAllocator(netip.MustParsePrefix("10.2.0.0/24"), 28, nil, func(int) int { return 0 })
	var tried []netip.Prefix
	id, err := createNetworkWith(context.Background(), a, func(_ context.Context, p netip.Prefix) (string, error) {
		tried = append(tried, p)
		if len(tried) < 3 {
			return "", errors.New("Error response from daemon: Pool overlaps with other one on this address space")
		}
		return "net-" + p.String(), nil
	}, "n")
	if err != nil || id != "net-10.2.0.32/28" || len(tried) != 3 {
		t.Fatalf("expected the third subnet to be used after two overlaps; id %q, err %v, tried %v", id, err, tried)
	}
	_, err = createNetworkWith(context.Background(), a, func(context.Context, netip.Prefix) (string, error) {
		return "", errors.New("permission denied")
	}, "n")
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("expected another error to be returned as it is, got %v", err)
	}
	_, err = createNetworkWith(context.Background(), a, func(context.Context, netip.Prefix) (string, error) {
		return "", errors.New("networks have overlapping IPv4")
	}, "n")
	if err == nil || !strings.Contains(err.Error(), "no free /28 subnet in 10.2.0.0/24") {
		t.Fatalf("expected a full pool to be reported with the pool's range, got %v", err)
	}
}

// After a refusal the walk resumes at a random slot past the refused one: a process that started
// inside another's block of taken subnets leaves it at once instead of trying them in order.
func TestCreateNetworkJumpsAfterOverlap(t *testing.T) {
	a := newSubnetAllocator(netip.MustParsePrefix("10.3.0.0/24"), 28, nil, func(n int) int {
		if n == 16 {
			return 0 // the start
		}
		return 7 // the jump: 7 slots past the refused one's successor
	})
	var tried []string
	_, err := createNetworkWith(context.Background(), a, func(_ context.Context, p netip.Prefix) (string, error) {
		tried = append(tried, p.String())
		if len(tried) == 1 {
			return "", errors.New("Pool overlaps with other one on this address space")
		}
		return "ok", nil
	}, "n")
	if err != nil || strings.Join(tried, " ") != "10.3.0.0/28 10.3.0.128/28" {
		t.Fatalf("expected slot 0 refused, then slot 0+1+7=8 (10.3.0.128/28); err %v, tried %v", err, tried)
	}
}

func TestHostRoutesParsesThisMachine(t *testing.T) {
	for _, r := range hostRoutes() {
		if !r.Addr().Is4() || r.Bits() == 0 {
			t.Fatalf("hostRoutes returned %v: want IPv4 routes without the default route", r)
		}
	}
}

// Forty 3-server deployments' networks (160, four per deployment) exist at once: far beyond
// Docker's default pools (about 31 networks), which is what ran out under parallel load. No
// containers are started; every network is removed afterwards.
func TestManyDeploymentsNetworksCoexist(t *testing.T) {
	RequireDocker(t)
	c, err := Docker()
	if err != nil {
		t.Fatal(err)
	}
	const deployments, servers = 40, 3
	start := time.Now()
	ds := make([]*Deployment, deployments)
	for i := range ds {
		ds[i] = &Deployment{ID: newID(3), docker: c, pairNet: map[[2]int]string{}}
		liveMu.Lock()
		live[ds[i]] = true // removed on SIGINT too
		liveMu.Unlock()
		t.Cleanup(ds[i].Destroy)
	}
	var wg sync.WaitGroup
	errs := make(chan error, deployments)
	sem := make(chan struct{}, 8)
	for _, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			for i := 0; i < 1+servers*(servers-1)/2; i++ {
				if _, err := d.createNetwork(context.Background(), fmt.Sprintf("stickler-%s-subnet-test-%d", d.ID, i), i > 0); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("creating a deployment's networks: %v", err)
	}
	seen := map[string]string{}
	nets, err := c.NetworkList(context.Background(), network.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		n := 0
		for _, nw := range nets {
			if nw.Labels[labelDeployment] != d.ID {
				continue
			}
			n++
			info, err := c.NetworkInspect(context.Background(), nw.ID, network.InspectOptions{})
			if err != nil || len(info.IPAM.Config) != 1 {
				t.Fatalf("inspecting %s: %v, IPAM %+v", nw.Name, err, info.IPAM)
			}
			sn := info.IPAM.Config[0].Subnet
			if !subnetPool.Overlaps(netip.MustParsePrefix(sn)) {
				t.Fatalf("%s has subnet %s, outside the harness's pool %v", nw.Name, sn, subnetPool)
			}
			if other, dup := seen[sn]; dup {
				t.Fatalf("%s and %s share subnet %s", nw.Name, other, sn)
			}
			seen[sn] = nw.Name
		}
		if n != 4 {
			t.Fatalf("deployment %s has %d networks, want 4", d.ID, n)
		}
	}
	t.Logf("%d networks of %d deployments coexist, each with its own /%d, created in %v", len(seen), deployments, subnetBits, time.Since(start).Round(time.Millisecond))
}
