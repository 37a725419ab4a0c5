// The writer never stalls, never wedges, and never makes a caller wait on GitHub: a
// hung GitHub, a batch over the request budget, a refused topic, a thread at its size
// limit, an outage, polling, oversized bodies and missing topics, against the built
// Worker and the git host's scripted faults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setup, entryIds, route } from './harness.mjs';

const WAIT_MS = 4000;
let h;
before(async () => {
  h = await setup({
    vars: {
      GITHUB_TIMEOUT_SECONDS: '2',
      WRITE_WAIT_SECONDS: String(WAIT_MS / 1000),
      WRITE_SUBREQUEST_BUDGET: '10',
      MAX_THREAD_BYTES: '6000',
      NOT_FOUND_CACHE_SECONDS: '10',
      // Mutating requests 100 ms apart (GitHub wants about 1 s): keeps the burst short.
      WRITE_PACING_MS: '100',
    },
  });
});
after(async () => {
  await h?.close();
});

const say = (topic, body = {}) => h.api('POST', `/v1/threads/${topic}/entries`, { body: { title: 'T', body: 'B', ...body } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const synced = (ms) => h.synced(ms);

/** A write, and how long its caller waited. */
async function timed(topic, body) {
  const t0 = Date.now();
  const r = await say(topic, body);
  return { r, ms: Date.now() - t0 };
}

test('GitHub holding a PUT past the timeout: the caller is answered by its deadline, and the entry lands once', async () => {
  await say('hung');
  await synced(10000);
  // GitHub takes the write, then holds its answer for 20 s.
  await h.fault({ method: 'PUT', route: 'contents', delay_ms: 20000, mode: 'after', times: 1 });
  const { r, ms } = await timed('hung', { title: 'held' });
  assert.ok([201, 202].includes(r.status), r.text);
  assert.ok(ms < WAIT_MS + 1500, `the caller waited ${ms} ms`);
  await synced(30000);
  const ids = entryIds(h.file('hung'));
  assert.deepEqual(ids.filter((id) => id === r.json.entry_id), [r.json.entry_id], 'landed exactly once');
  assert.equal(ids.length, 2);
});

/** Makes the next flush fail its first read, so that what arrives meanwhile goes out
 * together as one group commit. */
const groupUp = () => h.fault({ method: 'GET', route: 'contents', status: 503, message: 'Service Unavailable', times: 1 });

test('a flush slower than the caller\'s deadline does not hold the caller', async () => {
  // Every Git Data request takes 1.5 s: a group commit of two new threads takes more
  // than the 4 s a caller waits.
  await groupUp();
  await h.fault({ route: 'git/refs', delay_ms: 1500, times: 0 });
  await h.fault({ route: 'git/trees', delay_ms: 1500, times: 0 });
  await h.fault({ route: 'git/commits', delay_ms: 1500, times: 0 });
  try {
    const results = await Promise.all([timed('slow-a'), timed('slow-b')]);
    for (const { r, ms } of results) {
      assert.ok([201, 202].includes(r.status), r.text);
      assert.ok(ms < WAIT_MS + 1500, `a caller waited ${ms} ms`);
    }
    await synced(60000);
  } finally {
    await h.clearFaults();
  }
  assert.equal(entryIds(h.file('slow-a')).length, 1);
  assert.equal(entryIds(h.file('slow-b')).length, 1);
});

test('a burst of 120 says to 120 new topics with a budget of 10 requests: flushes split, all land once', async () => {
  await synced(10000);
  const commits = h.commitCount();
  await h.resetStats();
  const results = await Promise.all(Array.from({ length: 120 }, (_, i) => say(`burst-${i}`, { title: `b${i}` })));
  for (const r of results) assert.ok([201, 202].includes(r.status), r.text);
  await synced(180000);
  results.forEach((r, i) => assert.deepEqual(entryIds(h.file(`burst-${i}`)), [r.json.entry_id], `burst-${i}`));
  const made = h.commitCount() - commits;
  const s = await h.stats();
  process.stderr.write(`120 new topics, budget 10: ${made} commits, ${s.total} GitHub requests, ${s.mutating} mutating\n`);
  // At most 4 new topics fit a flush of 10 requests (4 reads, a 5-request commit, a spare).
  assert.ok(made >= 30, `${made} commits`);
  assert.equal(s.pacing_refused, 0);
});

test('a topic GitHub refuses (403, not a rate limit) is set aside; the others commit and spend no attempts', async () => {
  for (const t of ['refused-topic', 'free-1', 'free-2']) await say(t);
  await synced(15000);
  await h.fault({ method: 'PUT', route: 'contents', path_contains: 'refused-topic', status: 403, message: 'Resource not accessible by integration', times: 0 });
  try {
    const refused = await say('refused-topic', { title: 'refused' });
    assert.equal(refused.status, 202, refused.text);
    const free = [await say('free-1', { title: 'ok' }), await say('free-2', { title: 'ok' })];
    for (const r of free) assert.equal(r.status, 201, r.text);
    const s = (await h.api('GET', '/v1/sync')).json;
    assert.equal(s.pending, 1);
    assert.match(s.last_error, /Resource not accessible/);
  } finally {
    await h.clearFaults();
  }
  const retried = await h.api('POST', '/v1/sync/retry');
  assert.equal(retried.status, 200, retried.text);
  await synced(15000);
  assert.equal(entryIds(h.file('refused-topic')).length, 2);
  assert.equal(entryIds(h.file('free-1')).length, 2);
});

test('a group commit refused once: its topics are written one by one, and all land', async () => {
  await synced(10000);
  await groupUp();
  await h.fault({ method: 'POST', route: 'git/trees', status: 422, message: 'Invalid tree', times: 1 });
  await h.resetStats();
  try {
    const results = await Promise.all(['group-a', 'group-b', 'group-c'].map((t) => say(t)));
    for (const r of results) assert.ok([201, 202].includes(r.status), r.text);
    await synced(30000);
  } finally {
    await h.clearFaults();
  }
  const s = await h.stats();
  assert.equal(s.by_status['422'], 1, 'the group was refused');
  assert.ok(route(s, 'PUT contents') >= 2, 'then written one topic at a time');
  for (const t of ['group-a', 'group-b', 'group-c']) assert.equal(entryIds(h.file(t)).length, 1, t);
});

test('an append past MAX_THREAD_BYTES is 413 thread_too_large; the thread can still be closed', async () => {
  await say('big', { body: 'x'.repeat(3000) });
  const commits = h.commitCount();
  const r = await say('big', { body: 'y'.repeat(3000) });
  assert.equal(r.status, 413, r.text);
  assert.equal(r.json.error.code, 'thread_too_large');
  assert.match(r.json.error.message, /close this thread .* continue in a new one/);
  assert.equal(h.commitCount(), commits);
  const closed = await h.api('PATCH', '/v1/threads/big', { body: { status: 'CLOSED' } });
  assert.equal(closed.status, 200, closed.text);
  assert.match(h.file('big'), /^Status: CLOSED$/m);
});

test('polling GET /v1/sync 20 times a second does not hold back queued writes', async () => {
  await synced(10000);
  await h.fault({ method: 'PUT', route: 'contents', status: 503, message: 'Service Unavailable', times: 3 });
  const r = await say('polled');
  const id = r.json.entry_id;
  let landed = false;
  const deadline = Date.now() + 45000;
  while (Date.now() < deadline && !landed) {
    await h.api('GET', '/v1/sync');
    landed = entryIds(h.file('polled')).includes(id);
    await sleep(50);
  }
  assert.ok(landed, 'the queued write landed while the status was polled');
  await synced(10000);
});

test('during an outage, a new thread reads back and lists as pending, then lands', async () => {
  await synced(10000);
  await say('outage-old');
  await synced(10000);
  for (const r of ['contents', 'git/refs', 'git/trees', 'git/commits']) {
    await h.fault({ route: r, status: 503, message: 'Service Unavailable', times: 0 });
  }
  try {
    const created = await say('outage-new', { title: 'born offline' });
    assert.equal(created.status, 202, created.text);
    const added = await say('outage-old', { title: 'added offline' });
    assert.equal(added.status, 202, added.text);
    const md = await h.api('GET', '/v1/threads/outage-new');
    assert.equal(md.status, 200, md.text);
    assert.equal(md.headers.get('x-watercooler-pending'), '1');
    assert.match(md.text, /Title: born offline/);
    const j = await h.api('GET', '/v1/threads/outage-new?format=json');
    assert.deepEqual(j.json.entries.map((e) => e.pending), [true]);
    // Unless a recent listing already proved the topic new, the reader is told why.
    if (j.json.warnings.length) assert.match(j.json.warnings[0], /GitHub cannot be reached/);
    const list = (await h.api('GET', '/v1/threads')).json.threads;
    const byTopic = Object.fromEntries(list.map((t) => [t.topic, t]));
    assert.equal(byTopic['outage-new']?.pending, 1, JSON.stringify(list));
    assert.equal(byTopic['outage-new'].entries, 1);
    assert.equal(byTopic['outage-old']?.pending, 1);
    assert.equal(byTopic['outage-old'].entries, 2);
  } finally {
    await h.clearFaults();
  }
  await h.api('POST', '/v1/sync/now');
  await synced(30000);
  assert.equal(entryIds(h.file('outage-new')).length, 1);
  const listed = (await h.api('GET', '/v1/threads')).json.threads.find((t) => t.topic === 'outage-new');
  assert.equal(listed.pending, 0);
});

test('oversized bodies are refused with 413 before auth and before they are read, on REST and /mcp', async () => {
  const big = JSON.stringify({ title: 'T', body: 'x'.repeat(300 * 1024) });
  for (const [p, token] of [['/v1/threads/huge/entries', undefined], ['/mcp', undefined], ['/mcp', null], ['/v1/threads/huge/entries', null]]) {
    const r = await h.api('POST', p, { raw: big, token, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } });
    assert.equal(r.status, 413, `${p} ${token}: ${r.text}`);
    assert.equal(r.json.error.code, 'payload_too_large');
  }
  // Streamed in chunks, without a Content-Length: refused once the cap is passed. (On
  // a connection of its own: the server answers before the upload ends.)
  const status = await new Promise((resolve, reject) => {
    const req = http.request(`${h.worker.url}/mcp`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    const more = () => {
      while (sent < 8) {
        sent += 1;
        if (!req.write(chunk)) return req.once('drain', more);
      }
      req.end();
    };
    more();
  });
  assert.equal(status, 413);
  assert.equal(h.file('huge'), null);
});

test('50 reads of missing topics cost at most a few GitHub requests', async () => {
  await h.resetStats();
  for (let i = 0; i < 50; i++) {
    const r = await h.api('GET', `/v1/threads/missing-${i}`);
    assert.equal(r.status, 404, r.text);
    assert.equal(r.json.error.code, 'thread_not_found');
  }
  const s = await h.stats();
  assert.ok(s.total <= 3, `${s.total} GitHub requests: ${JSON.stringify(s.by_route)}`);
  // A thread this service creates is found at once, however recent the "not found".
  assert.equal((await say('missing-7')).status, 201);
  assert.equal((await h.api('GET', '/v1/threads/missing-7')).status, 200);
  assert.ok(route(await h.stats(), 'GET contents') <= 3);
});

test('a thread over the limit written elsewhere (over GitHub\'s 1 MB for JSON) stays readable and listable; appends are 413', async () => {
  let content = '# huge-outside — Thread\nStatus: OPEN\nBall: Codex (bob)\nTopic: huge-outside\nCreated: 2026-03-02T09:00:00Z\n';
  for (let i = 0; content.length < 1_100_000; i++) {
    content += `\n---\nEntry: Codex (bob) 2026-03-02T09:00:00Z\nRole: implementer\nType: Note\nTitle: part ${i}\n\n${'text '.repeat(400)}\n`;
  }
  h.pushNew('huge-outside', content);
  // A file pushed with git is seen once "not found" is no longer believed (10 s here).
  let md;
  for (const until = Date.now() + 12000; Date.now() < until; await sleep(500)) {
    md = await h.api('GET', '/v1/threads/huge-outside');
    if (md.status !== 404) break;
  }
  assert.equal(md.status, 200, md.text.slice(0, 200));
  assert.equal(md.text, content);
  const j = await h.api('GET', '/v1/threads/huge-outside?format=json');
  assert.equal(j.json.entries.length, (content.match(/^Entry: /gm) ?? []).length);
  const listed = (await h.api('GET', '/v1/threads')).json.threads.find((t) => t.topic === 'huge-outside');
  assert.equal(listed?.entries, j.json.entries.length);
  const r = await say('huge-outside');
  assert.equal(r.status, 413, r.text);
  assert.equal(r.json.error.code, 'thread_too_large');
  const closed = await h.api('PATCH', '/v1/threads/huge-outside', { body: { status: 'CLOSED' } });
  assert.equal(closed.status, 200, closed.text);
});

// Last: it leaves GitHub's 60 s wait in place.
test('sync/now during a 60 s retry-after sends nothing, and says when it will try', async () => {
  await synced(10000);
  await h.fault({ method: 'PUT', route: 'contents', status: 403, message: 'You have exceeded a secondary rate limit', headers: { 'retry-after': '60' }, times: 1 });
  const r = await say('patient');
  assert.equal(r.status, 202, r.text);
  await h.resetStats();
  const now = await h.api('POST', '/v1/sync/now');
  assert.equal(now.status, 200, now.text);
  assert.equal(now.json.state, 'failing');
  assert.match(now.json.message, /GitHub asked for a wait .* another (5\d|60) s/);
  assert.ok(now.json.github_wait_until_ms > Date.now() + 50000, now.text);
  await sleep(2000);
  assert.equal((await h.stats()).mutating, 0, 'no mutating request during GitHub\'s wait');
  assert.equal(entryIds(h.file('patient')).length, 0);
});
