// Interop test: the official MCP TypeScript client (@modelcontextprotocol/client)
// as a Client ID Metadata Document client (draft-ietf-oauth-client-id-metadata-document)
// of a running `xaa-idp demo`: its client_id is the URL of a document this
// test serves, registered nowhere.
//
// What the TS client offers for it: its cross-app helpers
// (requestJwtAuthorizationGrant, discoverAndRequestJwtAuthGrant,
// CrossAppAccessProvider) take the client_id as an opaque string and the
// secret as optional, so a URL client_id with token_endpoint_auth_method
// none goes through as is: client_id in the body at the IdP, and at the MCP
// authorization server (no secret: "none"). They have no option to publish
// or check the document, nor private_key_jwt; the SDK's own CIMD support
// (OAuthClientProvider.clientMetadataUrl, https only) is for the
// authorization code flow.
//
// fixtures/demo.yaml names http://127.0.0.1:8390/client-metadata.json (the
// URL of `xaa-idp connect --cimd`) as a client of the tracker, the wiki and
// the design studio, so this test serves its document there.
//
// Run with: XAA_IDP_ISSUER=http://127.0.0.1:PORT node --test cimd.test.mjs
// (interop/run-node.sh starts `xaa-idp demo` and does this).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import { Client, CrossAppAccessProvider, StreamableHTTPClientTransport, discoverAndRequestJwtAuthGrant } from '@modelcontextprotocol/client';

import { ISSUER, idp, login, verifyJwt } from './lib.mjs';

const DOC_PORT = 8390;
const CLIENT_ID = `http://127.0.0.1:${DOC_PORT}/client-metadata.json`;
const WIKI = { issuer: 'http://127.0.0.1:8102', resource: 'http://127.0.0.1:8202/mcp' };

let docServer;
let fetches = 0;

before(async () => {
    const doc = JSON.stringify({
        client_id: CLIENT_ID,
        client_name: 'xaa-idp interop (TypeScript, metadata document)',
        redirect_uris: ['http://127.0.0.1/callback'], // loopback: any port (RFC 8252 §7.3)
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer']
    });
    docServer = createServer((req, res) => {
        if (req.method === 'GET' && req.url === '/client-metadata.json') {
            fetches++;
            res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
            res.end(doc);
            return;
        }
        res.writeHead(404).end();
    });
    await new Promise((resolve, reject) => {
        docServer.once('error', reject);
        docServer.listen(DOC_PORT, '127.0.0.1', resolve);
    });
});

after(() => new Promise((resolve) => docServer.close(resolve)));

test('metadata document client: the IdP says it takes URL client_ids', async () => {
    const { metadata } = await idp();
    assert.equal(metadata.client_id_metadata_document_supported, true);
});

test('CrossAppAccessProvider with a URL client_id: alice connects to the wiki and calls whoami', async () => {
    const client = { clientId: CLIENT_ID }; // public: no secret anywhere
    const { id_token } = await login(client, 'alice', 'alice');
    const jags = [];
    const provider = new CrossAppAccessProvider({
        assertion: async (ctx) => {
            const result = await discoverAndRequestJwtAuthGrant({
                idpUrl: ISSUER,
                audience: ctx.authorizationServerUrl,
                resource: ctx.resourceUrl,
                idToken: id_token,
                clientId: CLIENT_ID,
                scope: ctx.scope,
                fetchFn: ctx.fetchFn
            });
            jags.push(result.jwtAuthGrant);
            return result.jwtAuthGrant;
        },
        clientId: CLIENT_ID,
        clientName: 'xaa-idp interop (TypeScript, metadata document)',
        expectedIssuer: WIKI.issuer
    });
    const transport = new StreamableHTTPClientTransport(new URL(WIKI.resource), { authProvider: provider });
    const mcp = new Client({ name: 'xaa-idp-interop-ts-cimd', version: '0.0.0' });
    await mcp.connect(transport);
    try {
        const res = await mcp.callTool({ name: 'whoami', arguments: {} });
        assert.notEqual(res.isError, true, `whoami failed: ${JSON.stringify(res.content)}`);
        const me = res.structuredContent;
        console.log(`# whoami: ${JSON.stringify(me)}`);
        assert.equal(me.sub, '00u-alice');
        assert.equal(me.client_id, CLIENT_ID, 'the wiki knows the client by its URL');
        assert.equal(me.resource, WIKI.resource);
        assert.equal(jags.length, 1, 'one ID-JAG');
        const { payload } = verifyJwt(jags[0]);
        assert.equal(payload.client_id, CLIENT_ID, 'the ID-JAG names the URL as client_id');
        assert.equal(payload.aud, WIKI.issuer);
        assert.ok(fetches >= 1, 'the document was fetched');
    } finally {
        await mcp.close();
    }
});
