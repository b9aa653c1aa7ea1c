// Interop test: the official MCP TypeScript client (@modelcontextprotocol/client)
// against a running xaa-idp serving the demo configuration: its ID-JAG
// functions (token exchange at the IdP).
//
// Run with: XAA_IDP_ISSUER=http://127.0.0.1:PORT node --test idjag.test.mjs
// (interop/run-node.sh starts `xaa-idp demo` and does this.)
//
// The TS client has no OIDC login helper, so the login (authorization code +
// PKCE, headless through the login form) is written with plain fetch in
// lib.mjs; the ID-JAG requests go through the client's own functions.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import {
    discoverAndRequestJwtAuthGrant,
    requestJwtAuthorizationGrant
} from '@modelcontextprotocol/client';

import { CONFIDENTIAL, ISSUER, PUBLIC, idp, login, verifyJwt } from './lib.mjs';

// The tracker MCP server of the demo configuration. The audience is given
// with a trailing slash, as a client that takes the protected-resource
// metadata's authorization_servers[0] verbatim may send it.
const TRACKER_AUDIENCE = 'http://127.0.0.1:8101/';
const TRACKER_ISSUER = 'http://127.0.0.1:8101';
const TRACKER_RESOURCE = 'http://127.0.0.1:8201/mcp';
const TRACKER_SCOPES = 'issues.read issues.write';

let metadata;

before(async () => {
    ({ metadata } = await idp());
});

// ---- JWT checks ----------------------------------------------------------

function checkIdJag(result, { rasClientId }) {
    assert.equal(typeof result.jwtAuthGrant, 'string');
    assert.equal(result.expiresIn, 300);
    assert.equal(result.scope ?? TRACKER_SCOPES, TRACKER_SCOPES);
    const { header, payload } = verifyJwt(result.jwtAuthGrant);
    assert.equal(header.typ, 'oauth-id-jag+jwt');
    assert.equal(payload.iss, ISSUER);
    assert.equal(payload.sub, '00u-alice');
    assert.equal(payload.aud, TRACKER_ISSUER, 'aud is the canonical issuer (a string, no trailing slash)');
    assert.equal(payload.client_id, rasClientId);
    assert.equal(payload.resource, TRACKER_RESOURCE);
    assert.equal(payload.scope, TRACKER_SCOPES);
    assert.ok(typeof payload.jti === 'string' && payload.jti.length > 0, 'jti');
    assert.equal(payload.exp - payload.iat, 300);
    assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60, 'iat is now');
    return payload;
}

// ---- tests ---------------------------------------------------------------

test('requestJwtAuthorizationGrant: alice, confidential client, audience with trailing slash', async () => {
    const { id_token } = await login(CONFIDENTIAL, 'alice', 'alice');
    const result = await requestJwtAuthorizationGrant({
        tokenEndpoint: metadata.token_endpoint,
        audience: TRACKER_AUDIENCE,
        resource: TRACKER_RESOURCE,
        idToken: id_token,
        clientId: CONFIDENTIAL.clientId,
        clientSecret: CONFIDENTIAL.clientSecret,
        scope: TRACKER_SCOPES
    });
    checkIdJag(result, { rasClientId: 'mcp-client-at-tracker' });
});

test('discoverAndRequestJwtAuthGrant: alice, confidential client (discovery + issuer check)', async () => {
    const { id_token } = await login(CONFIDENTIAL, 'alice', 'alice');
    const seen = new Set();
    for (const idpUrl of [ISSUER, ISSUER + '/']) {
        const result = await discoverAndRequestJwtAuthGrant({
            idpUrl,
            audience: TRACKER_AUDIENCE,
            resource: TRACKER_RESOURCE,
            idToken: id_token,
            clientId: CONFIDENTIAL.clientId,
            clientSecret: CONFIDENTIAL.clientSecret,
            scope: TRACKER_SCOPES
        });
        const { jti } = checkIdJag(result, { rasClientId: 'mcp-client-at-tracker' });
        assert.ok(!seen.has(jti), 'a fresh jti per ID-JAG');
        seen.add(jti);
    }
});

test('requestJwtAuthorizationGrant: alice, public client (no secret)', async () => {
    const { id_token } = await login(PUBLIC, 'alice', 'alice');
    const result = await requestJwtAuthorizationGrant({
        tokenEndpoint: metadata.token_endpoint,
        audience: TRACKER_AUDIENCE,
        resource: TRACKER_RESOURCE,
        idToken: id_token,
        clientId: PUBLIC.clientId,
        scope: TRACKER_SCOPES
    });
    checkIdJag(result, { rasClientId: 'mcp-public-at-tracker' });
});

test('requestJwtAuthorizationGrant: alice, public client, logged in without a scope parameter', async () => {
    const tokens = await login(PUBLIC, 'alice', 'alice', { scope: null });
    assert.equal(tokens.scope, 'openid', 'a request without scope is taken as openid');
    const claims = verifyJwt(tokens.id_token).payload;
    assert.equal(claims.sub, '00u-alice');
    assert.equal(claims.email, undefined, 'no email claim without the email scope');
    const result = await requestJwtAuthorizationGrant({
        tokenEndpoint: metadata.token_endpoint,
        audience: TRACKER_AUDIENCE,
        resource: TRACKER_RESOURCE,
        idToken: tokens.id_token,
        clientId: PUBLIC.clientId,
        scope: TRACKER_SCOPES
    });
    checkIdJag(result, { rasClientId: 'mcp-public-at-tracker' });
});

test('refused: bob is not assigned to tracker, the error names access_denied', async () => {
    const { id_token } = await login(CONFIDENTIAL, 'bob', 'bob');
    await assert.rejects(
        requestJwtAuthorizationGrant({
            tokenEndpoint: metadata.token_endpoint,
            audience: TRACKER_AUDIENCE,
            resource: TRACKER_RESOURCE,
            idToken: id_token,
            clientId: CONFIDENTIAL.clientId,
            clientSecret: CONFIDENTIAL.clientSecret,
            scope: 'issues.read'
        }),
        (err) => {
            assert.match(err.message, /access_denied/);
            console.log(`# client error: ${err.message}`);
            return true;
        }
    );
});
