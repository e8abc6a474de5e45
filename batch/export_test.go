package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/graphbatch/graphbatch/graph"
)

// pagedLister serves pages of entities it makes up as it is asked, and
// records how many rows the export had written at each request.
type pagedLister struct {
	pages, perPage int
	dst            *memTable
	writtenAt      []int // rows written when each page was asked for
	urls           []string
}

func (l *pagedLister) List(_ context.Context, _ graph.Version, u string) (*graph.Page, error) {
	n := len(l.writtenAt)
	l.writtenAt = append(l.writtenAt, len(l.dst.records))
	l.urls = append(l.urls, u)
	p := &graph.Page{}
	for i := range l.perPage {
		p.Values = append(p.Values, json.RawMessage(fmt.Sprintf(`{"id":"d%d-%d","status":"compliant"}`, n, i)))
	}
	if n+1 < l.pages {
		p.NextLink = fmt.Sprintf("https://graph.microsoft.com/v1.0/next?page=%d", n+1)
	}
	return p, nil
}

// TestExportStreams: each page is written before the next is asked for,
// so an export holds one page at a time, however long the collection.
func TestExportStreams(t *testing.T) {
	dst := &memTable{}
	l := &pagedLister{pages: 5, perPage: 3, dst: dst}
	cfg := ExportConfig{Target: deviceTarget, Select: []string{"status"}, Outer: []string{"p1"}, PageSize: 3}
	if err := Export(t.Context(), l, dst, cfg); err != nil {
		t.Fatal(err)
	}
	for i, n := range l.writtenAt {
		if n != i*l.perPage {
			t.Errorf("page %d asked for with %d rows written, want %d: pages are gathered before they are written", i+1, n, i*l.perPage)
		}
	}
	if len(dst.records) != 15 || dst.syncs != 1 {
		t.Errorf("%d rows written and %d syncs, want 15 and 1", len(dst.records), dst.syncs)
	}
	if got, _ := url.QueryUnescape(l.urls[0]); got != "/deviceManagement/deviceCompliancePolicies/p1/deviceStatuses?$select=id,status&$top=3" {
		t.Errorf("first page %s, want the statuses of p1 with $select=id,status&$top=3", l.urls[0])
	}
	if !strings.HasSuffix(l.urls[4], "page=4") {
		t.Errorf("last page %s: the next links were not followed", l.urls[4])
	}
	if got := strings.Join(dst.records[14], ","); got != "p1,d4-2,compliant" {
		t.Errorf("last row %s, want p1,d4-2,compliant", got)
	}
}

// listerOf serves one page holding values.
type listerOf []string

func (l listerOf) List(context.Context, graph.Version, string) (*graph.Page, error) {
	p := &graph.Page{}
	for _, v := range l {
		p.Values = append(p.Values, json.RawMessage(v))
	}
	return p, nil
}

// TestExportRefusesWhatIsNotAnEntity: an item of a page that is not an
// object, or an entity without its key, stops the export with an error
// that shows it, instead of writing a row without a key that an update
// from the export could not use.
func TestExportRefusesWhatIsNotAnEntity(t *testing.T) {
	for _, item := range []string{`"d1"`, `42`, `null`, `["d1"]`, `{"status":"compliant"}`, `{"id":null,"status":"compliant"}`} {
		dst := &memTable{}
		l := listerOf{`{"id":"d0","status":"compliant"}`, item}
		err := Export(t.Context(), l, dst, ExportConfig{Target: deviceTarget, Select: []string{"status"}, Outer: []string{"p1"}})
		if err == nil || !strings.Contains(err.Error(), graph.Quote(item)) {
			t.Errorf("item %s: error %v, want one showing the item", item, err)
		}
		if len(dst.records) != 1 {
			t.Errorf("item %s: %d rows written, want only the entity before it", item, len(dst.records))
		}
	}
}

// answersThen answers each List with the next error of errs, then with a
// page of one entity.
type answersThen struct{ errs []error }

func (l *answersThen) List(context.Context, graph.Version, string) (*graph.Page, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	return &graph.Page{Values: []json.RawMessage{json.RawMessage(`{"id":"d1","status":"compliant"}`)}}, nil
}

// TestExportThrottlesDoNotSpendFaultAttempts: 429s never fail an export
// (CONTRACT §5), and MaxAttempts counts only the sends answered 5xx or
// lost, as in update: a fault after many 429s is sent again.
func TestExportThrottlesDoNotSpendFaultAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var errs []error
		for range DefaultMaxAttempts {
			errs = append(errs, &graph.Error{Status: http.StatusTooManyRequests, RetryAfter: "1"})
		}
		l := &answersThen{errs: append(errs, &graph.Error{Status: http.StatusServiceUnavailable})}
		dst := &memTable{}
		if err := Export(t.Context(), l, dst, ExportConfig{Target: deviceTarget, Select: []string{"status"}, Outer: []string{"p1"}}); err != nil {
			t.Fatalf("Export after %d 429s and one 503 = %v, want nil", DefaultMaxAttempts, err)
		}
		if len(dst.records) != 1 {
			t.Errorf("%d rows written, want 1", len(dst.records))
		}
	})
}

// loopingLister serves pages whose next links go round a cycle of
// cycle pages, as a lying server might.
type loopingLister struct {
	cycle, asked int
}

func (l *loopingLister) List(_ context.Context, _ graph.Version, _ string) (*graph.Page, error) {
	n := l.asked
	l.asked++
	if n > 100 {
		return nil, fmt.Errorf("asked for %d pages of a cycle of %d", l.asked, l.cycle)
	}
	return &graph.Page{
		Values:   []json.RawMessage{json.RawMessage(fmt.Sprintf(`{"id":"d%d","status":"compliant"}`, n))},
		NextLink: fmt.Sprintf("https://graph.microsoft.com/v1.0/next?page=%d", (n+1)%l.cycle+1),
	}, nil
}

// TestExportStopsANextLinkLoop: a next link back to a page already read
// stops the export with an error, instead of writing the same rows
// without end.
func TestExportStopsANextLinkLoop(t *testing.T) {
	for _, cycle := range []int{1, 3} {
		l := &loopingLister{cycle: cycle}
		dst := &memTable{}
		err := Export(t.Context(), l, dst, ExportConfig{Target: deviceTarget, Select: []string{"status"}, Outer: []string{"p1"}})
		if err == nil || !strings.Contains(err.Error(), "already read") {
			t.Errorf("a cycle of %d pages: error %v, want one saying the next link loops", cycle, err)
		}
		if l.asked != cycle+1 {
			t.Errorf("a cycle of %d pages: %d pages asked for, want %d", cycle, l.asked, cycle+1)
		}
	}
}
