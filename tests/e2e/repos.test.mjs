// Many repositories from one deployment: routes that name a repository, the
// GITHUB_REPOS list, tokens limited to some repositories, one writer per repository.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { gitShow, waitSynced } from '../../scripts/lib/client.mjs';
import { setup, entryIds, DIR, WRITER } from './harness.mjs';

const WIDE = 'e2e-wide-token';
const NOTES_READER = 'e2e-notes-reader';
let h;
const bare = {};

before(async () => {
  h = await setup({
    vars: { GITHUB_REPOS: 'acme/notes, team/*', NOT_FOUND_CACHE_SECONDS: '0' },
    tokens: {
      [WIDE]: { user: 'lee', scopes: ['read', 'write'], agent: 'Codex', repos: ['acme/*', 'team/*'] },
      [NOTES_READER]: { user: 'kim', scopes: ['read'], repos: ['acme/notes'] },
    },
  });
  for (const [owner, name] of [['acme', 'notes'], ['team', 'one'], ['acme', 'secret']]) {
    const r = await h.admin.repo({ owner, name, default_branch: 'main', files: { 'README.md': `# ${name}\n` } });
    bare[`${owner}/${name}`] = r.path;
  }
});
after(async () => {
  await h?.close();
});

const file = (repo, topic) => gitShow(bare[repo], 'main', `${DIR}/${topic}.md`);
const commits = (repo) => Number(execFileSync('git', ['--git-dir', bare[repo], 'rev-list', '--count', 'main'], { encoding: 'utf8' }).trim());
const say = (prefix, topic, title, token = WIDE) =>
  h.api('POST', `${prefix}/threads/${topic}/entries`, { token, body: { title, body: 'B' } });

test('a named repository is written and read on its own routes, in any spelling, by one writer', async () => {
  const a = await say('/v1/repos/acme/notes', 'plan', 'first');
  assert.equal(a.status, 201, a.text);
  const b = await say('/v1/repos/ACME/Notes', 'plan', 'second');
  assert.equal(b.status, 201, b.text);
  const notes = file('acme/notes', 'plan');
  assert.deepEqual(entryIds(notes), [a.json.entry_id, b.json.entry_id]);
  assert.match(notes, /^Entry: Codex \(lee\) /m);
  assert.equal(h.file('plan'), null, 'the default repository is untouched');
  assert.equal(commits('acme/notes'), 3);

  const list = await h.api('GET', '/v1/repos/acme/notes/threads', { token: WIDE });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.threads.map((t) => t.topic), ['plan']);
  const read = await h.api('GET', '/v1/repos/acme/notes/threads/plan', { token: NOTES_READER });
  assert.equal(read.status, 200, read.text);
  assert.match(read.text, /Title: second/);
  const sync = await h.api('GET', '/v1/repos/team/one/sync', { token: WIDE });
  assert.equal(sync.status, 200, sync.text);
  assert.equal(sync.json.state, 'synced');
  // The default repository, named, is the default repository.
  const named = await h.api('GET', '/v1/repos/acme/threads/threads', { token: WRITER });
  assert.equal(named.status, 200, named.text);
});

test('a repository outside GITHUB_REPOS is 404 without a GitHub request', async () => {
  await h.resetStats();
  for (const p of ['/v1/repos/acme/secret/threads', '/v1/repos/evil/x/threads/t/entries', '/mcp/acme/secret']) {
    const r = await h.api(p.startsWith('/mcp') ? 'POST' : 'GET', p, { token: WIDE, body: p.startsWith('/mcp') ? {} : undefined });
    assert.equal(r.status, 404, `${p}: ${r.text}`);
    assert.equal(r.json.error.code, 'repo_not_served');
    assert.match(r.json.error.message, /GITHUB_REPOS/);
  }
  assert.equal((await h.stats()).total ?? 0, 0, JSON.stringify(await h.stats()));
  assert.equal(commits('acme/secret'), 1);
});

test('a token opens only its repositories; without a list, only the default one', async () => {
  const r = await say('/v1/repos/acme/notes', 'plan', 'not mine', WRITER);
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'forbidden');
  assert.match(r.json.error.message, /acme\/notes/);
  const reader = await say('/v1/repos/acme/notes', 'plan', 'read only', NOTES_READER);
  assert.equal(reader.status, 403, reader.text);
  const elsewhere = await h.api('GET', '/v1/repos/team/one/threads', { token: NOTES_READER });
  assert.equal(elsewhere.status, 403, elsewhere.text);
  const notesOnDefault = await h.api('GET', '/v1/threads', { token: NOTES_READER });
  assert.equal(notesOnDefault.status, 403, 'a token that lists repositories opens only those');
  const wideOnDefault = await h.api('GET', '/v1/threads', { token: WIDE });
  assert.equal(wideOnDefault.status, 200, 'acme/* names the default repository too');
  assert.equal(entryIds(file('acme/notes', 'plan')).length, 2);
});

test('/mcp/{owner}/{repo} serves that repository to the official SDK client', async () => {
  const connect = async (token, repo) => {
    const client = new Client({ name: 'e2e-repos', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${h.worker.url}/mcp/${repo}`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    return client;
  };
  const client = await connect(WIDE, 'team/one');
  try {
    const said = await client.callTool({ name: 'watercooler_say', arguments: { topic: 'mcp-plan', title: 'via mcp', body: 'hello', agent: 'Codex', code_path: '.', wait_for_commit: true } });
    assert.ok(!said.isError, JSON.stringify(said));
    const listed = await client.callTool({ name: 'watercooler_list_threads', arguments: {} });
    assert.match(listed.content.map((c) => c.text).join('\n'), /mcp-plan/);
  } finally {
    await client.close();
  }
  assert.match(file('team/one', 'mcp-plan'), /Title: via mcp/);
  assert.equal(h.file('mcp-plan'), null);
  await assert.rejects(connect(WRITER, 'team/one'), /403|does not open/);
});

test('a write queued for a named repository lands there after a restart', { timeout: 90000 }, async () => {
  await h.fault({ method: 'PUT', route: 'contents', status: 503, message: 'Service Unavailable', times: 0 });
  const r = await say('/v1/repos/team/one', 'queued', 'survives');
  assert.equal(r.status, 202, r.text);
  await h.restartWorker();
  await h.clearFaults();
  // Only the writer's alarm flushes now: it must remember which repository it serves.
  await waitSynced((method, p) => h.api(method, p.replace('/v1/', '/v1/repos/team/one/'), { token: WIDE }), 60000);
  assert.deepEqual(entryIds(file('team/one', 'queued')), [r.json.entry_id]);
  assert.equal(h.file('queued'), null);
});
