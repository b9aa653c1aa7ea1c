// Interop test: the official MCP TypeScript client (@modelcontextprotocol/client)
// connecting to the MCP servers of a running `xaa-idp demo` through the whole
// Enterprise-Managed Authorization flow, with its CrossAppAccessProvider as the
// authProvider of StreamableHTTPClientTransport:
//
//   401 + WWW-Authenticate resource_metadata -> protected-resource metadata ->
//   authorization-server metadata -> assertion callback (token exchange at
//   the IdP for an ID-JAG) -> JWT bearer grant at the MCP authorization server
//   (client_secret_basic) -> MCP initialize -> tools/call whoami.
//
// Run with: XAA_IDP_ISSUER=http://127.0.0.1:PORT node --test crossapp.test.mjs
// (interop/run-node.sh starts `xaa-idp demo` and does this). The MCP servers
// and their authorization servers are on the demo's fixed ports.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
    Client,
    CrossAppAccessProvider,
    StreamableHTTPClientTransport,
    discoverAndRequestJwtAuthGrant,
    requestJwtAuthorizationGrant
} from '@modelcontextprotocol/client';

import { CONFIDENTIAL, ISSUER, idp, login, verifyJwt } from './lib.mjs';

// The demo's MCP servers used here: the authorization server's issuer, the
// MCP endpoint (= the resource), and the client_id of mcp-client there. The
// demo registers each mapped client_id with the client's IdP secret.
const TRACKER = {
    issuer: 'http://127.0.0.1:8101',
    resource: 'http://127.0.0.1:8201/mcp',
    clientId: 'mcp-client-at-tracker'
};
const CRM = {
    issuer: 'http://127.0.0.1:8104',
    resource: 'http://127.0.0.1:8204/mcp',
    clientId: 'mcp-client-at-crm'
};

const sameIssuer = (a, b) => a.replace(/\/$/, '') === b.replace(/\/$/, '');

/** The message of err and of its causes, for matching. */
function errorText(err) {
    const parts = [];
    for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
        parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
    return parts.join(' <- ');
}

/**
 * Connects `client` (CONFIDENTIAL at the IdP) as the user whose ID token is
 * given to the MCP server `server`. The assertion callback obtains the ID-JAG
 * with `exchange` ('discover': discoverAndRequestJwtAuthGrant, 'direct':
 * requestJwtAuthorizationGrant at the discovered token endpoint) and records
 * what the provider gave it and what it got. url is the MCP URL the
 * transport is given (default: the server's resource).
 */
async function connect(server, idToken, exchange, url = server.resource) {
    const calls = [];
    const provider = new CrossAppAccessProvider({
        assertion: async (ctx) => {
            const call = { ctx: { ...ctx, fetchFn: typeof ctx.fetchFn } };
            calls.push(call);
            const common = {
                audience: ctx.authorizationServerUrl,
                resource: ctx.resourceUrl,
                idToken,
                clientId: CONFIDENTIAL.clientId,
                clientSecret: CONFIDENTIAL.clientSecret,
                scope: ctx.scope,
                fetchFn: ctx.fetchFn
            };
            const result =
                exchange === 'discover'
                    ? await discoverAndRequestJwtAuthGrant({ idpUrl: ISSUER, ...common })
                    : await requestJwtAuthorizationGrant({ tokenEndpoint: (await idp()).metadata.token_endpoint, ...common });
            call.jag = result.jwtAuthGrant;
            return result.jwtAuthGrant;
        },
        clientId: server.clientId,
        clientSecret: CONFIDENTIAL.clientSecret, // the demo registers mcp-client's secret at every server
        clientName: 'xaa-idp interop (TypeScript)',
        expectedIssuer: server.issuer
    });
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    const client = new Client({ name: 'xaa-idp-interop-ts', version: '0.0.0' });
    try {
        await client.connect(transport);
    } catch (err) {
        await client.close().catch(() => {});
        err.assertionCalls = calls;
        throw err;
    }
    return { client, calls };
}

/** Calls whoami and returns its structured content. */
async function whoami(client) {
    const { tools } = await client.listTools();
    assert.ok(
        tools.some((t) => t.name === 'whoami'),
        `whoami among the tools: ${tools.map((t) => t.name)}`
    );
    const res = await client.callTool({ name: 'whoami', arguments: {} });
    assert.notEqual(res.isError, true, `whoami failed: ${JSON.stringify(res.content)}`);
    assert.ok(res.structuredContent, `whoami has structured content: ${JSON.stringify(res)}`);
    return res.structuredContent;
}

/** The assertion callback's context and ID-JAG, as the flow produced them. */
function checkAssertion(calls, server, sub) {
    assert.equal(calls.length, 1, 'the assertion callback ran once');
    const { ctx, jag } = calls[0];
    console.log(`# assertion ctx: ${JSON.stringify(ctx)}`);
    assert.ok(sameIssuer(ctx.authorizationServerUrl, server.issuer), `ctx.authorizationServerUrl ${ctx.authorizationServerUrl}`);
    assert.equal(ctx.resourceUrl, server.resource, 'ctx.resourceUrl');
    assert.equal(ctx.fetchFn, 'function', 'ctx.fetchFn');
    const { header, payload } = verifyJwt(jag);
    assert.equal(header.typ, 'oauth-id-jag+jwt');
    assert.equal(payload.iss, ISSUER);
    assert.equal(payload.sub, sub);
    assert.equal(payload.aud, server.issuer);
    assert.equal(payload.client_id, server.clientId);
    assert.equal(payload.resource, server.resource);
}

test('CrossAppAccessProvider: alice connects to the tracker MCP server and calls whoami', async () => {
    const { id_token } = await login(CONFIDENTIAL, 'alice', 'alice');
    const { client, calls } = await connect(TRACKER, id_token, 'discover');
    try {
        const me = await whoami(client);
        console.log(`# whoami: ${JSON.stringify(me)}`);
        // The server declares the MCP extension it is reached through.
        assert.deepEqual(
            client.getServerCapabilities()?.extensions?.['io.modelcontextprotocol/enterprise-managed-authorization'],
            {},
            `server capabilities ${JSON.stringify(client.getServerCapabilities())}`
        );
        assert.equal(me.sub, '00u-alice');
        assert.equal(me.client_id, 'mcp-client-at-tracker');
        assert.deepEqual([...me.scopes].sort(), ['issues.read', 'issues.write']);
        assert.equal(me.resource, TRACKER.resource);
        assert.ok(sameIssuer(me.issuer, TRACKER.issuer), `whoami issuer ${me.issuer}`);
        checkAssertion(calls, TRACKER, '00u-alice');
    } finally {
        await client.close();
    }
});

test('CrossAppAccessProvider: bob is refused by the IdP for the tracker (access_denied)', async () => {
    const { id_token } = await login(CONFIDENTIAL, 'bob', 'bob');
    await assert.rejects(connect(TRACKER, id_token, 'discover'), (err) => {
        const text = errorText(err);
        console.log(`# client error: ${text}`);
        assert.match(text, /access_denied/);
        // The refusal came from the IdP in the assertion callback: the flow
        // got that far, and no ID-JAG was issued.
        assert.equal(err.assertionCalls?.length, 1, 'the assertion callback ran once');
        assert.equal(err.assertionCalls[0].jag, undefined, 'no ID-JAG for bob');
        return true;
    });
});

test('CrossAppAccessProvider: bob connects to the CRM with crm.read crm.write', async () => {
    const { id_token } = await login(CONFIDENTIAL, 'bob', 'bob');
    const { client, calls } = await connect(CRM, id_token, 'direct');
    try {
        const me = await whoami(client);
        console.log(`# whoami: ${JSON.stringify(me)}`);
        assert.equal(me.sub, '00u-bob');
        assert.equal(me.client_id, 'mcp-client-at-crm');
        assert.deepEqual([...me.scopes].sort(), ['crm.read', 'crm.write']);
        assert.equal(me.resource, CRM.resource);
        assert.equal(me.email, 'bob@acme.example', 'the CRM gets the email (include_email)');
        checkAssertion(calls, CRM, '00u-bob');
    } finally {
        await client.close();
    }
});

// The MCP URL as a user may paste it: with a trailing slash, or with a
// query. The client finds the protected-resource metadata through the
// 401's resource_metadata (RFC 9728 §5.1), takes the resource it names
// (its path is a prefix of the URL), and reaches the same server.
for (const url of [TRACKER.resource + '/', TRACKER.resource + '?workspace=acme', TRACKER.resource + '/?workspace=acme']) {
    test(`CrossAppAccessProvider: alice connects to the tracker at ${url}`, async () => {
        const { id_token } = await login(CONFIDENTIAL, 'alice', 'alice');
        const { client, calls } = await connect(TRACKER, id_token, 'discover', url);
        try {
            const me = await whoami(client);
            assert.equal(me.sub, '00u-alice');
            assert.equal(me.client_id, 'mcp-client-at-tracker');
            assert.equal(me.resource, TRACKER.resource);
            checkAssertion(calls, TRACKER, '00u-alice');
        } finally {
            await client.close();
        }
    });
}
