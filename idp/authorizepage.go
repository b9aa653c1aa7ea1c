package idp

import (
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/xaa-idp/xaa-idp/audit"
	"github.com/xaa-idp/xaa-idp/internal/jsonstr"
)

// authorizeErrorPage is what a browser sees of an authorization request
// refused without a redirect: RFC 6749 section 4.1.2.1 has the server
// inform the resource owner, and a user who followed a broken link reads
// a page, not a JSON object. It has the login page's style and headers
// (pageHeaders: no script, never framed, no-store).
var authorizeErrorPage = template.Must(template.New("authorize-error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in request refused · xaa-idp</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;display:flex;justify-content:center;padding-top:10vh;margin:0}
main{background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:36rem;overflow-wrap:anywhere}
h1{font-size:1.3rem;margin-top:0}.err{color:#b00020}dt{font-weight:bold;margin-top:.6rem}dd{margin:0}code{overflow-wrap:anywhere}
</style></head><body><main>
<h1>This sign-in request cannot go on</h1>
<p class="err" role="alert">The application that sent you here made an authorization request that this IdP refuses. You were not signed in, and you are not sent back to the application: {{.Why}}</p>
<p>{{.Fix}}</p>
<p>If you are not the application's developer, tell them or your administrator what this page says.</p>
<dl>
<dt>Error</dt><dd><code id="error">{{.Code}}</code> (HTTP {{.Status}})</dd>
{{with .Description}}<dt>Description</dt><dd id="error-description"><bdi>{{.}}</bdi></dd>{{end}}
{{with .ClientID}}<dt>client_id</dt><dd><code id="client-id"><bdi>{{.}}</bdi></code></dd>{{end}}
{{with .RedirectURI}}<dt>redirect_uri</dt><dd><code id="redirect-uri"><bdi>{{.}}</bdi></code></dd>{{end}}
</dl>
</main></body></html>`))

type authorizeErrorView struct {
	Code, Description, ClientID, RedirectURI, Why, Fix string
	Status                                             int
}

// maxShownParam bounds the client_id and redirect_uri the error page
// quotes: a query may hold 8 KiB of either.
const maxShownParam = 256

// writeAuthorizeError answers an authorization request refused without a
// redirect: the JSON error (writeOAuthError) for every client, and the
// HTML page for a browser's navigation (prefersHTML), with the same status
// and headers.
func writeAuthorizeError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	if !prefersHTML(r.Header.Values("Accept")) {
		writeOAuthError(w, r, e)
		return
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	view := authorizeErrorView{
		Code:        e.Code,
		Description: shownParam(wireDescription(e.Description), 1024),
		Status:      status,
		Why:         "the address it asked to send you back to could not be checked against its registration, and an authorization server must not send a user to an unchecked address.",
		Fix:         "The application's developer should correct the request as the description says.",
	}
	if r.Form != nil {
		view.ClientID = shownParam(r.Form.Get("client_id"), maxShownParam)
		view.RedirectURI = shownParam(r.Form.Get("redirect_uri"), maxShownParam)
	}
	switch {
	case e.Code == "invalid_client":
		view.Fix = "The application's developer should use a client_id registered at this IdP (the clients of its configuration), or a metadata document URL that resolves."
	case e.Code == "temporarily_unavailable":
		view.Why = "the IdP is busy."
		view.Fix = "Try again in a little while."
	case status == http.StatusMethodNotAllowed:
		view.Fix = "The application's developer should send the request with GET or POST."
	case strings.HasPrefix(e.Description, "redirect_uri"):
		view.Fix = "The application's developer should send a redirect_uri registered for this client, or add the one it sends to the client's redirect_uris in the IdP's configuration."
	}
	pageHeaders(w)
	w.WriteHeader(status)
	_ = authorizeErrorPage.Execute(w, view)
}

// shownParam is a value as a page quotes it (the authorization error page,
// a metadata document's client_name on the login page): control and
// invisible characters as U+FFFD (a bidi override would reorder what the
// page shows), cut to limit bytes.
func shownParam(v string, limit int) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || jsonstr.Invisible(r) {
			return '\uFFFD'
		}
		return r
	}, v)
	return audit.TruncateTo(v, limit)
}

// prefersHTML reports whether an Accept header (RFC 9110 section 12.5.1)
// prefers text/html (or application/xhtml+xml) to application/json: a
// browser's navigation ("text/html,application/xhtml+xml,...,*/*;q=0.8").
// No Accept, "*/*" (curl, Go, the SDKs) and application/json do not: a
// tie keeps the JSON.
func prefersHTML(accept []string) bool {
	html := max(acceptQ(accept, "text", "html"), acceptQ(accept, "application", "xhtml+xml"))
	return html > 0 && html > acceptQ(accept, "application", "json")
}

// acceptQ is the weight Accept gives to typ/sub: that of its most specific
// matching range, 0 if none matches.
func acceptQ(accept []string, typ, sub string) float64 {
	q, rank := 0.0, 0
	for _, line := range accept {
		for _, rng := range strings.Split(line, ",") {
			params := strings.Split(rng, ";")
			t, s, ok := strings.Cut(strings.ToLower(strings.TrimSpace(params[0])), "/")
			if !ok {
				continue
			}
			r := 0
			switch {
			case t == typ && s == sub:
				r = 3
			case t == typ && s == "*":
				r = 2
			case t == "*" && s == "*":
				r = 1
			}
			if r <= rank {
				continue
			}
			w := 1.0
			for _, p := range params[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0
					}
					w = f
				}
			}
			q, rank = w, r
		}
	}
	return q
}
