package vehicleapiv3

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
)

// page is a validated page/pageSize pair (1-based page).
type page struct{ num, size int }

// PageMeta is the list meta of GETSIGS: {page, pageSize, totalCount}.
type PageMeta struct {
	Page       int `json:"page"`
	PageSize   int `json:"pageSize"`
	TotalCount int `json:"totalCount"`
}

// PageLinks are the list links; previous and next are null at the ends.
type PageLinks struct {
	Self     string  `json:"self"`
	First    string  `json:"first"`
	Previous *string `json:"previous"`
	Next     *string `json:"next"`
	Last     string  `json:"last"`
}

// pageOf reads page and pageSize. A bad value is a VALIDATION error naming it, rather than a
// silent default, so a client bug shows at once.
func pageOf(r *http.Request) (page, error) {
	q := r.URL.Query()
	p := page{num: 1, size: DefaultPageSize}
	if s := strings.TrimSpace(q.Get("page")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The page query parameter must be a whole number from 1, got %q.", s)
		}
		p.num = n
	}
	if s := strings.TrimSpace(q.Get("pageSize")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return p, sandbox.Errorf(sandbox.ErrValidation, "PARAMETER", "The pageSize query parameter must be a whole number from 1 to %d, got %q.", MaxPageSize, s)
		}
		p.size = n
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

// links builds paging links on path (no /v3 prefix, like every v3 link), keeping extra
// filters in the query so following a link keeps the filter.
func (p page) links(path string, extra url.Values, total int) PageLinks {
	at := func(n int) string {
		q := url.Values{}
		for k, v := range extra {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(n))
		q.Set("pageSize", strconv.Itoa(p.size))
		return path + "?" + q.Encode()
	}
	last := p.lastPage(total)
	l := PageLinks{Self: at(p.num), First: at(1), Last: at(last)}
	if p.num > 1 {
		prev := at(min(p.num-1, last))
		l.Previous = &prev
	}
	if p.num < last {
		next := at(p.num + 1)
		l.Next = &next
	}
	return l
}
