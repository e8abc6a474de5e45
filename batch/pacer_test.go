package batch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		wantErr bool
	}{
		{in: "100/20s", want: Rate{100, 20 * time.Second}},
		{in: "5/s", want: Rate{5, time.Second}},
		{in: "300/m", want: Rate{300, time.Minute}},
		{in: " 7 / 1500ms ", want: Rate{7, 1500 * time.Millisecond}},
		{in: "100", wantErr: true},
		{in: "0/20s", wantErr: true},
		{in: "-1/s", wantErr: true},
		{in: "10/0s", wantErr: true},
		{in: "10/fortnight", wantErr: true},
		{in: "x/20s", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// acquireAll takes want items from p, in as many grants as it takes, and
// returns the grants.
func acquireAll(t *testing.T, p *Pacer, want int) []int {
	t.Helper()
	var grants []int
	for want > 0 {
		n, err := p.Acquire(t.Context(), want)
		if err != nil {
			t.Fatal(err)
		}
		grants = append(grants, n)
		want -= n
	}
	return grants
}

func TestPacerCeilingIsASlidingWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(Rate{100, 20 * time.Second})
		start := time.Now()
		for range 5 {
			acquireAll(t, p, 20)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the first 100 items waited %v, want no wait", d)
		}
		acquireAll(t, p, 20)
		want := time.Duration(float64(20*time.Second) * (1 + windowSlack))
		if d := time.Since(start); d != want {
			t.Errorf("item 101 waited %v, want %v: the window plus its slack", d, want)
		}
	})
}

// TestReadPacerLeavesRoomForLateReads: a read pacer's window is wider, so
// that reads reaching Graph up to a tenth of a window late still fall in
// separate windows of Graph's and never take the writes' share.
func TestReadPacerLeavesRoomForLateReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewReadPacer(Rate{450, 2 * time.Second})
		start := time.Now()
		if n, _ := p.TryAcquire(450); n != 450 {
			t.Fatalf("granted %d of the first 450", n)
		}
		time.Sleep(2*time.Second + 150*time.Millisecond)
		if n, wait := p.TryAcquire(20); n != 0 || wait != 50*time.Millisecond {
			t.Errorf("after %v: granted %d, wait %v; want none until 2.2 s", time.Since(start), n, wait)
		}
	})
}

func TestPacerGrantsWhatFits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(Rate{50, 20 * time.Second})
		got := append(acquireAll(t, p, 20), acquireAll(t, p, 20)...)
		got = append(got, acquireAll(t, p, 20)[0])
		if want := []int{20, 20, 10}; !slices.Equal(got, want) {
			t.Errorf("grants %v, want %v: a partly free window is not wasted", got, want)
		}
	})
}

func TestPacerRetryAfterHoldsEveryone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(Rate{})
		p.Throttle(10*time.Second, time.Now())
		start := time.Now()
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := p.Acquire(t.Context(), 20); err != nil {
					t.Error(err)
				}
				if d := time.Since(start); d < 10*time.Second {
					t.Errorf("a worker sent after %v, before the 10s Retry-After", d)
				}
			})
		}
		wg.Wait()
		if got := p.ThrottledUntil(); !got.Equal(start.Add(10 * time.Second)) {
			t.Errorf("ThrottledUntil = %v, want start+10s", got)
		}
	})
}

func TestPacerLaterRetryAfterWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(Rate{})
		start := time.Now()
		p.Throttle(30*time.Second, start)
		p.Throttle(5*time.Second, start) // a shorter wait must not shorten the longer one
		acquireAll(t, p, 1)
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("waited %v, want 30s", d)
		}
	})
}

func TestPacerAdapts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(Rate{100, 20 * time.Second})
		sent := time.Now()
		acquireAll(t, p, 100)
		p.Admitted(40, sent)
		p.Throttle(time.Second, sent) // another app took part of the budget...
		p.Admitted(20, sent)          // ...and answers of the same burst come in after the 429
		p.Throttle(time.Second, sent) // the same episode: no second cut
		time.Sleep(time.Second)
		acquireAll(t, p, 1)
		if got, _ := p.Limit(); got != 60 {
			t.Fatalf("after a 429 with 60 admitted, limit %d, want 60", got)
		}
		time.Sleep(3*p.window + time.Millisecond)
		acquireAll(t, p, 1)
		if got, _ := p.Limit(); got != 66 {
			t.Errorf("three windows without a 429 later, limit %d, want 66 (+2 a window)", got)
		}
		time.Sleep(100 * p.window)
		acquireAll(t, p, 1)
		if got, _ := p.Limit(); got != 100 {
			t.Errorf("long after, limit %d, want the ceiling 100", got)
		}
	})
}

func TestPacerCutsByHalfAtMost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(Rate{100, 20 * time.Second})
		p.Throttle(time.Second, time.Now()) // nothing admitted: the whole budget is someone else's, or the 429 is a fluke
		acquireAll(t, p, 1)
		if got, _ := p.Limit(); got != 50 {
			t.Errorf("limit %d after a 429 with nothing admitted, want 50", got)
		}
	})
}

func TestPacerWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(Rate{})
		p.Throttle(time.Hour, time.Now())
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		if _, err := p.Acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Acquire = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("Acquire returned after %v, want 1s", d)
		}
	})
}

func TestCutLimit(t *testing.T) {
	tests := []struct {
		limit    float64
		admitted int
		want     float64
	}{
		{limit: 100, admitted: 60, want: 60},   // what Graph let through
		{limit: 100, admitted: 0, want: 50},    // never below half
		{limit: 100, admitted: 30, want: 50},   // never below half
		{limit: 100, admitted: 250, want: 100}, // never above the limit
		{limit: 1, admitted: 0, want: 1},       // at least one item
		{limit: 1.5, admitted: 0, want: 1},
	}
	for _, tt := range tests {
		if got := cutLimit(tt.limit, tt.admitted); got != tt.want {
			t.Errorf("cutLimit(%v, %d) = %v, want %v", tt.limit, tt.admitted, got, tt.want)
		}
	}
}

func TestClimbLimit(t *testing.T) {
	tests := []struct {
		limit            float64
		ceiling, windows int
		want             float64
	}{
		{limit: 60, ceiling: 100, windows: 1, want: 62}, // a fiftieth of the ceiling a window
		{limit: 60, ceiling: 100, windows: 3, want: 66},
		{limit: 99, ceiling: 100, windows: 5, want: 100}, // never above the ceiling
		{limit: 2, ceiling: 10, windows: 1, want: 3},     // at least one item a window
		{limit: 100, ceiling: 100, windows: 0, want: 100},
	}
	for _, tt := range tests {
		if got := climbLimit(tt.limit, tt.ceiling, tt.windows); got != tt.want {
			t.Errorf("climbLimit(%v, %d, %d) = %v, want %v", tt.limit, tt.ceiling, tt.windows, got, tt.want)
		}
	}
}
