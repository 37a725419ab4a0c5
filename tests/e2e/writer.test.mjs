// Coordinated writes: the BranchWriter Durable Object journals, paces and
// group-commits every write. The git host refuses mutating requests that come less
// than 900 ms apart, as GitHub's secondary limit would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, entryIds } from './harness.mjs';

let h;
before(async () => {
  h = await setup();
  await h.pacing(900);
});
after(async () => {
  await h?.close();
});

const say = (topic, body = {}) => h.api('POST', `/v1/threads/${topic}/entries`, { body: { title: 'T', body: 'B', ...body } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const synced = (ms) => h.synced(ms);

test('50 concurrent says over 5 threads: each lands once, in few commits, none refused by pacing', async () => {
  for (let t = 0; t < 5; t++) await say(`burst-${t}`, { title: 'seed' });
  await synced(10000);
  await h.resetStats();
  const commitsBefore = h.commitCount();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => say(`burst-${i % 5}`, { title: `m${i}`, agent: i % 2 ? 'Codex' : 'Claude' })));
  for (const r of results) assert.ok([201, 202].includes(r.status), r.text);
  await synced(60000);
  for (let t = 0; t < 5; t++) {
    const ids = entryIds(h.file(`burst-${t}`));
    assert.equal(ids.length, 11, `burst-${t}`);
    assert.equal(new Set(ids).size, 11);
  }
  results.forEach((r, i) => {
    const topic = `burst-${i % 5}`;
    assert.ok(entryIds(h.file(topic)).includes(r.json.entry_id), `${r.json.entry_id} in ${topic}`);
  });
  const s = await h.stats();
  const commits = h.commitCount() - commitsBefore;
  process.stderr.write(`50 says: ${commits} commits, ${s.mutating} mutating requests, ${s.total} requests\n`);
  assert.ok(commits <= 10, `${commits} commits for 50 says`);
  assert.ok(s.mutating <= 25, `${s.mutating} mutating requests for 50 says`);
  assert.equal(s.pacing_refused, 0, 'no request refused by the pacing rule');
  assert.equal(s.by_status['403'] ?? 0, 0);
});

test('a 403 secondary limit with retry-after: the pipeline waits that long, then resumes', async () => {
  await say('secondary');
  await synced(10000);
  await h.fault({ method: 'PUT', route: 'contents', status: 403, message: 'You have exceeded a secondary rate limit', headers: { 'retry-after': '3' }, times: 1 });
  const t0 = Date.now();
  const r = await say('secondary', { title: 'after the limit' });
  // Waited out within the caller's 5 s, or queued and landed right after.
  if (r.status === 202) await synced(15000);
  else assert.equal(r.status, 201, r.text);
  assert.ok(Date.now() - t0 >= 2900, `resumed after ${Date.now() - t0} ms`);
  assert.equal(entryIds(h.file('secondary')).length, 2);
});

test('outside commits during a queue are preserved and the entries re-applied', async () => {
  await say('outside-q');
  await synced(10000);
  await h.fault({ method: 'PUT', route: 'contents', status: 429, message: 'slow down', headers: { 'retry-after': '2' }, times: 1 });
  const queued = await Promise.all([say('outside-q', { title: 'q1' }), say('outside-q', { title: 'q2' })]);
  h.pushOutside('outside-q', (s) => `${s}\n---\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nRole: critic\nType: Note\nTitle: pushed\n\nBy hand, mid-queue.\n`);
  await synced(20000);
  const file = h.file('outside-q');
  assert.match(file, /By hand, mid-queue\./);
  const ids = entryIds(file);
  for (const r of queued) assert.equal(ids.filter((id) => id === r.json.entry_id).length, 1);
});

test('the same Entry-ID submitted twice, even at once, is one entry', async () => {
  const id = '01KE6Z3V8G0000000000000XYZ';
  const [a, b] = await Promise.all([say('dup-id', { entry_id: id }), say('dup-id', { entry_id: id })]);
  assert.ok([200, 201].includes(a.status) && [200, 201].includes(b.status), `${a.text} ${b.text}`);
  const c = await say('dup-id', { entry_id: id });
  assert.equal(c.status, 200);
  assert.equal(c.json.unchanged, true);
  assert.deepEqual(entryIds(h.file('dup-id')), [id]);
});

test('GitHub down for 30 s: writes are queued and readable, then all land once', { timeout: 150000 }, async () => {
  await say('outage');
  await synced(10000);
  const before = h.commitCount();
  await h.fault({ status: 503, message: 'Service Unavailable', times: 0 });
  const downAt = Date.now();
  const writes = await Promise.all([say('outage', { title: 'w1' }), say('outage', { title: 'w2' }), say('outage-new', { title: 'w3' })]);
  for (const r of writes) {
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.queued, true);
  }
  assert.equal(h.commitCount(), before);
  const sync = (await h.api('GET', '/v1/sync')).json;
  assert.equal(sync.state, 'failing');
  assert.equal(sync.pending, 3);
  // Read-your-writes while GitHub is down: from the cache plus the journal.
  const j = await h.api('GET', '/v1/threads/outage?format=json');
  assert.equal(j.status, 200, j.text);
  assert.deepEqual(j.json.entries.slice(-2).map((e) => [e.title, e.pending]), [['w1', true], ['w2', true]]);
  await sleep(Math.max(0, 30000 - (Date.now() - downAt)));
  await h.clearFaults();
  await synced(90000);
  for (const [topic, n] of [['outage', 3], ['outage-new', 1]]) {
    const ids = entryIds(h.file(topic));
    assert.equal(ids.length, n, topic);
    assert.equal(new Set(ids).size, n);
  }
});

test('queued writes survive a restart of the dev server and land', { timeout: 120000 }, async () => {
  await say('restart');
  await synced(10000);
  await h.fault({ method: 'PUT', route: 'contents', status: 503, message: 'Service Unavailable', times: 0 });
  const r = await say('restart', { title: 'survives' });
  assert.equal(r.status, 202, r.text);
  await h.restartWorker();
  await h.clearFaults();
  await synced(60000);
  assert.deepEqual(entryIds(h.file('restart')).slice(1), [r.json.entry_id]);
});

test('Prefer: respond-async answers 202 once the write is durable; the commit follows, once', async () => {
  await say('async-ack', { title: 'seed' });
  await synced(10000);
  const before = h.commitCount();
  const r = await h.api('POST', '/v1/threads/async-ack/entries', { body: { title: 'durable', body: 'B' }, headers: { prefer: 'respond-async' } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.queued, true);
  assert.equal(r.headers.get('preference-applied'), 'respond-async');
  const id = r.json.entry_id;
  // Readers see it at once, marked pending.
  const j = await h.api('GET', '/v1/threads/async-ack?format=json');
  assert.deepEqual(j.json.entries.at(-1).entry_id, id);
  // Nobody waits, yet it lands (the writer's alarm), exactly once.
  await synced(15000);
  assert.equal(h.commitCount(), before + 1);
  assert.equal(entryIds(h.file('async-ack')).filter((x) => x === id).length, 1);
  // The same entry_id again, durable: the same write, not a second one.
  const again = await h.api('POST', '/v1/threads/async-ack/entries', { body: { title: 'durable', body: 'B', entry_id: id }, headers: { prefer: 'respond-async' } });
  assert.ok([200, 202].includes(again.status), again.text);
  await synced(15000);
  assert.equal(entryIds(h.file('async-ack')).filter((x) => x === id).length, 1);
});
