// Interop test: the official MCP TypeScript client (@modelcontextprotocol/client)
// against a running xaa-idp serving the demo configuration.
//
// Run with: XAA_IDP_ISSUER=http://127.0.0.1:PORT node --test idjag.test.mjs
// (interop/run-node.sh starts the IdP and does this.)
//
// The TS client has no OIDC login helper, so the login (authorization code +
// PKCE, headless through the login form) is written here with plain fetch;
// the ID-JAG requests go through the client's own functions.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';

import {
    discoverAndRequestJwtAuthGrant,
    requestJwtAuthorizationGrant
} from '@modelcontextprotocol/client';

const ISSUER = process.env.XAA_IDP_ISSUER;
if (!ISSUER) throw new Error('set XAA_IDP_ISSUER to the IdP issuer URL');

// The tracker MCP server of the demo configuration. The audience is given the
// way the TS client passes it: its protected-resource metadata's
// authorization_servers[0], here with a trailing slash.
const TRACKER_AUDIENCE = 'http://127.0.0.1:8101/';
const TRACKER_ISSUER = 'http://127.0.0.1:8101';
const TRACKER_RESOURCE = 'http://127.0.0.1:8201/mcp';
const TRACKER_SCOPES = 'issues.read issues.write';
// Loopback redirect URI with a port (RFC 8252); nothing listens there: the
// login below stops at the redirect and reads code and state from it.
const REDIRECT_URI = 'http://127.0.0.1:53682/callback';

const CONFIDENTIAL = { clientId: 'mcp-client', clientSecret: 'mcp-secret' };
const PUBLIC = { clientId: 'mcp-public' };

let metadata;
let jwks;

before(async () => {
    const res = await fetch(new URL('/.well-known/openid-configuration', ISSUER));
    assert.equal(res.status, 200, 'OIDC discovery');
    metadata = await res.json();
    assert.equal(metadata.issuer, ISSUER);
    const k = await fetch(metadata.jwks_uri);
    assert.equal(k.status, 200, 'JWKS');
    jwks = await k.json();
});

// ---- headless login ------------------------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A minimal cookie jar: the browser's SSO session cookie. */
class Jar {
    #cookies = new Map();
    store(res) {
        for (const c of res.headers.getSetCookie()) {
            const [pair] = c.split(';');
            const i = pair.indexOf('=');
            this.#cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
        }
    }
    header() {
        return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
}

const unescapeHtml = (s) =>
    s.replace(/&quot;/g, '"').replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function attrs(tag) {
    const out = {};
    for (const m of tag.matchAll(/([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        out[m[1].toLowerCase()] = unescapeHtml(m[2] ?? m[3]);
    }
    return out;
}

/** The POST form with a password field: its action and input values. */
function parseLoginForm(html) {
    for (const [form] of html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/gi)) {
        const fa = attrs(form.slice(0, form.indexOf('>') + 1));
        if ((fa.method ?? '').toLowerCase() !== 'post') continue;
        const fields = new URLSearchParams();
        let hasPassword = false;
        for (const [input] of form.matchAll(/<input\b[^>]*>/gi)) {
            const ia = attrs(input);
            if (!ia.name) continue;
            if ((ia.type ?? '').toLowerCase() === 'password') hasPassword = true;
            fields.set(ia.name, ia.value ?? '');
        }
        if (hasPassword) return { action: fa.action, fields };
    }
    throw new Error('no login form with a password field');
}

/**
 * Follows redirects by hand (cookies kept) until a page is shown or the
 * browser is sent to REDIRECT_URI. Returns { page, url } or { callback }.
 */
async function browse(jar, url, init = {}) {
    for (let hops = 0; hops < 10; hops++) {
        const res = await fetch(url, {
            ...init,
            redirect: 'manual',
            headers: { ...init.headers, cookie: jar.header() }
        });
        jar.store(res);
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
            await res.body?.cancel();
            const next = new URL(location, url);
            const cb = new URL(REDIRECT_URI);
            if (next.origin === cb.origin && next.pathname === cb.pathname) return { callback: next };
            url = next;
            init = {}; // a 302/303 after a POST is followed with GET
            continue;
        }
        const page = await res.text();
        if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status}: ${page.slice(0, 300)}`);
        return { page, url };
    }
    throw new Error('too many redirects');
}

/** OIDC authorization code flow with PKCE; returns the token response. */
async function login(client, username, password) {
    const verifier = b64url(randomBytes(32));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    const state = b64url(randomBytes(16));
    const nonce = b64url(randomBytes(16));
    const authorize = new URL(metadata.authorization_endpoint);
    authorize.search = new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile email',
        state,
        nonce,
        code_challenge: challenge,
        code_challenge_method: 'S256'
    }).toString();

    const jar = new Jar();
    let step = await browse(jar, authorize);
    if (!step.callback) {
        const { action, fields } = parseLoginForm(step.page);
        fields.set('username', username);
        fields.set('password', password);
        step = await browse(jar, new URL(action, step.url), {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: fields.toString()
        });
    }
    assert.ok(step.callback, `no redirect to ${REDIRECT_URI} after login (page ${step.url})`);
    const q = step.callback.searchParams;
    assert.equal(q.get('error'), null, `authorization error: ${q.get('error')} ${q.get('error_description')}`);
    assert.equal(q.get('state'), state, 'state returned byte for byte');
    const code = q.get('code');
    assert.ok(code, 'authorization code');

    const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier
    });
    const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (client.clientSecret) {
        // client_secret_basic, form-URL-encoded per RFC 6749 §2.3.1
        const enc = (s) => encodeURIComponent(s);
        headers.authorization = 'Basic ' + Buffer.from(`${enc(client.clientId)}:${enc(client.clientSecret)}`).toString('base64');
    } else {
        body.set('client_id', client.clientId);
    }
    const res = await fetch(metadata.token_endpoint, { method: 'POST', headers, body });
    const tokens = await res.json();
    assert.equal(res.status, 200, `code redemption: ${JSON.stringify(tokens)}`);
    assert.ok(tokens.id_token, 'id_token in the token response');
    const idClaims = verifyJwt(tokens.id_token).payload;
    assert.equal(idClaims.iss, ISSUER);
    assert.equal(idClaims.nonce, nonce);
    assert.ok([idClaims.aud].flat().includes(client.clientId), 'ID token aud contains the client');
    return tokens;
}

// ---- JWT checks ----------------------------------------------------------

const HASH = { RS256: 'sha256', ES256: 'sha256', PS256: 'sha256', EdDSA: null };

/** Decodes a JWT and verifies its signature with the IdP's JWKS (by kid). */
function verifyJwt(jwt) {
    const [h, p, s] = jwt.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    assert.ok(header.kid, 'JWT header has a kid');
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    assert.ok(jwk, `kid ${header.kid} is in the JWKS`);
    assert.ok(header.alg in HASH, `alg ${header.alg}`);
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const opts = { key };
    if (header.alg === 'ES256') opts.dsaEncoding = 'ieee-p1363';
    if (header.alg === 'PS256') opts.padding = 6; // RSA_PKCS1_PSS_PADDING
    const ok = verify(HASH[header.alg], Buffer.from(`${h}.${p}`), opts, Buffer.from(s, 'base64url'));
    assert.ok(ok, 'JWT signature verifies with the JWKS');
    return { header, payload };
}

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
