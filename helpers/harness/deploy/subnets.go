package deploy

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/network"
)

// Docker's default address pools give each bridge network a /16 (then /20s): about 31
// networks for everyone on the machine. A deployment of n servers makes 1 + n(n-1)/2 networks
// (4 for three servers), so a few parallel test processes exhaust the pools ("could not find an
// available, non-overlapping IPv4 address pool"). Every network of a deployment therefore gets
// an explicit small subnet out of subnetPool: a /28 holds 13 containers, more than a network
// here ever has (one container per server), and the pool holds 4096 of them.
var subnetPool = netip.MustParsePrefix("10.213.0.0/16")

const subnetBits = 28

// subnetTries bounds how many subnets one network creation tries before giving up: each
// failure means another process (or another network on the machine) holds that subnet.
const subnetTries = 64

// subnets hands out candidate subnets to every deployment of this process. It starts at a
// random slot so that parallel test processes rarely try the same subnets, and walks the pool
// in order so that this process never offers the same subnet twice while others are unused.
var subnets = newSubnetAllocator(subnetPool, subnetBits, hostRoutes(), rand.IntN)

type subnetAllocator struct {
	mu    sync.Mutex
	pool  netip.Prefix
	base  netip.Addr
	bits  int
	slots int            // how many subnets of size bits the pool holds
	next  int            // the slot offered next
	avoid []netip.Prefix // host routes: a subnet overlapping one would make it unreachable
	randN func(int) int
}

func newSubnetAllocator(pool netip.Prefix, bits int, avoid []netip.Prefix, randN func(int) int) *subnetAllocator {
	if !pool.Addr().Is4() || bits < pool.Bits() || bits > 30 {
		panic(fmt.Sprintf("subnet allocator: bad pool %v for /%d subnets", pool, bits))
	}
	slots := 1 << (bits - pool.Bits())
	return &subnetAllocator{pool: pool.Masked(), base: pool.Masked().Addr(), bits: bits, slots: slots, next: randN(slots), avoid: avoid, randN: randN}
}

// take returns the next subnet that overlaps no host route; false when a whole turn of the pool
// found none.
func (a *subnetAllocator) take() (netip.Prefix, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range a.slots {
		slot := a.next
		a.next = (a.next + 1) % a.slots
		b := a.base.As4()
		v := binary.BigEndian.Uint32(b[:]) + uint32(slot)<<(32-a.bits)
		binary.BigEndian.PutUint32(b[:], v)
		p := netip.PrefixFrom(netip.AddrFrom4(b), a.bits)
		if !a.overlapsRoute(p) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// taken moves the walk away from a subnet Docker refused as taken: another process holds it, and
// its neighbours too when that process walks the pool in order, so the walk resumes at a random
// slot instead of stepping through the other process's block one refusal at a time.
func (a *subnetAllocator) taken(p netip.Prefix) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := p.Addr().As4()
	base := a.base.As4()
	slot := int((binary.BigEndian.Uint32(b[:]) - binary.BigEndian.Uint32(base[:])) >> (32 - a.bits))
	a.next = (slot + 1 + a.randN(a.slots-1)) % a.slots
}

func (a *subnetAllocator) overlapsRoute(p netip.Prefix) bool {
	for _, r := range a.avoid {
		if r.Overlaps(p) {
			return true
		}
	}
	return false
}

// hostRoutes reads the IPv4 routes of this machine (/proc/net/route), the default route
// excepted; none when it cannot be read (then Docker's own overlap check still applies).
func hostRoutes() []netip.Prefix {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return nil
	}
	defer f.Close()
	var routes []netip.Prefix
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		dst, err1 := hex.DecodeString(fields[1])
		mask, err2 := hex.DecodeString(fields[7])
		if err1 != nil || err2 != nil || len(dst) != 4 || len(mask) != 4 {
			continue
		}
		// The file holds addresses in host (little-endian) byte order.
		m := binary.LittleEndian.Uint32(mask)
		ones := 0
		for ; ones < 32 && m&(1<<ones) != 0; ones++ {
		}
		if ones == 0 {
			continue // the default route overlaps everything
		}
		addr := netip.AddrFrom4([4]byte{dst[3], dst[2], dst[1], dst[0]})
		routes = append(routes, netip.PrefixFrom(addr, ones).Masked())
	}
	return routes
}

// isSubnetTaken says whether Docker refused a network because its subnet overlaps one that
// exists ("Pool overlaps with other one on this address space", or the bridge driver's
// "networks have overlapping IPv4").
func isSubnetTaken(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "overlap")
}

// createNetwork creates a bridge network with a subnet of its own from the allocator, trying
// further subnets while Docker says one is taken (by another process or another project).
func (d *Deployment) createNetwork(ctx context.Context, name string, internal bool) (string, error) {
	return createNetworkWith(ctx, subnets, func(ctx context.Context, p netip.Prefix) (string, error) {
		resp, err := d.docker.NetworkCreate(ctx, name, network.CreateOptions{
			Driver:   "bridge",
			Internal: internal,
			Labels:   d.labels(),
			IPAM:     &network.IPAM{Config: []network.IPAMConfig{{Subnet: p.String()}}},
		})
		return resp.ID, err
	}, name)
}

func createNetworkWith(ctx context.Context, a *subnetAllocator, create func(context.Context, netip.Prefix) (string, error), name string) (string, error) {
	var tried []string
	for range subnetTries {
		p, ok := a.take()
		if !ok {
			break
		}
		id, err := create(ctx, p)
		if err == nil {
			return id, nil
		}
		if !isSubnetTaken(err) {
			return "", fmt.Errorf("creating network %s (subnet %v): %w", name, p, err)
		}
		tried = append(tried, p.String())
		a.taken(p)
	}
	return "", fmt.Errorf("creating network %s: no free /%d subnet in %v: %d tried, each overlaps an existing network (%s); remove stale networks (docker network ls) or free some of that range",
		name, a.bits, a.pool, len(tried), strings.Join(tried[max(0, len(tried)-3):], ", "))
}
