// Package mcpserver is the demo MCP server: the protected resource behind
// an MCP authorization server such as the one of resource/authserver.
//
// [New] returns an MCP server on the official Go SDK over streamable HTTP.
// It publishes RFC 9728 protected-resource metadata and answers requests
// without a valid access token with the 401 challenge (RFC 9728 §5.1) MCP
// clients use to discover the authorization server. It takes bearer tokens
// as Bearer and DPoP-bound ones as DPoP, with a proof on every request
// (RFC 9449 §7). It knows the authorization server by its issuer and a
// [TokenVerifier] alone.
//
// Its tools are whoami, which shows what the access token says, and a read
// and a write tool per theme (tracker, wiki, design, crm, or generic),
// guarded by the server's ".read" and ".write" scopes, on deterministic
// per-user demo data.
package mcpserver
