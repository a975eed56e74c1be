package vehicleapi

import (
	"fmt"
	"net/http"
	"time"

	sandbox "github.com/smartcar-sandbox/smartcar-sandbox"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/requestid"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/scapi"
)

// MaxBatchRequests caps a batch: there are fewer distinct signals than this, so a longer
// batch is a client bug rather than a real need.
const MaxBatchRequests = 25

// BatchRequest is the body of POST /vehicles/{id}/batch.
type BatchRequest struct {
	Requests []BatchItemRequest `json:"requests"`
}

type BatchItemRequest struct {
	Path *string `json:"path"`
}

// BatchResponse is the batch answer; the batch itself is always 200.
type BatchResponse struct {
	Responses []BatchItem `json:"responses"`
}

// BatchItem is one answer. Headers and Body are always objects: the Python SDK writes into
// headers and the Go SDK panics on a null body.
type BatchItem struct {
	Path    string            `json:"path"`
	Code    int               `json:"code"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body"`
}

const jsonContentType = "application/json; charset=utf-8"

// Batch is POST /vehicles/{id}/batch: each item is authorized and rendered by the same table
// entry as its single route, from one snapshot of the vehicle.
func (a *API) Batch(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.authenticate(r)
	if err != nil {
		return err
	}
	u, err := scapi.UnitsOf(r)
	if err != nil {
		return err
	}
	var req BatchRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Requests == nil {
		return sandbox.InvalidRequest(`The body must have a "requests" array, e.g. {"requests":[{"path":"/odometer"}]}.`)
	}
	if len(req.Requests) == 0 {
		return sandbox.InvalidParameter(`"requests" must name at least one path.`)
	}
	if len(req.Requests) > MaxBatchRequests {
		return sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "A batch may hold at most %d requests, got %d.", MaxBatchRequests, len(req.Requests))
	}
	for i, it := range req.Requests {
		if it.Path == nil {
			return sandbox.InvalidRequest(fmt.Sprintf(`requests[%d] has no "path".`, i))
		}
	}
	acc, err := a.Auth.Authorize(r, c, id, "", scapi.ConnectOnly)
	if err != nil {
		return err
	}
	reqID := requestid.From(r.Context())
	now := a.Now()
	out := BatchResponse{Responses: make([]BatchItem, 0, len(req.Requests))}
	for _, it := range req.Requests {
		out.Responses = append(out.Responses, a.batchItem(acc, u, *it.Path, reqID, now))
	}
	scapi.SetDataHeaders(w.Header(), u, acc.Vehicle.State.UpdatedAt, now)
	scapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) batchItem(acc *scapi.Access, u scapi.Units, rawPath, reqID string, now time.Time) BatchItem {
	fail := func(e *sandbox.Error) BatchItem {
		return BatchItem{
			Path: rawPath, Code: e.Status(),
			Headers: map[string]string{"content-type": jsonContentType, "sc-request-id": reqID},
			Body:    scapi.NewErrorBody(scapi.V2, e, reqID),
		}
	}
	path, q, err := normalizePath(rawPath)
	if err != nil {
		return fail(sandbox.Errorf(sandbox.TypeValidation, "PARAMETER", "The path %q has a malformed query.", rawPath))
	}
	sig, ok := signalByPath[path]
	if !ok {
		return fail(sandbox.PathNotFound("GET /vehicles/" + acc.Vehicle.ID + "/" + path))
	}
	if err := sig.validate(q); err != nil {
		return fail(sandbox.AsError(err))
	}
	if sig.Permission != "" && !acc.Has(sig.Permission) {
		return fail(sandbox.Errorf(sandbox.TypePermission, "", "This request needs the %s permission, which was not granted for vehicle %s.", sig.Permission, acc.Vehicle.ID))
	}
	body, err := sig.Render(readCtx{acc: acc, units: u, query: q})
	if err != nil {
		return fail(sandbox.AsError(err))
	}
	return BatchItem{
		Path: rawPath, Code: http.StatusOK,
		Headers: map[string]string{
			"content-type":   jsonContentType,
			"sc-data-age":    acc.Vehicle.State.UpdatedAt.UTC().Format(scapi.TimeFormat),
			"sc-fetched-at":  now.UTC().Format(scapi.TimeFormat),
			"sc-unit-system": string(u),
			"sc-request-id":  reqID,
		},
		Body: body,
	}
}
