package scapi

import sandbox "github.com/smartcar-sandbox/smartcar-sandbox"

// ValidID refuses an id from the URL that is not a UUID (Smartcar's vehicle and webhook ids
// are) with VALIDATION, code null, rather than looking it up and answering 403 or 404: the
// Node SDK's suite subscribes a vehicle to the webhook "webhookID" and expects exactly that.
// what names the id in the note ("vehicle", "webhook").
func ValidID(what, id string) error {
	if sandbox.IsUUID(id) {
		return nil
	}
	if len(id) > 80 { // the URL may carry kilobytes; the note needs the start
		id = id[:80] + "…"
	}
	return sandbox.InvalidRequest("the " + what + " id \"" + id + "\" is not a UUID")
}
