package admin

import (
	"net/http"

	"github.com/xaa-idp/xaa-idp/idp"
)

// KeyList is the answer of GET /admin/api/keys.
type KeyList struct {
	Keys []idp.KeyInfo `json:"keys"`
	// Overlap is how long a key replaced by a rotation stays in JWKS.
	Overlap string `json:"overlap"`
}

// KeyRotationResult is the answer of POST /admin/api/keys/rotate.
type KeyRotationResult struct {
	Rotated []idp.KeyRotation `json:"rotated"`
	Keys    []idp.KeyInfo     `json:"keys"`
}

func (a *API) listKeys(w http.ResponseWriter, _ *http.Request) {
	writeAPI(w, http.StatusOK, KeyList{Keys: a.idp.Keys(), Overlap: a.idp.KeyOverlap().String()})
}

// rotateKeys publishes a new signing key for each algorithm in use; the
// IdP records the key_rotation events. The call takes no body: one that
// holds anything but white space is refused and nothing rotates, as every
// admin body that is not the documented shape is (docs/http.md).
func (a *API) rotateKeys(w http.ResponseWriter, r *http.Request) {
	if !a.noBody(w, r, "nothing was rotated") {
		return
	}
	rotated, err := a.idp.RotateKeys(adminName(r))
	if err != nil {
		writeAPIError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	writeAPI(w, http.StatusOK, KeyRotationResult{Rotated: rotated, Keys: a.idp.Keys()})
}
