// Interop test (not a *.test.mjs: run-node.sh runs those against the demo):
// the official MCP TypeScript client against one tenant of
// a running `xaa-idp demo --config fixtures/samples/tenants.yaml` (the Go
// test interop/node_tenants_test.go runs it once per tenant, in one
// process, with the notes MCP server moved to free ports). The tenant is
// described by the environment:
//
//   XAA_IDP_ISSUER        the tenant's issuer (with its path)
//   XAA_IDP_CLIENT_ID, XAA_IDP_CLIENT_SECRET, XAA_IDP_USER (password = username)
//   XAA_IDP_TENANT        the expected "tenant" claim, "" for none
//   XAA_IDP_EMAIL         the expected "email" claim, "" for none
//   XAA_IDP_RESOURCE      "1" when the ID-JAG carries "resource"
//   XAA_IDP_ALG           the ID-JAG's signing algorithm
//   XAA_IDP_SUB           the user's sub
//   XAA_IDP_NOTES_CLIENT  the client's client_id at the notes authorization
//                         server (the demo registers it with the IdP secret)
//   XAA_IDP_SCOPES        the scopes the user is granted at notes
//   XAA_IDP_NOTES_AS, XAA_IDP_NOTES_RESOURCE  the notes authorization server's
//                         issuer and MCP endpoint (default: the sample's)

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
    Client,
    CrossAppAccessProvider,
    StreamableHTTPClientTransport,
    discoverAndRequestJwtAuthGrant,
    exchangeJwtAuthGrant,
    requestJwtAuthorizationGrant
} from '@modelcontextprotocol/client';

import { ISSUER, idp, login, verifyJwt } from './lib.mjs';

const env = process.env;
const CLIENT = { clientId: env.XAA_IDP_CLIENT_ID, clientSecret: env.XAA_IDP_CLIENT_SECRET };
const NOTES_AS = env.XAA_IDP_NOTES_AS || 'http://127.0.0.1:9101';
const NOTES_RESOURCE = env.XAA_IDP_NOTES_RESOURCE || 'http://127.0.0.1:9201/mcp';
const SCOPES = (env.XAA_IDP_SCOPES ?? '').split(' ').filter(Boolean).sort();

function checkIdJag(jwt) {
    const { header, payload } = verifyJwt(jwt); // with this tenant's JWKS
    assert.equal(header.typ, 'oauth-id-jag+jwt');
    assert.equal(payload.iss, ISSUER, 'the tenant issuer, path included');
    assert.equal([payload.aud].flat()[0], NOTES_AS);
    assert.equal(payload.tenant ?? '', env.XAA_IDP_TENANT, 'tenant claim');
    assert.equal(payload.email ?? '', env.XAA_IDP_EMAIL, 'email claim');
    assert.equal('resource' in payload, env.XAA_IDP_RESOURCE === '1', 'resource claim present as the persona says');
    if (env.XAA_IDP_ALG) assert.equal(header.alg, env.XAA_IDP_ALG, 'the persona\'s signing algorithm');
    if (env.XAA_IDP_SUB) assert.equal(payload.sub, env.XAA_IDP_SUB);
    if (env.XAA_IDP_NOTES_CLIENT) assert.equal(payload.client_id, env.XAA_IDP_NOTES_CLIENT);
    assert.equal(payload.exp - payload.iat, 300, 'a 5-minute ID-JAG');
    return payload;
}

/** The notes authorization server's metadata (RFC 8414). */
async function notesMetadata() {
    const res = await fetch(NOTES_AS + '/.well-known/oauth-authorization-server');
    assert.equal(res.status, 200, 'notes authorization server metadata');
    return res.json();
}

test(`requestJwtAuthorizationGrant at ${ISSUER}`, async () => {
    const { metadata } = await idp();
    const { id_token } = await login(CLIENT, env.XAA_IDP_USER, env.XAA_IDP_USER);
    const result = await requestJwtAuthorizationGrant({
        tokenEndpoint: metadata.token_endpoint,
        audience: NOTES_AS,
        resource: NOTES_RESOURCE,
        idToken: id_token,
        clientId: CLIENT.clientId,
        clientSecret: CLIENT.clientSecret
    });
    checkIdJag(result.jwtAuthGrant);
});

test(`discoverAndRequestJwtAuthGrant finds ${ISSUER} by discovery`, async () => {
    await idp();
    const { id_token } = await login(CLIENT, env.XAA_IDP_USER, env.XAA_IDP_USER);
    const result = await discoverAndRequestJwtAuthGrant({
        idpUrl: ISSUER,
        audience: NOTES_AS,
        resource: NOTES_RESOURCE,
        idToken: id_token,
        clientId: CLIENT.clientId,
        clientSecret: CLIENT.clientSecret
    });
    checkIdJag(result.jwtAuthGrant);
});

test(`exchangeJwtAuthGrant redeems an ID-JAG of ${ISSUER} at the notes authorization server`, { skip: !env.XAA_IDP_NOTES_CLIENT }, async () => {
    const { metadata } = await idp();
    const { id_token } = await login(CLIENT, env.XAA_IDP_USER, env.XAA_IDP_USER);
    const { jwtAuthGrant } = await requestJwtAuthorizationGrant({
        tokenEndpoint: metadata.token_endpoint,
        audience: NOTES_AS,
        resource: NOTES_RESOURCE,
        idToken: id_token,
        clientId: CLIENT.clientId,
        clientSecret: CLIENT.clientSecret
    });
    checkIdJag(jwtAuthGrant);
    const tokens = await exchangeJwtAuthGrant({
        tokenEndpoint: (await notesMetadata()).token_endpoint,
        jwtAuthGrant,
        clientId: env.XAA_IDP_NOTES_CLIENT,
        clientSecret: CLIENT.clientSecret // client_secret_basic, the default
    });
    assert.ok(tokens.access_token, 'an access token');
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.deepEqual((tokens.scope ?? '').split(' ').filter(Boolean).sort(), SCOPES);
});

test(`CrossAppAccessProvider reaches the notes MCP server through ${ISSUER} and calls whoami`, { skip: !env.XAA_IDP_NOTES_CLIENT }, async () => {
    const { id_token } = await login(CLIENT, env.XAA_IDP_USER, env.XAA_IDP_USER);
    const jags = [];
    const provider = new CrossAppAccessProvider({
        assertion: async (ctx) => {
            const { jwtAuthGrant } = await discoverAndRequestJwtAuthGrant({
                idpUrl: ISSUER,
                audience: ctx.authorizationServerUrl,
                resource: ctx.resourceUrl,
                idToken: id_token,
                clientId: CLIENT.clientId,
                clientSecret: CLIENT.clientSecret,
                scope: ctx.scope,
                fetchFn: ctx.fetchFn
            });
            jags.push(jwtAuthGrant);
            return jwtAuthGrant;
        },
        clientId: env.XAA_IDP_NOTES_CLIENT,
        clientSecret: CLIENT.clientSecret,
        clientName: 'xaa-idp interop (TypeScript)',
        expectedIssuer: NOTES_AS
    });
    const transport = new StreamableHTTPClientTransport(new URL(NOTES_RESOURCE), { authProvider: provider });
    const client = new Client({ name: 'xaa-idp-interop-ts', version: '0.0.0' });
    await client.connect(transport);
    try {
        const res = await client.callTool({ name: 'whoami', arguments: {} });
        assert.notEqual(res.isError, true, `whoami failed: ${JSON.stringify(res.content)}`);
        const me = res.structuredContent;
        console.log(`# whoami: ${JSON.stringify(me)}`);
        assert.equal(jags.length, 1, 'one ID-JAG');
        checkIdJag(jags[0]);
        assert.equal(me.sub, env.XAA_IDP_SUB);
        assert.equal(me.client_id, env.XAA_IDP_NOTES_CLIENT);
        assert.equal(me.idp_issuer, ISSUER);
        assert.deepEqual([...me.scopes].sort(), SCOPES);
    } finally {
        await client.close();
    }
});
