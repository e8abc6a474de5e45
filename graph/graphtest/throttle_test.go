package graphtest

import (
	"encoding/base64"
	"net/http"
	"testing"
)

func TestAppOf(t *testing.T) {
	t.Parallel()
	jwt := func(claims string) string {
		return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".c2ln"
	}
	tests := []struct {
		name, authorization, want string
	}{
		{"app token", "Bearer " + jwt(`{"appid":"app","azp":"other"}`), "app"},
		{"delegated token", "Bearer " + jwt(`{"azp":"cli","scp":"openid"}`), "cli"},
		{"padded base64url", "Bearer h." + base64.URLEncoding.EncodeToString([]byte(`{"appid":"app!"}`)) + ".s", "app!"},
		{"JWT without an app", "Bearer " + jwt(`{"tid":"tenant"}`), jwt(`{"tid":"tenant"}`)},
		{"not JSON", "Bearer " + jwt("not json"), jwt("not json")},
		{"opaque token", "Bearer opaque", "opaque"},
		{"no token", "", ""},
		{"not a bearer token", "Basic dXNlcjpwYXNz", ""},
	}
	for _, tt := range tests {
		r, err := http.NewRequest(http.MethodPost, "https://graph.test/v1.0/$batch", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.authorization != "" {
			r.Header.Set("Authorization", tt.authorization)
		}
		if got := appOf(r); got != tt.want {
			t.Errorf("%s: appOf(Authorization %q) = %q, want %q", tt.name, tt.authorization, got, tt.want)
		}
	}
}
