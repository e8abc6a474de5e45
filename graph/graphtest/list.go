package graphtest

import (
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// This file answers GET of a collection: the stored entities under its
// path, in key order, $filter and $select applied, a page at a time with
// an @odata.nextLink, as Graph pages server-side.

// DefaultPageSize is how many entities a list answers at most per page
// when Options.PageSize is 0.
const DefaultPageSize = 100

// listQuery is what a list's query asks for.
type listQuery struct {
	filter filter
	size   int    // entities per page
	after  string // the lower-case key after which the page starts; "" for the first page
}

// list answers GET of the collection at rt.
func (s *Server) list(c *call, rt *route) answer {
	q, msg := s.parseList(rt)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, c.ids, "BadRequest", msg)
	}
	sel, msg := parseSelect(rt.query.Get("$select"), rt.typ, rt.typ)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, c.ids, "BadRequest", msg)
	}
	body := append([]byte(`{"@odata.context":`), appendString(nil, c.metadataURL()+"#"+rt.odataPath(false)+selectSuffix(sel))...)
	body = append(body, `,"value":[`...)
	s.mu.Lock()
	page, last, more := s.page(rt, q)
	for i, vw := range page {
		if i > 0 {
			body = append(body, ',')
		}
		body = vw.appendJSON(body, "", sel)
	}
	s.mu.Unlock()
	body = append(body, ']')
	if more {
		body = appendString(append(body, `,"@odata.nextLink":`...), nextLink(c, rt, last))
	}
	body = append(body, '}')
	s.count(func(n *Counters) { n.Reads++ })
	return answer{status: http.StatusOK, headers: jsonContent, body: body}
}

// parseList reads $filter, $top and $skiptoken.
func (s *Server) parseList(rt *route) (listQuery, string) {
	q := listQuery{size: s.pageSize()}
	if f := rt.query.Get("$filter"); strings.TrimSpace(f) != "" {
		var msg string
		if q.filter, msg = parseFilter(f, rt.typ); msg != "" {
			return q, msg
		}
	}
	if top, ok := rt.query["$top"]; ok {
		n, err := strconv.Atoi(top[0])
		if err != nil || n < 0 {
			return q, "Invalid value '" + top[0] + "' for $top query option found. The $top query option requires a non-negative integer value."
		}
		q.size = min(q.size, n)
	}
	if tok := rt.query.Get("$skiptoken"); tok != "" {
		after, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(after) == 0 {
			return q, "The $skiptoken value '" + tok + "' is not valid."
		}
		q.after = string(after)
	}
	return q, ""
}

func (s *Server) pageSize() int {
	if s.opts.PageSize > 0 {
		return s.opts.PageSize
	}
	return DefaultPageSize
}

// page returns the entities of one page, the key of its last one, and
// whether a later page has more. The caller holds the server's lock.
func (s *Server) page(rt *route, q listQuery) (page []view, last string, more bool) {
	c := s.store.collections[rt.canon()]
	if c == nil || q.size == 0 {
		return nil, "", false
	}
	keys := c.keys()
	i, found := slices.BinarySearch(keys, q.after)
	if found {
		i++
	}
	for ; i < len(keys); i++ {
		e := c.members[keys[i]]
		vw := view{typ: e.typ, key: e.key, hasKey: true, props: e.properties()}
		if !q.filter.match(vw) {
			continue
		}
		if len(page) == q.size {
			return page, last, true
		}
		page, last = append(page, vw), keys[i]
	}
	return page, last, false
}

// nextLink is the absolute URL of the page after the one that ends at
// the key last: the same query, with a $skiptoken.
func nextLink(c *call, rt *route, last string) string {
	q := maps.Clone(rt.query)
	q.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte(last)))
	return c.versionURL() + rt.path() + "?" + encodeQuery(q)
}

// encodeQuery encodes q as Graph writes it, the "$" of system query
// options left as it is, in a fixed order.
func encodeQuery(q url.Values) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(strings.ReplaceAll(url.QueryEscape(k), "%24", "$") + "=" + url.QueryEscape(v))
		}
	}
	return b.String()
}
