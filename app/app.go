// Package app puts the product together: the IdP at the root and the
// admin API under /admin/api/, as one http.Handler. The CLI serves it, and
// so do tests that want the whole product.
package app

import (
	"net/http"

	"github.com/xaa-idp/xaa-idp/admin"
	"github.com/xaa-idp/xaa-idp/idp"
)

// Handler returns the product's HTTP surface for an IdP.
func Handler(srv *idp.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/admin/api/", admin.New(admin.Options{IdP: srv, Now: srv.Now}))
	mux.Handle("/", srv)
	return mux
}
