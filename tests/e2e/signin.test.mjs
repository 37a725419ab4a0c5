// Team sign-in end to end: the official MCP TypeScript SDK's own OAuth support
// (its OAuthClientProvider) against the built Worker, GitHub played by the git host
// (its OAuth pages, users and permissions, and the GitHub App's installation tokens).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { gitShow } from '../../scripts/lib/client.mjs';
import { setup, DIR, WRITER } from './harness.mjs';

const SIGNING_KEY = 'e2e-signing-key-0123456789abcdef0123456789';
const KEYS = path.join(import.meta.dirname, '../fixtures/app-key');
const REDIRECT = 'http://127.0.0.1:7777/callback';
let h;
let notes;
let docServer;
let docUrl;

before(async () => {
  h = await setup({
    githostArgs: [
      '--app-id', '4242',
      '--app-public-key', path.join(KEYS, 'public.pem'),
      '--oauth-client-id', 'e2e-oauth-app',
      '--oauth-client-secret', 'e2e-oauth-secret',
      '--users', JSON.stringify({ alice: { '*': 'write' }, bob: { '*': 'read' }, carol: { 'acme/threads': 'write', 'acme/notes': 'none' } }),
    ],
    vars: {
      GITHUB_TOKEN: '',
      GITHUB_APP_ID: '4242',
      GITHUB_APP_PRIVATE_KEY: fs.readFileSync(path.join(KEYS, 'pkcs1.pem'), 'utf8').trim().replaceAll('\n', '\\n'),
      GITHUB_OAUTH_CLIENT_ID: 'e2e-oauth-app',
      GITHUB_OAUTH_CLIENT_SECRET: 'e2e-oauth-secret',
      OAUTH_SIGNING_KEY: SIGNING_KEY,
      GITHUB_WEB_BASE: (githost) => githost,
      GITHUB_REPOS: 'acme/notes',
    },
  });
  notes = (await h.admin.repo({ owner: 'acme', name: 'notes', default_branch: 'main', files: { 'README.md': '# notes\n' } })).path;
  // A client metadata document, served by the test (plain http to this machine is
  // allowed while the server itself runs here).
  docServer = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/moved.json') {
      res.statusCode = 302;
      res.setHeader('location', docUrl);
      return res.end();
    }
    if (req.url === '/big.json') {
      // Over the 64 KB limit, streamed without a declared length.
      res.write(`{"client_id": "${docUrl.replace('client', 'big')}", "redirect_uris": ["${REDIRECT}"], "pad": "`);
      for (let i = 0; i < 20; i++) res.write('x'.repeat(10000));
      return res.end('"}');
    }
    res.end(JSON.stringify({ client_id: docUrl, client_name: 'Doc client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }));
  });
  await new Promise((r) => docServer.listen(0, '127.0.0.1', r));
  docUrl = `http://127.0.0.1:${docServer.address().port}/client.json`;
});
after(async () => {
  docServer?.close();
  await h?.close();
});

/** The SDK's OAuthClientProvider, with the browser played by `signIn`. */
class Provider {
  constructor({ clientId } = {}) {
    this.client = clientId ? { client_id: clientId } : undefined;
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return { client_name: 'e2e', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(c) {
    this.client = c;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(t) {
    this.saved = t;
  }
  redirectToAuthorization(url) {
    this.authUrl = url;
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/**
 * Plays the browser from the authorization URL to the client's redirect URI: the
 * consent page (approved), GitHub's sign-in (as `login`), the callback. The sign-in
 * cookie is kept as a browser would.
 */
async function browse(url, login, { decision = 'approve' } = {}) {
  let cookie = '';
  for (let i = 0; i < 6; i++) {
    if (url.startsWith(REDIRECT)) return new URL(url);
    const u = new URL(url);
    if (u.pathname === '/login/oauth/authorize' && login) u.searchParams.set('login', login);
    const ours = u.origin === h.worker.url;
    const r = await fetch(u, { redirect: 'manual', headers: ours && cookie ? { cookie } : {} });
    cookie = r.headers.get('set-cookie')?.split(';')[0] ?? cookie;
    const text = await r.text();
    if (r.status === 200 && ours && u.pathname === '/oauth/authorize') {
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.match(text, /Continue with GitHub/);
      const key = text.match(/name="key" value="([^"]+)"/)[1];
      const answer = await fetch(`${h.worker.url}/oauth/consent`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key, decision }),
      });
      assert.equal(answer.status, 302, await answer.text());
      url = answer.headers.get('location');
      continue;
    }
    assert.equal(r.status, 302, `${u}: ${r.status} ${text}`);
    url = new URL(r.headers.get('location'), u).toString();
  }
  throw new Error(`too many redirects, at ${url}`);
}

const mcpUrl = (repo) => `${h.worker.url}/mcp${repo ? `/${repo}` : ''}`;

/** Signs `login` in with the SDK and returns a connected client. */
async function signIn(login, { repo, provider = new Provider() } = {}) {
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl(repo)), { authProvider: provider });
  await assert.rejects(new Client({ name: 'e2e', version: '1' }).connect(first), UnauthorizedError);
  const back = await browse(provider.authUrl.toString(), login);
  assert.equal(back.searchParams.get('iss'), h.worker.url, 'RFC 9207 iss');
  const code = back.searchParams.get('code');
  if (!code) return { provider, error: back.searchParams.get('error'), description: back.searchParams.get('error_description') };
  await first.finishAuth(code);
  const client = new Client({ name: 'e2e', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl(repo)), { authProvider: provider }));
  return { client, provider };
}

const text = (r) => r.content.map((c) => c.text).join('\n');
// These tests are about who the commit says wrote it: each say waits for its commit.
const say = (client, topic, title) => client.callTool({ name: 'watercooler_say', arguments: { topic, title, body: 'hello', agent: 'Claude', code_path: '.', wait_for_commit: true } });

test('discovery: protected resource and authorization server metadata, and the 401 challenge', async () => {
  const prm = await (await fetch(`${h.worker.url}/.well-known/oauth-protected-resource/mcp/acme/notes`)).json();
  assert.equal(prm.resource, `${h.worker.url}/mcp/acme/notes`);
  assert.deepEqual(prm.authorization_servers, [h.worker.url]);
  const root = await (await fetch(`${h.worker.url}/.well-known/oauth-protected-resource`)).json();
  assert.equal(root.resource, `${h.worker.url}/mcp`);
  assert.equal((await fetch(`${h.worker.url}/.well-known/oauth-protected-resource/mcp/evil/x`)).status, 404);
  const as = await (await fetch(`${h.worker.url}/.well-known/oauth-authorization-server`)).json();
  assert.equal(as.issuer, h.worker.url);
  assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
  assert.equal(as.client_id_metadata_document_supported, true);
  const r = await fetch(mcpUrl('acme/notes'), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), new RegExp(`resource_metadata="${h.worker.url}/.well-known/oauth-protected-resource/mcp/acme/notes"`));
});

test('alice signs in with dynamic registration and writes; the commit is the app bot\'s, the entry hers', async () => {
  const { client } = await signIn('alice', { repo: 'acme/notes' });
  try {
    const said = await say(client, 'team-plan', 'from alice');
    assert.ok(!said.isError, text(said));
    const who = await client.callTool({ name: 'watercooler_whoami', arguments: {} });
    assert.equal(who.structuredContent.user, 'alice');
    assert.equal(who.structuredContent.can_write, true);
  } finally {
    await client.close();
  }
  const file = gitShow(notes, 'main', `${DIR}/team-plan.md`);
  assert.match(file, /^Entry: Claude \(alice\) /m);
  const author = execFileSync('git', ['--git-dir', notes, 'log', '-1', '--format=%an <%ae>', 'main'], { encoding: 'utf8' }).trim();
  assert.equal(author, 'watercooler-dev[bot] <4242+watercooler-dev[bot]@users.noreply.github.com>');
});

test('bob may read but his say is refused with a clear result; carol without access gets none', async () => {
  const { client } = await signIn('bob', { repo: 'acme/notes' });
  try {
    const who = await client.callTool({ name: 'watercooler_whoami', arguments: {} });
    assert.equal(who.structuredContent.can_write, false);
    const said = await say(client, 'team-plan', 'from bob');
    assert.equal(said.isError, true);
    assert.match(text(said), /read|write/i);
    const read = await client.callTool({ name: 'watercooler_read_thread', arguments: { topic: 'team-plan' } });
    assert.ok(!read.isError, text(read));
  } finally {
    await client.close();
  }
  const carol = await signIn('carol', { repo: 'acme/notes' });
  assert.equal(carol.error, 'access_denied');
  assert.match(carol.description, /carol has no access to acme\/notes/);
});

test('a client metadata document stands in for registration', async () => {
  const { client } = await signIn('alice', { provider: new Provider({ clientId: docUrl }) });
  try {
    const said = await say(client, 'doc-client', 'via a metadata document');
    assert.ok(!said.isError, text(said));
  } finally {
    await client.close();
  }
  assert.match(h.file('doc-client'), /^Entry: Claude \(alice\) /m);
});

test('a client metadata document over 64 KB, behind a redirect, or at a private address, is refused with a page', async () => {
  const authorize = (clientId) =>
    fetch(`${h.worker.url}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' })}`, { redirect: 'manual' });
  const big = await authorize(docUrl.replace('client.json', 'big.json'));
  assert.equal(big.status, 400);
  assert.match(await big.text(), /over 65536 bytes/);
  const moved = await authorize(docUrl.replace('client.json', 'moved.json'));
  assert.equal(moved.status, 400);
  assert.match(await moved.text(), /answered 302/, 'redirects are not followed past the address check');
  const inside = await authorize('https://10.0.0.8/client.json');
  assert.equal(inside.status, 400);
  assert.match(await inside.text(), /private address/);
  const unknown = await authorize('not-registered');
  assert.equal(unknown.status, 400);
  assert.match(await unknown.text(), /not registered/);
});

test('a GitHub link carrying someone else\'s sign-in cannot finish in another browser', async () => {
  const reg = await (await fetch(`${h.worker.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'Mallory' }) })).json();
  const params = { response_type: 'code', client_id: reg.client_id, redirect_uri: REDIRECT, code_challenge: 'y'.repeat(43), code_challenge_method: 'S256', resource: mcpUrl('acme/notes') };
  const page = await fetch(`${h.worker.url}/oauth/authorize?${new URLSearchParams(params)}`);
  const cookie = page.headers.get('set-cookie').split(';')[0];
  assert.match(page.headers.get('set-cookie'), /HttpOnly; SameSite=Lax/);
  const key = (await page.text()).match(/name="key" value="([^"]+)"/)[1];
  const noCookie = await fetch(`${h.worker.url}/oauth/consent`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key, decision: 'approve' }) });
  assert.equal(noCookie.status, 400, 'a forged consent form is refused');
  const approved = await fetch(`${h.worker.url}/oauth/consent`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ key, decision: 'approve' }) });
  const toGitHub = approved.headers.get('location');
  // The victim opens the link: GitHub signs them in and sends them to the callback,
  // without the attacker's cookie.
  const atGitHub = await fetch(toGitHub, { redirect: 'manual' });
  const callback = await fetch(atGitHub.headers.get('location'), { redirect: 'manual' });
  assert.equal(callback.status, 400);
  assert.match(await callback.text(), /another browser/);
});

async function tokenRequest(form) {
  const r = await fetch(`${h.worker.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: r.status, json: await r.json() };
}

test('tokens: another repository\'s, expired, revoked and reused refresh tokens are refused as the spec says', { timeout: 60000 }, async () => {
  const { client, provider } = await signIn('alice', { repo: 'acme/notes' });
  await client.close();
  const { access_token, refresh_token } = provider.saved;
  const clientId = provider.client.client_id;
  // Audience: a token for acme/notes does not open the default repository's URL.
  const elsewhere = await fetch(mcpUrl(), { method: 'POST', headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
  assert.equal(elsewhere.status, 401);
  assert.match(elsewhere.headers.get('www-authenticate'), /error="invalid_token"/);
  const rest = await h.api('GET', '/v1/repos/acme/notes/threads', { token: access_token });
  assert.equal(rest.status, 200, 'the same token works on its repository over REST');
  // A forged token, and one past its hour (signed with the deployment's key): invalid_token.
  const forged = access_token.slice(0, -4) + 'AAAA';
  assert.equal((await h.api('GET', '/v1/repos/acme/notes/threads', { token: forged })).status, 401);
  const claims = JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url'));
  const stale = { ...claims, iat: claims.iat - 7200, exp: claims.iat - 3600 };
  const signed = `wca1.${Buffer.from(JSON.stringify(stale)).toString('base64url')}`;
  const expired = `${signed}.${createHmac('sha256', SIGNING_KEY).update(signed).digest('base64url')}`;
  const late = await h.api('GET', '/v1/repos/acme/notes/threads', { token: expired });
  assert.equal(late.status, 401);
  assert.equal(late.json.error.code, 'invalid_token');
  assert.match(late.json.error.message, /expired/);
  assert.match(late.headers.get('www-authenticate'), /error="invalid_token"/);
  // Rotation: the refresh token works once; its reuse revokes the grant.
  const r1 = await tokenRequest({ grant_type: 'refresh_token', refresh_token, client_id: clientId });
  assert.equal(r1.status, 200, JSON.stringify(r1.json));
  assert.notEqual(r1.json.refresh_token, refresh_token);
  // At once, the old one again is two requests of one client racing: refused,
  // nothing revoked.
  const racing = await tokenRequest({ grant_type: 'refresh_token', refresh_token, client_id: clientId });
  assert.equal(racing.json.error, 'invalid_grant');
  assert.match(racing.json.error_description, /moments ago/);
  // Past the 10 s grace, it is theft: the grant is revoked, its newest token with it.
  await new Promise((r) => setTimeout(r, 11000));
  const reuse = await tokenRequest({ grant_type: 'refresh_token', refresh_token, client_id: clientId });
  assert.equal(reuse.status, 400);
  assert.equal(reuse.json.error, 'invalid_grant');
  assert.match(reuse.json.error_description, /already used/);
  const next = await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1.json.refresh_token, client_id: clientId });
  assert.equal(next.json.error, 'invalid_grant', 'the rotated token went with its grant');
  // Revocation: a revoked refresh token is refused.
  const again = await signIn('alice', { repo: 'acme/notes' });
  await again.client.close();
  const revoked = await fetch(`${h.worker.url}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: again.provider.saved.refresh_token }) });
  assert.equal(revoked.status, 200);
  const after = await tokenRequest({ grant_type: 'refresh_token', refresh_token: again.provider.saved.refresh_token, client_id: again.provider.client.client_id });
  assert.equal(after.json.error, 'invalid_grant');
});

test('removing someone on GitHub takes effect at their next refresh', async () => {
  const { client, provider } = await signIn('alice', { repo: 'acme/notes' });
  await client.close();
  await h.admin.call('POST', 'users', { alice: { '*': 'read' }, bob: { '*': 'read' } });
  const read = await tokenRequest({ grant_type: 'refresh_token', refresh_token: provider.saved.refresh_token, client_id: provider.client.client_id });
  assert.equal(read.status, 200, JSON.stringify(read.json));
  assert.equal(read.json.scope, 'threads:read');
  await h.admin.call('POST', 'users', { bob: { '*': 'read' } });
  const gone = await tokenRequest({ grant_type: 'refresh_token', refresh_token: read.json.refresh_token, client_id: provider.client.client_id });
  assert.equal(gone.json.error, 'invalid_grant');
  assert.match(gone.json.error_description, /no longer has access/);
  await h.admin.call('POST', 'users', { alice: { '*': 'write' }, bob: { '*': 'read' }, carol: { 'acme/threads': 'write', 'acme/notes': 'none' } });
});

test('the app\'s installation token, revoked early by GitHub, is replaced without a failed write', async () => {
  await h.admin.call('POST', 'app/tokens/expire', {});
  const r = await h.api('POST', '/v1/threads/app-renewal/entries', { body: { title: 'after renewal', body: 'B', agent: 'Claude' } });
  assert.equal(r.status, 201, r.text);
  const author = h.git('log', '-1', '--format=%an', 'main').trim();
  assert.equal(author, 'watercooler-dev[bot]');
});

test('static client tokens keep working beside sign-in', async () => {
  const r = await h.api('GET', '/v1/threads', { token: WRITER });
  assert.equal(r.status, 200, r.text);
});

// Last: it uses up this address's registrations for the hour.
test('dynamic registration is limited per address: 429 with Retry-After, nothing kept', async () => {
  const register = () =>
    fetch(`${h.worker.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'flood' }) });
  let r;
  for (let i = 0; i < 25; i++) {
    r = await register();
    if (r.status !== 201) break;
  }
  const body = await r.json();
  assert.equal(r.status, 429, JSON.stringify(body));
  assert.equal(body.error, 'temporarily_unavailable');
  assert.match(body.error_description, /too many clients/);
  assert.ok(Number(r.headers.get('retry-after')) > 0);
});
