// Package authserver is an MCP server's authorization server for MCP
// Enterprise-Managed Authorization (EMA): it trades ID-JAGs for access
// tokens.
//
// [Server] serves the RFC 7523 JWT bearer grant profiled by the Identity
// Assertion JWT Authorization Grant draft (ID-JAG) and EMA: a client
// presents an ID-JAG issued by the trusted IdP together with its own
// credentials, and receives an RFC 9068 JWT access token audience-restricted
// to one MCP server. With a DPoP proof (RFC 9449) the access token is bound
// to the proof's key, and an ID-JAG the IdP bound to a key (cnf.jkt) is only
// redeemed with a proof of that key.
//
// The server knows the IdP by its issuer and JWKS URL alone, as any MCP
// authorization server would. It is deliberately strict and says exactly
// which check failed, so that a misbehaving IdP or client is easy to
// diagnose from the error alone.
package authserver
