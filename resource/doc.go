// Package resource is the MCP side of the xaa-idp demos and tests: an
// authorization server that trades ID-JAGs for access tokens, and demo MCP
// servers that accept those access tokens.
//
// The authorization server ([AuthServer]) serves the RFC 7523 JWT bearer
// grant profiled by the Identity Assertion JWT Authorization Grant draft
// (ID-JAG) and MCP Enterprise-Managed Authorization (EMA): a client presents
// an ID-JAG issued by the trusted IdP together with its own credentials at
// this authorization server, and receives an RFC 9068 JWT access token
// audience-restricted to one MCP server. With a DPoP proof (RFC 9449) the
// access token is bound to the proof's key, and an ID-JAG the IdP bound to
// a key (cnf.jkt) is only redeemed with a proof of that key.
//
// The MCP servers ([NewMCPServer]) run on the official Go SDK over streamable
// HTTP, publish RFC 9728 protected-resource metadata, and answer requests
// without a valid access token with the 401 challenge MCP clients use to
// discover the authorization server. They take bearer tokens as Bearer and
// DPoP-bound ones as DPoP, with a proof on every request.
//
// Both sides are deliberately strict and say exactly which check failed, so
// that a misbehaving IdP or client is easy to diagnose from the error alone.
package resource
