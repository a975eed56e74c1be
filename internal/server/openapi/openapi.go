// Package openapi serves the sandbox's OpenAPI 3.1 document (GET /openapi.json), written by
// hand in openapi.yaml so adding a route is one entry there; internal/server's TestOpenAPI
// keeps it and the router in step.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var source []byte

// document is the served JSON, built on first use: parsing the YAML takes ~15 ms, which every
// start of the sandbox (and of every test process) would otherwise pay for a page few ask for.
var document = sync.OnceValue(func() []byte { return mustBuild(source) })

// JSON returns the document as served.
func JSON() []byte { return document() }

// Handler serves the document.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(document())
	})
}

func mustBuild(src []byte) []byte {
	b, err := build(src)
	if err != nil {
		panic(err) // openapi.yaml is embedded: TestOpenAPI catches a broken one first
	}
	return b
}

// build turns the YAML (anchors and merge keys resolved) into JSON, drops the x-common
// building blocks, and copies every /v2.0 path to /v1.0, which the sandbox serves with the same
// handlers.
func build(src []byte) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	delete(doc, "x-common")
	paths, _ := doc["paths"].(map[string]any)
	if paths == nil {
		return nil, fmt.Errorf("openapi.yaml: no paths")
	}
	for p, item := range paths {
		if rest, ok := strings.CutPrefix(p, "/v2.0/"); ok {
			paths["/v1.0/"+rest] = retag(item, "v2.0", "v1.0")
		}
	}
	return json.Marshal(doc)
}

// retag copies a path item with its operations' tag from replaced by to.
func retag(item any, from, to string) any {
	ops, ok := item.(map[string]any)
	if !ok {
		return item
	}
	out := make(map[string]any, len(ops))
	for m, op := range ops {
		o, ok := op.(map[string]any)
		if !ok {
			out[m] = op
			continue
		}
		c := make(map[string]any, len(o))
		for k, v := range o {
			c[k] = v
		}
		if tags, ok := o["tags"].([]any); ok {
			nt := make([]any, len(tags))
			for i, t := range tags {
				if t == from {
					t = to
				}
				nt[i] = t
			}
			c["tags"] = nt
		}
		out[m] = c
	}
	return out
}
