package batch

import (
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		status int
		want   verdict
	}{
		{200, done}, {201, done}, {204, done},
		{301, permanent}, {307, permanent}, // a redirect is not Graph's answer
		{400, permanent}, {403, permanent}, {404, permanent}, {405, permanent}, {409, permanent}, {412, permanent},
		{401, reauth},
		{429, throttled},
		{500, transient}, {502, transient}, {503, transient}, {504, transient},
		{501, permanent}, // Not Implemented: sending again cannot help
		{505, permanent}, // HTTP Version Not Supported: likewise
	}
	for _, tt := range tests {
		if got := classify(tt.status); got != tt.want {
			t.Errorf("classify(%d) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	for n := 1; n <= 20; n++ {
		full := backoffCap
		if n < 16 {
			full = min(backoffBase<<(n-1), backoffCap)
		}
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 2000 {
			d := backoff(n)
			lo, hi = min(lo, d), max(hi, d)
		}
		// Equal jitter: between half and all of the exponential wait, and
		// spread over that range, not stuck at one end.
		if lo < full/2 || hi > full {
			t.Errorf("backoff(%d) ranged %v..%v, want within %v..%v", n, lo, hi, full/2, full)
		}
		if hi-lo < full/4 {
			t.Errorf("backoff(%d) ranged only %v..%v: no jitter", n, lo, hi)
		}
	}
}
