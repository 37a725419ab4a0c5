// Full-text search: entries written through the service are found at once, entries
// pushed with plain git once the git host's webhook tells the Worker, bad query
// syntax is a clear 400, and the first search backfills 200 threads pushed before
// it, a subrequest budget at a time, saying whether the index is complete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { setup, route, WRITER, READER } from './harness.mjs';

const SECRET = 'e2e-search-webhook';
const BUDGET = 40;
let h;
before(async () => {
  h = await setup({ vars: { GITHUB_WEBHOOK_SECRET: SECRET, WRITE_SUBREQUEST_BUDGET: String(BUDGET) } });
});
after(async () => {
  await h?.close();
});

const thread = (topic, title, body) =>
  `# ${topic} — Thread\nStatus: OPEN\nBall: Codex (bob)\n\n---\n\nEntry: Claude (bob) 2026-01-01T00:00:00Z\nRole: planner\nType: Note\nTitle: ${title}\n\n${body}\n`;
const search = (query, token) => h.api('GET', `/v1/search?${query}`, token ? { token } : {});

test('the first search backfills 200 threads pushed with git, within the budget per invocation', async () => {
  const files = {};
  for (let i = 0; i < 200; i++) files[`old-${String(i).padStart(3, '0')}`] = thread(`old-${i}`, `Old note ${i}`, `needle${i} in the haystack`);
  h.pushMany(files);
  await h.resetStats();
  const first = await search('q=haystack&limit=50');
  assert.equal(first.status, 200, first.text);
  const spent = route(await h.stats(), 'GET contents');
  assert.equal(first.json.complete, false, 'not everything fits one invocation');
  assert.ok(spent <= BUDGET, `the first search made ${spent} GitHub reads (budget ${BUDGET})`);
  assert.ok(first.json.results.length > 0, 'what is indexed is found already');
  // The writer's alarm goes on with the rest, without further searches.
  const deadline = Date.now() + 60000;
  let last = first;
  while (!last.json.complete && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    last = await search('q=needle199');
  }
  assert.equal(last.json.complete, true, 'the backfill finished');
  assert.deepEqual(last.json.results.map((r) => [r.topic, r.index, r.title, r.author]), [['old-199', 0, 'Old note 199', 'Claude (bob)']]);
  assert.match(last.json.results[0].snippet, /\*\*needle199\*\*/);
  const all = await search('q=haystack&limit=50');
  assert.equal(all.json.results.length, 50);
});

test('an entry written through the service is found at once, before its commit; filters narrow', async () => {
  const said = await h.api('POST', '/v1/threads/findme/entries', {
    body: { title: 'Zebra rollout', body: 'We ship the zebra crossing on Friday.', agent: 'Codex' },
    headers: { prefer: 'respond-async' },
  });
  assert.equal(said.status, 202, said.text);
  const found = await search('q=zebra', READER);
  assert.equal(found.status, 200, found.text);
  const hit = found.json.results.find((r) => r.entry_id === said.json.entry_id);
  assert.ok(hit, found.text);
  assert.deepEqual([hit.topic, hit.index, hit.author, hit.title], ['findme', 0, 'Codex (mira)', 'Zebra rollout']);
  assert.match(hit.snippet, /\*\*[Zz]ebra\*\*/);
  assert.equal((await search('q=zebra&agent=Claude')).json.results.length, 0);
  assert.equal((await search('q=zebra&agent=Codex')).json.results.length, 1);
  assert.equal((await search('q=zebra&topic=elsewhere')).json.results.length, 0);
  assert.equal((await search('q=zebra&since=2099-01-01T00:00:00Z')).json.results.length, 0);
  assert.equal((await search('q=%22zebra%20crossing%22')).json.results.length, 1, 'a phrase');
  assert.equal((await search('q=zeb*')).json.results.length, 1, 'a prefix');
  await h.synced(20000);
  assert.equal((await search('q=zebra')).json.results.length, 1, 'once committed, still once');
});

test('an entry pushed with plain git is found once the git host\'s webhook tells the Worker', async () => {
  await h.admin.call('PUT', 'webhook', { url: `${h.worker.url}/webhooks/github`, secret: SECRET });
  try {
    await h.api('GET', '/v1/threads/findme');
    h.pushOutside('findme', (s) => `${s}\n---\n\nEntry: Claude (bob) 2026-03-02T10:00:00Z\nRole: critic\nType: Note\nTitle: From a laptop\n\nThe okapi objection.\n`);
    const deadline = Date.now() + 10000;
    let found;
    do {
      await new Promise((r) => setTimeout(r, 200));
      found = await search('q=okapi');
    } while (found.json.results.length === 0 && Date.now() < deadline);
    assert.deepEqual(found.json.results.map((r) => [r.topic, r.index, r.title]), [['findme', 1, 'From a laptop']]);
  } finally {
    await h.admin.call('PUT', 'webhook', { url: null });
  }
});

test('bad query syntax is a 400 that says what to write; so is a missing query', async () => {
  for (const q of ['q=%22unclosed', 'q=AND', 'q=zebra%20NOT']) {
    const r = await search(q);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.json.error.code, 'invalid_query', r.text);
    assert.match(r.json.error.message, /phrase/);
  }
  const missing = await search('topic=findme');
  assert.equal(missing.status, 400);
  assert.match(missing.json.error.message, /^q: is required/);
  for (const q of ['q=x&limit=0', 'q=x&since=yesterday', 'q=x&topic=..%2Fetc']) {
    assert.equal((await search(q)).status, 400, q);
  }
});

test('watercooler_search through the official MCP SDK', async () => {
  const client = new Client({ name: 'e2e-search', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.worker.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${WRITER}` } },
  }));
  try {
    const r = await client.callTool({ name: 'watercooler_search', arguments: { query: 'zebra', limit: 5 } });
    assert.equal(r.isError, undefined, JSON.stringify(r));
    assert.equal(r.structuredContent.complete, true);
    assert.equal(r.structuredContent.results[0].topic, 'findme');
    assert.match(r.content[0].text, /findme #0 by Codex \(mira\)/);
    const bad = await client.callTool({ name: 'watercooler_search', arguments: { query: '"unclosed' } });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /query: the index cannot read this query/);
  } finally {
    await client.close();
  }
});
