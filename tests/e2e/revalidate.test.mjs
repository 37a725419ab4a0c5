// With CACHE_TTL_SECONDS=0 every read and listing revalidates: a 304 when nothing
// changed, and one GET per changed thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, route } from './harness.mjs';

let h;
before(async () => {
  h = await setup({ vars: { CACHE_TTL_SECONDS: '0' } });
});
after(async () => {
  await h?.close();
});

const thread = (topic, status) => `# ${topic} — Thread\nStatus: ${status}\nBall: Codex (bob)\nTopic: ${topic}\n`;

test('a stale read is revalidated with If-None-Match and a 304', async () => {
  h.pushNew('stale', thread('stale', 'OPEN'));
  let r = await h.api('GET', '/v1/threads/stale');
  assert.equal(r.headers.get('x-watercooler-cache'), 'miss');
  await h.resetStats();
  r = await h.api('GET', '/v1/threads/stale');
  assert.equal(r.headers.get('x-watercooler-cache'), 'revalidated');
  let s = await h.stats();
  assert.equal(s.total, 1);
  assert.equal(s.not_modified, 1);
  h.pushOutside('stale', (c) => c.replace('OPEN', 'DONE'));
  r = await h.api('GET', '/v1/threads/stale');
  assert.equal(r.headers.get('x-watercooler-cache'), 'refreshed');
  assert.match(r.text, /Status: DONE/);
});

test('listing: one 304 when nothing changed, plus one GET per changed thread', async () => {
  for (const t of ['l1', 'l2', 'l3', 'l4']) h.pushNew(t, thread(t, 'OPEN'));
  let r = await h.api('GET', '/v1/threads');
  assert.equal(r.status, 200, r.text);
  const topics = r.json.threads.map((t) => t.topic);
  for (const t of ['l1', 'l2', 'l3', 'l4']) assert.ok(topics.includes(t));
  await h.resetStats();
  r = await h.api('GET', '/v1/threads');
  let s = await h.stats();
  assert.equal(s.total, 1, JSON.stringify(s));
  assert.equal(s.not_modified, 1);
  h.pushOutside('l2', (c) => c.replace('OPEN', 'CLOSED'));
  await h.resetStats();
  r = await h.api('GET', '/v1/threads?open_only=true');
  s = await h.stats();
  assert.equal(s.total, 2, JSON.stringify(s));
  assert.equal(route(s, 'GET contents'), 2);
  assert.ok(!r.json.threads.some((t) => t.topic === 'l2'));
});
