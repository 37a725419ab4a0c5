// Events and waiting: a waiter is answered the moment another agent's say concerns
// it, `for=` keeps only its turns, a wait with nothing new ends empty, a cursor older
// than the events kept is 410, and without a webhook the writer finds outside pushes
// by itself (POLL_SECONDS). The MCP tool watercooler_wait, through the official SDK.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { setup, WRITER } from './harness.mjs';

let h;
before(async () => {
  h = await setup({ vars: { EVENTS_KEEP: '20', POLL_SECONDS: '1' } });
});
after(async () => {
  await h?.close();
});

const cursorNow = async () => {
  const r = await h.api('GET', '/v1/events');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.events, []);
  return r.json.cursor;
};
const say = (topic, agent, title) =>
  h.api('POST', `/v1/threads/${topic}/entries`, { body: { title, body: 'B', agent }, headers: { prefer: 'respond-async' } });

test('a waiter is woken by another agent\'s say, at once and before the commit', async () => {
  await say('wake', 'Codex', 'opening');
  const since = await cursorNow();
  const started = Date.now();
  const waiting = h.api('GET', `/v1/events?since=${since}&wait=20&for=Codex`);
  await new Promise((r) => setTimeout(r, 300));
  const said = await say('wake', 'Claude', 'your turn, Codex');
  assert.equal(said.status, 202, said.text);
  const got = await waiting;
  const waited = Date.now() - started;
  assert.equal(got.status, 200, got.text);
  assert.ok(waited < 5000, `answered in ${waited} ms, not at the end of its wait`);
  assert.equal(got.json.events.length, 1, got.text);
  const e = got.json.events[0];
  assert.equal(e.kind, 'entry');
  assert.equal(e.topic, 'wake');
  assert.equal(e.author, 'Claude (mira)');
  assert.equal(e.title, 'your turn, Codex');
  assert.equal(e.ball, 'Codex (mira)');
  assert.equal(e.entry_id, said.json.entry_id);
  assert.equal(typeof e.at, 'string');
  assert.equal(got.json.cursor, e.cursor);
  assert.ok(Number(got.json.cursor) > Number(since), 'the cursor grows');
  await h.synced(20000);
});

test('for= keeps only what makes it that agent\'s turn; topic= narrows; the cursor moves past the rest', async () => {
  const since = await cursorNow();
  await say('filtered', 'Claude', 'to Codex');       // ball -> Codex
  await say('filtered', 'Codex', 'back to Claude');  // ball -> Claude
  await say('elsewhere', 'Claude', 'another thread'); // ball -> Codex
  const forCodex = await h.api('GET', `/v1/events?since=${since}&for=Codex`);
  assert.deepEqual(forCodex.json.events.map((e) => [e.kind, e.title]), [['thread_created', 'to Codex'], ['thread_created', 'another thread']]);
  const forClaude = await h.api('GET', `/v1/events?since=${since}&for=${encodeURIComponent('Claude (mira)')}`);
  assert.deepEqual(forClaude.json.events.map((e) => e.title), ['back to Claude']);
  const oneTopic = await h.api('GET', `/v1/events?since=${since}&topic=elsewhere`);
  assert.deepEqual(oneTopic.json.events.map((e) => e.title), ['another thread']);
  const nobody = await h.api('GET', `/v1/events?since=${since}&for=Gemini`);
  assert.deepEqual(nobody.json.events, []);
  assert.equal(nobody.json.cursor, forCodex.json.cursor, 'skipped events are passed, not re-read');
  await h.synced(20000);
});

test('a wait with nothing new ends empty with the same cursor; bad parameters are 400', async () => {
  const since = await cursorNow();
  const started = Date.now();
  const r = await h.api('GET', `/v1/events?since=${since}&wait=2&topic=nothing-happens-here`);
  const waited = Date.now() - started;
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { events: [], cursor: since });
  assert.ok(waited >= 1900, `waited ${waited} ms`);
  for (const [query, field] of [['since=abc', 'since'], ['since=1&wait=51', 'wait'], ['since=1&wait=x', 'wait'], ['for=%0A', 'for'], ['topic=..%2Fx', 'topic']]) {
    const bad = await h.api('GET', `/v1/events?${query}`);
    assert.equal(bad.status, 400, `${query}: ${bad.text}`);
    assert.match(bad.json.error.message, new RegExp(field), query);
  }
});

test('a cursor older than the events kept (or from elsewhere) is 410 with the current cursor', async () => {
  const old = await cursorNow();
  for (let i = 0; i < 22; i++) await say('churn', i % 2 ? 'Claude' : 'Codex', `n${i}`);
  const stale = await h.api('GET', `/v1/events?since=${old}`);
  assert.equal(stale.status, 410, stale.text);
  assert.equal(stale.json.error.code, 'stale_cursor');
  const current = await cursorNow();
  assert.equal(stale.json.error.cursor, current);
  const future = await h.api('GET', `/v1/events?since=${Number(current) + 1000}`);
  assert.equal(future.status, 410);
  const fine = await h.api('GET', `/v1/events?since=${Number(current) - 5}`);
  assert.equal(fine.json.events.length, 5);
  await h.synced(60000);
});

test('without a webhook, the writer finds a plain git push while someone waits', async () => {
  await say('polled', 'Claude', 'first');
  await h.synced(20000);
  const since = await cursorNow();
  // The first check (when the wait starts) takes note of the directory.
  const waiting = h.api('GET', `/v1/events?since=${since}&wait=20&topic=polled`);
  await new Promise((r) => setTimeout(r, 500));
  h.pushOutside('polled', (s) => `${s}\n---\n\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nRole: implementer\nType: Note\nTitle: pushed by hand\n\nhello\n`);
  const got = await waiting;
  assert.equal(got.status, 200, got.text);
  assert.deepEqual(got.json.events.map((e) => [e.kind, e.title, e.author, e.pending]), [['entry', 'pushed by hand', 'Codex (bob)', false]]);
  const read = await h.api('GET', '/v1/threads/polled');
  assert.match(read.text, /pushed by hand/, 'and the cache learned the new copy');
});

test('watercooler_wait through the official MCP SDK: a cursor at once, then woken by a say', async () => {
  const client = new Client({ name: 'e2e-wait', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.worker.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${WRITER}` } },
  }));
  try {
    const first = await client.callTool({ name: 'watercooler_wait', arguments: {} });
    assert.equal(first.isError, undefined, JSON.stringify(first));
    const { cursor } = first.structuredContent;
    assert.match(cursor, /^\d+$/);
    const waiting = client.callTool({ name: 'watercooler_wait', arguments: { since: cursor, agent: 'Codex', timeout_s: 20 } });
    await new Promise((r) => setTimeout(r, 300));
    await say('mcp-wait', 'Claude', 'over to you');
    const got = await waiting;
    assert.equal(got.isError, undefined, JSON.stringify(got));
    assert.deepEqual(got.structuredContent.events.map((e) => [e.kind, e.title, e.ball]), [['thread_created', 'over to you', 'Codex (mira)']]);
    assert.match(got.content[0].text, /thread_created on mcp-wait by Claude \(mira\)/);
    const stale = await client.callTool({ name: 'watercooler_wait', arguments: { since: '999999' } });
    assert.equal(stale.isError, true);
    assert.match(stale.content[0].text, /stale|older/);
  } finally {
    await client.close();
  }
  await h.synced(20000);
});
