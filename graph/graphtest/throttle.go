package graphtest

import (
	"cmp"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits are write limits in sliding windows, as Intune enforces them.
type Limits struct {
	AppWrites    int           // PATCHes per app in any Window; 0 means no limit
	TenantWrites int           // PATCHes per tenant, all apps together, in any Window; 0 means no limit
	Window       time.Duration // 0 means 20 seconds
}

// IntuneLimits are Intune's documented limits for the device-configuration
// service: 100 writes per 20 seconds per app, 200 per tenant.
var IntuneLimits = Limits{AppWrites: 100, TenantWrites: 200, Window: 20 * time.Second}

// NoLimits turns throttling off, for large local runs.
var NoLimits = Limits{}

// throttle tracks admitted writes per app and per tenant, and the
// Retry-After it gave for each entity, to catch early retries.
type throttle struct {
	limits  Limits
	apps    map[string][]time.Time // admitted write times per app, oldest first
	tenant  []time.Time
	retryAt map[entityKey]time.Time // throttled entities: when their Retry-After ends
}

func newThrottle(l Limits) *throttle {
	if l.Window <= 0 {
		l.Window = 20 * time.Second
	}
	return &throttle{limits: l, apps: make(map[string][]time.Time), retryAt: make(map[entityKey]time.Time)}
}

// admit decides whether app may write key at now. If not, it returns the
// Retry-After to give: the time until a write leaves the full window.
// early reports that key was throttled before and its Retry-After has not
// passed yet. The caller holds the server's lock.
func (t *throttle) admit(app string, key entityKey, now time.Time) (retryAfter time.Duration, ok, early bool) {
	if at, seen := t.retryAt[key]; seen {
		early = now.Before(at)
		delete(t.retryAt, key)
	}
	if t.limits.AppWrites <= 0 && t.limits.TenantWrites <= 0 {
		return 0, true, early // no limits: nothing to count
	}
	cutoff := now.Add(-t.limits.Window)
	appLog := dropOld(t.apps[app], cutoff)
	t.tenant = dropOld(t.tenant, cutoff)
	var wait time.Duration
	if l := t.limits.AppWrites; l > 0 && len(appLog) >= l {
		wait = appLog[len(appLog)-l].Add(t.limits.Window).Sub(now)
	}
	if l := t.limits.TenantWrites; l > 0 && len(t.tenant) >= l {
		wait = max(wait, t.tenant[len(t.tenant)-l].Add(t.limits.Window).Sub(now))
	}
	if wait > 0 {
		t.apps[app] = appLog
		secs := time.Duration(math.Ceil(wait.Seconds())) * time.Second // Graph sends whole seconds
		t.retryAt[key] = now.Add(secs)
		return secs, false, early
	}
	t.apps[app] = append(appLog, now)
	t.tenant = append(t.tenant, now)
	return 0, true, early
}

func dropOld(log []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(log) && !log[i].After(cutoff) {
		i++
	}
	return log[i:]
}

// throttledAnswer is the item answer Graph gives a throttled request.
func throttledAnswer(retryAfter time.Duration, ids requestIDs) answer {
	a := errorAnswer(http.StatusTooManyRequests, ids, "TooManyRequests", "Too many requests: the write limit for this app is reached. Retry after the time in the Retry-After header.")
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
