package graphtest

import (
	"cmp"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/graph"
)

// Limits are throttling limits in sliding windows, counted per service
// (as graph.ProfileOf names the service of each path) and per app (the
// appid of the bearer token), as Graph enforces them.
type Limits struct {
	AppWrites    int // PATCHes per app in any Window; 0 means no limit
	TenantWrites int // PATCHes of all apps together in any Window; 0 means no limit
	// AppRequests is how many requests of any kind, reads and writes
	// together, an app may send in any RequestWindow; 0 means no limit.
	AppRequests   int
	Window        time.Duration // the writes' window; 0 means 20 seconds
	RequestWindow time.Duration // the requests' window; 0 means Window
}

// LimitsOf returns the limits of a service's throttling profile: its
// write and any-request limits per app, and twice the write limit per
// tenant. Without Options.Limits, each service gets LimitsOf its profile.
func LimitsOf(p graph.Profile) Limits {
	return Limits{AppWrites: p.Write.N, TenantWrites: 2 * p.Write.N, AppRequests: p.Any.N, Window: p.Write.Per, RequestWindow: p.Any.Per}
}

// IntuneLimits are the limits of Intune's device configuration service
// (compliance policies and their statuses): 100 writes per 20 seconds per
// app, 200 per tenant, 1,000 requests per 20 seconds per app. As
// Options.Limits, they apply to every service.
var IntuneLimits = LimitsOf(graph.IntuneDeviceConfiguration)

// NoLimits turns throttling off, for large local runs.
var NoLimits = Limits{}

func (l Limits) none() bool { return l.AppWrites <= 0 && l.TenantWrites <= 0 && l.AppRequests <= 0 }

// windows returns the writes' and the requests' windows, defaults applied.
func (l Limits) windows() (writes, requests time.Duration) {
	writes = cmp.Or(max(l.Window, 0), 20*time.Second)
	return writes, cmp.Or(max(l.RequestWindow, 0), writes)
}

// throttle keeps the times of admitted requests per service, app and kind
// of limit, and the Retry-After it gave each throttled request, to catch
// early retries.
type throttle struct {
	logs    map[logKey][]time.Time // admission times, oldest first
	retryAt map[string]time.Time   // throttled requests: when their Retry-After ends
}

// logKey names one sliding window: a service's writes or requests, of one
// app or of the tenant.
type logKey struct {
	service, app string
	kind         int
}

// The kinds of limit.
const (
	appWrites = iota
	tenantWrites
	appRequests
)

func newThrottle() *throttle {
	return &throttle{logs: make(map[logKey][]time.Time), retryAt: make(map[string]time.Time)}
}

// request is one request as the throttle sees it.
type request struct {
	service, app string
	write        bool
	key          string // what a retry of it would repeat: method and path
}

// window is one sliding window a request counts in.
type window struct {
	key  logKey
	n    int           // the most requests it holds; 0 for no limit
	per  time.Duration // its length
	name string        // the limit, for messages
}

// windows returns the windows r counts in under limits l.
func windows(r request, l Limits) []window {
	writes, requests := l.windows()
	all := []window{
		{logKey{r.service, r.app, appRequests}, l.AppRequests, requests, "request"},
		{logKey{r.service, r.app, appWrites}, l.AppWrites, writes, "write"},
		{logKey{r.service, "", tenantWrites}, l.TenantWrites, writes, "tenant write"},
	}
	if !r.write {
		return all[:1]
	}
	return all
}

// admit decides whether r may go ahead at now, under limits l. If not, it
// returns the Retry-After to give: the time until the oldest request that
// fills a window leaves it, in whole seconds as Graph sends it, and which
// limit it was. early reports that the same request was throttled before
// and its Retry-After has not ended yet. The caller holds the server's lock.
func (t *throttle) admit(r request, l Limits, now time.Time) (retryAfter time.Duration, which string, early bool) {
	if at, seen := t.retryAt[r.key]; seen {
		early = now.Before(at)
		delete(t.retryAt, r.key)
	}
	if l.none() {
		return 0, "", early
	}
	ws := windows(r, l)
	var wait time.Duration
	for _, w := range ws {
		if d := t.wait(w, now); d > wait {
			wait, which = d, w.name
		}
	}
	if wait > 0 {
		secs := time.Duration(math.Ceil(wait.Seconds())) * time.Second
		t.retryAt[r.key] = now.Add(secs)
		return secs, which, early
	}
	for _, w := range ws {
		if w.n > 0 {
			t.logs[w.key] = append(t.logs[w.key], now)
		}
	}
	return 0, "", early
}

// wait returns how long until w has room for one more request at now.
func (t *throttle) wait(w window, now time.Time) time.Duration {
	if w.n <= 0 {
		return 0
	}
	log := dropOld(t.logs[w.key], now.Add(-w.per))
	t.logs[w.key] = log
	if len(log) < w.n {
		return 0
	}
	return log[len(log)-w.n].Add(w.per).Sub(now)
}

func dropOld(log []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(log) && !log[i].After(cutoff) {
		i++
	}
	return log[i:]
}

// admit applies the throttling limits of rt's service to a request.
func (s *Server) admit(c *call, rt *route) (answer, bool) {
	p := graph.ProfileOf(rt.typ, rt.template())
	l := LimitsOf(p)
	if s.opts.Limits != nil {
		l = *s.opts.Limits
	}
	r := request{service: p.Service, app: c.app, write: c.method == http.MethodPatch, key: c.method + " " + rt.canon()}
	if !r.write {
		r.key += "?" + rt.query.Encode()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	retryAfter, which, early := s.throttle.admit(r, l, time.Now())
	switch {
	case early && r.write:
		s.counters.EarlyRetries++
	case early:
		s.counters.EarlyReadRetries++
	}
	if retryAfter == 0 {
		return answer{}, true
	}
	if r.write {
		s.counters.Throttled++
	} else {
		s.counters.ThrottledReads++
	}
	return throttledAnswer(retryAfter, p.Service, which, c.ids), false
}

// throttledAnswer is the item answer Graph gives a throttled request.
func throttledAnswer(retryAfter time.Duration, service, which string, ids requestIDs) answer {
	a := errorAnswer(http.StatusTooManyRequests, ids, "TooManyRequests",
		"Too many requests: the "+which+" limit of "+service+" is reached. Retry after the time in the Retry-After header.")
	a.headers["Retry-After"] = strconv.Itoa(int(retryAfter / time.Second))
	return a
}

// appOf names the app a request comes from: the appid (or azp) claim of a
// JWT bearer token, else the token itself, else "" for no token. It reads
// the two claims itself, with decodePart, rather than through the sign-in
// package's token parser: the emulator stands for Graph, so it must not
// depend on graphbatch's sign-in, and these few lines are less than that
// import would cost.
func appOf(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	var c struct {
		AppID string `json:"appid"`
		AZP   string `json:"azp"`
	}
	if parts := strings.Split(tok, "."); len(parts) == 3 && decodePart(strings.TrimRight(parts[1], "="), &c) == nil {
		if app := cmp.Or(c.AppID, c.AZP); app != "" {
			return app
		}
	}
	return tok
}
