// Interop test (not a *.test.mjs: run-node.sh runs those against the
// demo, whose step-up wants a login within 15 minutes): the official MCP
// TypeScript client's CrossAppAccessProvider refused by the IdP, against
// a running `xaa-idp demo` whose CRM rule for alice has a max_auth_age of
// a few seconds (interop/node_stepup_test.go starts it, with the demo's
// ports moved to free ones). The application must see the IdP's error
// code and description, which say what to do; then a fresh login
// connects.
//
//   XAA_IDP_ISSUER        the IdP
//   XAA_IDP_CRM_AS, XAA_IDP_CRM_RESOURCE  the CRM's authorization server and MCP endpoint
//   XAA_IDP_MAX_AUTH_AGE_MS  the CRM rule's max_auth_age for alice

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { Client, CrossAppAccessProvider, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

import { CONFIDENTIAL, jagAssertion, login } from './lib.mjs';

const env = process.env;
const CRM = { issuer: env.XAA_IDP_CRM_AS, resource: env.XAA_IDP_CRM_RESOURCE, clientId: 'mcp-client-at-crm' };
const MAX_AUTH_AGE_MS = Number(env.XAA_IDP_MAX_AUTH_AGE_MS);
assert.ok(CRM.issuer && CRM.resource && MAX_AUTH_AGE_MS > 0, 'set XAA_IDP_CRM_AS, XAA_IDP_CRM_RESOURCE and XAA_IDP_MAX_AUTH_AGE_MS');

/** The message of err and of its causes. */
function errorText(err) {
    const parts = [];
    for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
        parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
    return parts.join(' <- ');
}

/** Connects to the CRM as the user of idToken; returns the client. */
async function connect(idToken) {
    const provider = new CrossAppAccessProvider({
        assertion: jagAssertion(idToken, CONFIDENTIAL),
        clientId: CRM.clientId,
        clientSecret: CONFIDENTIAL.clientSecret,
        expectedIssuer: CRM.issuer
    });
    const client = new Client({ name: 'xaa-idp-interop-ts', version: '0.0.0' });
    try {
        await client.connect(new StreamableHTTPClientTransport(new URL(CRM.resource), { authProvider: provider }));
    } catch (err) {
        await client.close().catch(() => {});
        throw err;
    }
    return client;
}

test('step-up: a login older than max_auth_age is refused with insufficient_user_authentication', async () => {
    const { id_token } = await login(CONFIDENTIAL, 'alice', 'alice');
    await sleep(MAX_AUTH_AGE_MS + 1500);
    await assert.rejects(connect(id_token), (err) => {
        const text = errorText(err);
        console.log(`# client error: ${text}`);
        assert.match(text, /insufficient_user_authentication/);
        assert.match(text, /requires a login within the last/);
        assert.match(text, /log in again/);
        return true;
    });
});

test('step-up: a fresh login connects', async () => {
    const { id_token } = await login(CONFIDENTIAL, 'alice', 'alice');
    const client = await connect(id_token);
    try {
        const res = await client.callTool({ name: 'whoami', arguments: {} });
        assert.equal(res.structuredContent?.sub, '00u-alice');
        assert.deepEqual(res.structuredContent?.scopes, ['crm.read']);
    } finally {
        await client.close();
    }
});

test('denied: mallory is refused by the IdP for the CRM (access_denied)', async () => {
    const { id_token } = await login(CONFIDENTIAL, 'mallory', 'mallory');
    await assert.rejects(connect(id_token), (err) => {
        const text = errorText(err);
        console.log(`# client error: ${text}`);
        assert.match(text, /access_denied/);
        assert.match(text, /an administrator denied it/);
        return true;
    });
});
