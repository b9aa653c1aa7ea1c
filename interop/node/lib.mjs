// Shared helpers of the Node interop tests: the IdP's discovery, a headless
// OIDC login (authorization code + PKCE, through the login form, with plain
// fetch: the TS client has no OIDC login helper) and JWT verification with
// the IdP's JWKS.
//
// XAA_IDP_ISSUER names the running IdP (interop/run-node.sh sets it).

import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';

import { discoverAndRequestJwtAuthGrant } from '@modelcontextprotocol/client';

export const ISSUER = process.env.XAA_IDP_ISSUER;
if (!ISSUER) throw new Error('set XAA_IDP_ISSUER to the IdP issuer URL');

// Loopback redirect URI with a port (RFC 8252); nothing listens there: the
// login below stops at the redirect and reads code and state from it.
export const REDIRECT_URI = 'http://127.0.0.1:53682/callback';

export const CONFIDENTIAL = { clientId: 'mcp-client', clientSecret: 'mcp-secret' };
export const PUBLIC = { clientId: 'mcp-public' };

let discovered; // { metadata, jwks }, once fetched

/** The IdP's OIDC metadata and JWKS (fetched once). */
export async function idp() {
    if (!discovered) {
        // OIDC Discovery §4: the issuer, path included, then the well-known suffix
        // (new URL('/.well-known/...', ISSUER) would drop a tenant's path).
        const res = await fetch(ISSUER.replace(/\/$/, '') + '/.well-known/openid-configuration');
        assert.equal(res.status, 200, 'OIDC discovery');
        const metadata = await res.json();
        assert.equal(metadata.issuer, ISSUER);
        const k = await fetch(metadata.jwks_uri);
        assert.equal(k.status, 200, 'JWKS');
        discovered = { metadata, jwks: await k.json() };
    }
    return discovered;
}

// ---- headless login ------------------------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A minimal cookie jar: the browser's SSO session cookie. */
export class Jar {
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
export function parseLoginForm(html) {
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
export async function browse(jar, url, init = {}) {
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

/**
 * OIDC authorization code flow with PKCE; returns the token response.
 * scope null sends no scope parameter, as OAuth 2.1 and MCP clients do when
 * they know no scopes; the IdP then takes openid (RFC 6749 §3.3).
 */
export async function login(client, username, password, { scope = 'openid profile email' } = {}) {
    const { metadata } = await idp();
    const verifier = b64url(randomBytes(32));
    const challenge = b64url(createHash('sha256').update(verifier).digest());
    const state = b64url(randomBytes(16));
    const nonce = b64url(randomBytes(16));
    const authorize = new URL(metadata.authorization_endpoint);
    const params = new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: REDIRECT_URI,
        state,
        nonce,
        code_challenge: challenge,
        code_challenge_method: 'S256'
    });
    if (scope !== null) params.set('scope', scope);
    authorize.search = params.toString();

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

/** Decodes a JWT without verifying it. */
export function decodeJwt(jwt) {
    const [h, p] = jwt.split('.');
    return {
        header: JSON.parse(Buffer.from(h, 'base64url').toString()),
        payload: JSON.parse(Buffer.from(p, 'base64url').toString())
    };
}

/**
 * Decodes a JWT and verifies its signature with the IdP's JWKS (by kid).
 * Call after idp() (login() does).
 */
export function verifyJwt(jwt) {
    assert.ok(discovered, 'verifyJwt before idp(): no JWKS yet');
    const [h, p, s] = jwt.split('.');
    const { header, payload } = decodeJwt(jwt);
    assert.ok(header.kid, 'JWT header has a kid');
    const jwk = discovered.jwks.keys.find((k) => k.kid === header.kid);
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

/**
 * The assertion callback of a CrossAppAccessProvider: the ID-JAG for the
 * user of idToken, requested as client from the IdP found by discovery,
 * for the authorization server, resource and scope the provider asks for.
 */
export function jagAssertion(idToken, client) {
    return async (ctx) =>
        (
            await discoverAndRequestJwtAuthGrant({
                idpUrl: ISSUER,
                audience: ctx.authorizationServerUrl,
                resource: ctx.resourceUrl,
                idToken,
                clientId: client.clientId,
                clientSecret: client.clientSecret,
                scope: ctx.scope,
                fetchFn: ctx.fetchFn
            })
        ).jwtAuthGrant;
}
