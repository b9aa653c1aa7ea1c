// Interop test (not a *.test.mjs: run-node.sh runs those against the demo):
// the official MCP TypeScript client against one tenant of
// a running `xaa-idp serve --config fixtures/samples/tenants.yaml` (the Go
// test interop/node_tenants_test.go runs it once per tenant, in one
// process). The tenant is described by the environment:
//
//   XAA_IDP_ISSUER        the tenant's issuer (with its path)
//   XAA_IDP_CLIENT_ID, XAA_IDP_CLIENT_SECRET, XAA_IDP_USER (password = username)
//   XAA_IDP_TENANT        the expected "tenant" claim, "" for none
//   XAA_IDP_EMAIL         the expected "email" claim, "" for none
//   XAA_IDP_RESOURCE      "1" when the ID-JAG carries "resource"

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { discoverAndRequestJwtAuthGrant, requestJwtAuthorizationGrant } from '@modelcontextprotocol/client';

import { ISSUER, idp, login, verifyJwt } from './lib.mjs';

const env = process.env;
const CLIENT = { clientId: env.XAA_IDP_CLIENT_ID, clientSecret: env.XAA_IDP_CLIENT_SECRET };
const NOTES_AS = 'http://127.0.0.1:9101';
const NOTES_RESOURCE = 'http://127.0.0.1:9201/mcp';

function checkIdJag(jwt) {
    const { header, payload } = verifyJwt(jwt); // with this tenant's JWKS
    assert.equal(header.typ, 'oauth-id-jag+jwt');
    assert.equal(payload.iss, ISSUER, 'the tenant issuer, path included');
    assert.equal([payload.aud].flat()[0], NOTES_AS);
    assert.equal(payload.tenant ?? '', env.XAA_IDP_TENANT, 'tenant claim');
    assert.equal(payload.email ?? '', env.XAA_IDP_EMAIL, 'email claim');
    assert.equal('resource' in payload, env.XAA_IDP_RESOURCE === '1', 'resource claim present as the persona says');
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
