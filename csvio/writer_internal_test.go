package csvio

import (
	"strings"
	"testing"
)

func TestHasSpecial(t *testing.T) {
	t.Parallel()
	for c := 0; c < 256; c++ {
		for _, pos := range []int{0, 6, 7, 8, 15, 19} {
			b := []byte("abcdefghijklmnopqrst")
			b[pos] = byte(c)
			s := string(b)
			if got, want := hasSpecial(s), strings.ContainsAny(s, ",\"\r\n"); got != want {
				t.Errorf("hasSpecial with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}
