// Interop test (not a *.test.mjs: run-node.sh runs those against the demo):
// the official MCP TypeScript client's CrossAppAccessProvider against the
// notes MCP server of `xaa-idp demo --config` with the configuration of
// interop/gosdk_ownconfig_test.go (interop/node_ownconfig_test.go starts it
// on free ports): an authorization server issuer with a path (RFC 8414
// section 3.1 path insertion, and expectedIssuer compared with it),
// subject: email, a client_id at the MCP server with ':' and a space (sent
// in Basic as the client sends it), and a public client.
//
//   XAA_IDP_ISSUER                                the IdP
//   XAA_IDP_NOTES_AS, XAA_IDP_NOTES_RESOURCE      the notes authorization server's
//                                                 issuer (with its path) and MCP endpoint

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Client, CrossAppAccessProvider, StreamableHTTPClientTransport, discoverAndRequestJwtAuthGrant } from '@modelcontextprotocol/client';

import { ISSUER, login } from './lib.mjs';

const NOTES_AS = process.env.XAA_IDP_NOTES_AS;
const NOTES_RESOURCE = process.env.XAA_IDP_NOTES_RESOURCE;
const SECRET = 'p&ss:w rd+%/x';

async function whoami(idpClient, notesClient, user) {
    const { id_token } = await login(idpClient, user, user);
    const provider = new CrossAppAccessProvider({
        assertion: async (ctx) =>
            (
                await discoverAndRequestJwtAuthGrant({
                    idpUrl: ISSUER,
                    audience: ctx.authorizationServerUrl,
                    resource: ctx.resourceUrl,
                    idToken: id_token,
                    clientId: idpClient.clientId,
                    clientSecret: idpClient.clientSecret,
                    scope: ctx.scope,
                    fetchFn: ctx.fetchFn
                })
            ).jwtAuthGrant,
        clientId: notesClient.clientId,
        clientSecret: notesClient.clientSecret,
        expectedIssuer: NOTES_AS
    });
    const client = new Client({ name: 'xaa-idp-interop-ownconfig', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(NOTES_RESOURCE), { authProvider: provider }));
    try {
        const res = await client.callTool({ name: 'whoami', arguments: {} });
        assert.ok(!res.isError, JSON.stringify(res));
        return res.structuredContent;
    } finally {
        await client.close();
    }
}

for (const [name, idpClient, notesClient] of [
    ['confidential client', { clientId: 'desk', clientSecret: SECRET }, { clientId: 'desk:at notes', clientSecret: SECRET }],
    ['public client', { clientId: 'cli' }, { clientId: 'cli-at-notes' }]
]) {
    test(`${name}: whoami names the user its email maps to, at the issuer with a path`, async () => {
        const who = await whoami(idpClient, notesClient, 'ann');
        assert.equal(who.username, 'ann');
        assert.equal(who.sub, 'u-ann');
        assert.equal(who.client_id, notesClient.clientId);
        assert.equal(who.issuer, NOTES_AS);
    });
}

test('a user without an email is refused with the reason', async () => {
    await assert.rejects(whoami({ clientId: 'cli' }, { clientId: 'cli-at-notes' }, 'cid'), (err) => {
        assert.equal(err.code, 'invalid_grant', String(err));
        assert.match(err.message, /no email claim/);
        return true;
    });
});
