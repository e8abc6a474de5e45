package graph

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"10", 10 * time.Second, true},
		{" 10 ", 10 * time.Second, true},
		{"0", 0, true},
		{"-0", 0, true},
		{"0.249", 1 * time.Second, true},
		{"2.128", 3 * time.Second, true},
		{"1.0", 1 * time.Second, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(90 * time.Minute).Format(time.RFC850), 90 * time.Minute, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"   ", 0, false},
		{"abc", 0, false},
		{"10s", 0, false},
		{"-5", 0, false},
		{"-0.5", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"+Inf", 0, false},
		{"-Inf", 0, false},
		{"infinity", 0, false},
		{"2025-06-01T12:00:30Z", 0, false},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(tt.value, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestRetryAfterHuge(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, value := range []string{
		"99999999999999",
		"1e300",
		"9223372036854775807",
		"Fri, 31 Dec 9999 23:59:59 GMT",
	} {
		got, ok := RetryAfter(value, now)
		if !ok || got < 24*time.Hour {
			t.Errorf("RetryAfter(%q) = %v, %v; want a long positive wait, true", value, got, ok)
		}
	}
}
