// Interop test (not a *.test.mjs: run-node.sh runs those against the demo):
// openid-client (panva's certified OpenID Connect relying party, v6), a
// generic client that knows nothing of this IdP, unchanged against one
// issuer of a running `xaa-idp serve` (interop/node_openidclient_test.go
// starts it, and runs this once per issuer: one at the root, tenants whose
// issuer has a path). For each client of XAA_IDP_CLIENTS: discovery (OpenID
// Connect's and RFC 8414's path insertion), a code + PKCE login through the
// login form, the code redeemed with the client's auth method and the ID
// token validated by openid-client (iss, aud, azp, nonce, at_hash,
// signature, RFC 9207 iss in the redirect), userinfo, a refresh, a token
// exchange for an ID-JAG with genericGrantRequest, and RP-initiated logout.
//
//   XAA_IDP_ISSUER     the issuer (with its path)
//   XAA_IDP_CLIENTS    JSON: [{"clientId", "clientSecret", "auth": "client_secret_basic" | "client_secret_post"}]
//   XAA_IDP_USER       username (password = username)
//   XAA_IDP_AUDIENCE, XAA_IDP_RESOURCE  an MCP server's issuer and resource the user may get an ID-JAG for
//   XAA_IDP_ED_CLIENT, XAA_IDP_ED_KEY  optional: a private_key_jwt client and its Ed25519 private
//                      JWK; openid-client signs with it as alg Ed25519 (RFC 9864), and DPoP too

import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as oidc from 'openid-client';

import { ISSUER, Jar, REDIRECT_URI, browse, decodeJwt, parseLoginForm } from './lib.mjs';

const env = process.env;
const CLIENTS = JSON.parse(env.XAA_IDP_CLIENTS);
const USER = env.XAA_IDP_USER;
const AUTH = { client_secret_basic: oidc.ClientSecretBasic, client_secret_post: oidc.ClientSecretPost };

/** openid-client's discovery of ISSUER for client c. */
function discover(c, algorithm) {
    return oidc.discovery(new URL(ISSUER), c.clientId, undefined, AUTH[c.auth](c.clientSecret), {
        algorithm,
        execute: [oidc.allowInsecureRequests] // a loopback http issuer
    });
}

for (const algorithm of ['oidc', 'oauth2']) {
    test(`discovery (${algorithm === 'oidc' ? 'OpenID Connect Discovery' : 'RFC 8414, path insertion'}) of ${ISSUER}`, async () => {
        const config = await discover(CLIENTS[0], algorithm);
        const meta = config.serverMetadata();
        assert.equal(meta.issuer, ISSUER);
        assert.ok(meta.token_endpoint.startsWith(ISSUER + '/'), meta.token_endpoint);
        assert.ok(meta.end_session_endpoint.startsWith(ISSUER + '/'), meta.end_session_endpoint);
    });
}

/** Signs USER in through config's client; returns the callback URL and the checks. */
async function signIn(config) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authUrl = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid profile email offline_access',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce
    });
    const jar = new Jar();
    let step = await browse(jar, authUrl);
    assert.ok(step.page, 'the login page');
    const { action, fields } = parseLoginForm(step.page);
    fields.set('username', USER);
    fields.set('password', USER);
    step = await browse(jar, new URL(action, step.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: fields.toString()
    });
    assert.ok(step.callback, 'redirected to the client after the login');
    return { callback: step.callback, jar, state, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } };
}

/** An RFC 8693 token exchange for an ID-JAG, the parameters of docs/http.md. */
function idJag(config, idToken, options) {
    return oidc.genericGrantRequest(
        config,
        'urn:ietf:params:oauth:grant-type:token-exchange',
        {
            requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
            subject_token: idToken,
            subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
            audience: env.XAA_IDP_AUDIENCE,
            resource: env.XAA_IDP_RESOURCE
        },
        options
    );
}

test('private_key_jwt and DPoP with Ed25519 keys (alg Ed25519, RFC 9864)', { skip: !env.XAA_IDP_ED_CLIENT }, async () => {
    const key = await crypto.subtle.importKey('jwk', JSON.parse(env.XAA_IDP_ED_KEY ?? '{}'), { name: 'Ed25519' }, false, ['sign']);
    const config = await oidc.discovery(new URL(ISSUER), env.XAA_IDP_ED_CLIENT, undefined, oidc.PrivateKeyJwt(key), {
        execute: [oidc.allowInsecureRequests]
    });
    const { callback, checks } = await signIn(config);
    const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('Ed25519'));
    const jag = await idJag(config, refreshed.id_token, { DPoP: dpop });
    assert.ok(decodeJwt(jag.access_token).payload.cnf?.jkt, 'the ID-JAG is bound to the DPoP key');
});

for (const c of CLIENTS) {
    test(`${c.clientId} (${c.auth}) at ${ISSUER}: login, userinfo, refresh, ID-JAG, logout`, async () => {
        const config = await discover(c, 'oauth2');

        // Code + PKCE, with state and nonce; the browser part by hand.
        const { callback, jar, state, checks } = await signIn(config);
        const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
        const claims = tokens.claims();
        assert.equal(claims.iss, ISSUER);
        assert.deepEqual([claims.aud].flat(), [c.clientId]);
        assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
        assert.equal(tokens.token_type.toLowerCase(), 'bearer');

        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        assert.equal(info.sub, claims.sub);
        assert.equal(info.preferred_username, USER);

        const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
        assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotates');
        assert.equal(refreshed.claims()?.sub, claims.sub, 'the refresh grant\'s ID token names the user');

        const jag = await idJag(config, refreshed.id_token);
        assert.equal(jag.issued_token_type, 'urn:ietf:params:oauth:token-type:id-jag');
        assert.equal(jag.token_type, 'n_a', 'openid-client lowercases token_type');
        const { header, payload } = decodeJwt(jag.access_token);
        assert.equal(header.typ, 'oauth-id-jag+jwt');
        assert.equal(payload.iss, ISSUER);
        assert.equal(payload.sub, claims.sub);
        assert.equal([payload.aud].flat()[0], env.XAA_IDP_AUDIENCE);

        // RP-initiated logout with the session's ID token: no question asked.
        const endUrl = oidc.buildEndSessionUrl(config, {
            id_token_hint: tokens.id_token,
            post_logout_redirect_uri: REDIRECT_URI,
            state
        });
        const out = await browse(jar, endUrl);
        assert.ok(out.callback, `end_session redirects to post_logout_redirect_uri (got page ${out.url})`);
        assert.equal(out.callback.searchParams.get('state'), state);
        // The session's refresh token ended with it.
        await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token), (err) => {
            assert.equal(err.error, 'invalid_grant', String(err));
            return true;
        });
    });
}
