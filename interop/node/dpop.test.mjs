// Interop test: the official MCP TypeScript client (@modelcontextprotocol/client)
// with DPoP (RFC 9449, SEP-1932) against a running `xaa-idp demo`.
//
// The client's DPoP path: an OAuthClientProvider that implements dpop()
// (returning a DpopSession) gets a DPoP proof on its token request (here the
// JWT bearer grant of CrossAppAccessProvider at the demo authorization
// server), and StreamableHTTPClientTransport then presents a token whose
// token_type is DPoP as `Authorization: DPoP <token>` with a new proof (htu
// without the query, ath) on every MCP request. CrossAppAccessProvider has
// no DPoP option of its own: a subclass adds dpop(). The token exchange
// helpers (requestJwtAuthorizationGrant, discoverAndRequestJwtAuthGrant)
// send no DPoP proof, so the ID-JAG stays unbound.
//
// Run with: XAA_IDP_ISSUER=http://127.0.0.1:PORT node --test dpop.test.mjs
// (interop/run-node.sh starts `xaa-idp demo` and does this).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
    Client,
    CrossAppAccessProvider,
    DpopSession,
    StreamableHTTPClientTransport
} from '@modelcontextprotocol/client';

import { CONFIDENTIAL, decodeJwt, jagAssertion, login } from './lib.mjs';

const TRACKER = {
    issuer: 'http://127.0.0.1:8101',
    resource: 'http://127.0.0.1:8201/mcp',
    clientId: 'mcp-client-at-tracker'
};

/** CrossAppAccessProvider with a DPoP key: the SDK's hook is dpop(). */
class DpopCrossAppAccessProvider extends CrossAppAccessProvider {
    constructor(options, session) {
        super(options);
        this.session = session;
    }
    dpop() {
        return this.session;
    }
}

/** Records the requests fetch makes: method, URL, Authorization scheme, DPoP proof. */
function recordingFetch(seen) {
    return async (input, init) => {
        const headers = new Headers(init?.headers);
        seen.push({
            method: (init?.method ?? 'GET').toUpperCase(),
            url: String(input),
            scheme: (headers.get('authorization') ?? '').split(' ')[0],
            dpop: headers.get('dpop')
        });
        return fetch(input, init);
    };
}

async function connectWithDpop(url, session, seen) {
    const { id_token } = await login(CONFIDENTIAL, 'alice', 'alice');
    const provider = new DpopCrossAppAccessProvider(
        {
            assertion: jagAssertion(id_token, CONFIDENTIAL),
            clientId: TRACKER.clientId,
            clientSecret: CONFIDENTIAL.clientSecret,
            expectedIssuer: TRACKER.issuer
        },
        session
    );
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: recordingFetch(seen) });
    const client = new Client({ name: 'xaa-idp-interop-ts-dpop', version: '0.0.0' });
    await client.connect(transport);
    return { client, provider };
}

// Each algorithm the demo servers publish in dpop_signing_alg_values_supported
// (the client's default is ES256), and the MCP URL with a query (the proof's
// htu has none).
for (const [alg, url] of [
    ['ES256', TRACKER.resource],
    ['RS256', TRACKER.resource],
    ['PS256', TRACKER.resource],
    ['EdDSA', TRACKER.resource],
    ['ES256', TRACKER.resource + '?workspace=acme']
]) {
    test(`DPoP (${alg}): alice connects to the tracker at ${url} with a DPoP-bound access token and calls whoami`, async () => {
        const session = await DpopSession.create({ alg });
        const seen = [];
        const { client, provider } = await connectWithDpop(url, session, seen);
        try {
            const tokens = provider.tokens();
            assert.equal(tokens.token_type, 'DPoP', 'the authorization server binds the token');
            assert.equal(decodeJwt(tokens.access_token).payload.cnf?.jkt, session.thumbprint, 'cnf.jkt is the session key');
            const res = await client.callTool({ name: 'whoami', arguments: {} });
            assert.notEqual(res.isError, true, `whoami failed: ${JSON.stringify(res.content)}`);
            assert.equal(res.structuredContent.sub, '00u-alice');
            assert.equal(res.structuredContent.client_id, TRACKER.clientId);
            const mcp = seen.filter((r) => r.url.startsWith(TRACKER.resource) && r.scheme === 'DPoP');
            assert.ok(mcp.length >= 2, `MCP requests with Authorization: DPoP: ${JSON.stringify(seen.map((r) => [r.method, r.url, r.scheme]))}`);
            assert.ok(
                mcp.every((r) => r.dpop),
                'each carries a proof'
            );
        } finally {
            await client.close();
        }
    });
}
