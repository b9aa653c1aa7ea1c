package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/idp"
	"github.com/xaa-idp/xaa-idp/internal/strictjson"
	"github.com/xaa-idp/xaa-idp/policy"
	"gopkg.in/yaml.v3"
)

// maxFaultBody bounds a POST /admin/api/faults body; a fault is a few
// hundred bytes.
const maxFaultBody = 64 << 10

func (a *API) faultRoutes() {
	a.mux.HandleFunc("GET /admin/api/faults", a.listFaults)
	a.mux.HandleFunc("POST /admin/api/faults", a.addFaults)
	a.mux.HandleFunc("DELETE /admin/api/faults", a.clearFaults)
	a.mux.HandleFunc("GET /admin/api/faults/{id}", a.getFault)
	a.mux.HandleFunc("DELETE /admin/api/faults/{id}", a.removeFault)
}

// getFault answers one active fault as listFaults does: 404 for an
// unknown id. What it answers is a body POST takes (its counters are
// ignored there), to activate the fault again once it is removed.
func (a *API) getFault(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, f := range a.idp.Faults() {
		if f.ID == id {
			writeAPI(w, http.StatusOK, f)
			return
		}
	}
	a.noFault(w, id)
}

// noFault answers 404 for a fault id that no active fault has.
func (a *API) noFault(w http.ResponseWriter, id string) {
	writeAPIError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no active fault has id %q; GET %s/admin/api/faults lists them", id, a.idp.Path()))
}

// listFaults answers the active faults, in the order they are tried, with
// how often each has fired.
func (a *API) listFaults(w http.ResponseWriter, _ *http.Request) {
	writeAPI(w, http.StatusOK, a.faults())
}

func (a *API) faults() []idp.FaultStatus {
	list := a.idp.Faults()
	if list == nil {
		list = []idp.FaultStatus{}
	}
	return list
}

// addFaults activates the fault in the body (JSON, or YAML, with the keys
// of the configuration's faults: entries), or the list of faults, and
// answers 201 with them as activated (ids assigned). A body with problems
// is refused with 400 and every problem, each with its line in the body.
func (a *API) addFaults(w http.ResponseWriter, r *http.Request) {
	body, err := readLimited(w, r, maxFaultBody)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeAPIError(w, http.StatusRequestEntityTooLarge, "request_too_large",
			fmt.Sprintf("the body is larger than %d bytes; send fewer faults at a time", maxFaultBody))
		return
	}
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "invalid_request", "the body could not be read: "+err.Error())
		return
	}
	// A JSON body is held to the admin API's rules for JSON (docs/http.md, "Changing the configuration"):
	// null is not "absent" here either. YAML reads null (or "key:") as the
	// zero value, so {"times": null} would add a fault that fires forever.
	if json.Valid(body) {
		if err := strictjson.Check(body, strictjson.Options{}); err != nil {
			refuseFaults(w, err.Error(), "request body: "+err.Error())
			return
		}
	}
	if line, path, ok := yamlNull(body); ok {
		// YAML alike (and JSON that only YAML reads, a trailing comma):
		// its null is the zero value, and times: ~ fires forever.
		msg := path + " is null; send the value itself (an empty list is [], an absent key is left out)"
		refuseFaults(w, msg, fmt.Sprintf("request body:%d: %s", line, msg))
		return
	}
	faults, err := policy.ParseFaults(body, "request body", a.idp.Config())
	if err == nil {
		var added []idp.FaultStatus
		if added, err = a.idp.AddFaults(faults...); err == nil {
			a.recordFaultChange(r, "added", added)
			if trimmed := strings.TrimSpace(string(body)); strings.HasPrefix(trimmed, "[") || strings.HasPrefix(trimmed, "-") {
				writeAPI(w, http.StatusCreated, added)
			} else {
				writeAPI(w, http.StatusCreated, added[0])
			}
			return
		}
	}
	var ps policy.Problems
	if !errors.As(err, &ps) {
		writeAPIError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	problems := make([]string, len(ps))
	for i, p := range ps {
		problems[i] = p.String()
	}
	writeAPI(w, http.StatusBadRequest, map[string]any{
		"error":             "invalid_request",
		"error_description": fmt.Sprintf("the fault has %d problem(s); nothing was added: %s", len(ps), strings.Join(problems, "; ")),
		"problems":          problems,
	})
}

// removeFault deactivates one fault: 204, or 404 for an unknown id.
func (a *API) removeFault(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var gone []idp.FaultStatus
	for _, f := range a.idp.Faults() {
		if f.ID == id {
			gone = append(gone, f)
		}
	}
	if !a.idp.RemoveFault(id) {
		a.noFault(w, id)
		return
	}
	a.recordFaultChange(r, "removed", gone)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// clearFaults deactivates every fault, the configuration's included, and
// answers how many there were.
func (a *API) clearFaults(w http.ResponseWriter, r *http.Request) {
	before := a.idp.Faults()
	n := a.idp.ClearFaults()
	if n > 0 {
		a.recordFaultChange(r, "cleared", before)
	}
	writeAPI(w, http.StatusOK, map[string]int{"cleared": n})
}

// recordFaultChange audits a change of the active faults as an
// admin_change.
func (a *API) recordFaultChange(r *http.Request, did string, faults []idp.FaultStatus) {
	ids := make([]string, len(faults))
	for i, f := range faults {
		ids[i] = f.ID + " (" + f.Describe() + ")"
	}
	_, _ = a.idp.Audit().Append(audit.Event{
		Type:    audit.TypeAdminChange,
		Outcome: audit.Allowed,
		Admin:   audit.Truncate(adminName(r)),
		Reason:  audit.Truncate(fmt.Sprintf("faults %s: %s", did, strings.Join(ids, ", "))),
		Details: map[string]any{"object": "faults", "action": did, "faults": faults},
	})
}

// refuseFaults answers 400 to a faults body refused for its shape: why,
// and the one problem, which says where.
func refuseFaults(w http.ResponseWriter, why, problem string) {
	writeAPI(w, http.StatusBadRequest, map[string]any{
		"error":             "invalid_request",
		"error_description": "the body is refused: " + why + "; nothing was added",
		"problems":          []string{problem},
	})
}

// yamlNull finds the first null in a YAML body (~, null, or nothing after
// a key's colon), as a mapping's value or a list's element, and returns
// its line and its path ("times", "[1].match.user"). A body that does not
// parse is left to ParseFaults, which says where.
func yamlNull(body []byte) (line int, path string, found bool) {
	var doc yaml.Node
	if yaml.Unmarshal(body, &doc) != nil || len(doc.Content) == 0 {
		return 0, "", false
	}
	var walk func(n *yaml.Node, path string) bool
	walk = func(n *yaml.Node, p string) bool {
		switch n.Kind {
		case yaml.ScalarNode:
			if n.Tag == "!!null" && p != "" {
				line, path = n.Line, p
				return true
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if p != "" {
					k = p + "." + k
				}
				if walk(n.Content[i+1], k) {
					return true
				}
			}
		case yaml.SequenceNode:
			for i, e := range n.Content {
				if walk(e, fmt.Sprintf("%s[%d]", p, i)) {
					return true
				}
			}
		}
		return false
	}
	return line, path, walk(doc.Content[0], "")
}
