// The REST API against the built Worker (workerd, local R2) and the local git host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, entryIds, route, READER, WRITER } from './harness.mjs';

let h;
before(async () => {
  h = await setup();
});
after(async () => {
  await h?.close();
});

const say = (topic, body = {}, opts = {}) =>
  h.api('POST', `/v1/threads/${topic}/entries`, { body: { title: 'T', body: 'B', ...body }, ...opts });

test('health needs no token', async () => {
  const r = await h.api('GET', '/health', { token: null });
  assert.equal(r.status, 200);
  assert.equal(r.json.ok, true);
});

test('a say creates the thread with a byte-exact file and commit message', async () => {
  const r = await say('first-thread', { title: 'Hello', body: 'First words.\n\n', role: 'planner', type: 'Plan' });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.entry_id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.match(r.json.commit_sha, /^[0-9a-f]{40}$/);
  const file = h.file('first-thread');
  const ts = file.match(/^Created: (\S+)$/m)[1];
  assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const entryTs = file.match(/^Entry: Claude \(mira\) (\S+)$/m)[1];
  assert.equal(
    file,
    `# first-thread — Thread\nStatus: OPEN\nBall: Codex (mira)\nTopic: first-thread\nCreated: ${ts}\n\n` +
      `---\nEntry: Claude (mira) ${entryTs}\nRole: planner\nType: Plan\nTitle: Hello\n\nFirst words.\n` +
      `<!-- Entry-ID: ${r.json.entry_id} -->\n`,
  );
  assert.equal(h.git('rev-parse', 'main').trim(), r.json.commit_sha);
  assert.equal(
    h.git('log', '-1', '--format=%B', 'main').trim(),
    `Claude (mira): Hello (first-thread)\n\nWatercooler-Entry-ID: ${r.json.entry_id}\nWatercooler-Topic: first-thread`,
  );
});

test('reads: a miss costs one GET, then hits cost none; our own writes are read for free', async () => {
  h.pushNew('pushed-by-hand', '# pushed-by-hand — Thread\nStatus: OPEN\nBall: Codex (bob)\n');
  await h.resetStats();
  let r = await h.api('GET', '/v1/threads/pushed-by-hand');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('x-watercooler-cache'), 'miss');
  let s = await h.stats();
  assert.equal(s.total, 1);
  assert.equal(route(s, 'GET contents'), 1);
  await h.resetStats();
  r = await h.api('GET', '/v1/threads/pushed-by-hand');
  assert.equal(r.headers.get('x-watercooler-cache'), 'hit');
  assert.equal((await h.stats()).total, 0);

  await say('cache-topic');
  await h.resetStats();
  r = await h.api('GET', '/v1/threads/cache-topic');
  assert.equal(r.headers.get('x-watercooler-cache'), 'hit');
  assert.equal(r.text, h.file('cache-topic'));
  assert.equal((await h.stats()).total, 0);

  r = await h.api('GET', '/v1/threads/release-notes');
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, 'thread_not_found');
});

test('markdown reads support ETag and If-None-Match; json reads parse entries', async () => {
  const w = await say('etag-topic', { title: 'One', body: 'first' });
  const r = await h.api('GET', '/v1/threads/etag-topic');
  const etag = r.headers.get('etag');
  assert.equal(etag, `"${w.json.blob_sha}"`);
  const again = await h.api('GET', '/v1/threads/etag-topic', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  const j = await h.api('GET', '/v1/threads/etag-topic?format=json');
  assert.equal(j.json.status, 'OPEN');
  assert.equal(j.json.ball, 'Codex (mira)');
  assert.equal(j.json.entries.length, 1);
  assert.equal(j.json.entries[0].title, 'One');
  assert.equal(j.json.entries[0].entry_id, w.json.entry_id);
  assert.equal(j.json.entries[0].author, 'Claude (mira)');
});

test('a warm append is exactly one PUT', async () => {
  await say('warm');
  await h.resetStats();
  const r = await say('warm', { agent: 'Codex' });
  assert.equal(r.status, 201);
  const s = await h.stats();
  assert.equal(s.total, 1);
  assert.equal(route(s, 'PUT contents'), 1);
});

test('an outside push between cache fill and append: both survive, the entry lands once', async () => {
  const first = await say('outside');
  h.pushOutside('outside', (s) => `${s}\n---\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nRole: critic\nType: Note\nTitle: From git\n\nPushed by hand.\n`);
  await h.resetStats();
  const second = await say('outside', { title: 'After' });
  assert.equal(second.status, 201, second.text);
  const file = h.file('outside');
  assert.match(file, /Pushed by hand\./);
  assert.deepEqual(entryIds(file), [first.json.entry_id, second.json.entry_id]);
  const s = await h.stats();
  assert.equal(route(s, 'PUT contents'), 2, 'one stale PUT, one good');
  assert.equal(route(s, 'GET contents'), 1, 'one re-read');
});

test('scripted 409 "does not match": re-read and re-apply', async () => {
  await say('c409a');
  await h.fault({ method: 'PUT', route: 'contents', status: 409, message: 'threads/c409a.md does not match 1234', times: 1 });
  await h.resetStats();
  const r = await say('c409a', { title: 'second' });
  assert.equal(r.status, 201, r.text);
  const s = await h.stats();
  assert.equal(route(s, 'PUT contents'), 2);
  assert.equal(route(s, 'GET contents'), 1);
  assert.equal(entryIds(h.file('c409a')).length, 2);
});

test('scripted 409 "is at ... but expected": retried without a re-read', async () => {
  await say('c409b');
  await h.fault({ method: 'PUT', route: 'contents', status: 409, message: 'is at 1111 but expected 2222', times: 2 });
  await h.resetStats();
  const r = await say('c409b', { title: 'second' });
  assert.equal(r.status, 201, r.text);
  const s = await h.stats();
  assert.equal(route(s, 'PUT contents'), 3);
  assert.equal(route(s, 'GET contents'), 0);
  assert.equal(entryIds(h.file('c409b')).length, 2);
});

test('scripted 422 sha missing: read, then update', async () => {
  await say('c422');
  await h.fault({ method: 'PUT', route: 'contents', status: 422, message: 'Invalid request.\n\n"sha" wasn\'t supplied.', times: 1 });
  const r = await say('c422', { title: 'second' });
  assert.equal(r.status, 201, r.text);
  assert.equal(entryIds(h.file('c422')).length, 2);
});

for (const status of [403, 429]) {
  test(`scripted ${status} with retry-after: waited out, then written`, async () => {
    await say(`rate${status}`);
    await h.fault({
      method: 'PUT',
      route: 'contents',
      status,
      message: 'You have exceeded a secondary rate limit',
      headers: { 'retry-after': '1' },
      times: 1,
    });
    const t0 = Date.now();
    const r = await say(`rate${status}`, { title: 'second' });
    assert.equal(r.status, 201, r.text);
    assert.ok(Date.now() - t0 >= 950, 'waited for retry-after');
    assert.equal(entryIds(h.file(`rate${status}`)).length, 2);
  });
}

test('a rate limit pauses the pipeline: the write is queued (202), readable, and lands once GitHub\'s wait is over', async () => {
  await say('ratelong');
  const before = h.commitCount();
  await h.fault({ method: 'PUT', route: 'contents', status: 429, message: 'API rate limit exceeded', headers: { 'retry-after': '7' }, times: 1 });
  const r = await say('ratelong', { title: 'second' });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.queued, true);
  assert.match(r.json.entry_id, /^[0-9A-Z]{26}$/);
  assert.equal(h.commitCount(), before);
  const sync = (await h.api('GET', '/v1/sync')).json;
  assert.equal(sync.state, 'failing');
  assert.equal(sync.pending, 1);
  assert.match(sync.last_error, /rate limit/);
  const j = await h.api('GET', '/v1/threads/ratelong?format=json');
  assert.equal(j.headers.get('x-watercooler-pending'), '1');
  assert.deepEqual(j.json.entries.map((e) => e.pending), [false, true]);
  await h.clearFaults();
  // sync/now keeps GitHub's wait: nothing is sent, and the answer says when it will be.
  await h.resetStats();
  const early = await h.api('POST', '/v1/sync/now');
  assert.equal(early.json.state, 'failing', early.text);
  assert.match(early.json.message, /GitHub asked for a wait/);
  assert.ok(early.json.next_attempt_at_ms >= Date.now(), early.text);
  assert.equal((await h.stats()).mutating, 0);
  await new Promise((res) => setTimeout(res, Math.max(0, early.json.github_wait_until_ms - Date.now()) + 100));
  const now = await h.api('POST', '/v1/sync/now');
  assert.equal(now.json.state, 'synced', now.text);
  assert.deepEqual(entryIds(h.file('ratelong')).slice(1), [r.json.entry_id]);
});

test('5xx before the write: retried; 5xx after a landed write (a lost answer): not duplicated, and 201 with the commit that holds it', async () => {
  await say('c5xx');
  await h.fault({ method: 'PUT', route: 'contents', status: 502, message: 'Bad Gateway', times: 2 });
  let r = await say('c5xx', { title: 'second' });
  assert.equal(r.status, 201, r.text);
  await h.fault({ method: 'PUT', route: 'contents', status: 500, message: 'Server Error', times: 1, mode: 'after' });
  r = await say('c5xx', { title: 'third' });
  // The caller's first send: not a replay, though the writer found its entry already there.
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.unchanged, undefined);
  assert.match(r.json.commit_sha, /^[0-9a-f]{40}$/);
  assert.equal(r.json.commit_sha, h.git('rev-parse', 'main').trim());
  assert.ok(h.git('show', `${r.json.commit_sha}:threads/c5xx.md`).includes(`<!-- Entry-ID: ${r.json.entry_id} -->`));
  const ids = entryIds(h.file('c5xx'));
  assert.equal(ids.length, 3);
  assert.equal(new Set(ids).size, 3);
  assert.equal(ids[2], r.json.entry_id);
});

test('the same entry_id twice lands once', async () => {
  const id = '01KE6Z3V8G00000000000000AB';
  const a = await say('idem', { entry_id: id });
  const b = await say('idem', { entry_id: id });
  assert.equal(a.status, 201);
  assert.equal(b.status, 200);
  assert.deepEqual(entryIds(h.file('idem')), [id]);
});

test('ack, handoff and set_status follow the ball rules', async () => {
  await say('ball', { agent: 'Claude' });
  let j = (await h.api('GET', '/v1/threads/ball?format=json')).json;
  assert.equal(j.ball, 'Codex (mira)');
  const ack = await h.api('POST', '/v1/threads/ball/ack', { body: { agent: 'Codex' } });
  assert.equal(ack.status, 201, ack.text);
  j = (await h.api('GET', '/v1/threads/ball?format=json')).json;
  assert.equal(j.ball, 'Codex (mira)');
  assert.deepEqual([j.entries[1].title, j.entries[1].body], ['Ack', 'ack']);
  const ho = await h.api('POST', '/v1/threads/ball/handoff', { body: { agent: 'Codex', note: 'your turn' } });
  assert.equal(ho.status, 201, ho.text);
  assert.equal(ho.json.ball, 'Claude (mira)');
  j = (await h.api('GET', '/v1/threads/ball?format=json')).json;
  assert.deepEqual([j.entries[2].role, j.entries[2].title, j.entries[2].body], ['pm', 'Handoff to Claude (mira)', 'your turn']);
  const st = await h.api('PATCH', '/v1/threads/ball', { body: { status: 'in_review' } });
  assert.equal(st.status, 200, st.text);
  assert.equal(st.json.status, 'IN_REVIEW');
  assert.match(h.file('ball'), /^Status: IN_REVIEW$/m);
  const list = (await h.api('GET', '/v1/threads')).json.threads;
  const ball = list.find((t) => t.topic === 'ball');
  assert.equal(ball.status, 'IN_REVIEW');
  await h.api('PATCH', '/v1/threads/ball', { body: { status: 'closed' } });
  const open = (await h.api('GET', '/v1/threads?open_only=true')).json.threads;
  assert.ok(!open.some((t) => t.topic === 'ball'));
  assert.ok(open.some((t) => t.topic === 'warm'));
});

test('ack, handoff and status on a missing thread are 404 and write nothing', async () => {
  const before = h.commitCount();
  for (const [m, p, body] of [
    ['POST', '/v1/threads/nothing-here/ack', {}],
    ['POST', '/v1/threads/nothing-here/handoff', {}],
    ['PATCH', '/v1/threads/nothing-here', { status: 'done' }],
  ]) {
    const r = await h.api(m, p, { body });
    assert.equal(r.status, 404, `${m} ${p}: ${r.text}`);
    assert.equal(r.json.error.code, 'thread_not_found');
  }
  assert.equal(h.commitCount(), before);
});

test('a listing costs one request plus one per changed thread, never one per thread', async () => {
  await h.api('GET', '/v1/threads');
  await h.resetStats();
  await h.api('GET', '/v1/threads');
  assert.equal((await h.stats()).total, 0, 'fresh listing is free');
});

test('parallel appends: 20 to one thread and 20 across 5 threads, each exactly once', async () => {
  await say('par-one');
  const one = await Promise.all(Array.from({ length: 20 }, (_, i) => say('par-one', { title: `p${i}`, agent: i % 2 ? 'Codex' : 'Claude' })));
  for (const r of one) assert.equal(r.status, 201, r.text);
  let ids = entryIds(h.file('par-one'));
  assert.equal(ids.length, 21);
  assert.equal(new Set(ids).size, 21);
  for (const r of one) assert.ok(ids.includes(r.json.entry_id));

  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => say(`par-${i % 5}`, { title: `q${i}` })));
  for (const r of many) assert.equal(r.status, 201, r.text);
  for (let t = 0; t < 5; t++) {
    ids = entryIds(h.file(`par-${t}`));
    assert.equal(ids.length, 4);
    assert.equal(new Set(ids).size, 4);
    const j = (await h.api('GET', `/v1/threads/par-${t}?format=json`)).json;
    assert.equal(j.entries.length, 4, 'the file still parses into every entry');
  }
});

test('bad input: 4xx JSON errors and no commit', async () => {
  await say('valid');
  const before = h.commitCount();
  const cases = [
    ['POST', '/v1/threads/..%2Fx/entries', { body: { title: 't', body: 'b' } }, 400, 'invalid_topic'],
    ['POST', '/v1/threads/a%2Fb/entries', { body: { title: 't', body: 'b' } }, 400, 'invalid_topic'],
    ['POST', '/v1/threads/a/b/entries', { body: { title: 't', body: 'b' } }, 404, 'not_found'],
    ['POST', '/v1/threads//entries', { body: { title: 't', body: 'b' } }, 400, 'invalid_topic'],
    ['POST', `/v1/threads/${'a'.repeat(300)}/entries`, { body: { title: 't', body: 'b' } }, 400, 'invalid_topic'],
    ['POST', '/v1/threads/valid/entries', { body: { title: 't', body: 'x'.repeat(65537) } }, 400, 'invalid_field'],
    ['POST', '/v1/threads/valid/entries', { raw: '{"title": ', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json'],
    ['POST', '/v1/threads/valid/entries', { body: [1, 2] }, 400, 'invalid_json'],
    ['POST', '/v1/threads/valid/entries', { body: { body: 'b' } }, 400, 'missing_field'],
    ['POST', '/v1/threads/valid/entries', { body: { title: 5, body: 'b' } }, 400, 'invalid_field'],
    ['POST', '/v1/threads/valid/entries', { body: { title: 't', body: 'b', entry_id: 'nope' } }, 400, 'invalid_field'],
    ['POST', '/v1/threads/valid/entries', { body: { title: 't', body: 'b', agent: 'Claude (bob)' } }, 400, 'invalid_field'],
    ['POST', '/v1/threads/valid/entries', { body: { title: 't', body: 'b', colour: 'red' } }, 400, 'invalid_field'],
    ['POST', '/v1/threads/valid/entries', { body: { title: 't', body: '```\nopen fence' } }, 400, 'invalid_field'],
    ['POST', '/v1/threads/valid/entries', { raw: 'x'.repeat(300 * 1024), headers: { 'content-type': 'application/json' } }, 413, 'payload_too_large'],
    ['POST', '/v1/threads/valid/entries', { raw: 'title=t', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
    ['PATCH', '/v1/threads/valid', { body: { status: 'a\nb' } }, 400, 'invalid_field'],
    ['PATCH', '/v1/threads/valid', { body: {} }, 400, 'missing_field'],
    ['DELETE', '/v1/threads/valid', {}, 405, 'method_not_allowed'],
    ['GET', '/v1/nowhere', {}, 404, 'not_found'],
  ];
  for (const [m, p, opts, status, code] of cases) {
    const r = await h.api(m, p, opts);
    assert.equal(r.status, status, `${m} ${p.slice(0, 60)}: ${r.text.slice(0, 300)}`);
    assert.equal(r.json?.error?.code, code, `${m} ${p.slice(0, 60)}: ${r.text.slice(0, 300)}`);
    assert.ok(r.json.error.message.length > 0);
  }
  assert.equal(h.commitCount(), before, 'no commit from bad input');
});

test('auth: 401 without or with a wrong token, 403 for writes with a read-only token', async () => {
  let r = await h.api('GET', '/v1/threads', { token: null });
  assert.equal(r.status, 401);
  assert.equal(r.json.error.code, 'unauthorized');
  assert.match(r.headers.get('www-authenticate'), /^Bearer/);
  r = await h.api('GET', '/v1/threads', { token: 'wrong' });
  assert.equal(r.status, 401);
  r = await h.api('GET', '/v1/threads', { token: READER });
  assert.equal(r.status, 200);
  const before = h.commitCount();
  r = await say('valid', {}, { token: READER });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'forbidden');
  r = await h.api('PATCH', '/v1/threads/valid', { token: READER, body: { status: 'done' } });
  assert.equal(r.status, 403);
  assert.equal(h.commitCount(), before);
  for (const resp of [r, await h.api('GET', '/v1/threads', { token: 'wrong' })]) {
    assert.ok(!resp.text.includes(WRITER) && !resp.text.includes('e2e-github-token'));
  }
});
