package vehicleapiv3

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// page is a validated page number and size (1-based page).
type page struct{ num, size int }

// PageMeta is the signal list's meta (LISTSIG's example): {page, pageSize, totalCount}.
type PageMeta struct {
	Page       int `json:"page"`
	PageSize   int `json:"pageSize"`
	TotalCount int `json:"totalCount"`
}

// PageLinks are the signal list's links; previous and next are null at the ends.
type PageLinks struct {
	Self     string  `json:"self"`
	First    string  `json:"first"`
	Previous *string `json:"previous"`
	Next     *string `json:"next"`
	Last     string  `json:"last"`
}

// ListMeta and ListLinks are the JSON:API paging of the connection list, named as the spec's
// list operations name them (pageNumber, prev; a reading, docs/api-v3.md).
type ListMeta struct {
	TotalCount int `json:"totalCount"`
	PageNumber int `json:"pageNumber"`
	PageSize   int `json:"pageSize"`
}

type ListLinks struct {
	Self  string  `json:"self"`
	First string  `json:"first"`
	Prev  *string `json:"prev"`
	Next  *string `json:"next"`
	Last  string  `json:"last"`
}

// query is a list request's query, read once: the JSON:API parameters (page[number],
// page[size], filter[…]) and, for the signal list, the page/pageSize its documented links use.
// Every parameter the operation does not know is a VALIDATION error naming it: a filter the
// sandbox ignored would return the wrong list without a word.
type query struct {
	url.Values
}

func readQuery(r *http.Request, known ...string) (query, error) {
	q := r.URL.Query()
	var unknown []string
	for k := range q {
		ok := false
		for _, n := range known {
			if k == n {
				ok = true
				break
			}
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return query{}, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "Unknown query parameter %q; this operation takes %s.", unknown[0], strings.Join(known, ", "))
	}
	for k, vs := range q {
		if len(vs) > 1 {
			return query{}, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "The query parameter %q is repeated.", k)
		}
	}
	return query{q}, nil
}

// get is the trimmed value of the first of names that is set.
func (q query) get(names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(q.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

// page reads the page number and size from the first spelling set of each (JSON:API's
// page[number]/page[size], or page/pageSize). A bad value is a VALIDATION error naming it.
func (q query) page(numNames, sizeNames []string, defSize, maxSize int) (page, error) {
	p := page{num: 1, size: defSize}
	for _, n := range numNames {
		if s := strings.TrimSpace(q.Get(n)); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 1 {
				return p, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "The %s query parameter must be a whole number from 1, got %q.", n, s)
			}
			p.num = v
			break
		}
	}
	for _, n := range sizeNames {
		if s := strings.TrimSpace(q.Get(n)); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 1 || v > maxSize {
				return p, sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "The %s query parameter must be a whole number from 1 to %d, got %q.", n, maxSize, s)
			}
			p.size = v
			break
		}
	}
	return p, nil
}

// lastPage is at least 1, so an empty list still has a first and last page.
func (p page) lastPage(total int) int {
	if total == 0 {
		return 1
	}
	return (total + p.size - 1) / p.size
}

// window is the [lo, hi) slice of a total-long list this page covers; past the end it is empty.
func (p page) window(total int) (lo, hi int) {
	lo = (p.num - 1) * p.size
	if lo > total {
		lo = total
	}
	hi = min(lo+p.size, total)
	return lo, hi
}

func (p page) meta(total int) PageMeta {
	return PageMeta{Page: p.num, PageSize: p.size, TotalCount: total}
}

// at returns the link to page n on path (no /v3 prefix, like every v3 link), keeping extra
// filters in the query so following a link keeps the filter.
func (p page) at(path, numName, sizeName string, extra url.Values, n int) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	q.Set(numName, strconv.Itoa(n))
	q.Set(sizeName, strconv.Itoa(p.size))
	return path + "?" + encodeQuery(q)
}

// encodeQuery is url.Values.Encode keeping the JSON:API names' brackets readable
// (page[number]=2 rather than page%5Bnumber%5D=2); every name is one of the operation's own.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(v))
		}
	}
	return b.String()
}

// pageLinks are a page's links whatever its envelope names them: the signal list says
// page/pageSize and "previous", the JSON:API lists page[number]/page[size] and "prev".
type pageLinks struct {
	self, first, last string
	prev, next        *string
}

func (p page) pageLinks(path, numberKey, sizeKey string, extra url.Values, total int) pageLinks {
	at := func(n int) string { return p.at(path, numberKey, sizeKey, extra, n) }
	last := p.lastPage(total)
	l := pageLinks{self: at(p.num), first: at(1), last: at(last)}
	if p.num > 1 {
		prev := at(min(p.num-1, last))
		l.prev = &prev
	}
	if p.num < last {
		next := at(p.num + 1)
		l.next = &next
	}
	return l
}

// links builds the signal list's links (page/pageSize, as LISTSIG's example shows).
func (p page) links(path string, extra url.Values, total int) PageLinks {
	l := p.pageLinks(path, "page", "pageSize", extra, total)
	return PageLinks{Self: l.self, First: l.first, Previous: l.prev, Next: l.next, Last: l.last}
}

// listLinks builds JSON:API list links (page[number]/page[size]).
func (p page) listLinks(path string, extra url.Values, total int) ListLinks {
	l := p.pageLinks(path, "page[number]", "page[size]", extra, total)
	return ListLinks{Self: l.self, First: l.first, Prev: l.prev, Next: l.next, Last: l.last}
}

func (p page) listMeta(total int) ListMeta {
	return ListMeta{TotalCount: total, PageNumber: p.num, PageSize: p.size}
}

// ListRequest is a validated JSON:API list request (page[number], page[size] and the
// operation's filter[…] parameters), for the v3 lists other packages serve (the management
// API's webhooks and subscriptions), so every v3 list pages and refuses parameters alike.
type ListRequest struct {
	q    query
	page page
}

// ReadList reads a list request whose filters are named (without filter[…] around them).
func ReadList(r *http.Request, defSize, maxSize int, filters ...string) (ListRequest, error) {
	known := []string{"page[number]", "page[size]"}
	for _, f := range filters {
		known = append(known, "filter["+f+"]")
	}
	q, err := readQuery(r, known...)
	if err != nil {
		return ListRequest{}, err
	}
	p, err := q.page([]string{"page[number]"}, []string{"page[size]"}, defSize, maxSize)
	if err != nil {
		return ListRequest{}, err
	}
	return ListRequest{q, p}, nil
}

// Filter is the value of filter[name] ("" when absent).
func (l ListRequest) Filter(name string) string { return l.q.get("filter[" + name + "]") }

// Window is the [lo, hi) slice of a total-long list this page covers.
func (l ListRequest) Window(total int) (lo, hi int) { return l.page.window(total) }

// Meta and Links are the list's paging, the links keeping the request's filters.
func (l ListRequest) Meta(total int) ListMeta { return l.page.listMeta(total) }

func (l ListRequest) Links(path string, total int) ListLinks {
	extra := url.Values{}
	for k, v := range l.q.Values {
		if strings.HasPrefix(k, "filter[") {
			extra[k] = v
		}
	}
	return l.page.listLinks(path, extra, total)
}
