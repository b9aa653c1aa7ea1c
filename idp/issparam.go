package idp

import (
	"net/http"
	"net/url"
)

// RFC 9207: every authorization response, success or error, carries the
// issuer in an "iss" parameter, so that a client talking to several
// authorization servers (an MCP client always is) can tell which one
// answered and refuse a mix-up. Discovery announces it
// (authorization_response_iss_parameter_supported), and the official MCP
// clients then require it and compare it byte for byte with the issuer of
// the metadata they used.
//
// op builds the redirect itself (code, state, or an error), so issResponse
// adds the parameter to the Location it sets, when that Location is the
// request's redirect_uri: op's other redirects (to the login page) stay
// as they are.

// withIssParam returns w adding iss to a redirect to redirectURI.
func (s *Server) withIssParam(w http.ResponseWriter, redirectURI string) http.ResponseWriter {
	if redirectURI == "" {
		return w
	}
	return &issResponse{ResponseWriter: w, issuer: s.issuer, redirectURI: redirectURI}
}

type issResponse struct {
	http.ResponseWriter
	issuer      string
	redirectURI string
	wrote       bool
}

func (w *issResponse) WriteHeader(code int) {
	if !w.wrote && (code == http.StatusFound || code == http.StatusSeeOther) {
		if loc := w.Header().Get("Location"); loc != "" {
			if withIss, ok := addIss(loc, w.redirectURI, w.issuer); ok {
				w.Header().Set("Location", withIss)
			}
		}
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *issResponse) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *issResponse) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// addIss adds iss to the query of loc when loc is an authorization
// response at redirectURI: the same scheme, host and path, with a code or
// an error in its query and no iss yet.
func addIss(loc, redirectURI, issuer string) (string, bool) {
	l, err := url.Parse(loc)
	if err != nil {
		return "", false
	}
	want, err := url.Parse(redirectURI)
	if err != nil || l.Scheme != want.Scheme || l.Host != want.Host || l.EscapedPath() != want.EscapedPath() {
		return "", false
	}
	q := l.Query()
	if (!q.Has("code") && !q.Has("error")) || q.Has("iss") {
		return "", false
	}
	// Appended, so that the rest of the query reads as op wrote it.
	l.RawQuery += "&iss=" + url.QueryEscape(issuer)
	return l.String(), true
}
