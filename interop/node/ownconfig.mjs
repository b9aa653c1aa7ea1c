// Interop test (not a *.test.mjs: run-node.sh runs those against the demo):
// the official MCP TypeScript client's CrossAppAccessProvider against the
// notes MCP server of `xaa-idp demo --config` with the configuration of
// interop/gosdk_ownconfig_test.go (interop/node_ownconfig_test.go starts it
// on free ports): an authorization server issuer with a path (RFC 8414
// section 3.1 path insertion, and expectedIssuer compared with it),
// subject: email, a client_id at the MCP server with ':' and a space (sent
// in Basic as the client sends it), and a public client; exchangeJwtAuthGrant
// with each authMethod; and private_key_jwt at the MCP authorization server
// (createPrivateKeyJwtAuth as the provider's addClientAuthentication, the
// client's only private_key_jwt: its token exchange helpers send a secret
// or nothing) for the public IdP client agent, whose client_id there is the
// URL of a metadata document this test serves.
//
//   XAA_IDP_ISSUER                                the IdP
//   XAA_IDP_NOTES_AS, XAA_IDP_NOTES_RESOURCE      the notes authorization server's
//                                                 issuer (with its path) and MCP endpoint
//   XAA_IDP_AGENT_URL                             agent's client_id at the notes server:
//                                                 its metadata document's URL, served here

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import {
    Client,
    CrossAppAccessProvider,
    StreamableHTTPClientTransport,
    createPrivateKeyJwtAuth,
    exchangeJwtAuthGrant,
    requestJwtAuthorizationGrant
} from '@modelcontextprotocol/client';

import { decodeJwt, idp, jagAssertion, login } from './lib.mjs';

const NOTES_AS = process.env.XAA_IDP_NOTES_AS;
const NOTES_RESOURCE = process.env.XAA_IDP_NOTES_RESOURCE;
const AGENT_URL = process.env.XAA_IDP_AGENT_URL;
const SECRET = 'p&ss:w rd+%/x';

// agent's key pair: the public key in its metadata document, the private
// key signing its client assertions.
const agentKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let docServer;
let docFetches = 0;

before(async () => {
    const url = new URL(AGENT_URL);
    const doc = JSON.stringify({
        client_id: AGENT_URL,
        client_name: 'xaa-idp interop (TypeScript, private_key_jwt)',
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...agentKey.publicKey.export({ format: 'jwk' }), kid: 'agent-1', alg: 'ES256', use: 'sig' }] },
        grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer']
    });
    docServer = createServer((req, res) => {
        if (req.method === 'GET' && req.url === url.pathname) {
            docFetches++;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(doc);
            return;
        }
        res.writeHead(404).end();
    });
    await new Promise((resolve, reject) => {
        docServer.once('error', reject);
        docServer.listen(Number(url.port), '127.0.0.1', resolve);
    });
});

after(() => new Promise((resolve) => docServer.close(resolve)));

async function whoami(idpClient, notesClient, user, addClientAuthentication) {
    const { id_token } = await login(idpClient, user, user);
    const provider = new CrossAppAccessProvider({
        assertion: jagAssertion(id_token, idpClient),
        clientId: notesClient.clientId,
        clientSecret: notesClient.clientSecret,
        expectedIssuer: NOTES_AS
    });
    if (addClientAuthentication) {
        // The SDK's hook for client authentication other than a secret.
        provider.addClientAuthentication = addClientAuthentication;
    }
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

test('private_key_jwt at the MCP authorization server: a metadata document client connects with createPrivateKeyJwtAuth', async () => {
    const who = await whoami(
        { clientId: 'agent' },
        { clientId: AGENT_URL },
        'ann',
        createPrivateKeyJwtAuth({
            issuer: AGENT_URL,
            subject: AGENT_URL,
            privateKey: agentKey.privateKey.export({ format: 'jwk' }),
            alg: 'ES256'
        })
    );
    assert.equal(who.sub, 'u-ann');
    assert.equal(who.client_id, AGENT_URL, 'the notes server knows agent by its URL');
    assert.equal(who.issuer, NOTES_AS);
    assert.ok(docFetches >= 1, 'the notes server fetched the metadata document');
});

test('private_key_jwt at the MCP authorization server: an assertion signed with another key is invalid_client', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await assert.rejects(
        whoami(
            { clientId: 'agent' },
            { clientId: AGENT_URL },
            'ann',
            createPrivateKeyJwtAuth({ issuer: AGENT_URL, subject: AGENT_URL, privateKey: other.privateKey.export({ format: 'jwk' }), alg: 'ES256' })
        ),
        (err) => {
            assert.equal(err.code, 'invalid_client', String(err));
            assert.match(err.message, /does not verify with any key of the metadata document/);
            return true;
        }
    );
});

// exchangeJwtAuthGrant, with each authMethod it offers, redeems an ID-JAG
// that requestJwtAuthorizationGrant got at the discovered token endpoint.
for (const [authMethod, idpClient, notesClient] of [
    ['client_secret_basic', { clientId: 'desk', clientSecret: SECRET }, { clientId: 'desk:at notes', clientSecret: SECRET }],
    ['client_secret_post', { clientId: 'desk', clientSecret: SECRET }, { clientId: 'desk:at notes', clientSecret: SECRET }],
    ['none', { clientId: 'cli' }, { clientId: 'cli-at-notes' }]
]) {
    test(`exchangeJwtAuthGrant with authMethod ${authMethod} at the issuer with a path`, async () => {
        const { id_token } = await login(idpClient, 'ann', 'ann');
        const { jwtAuthGrant } = await requestJwtAuthorizationGrant({
            tokenEndpoint: (await idp()).metadata.token_endpoint,
            audience: NOTES_AS,
            resource: NOTES_RESOURCE,
            idToken: id_token,
            clientId: idpClient.clientId,
            clientSecret: idpClient.clientSecret
        });
        const asMeta = await (await fetch(new URL(NOTES_AS).origin + '/.well-known/oauth-authorization-server' + new URL(NOTES_AS).pathname)).json();
        const tokens = await exchangeJwtAuthGrant({
            tokenEndpoint: asMeta.token_endpoint,
            jwtAuthGrant,
            clientId: notesClient.clientId,
            clientSecret: notesClient.clientSecret,
            authMethod
        });
        assert.equal(tokens.token_type, 'Bearer');
        const { payload } = decodeJwt(tokens.access_token);
        assert.equal(payload.client_id, notesClient.clientId);
        assert.equal(payload.aud, NOTES_RESOURCE);
    });
}
