// GitHub's push webhook: a signed push makes files pushed with plain git readable at
// once; a forged one changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { setup, DIR, OWNER, REPO } from './harness.mjs';

const SECRET = 'e2e-webhook-secret';
let h;
before(async () => {
  h = await setup({ vars: { GITHUB_WEBHOOK_SECRET: SECRET } });
});
after(async () => {
  await h?.close();
});

function deliver(payload, { secret = SECRET, event = 'push' } = {}) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return h.api('POST', '/webhooks/github', {
    token: null,
    raw: body,
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': signature },
  });
}

const push = (files, message = 'by hand') => ({
  ref: 'refs/heads/main',
  repository: { full_name: `${OWNER}/${REPO}` },
  commits: [{ message, added: [], modified: files, removed: [] }],
});

test('a signed push refreshes the cached copy at once; a forged one is refused', async () => {
  const said = await h.api('POST', '/v1/threads/hooked/entries', { body: { title: 'first', body: 'B', agent: 'Claude' } });
  assert.equal(said.status, 201, said.text);
  const before = (await h.api('GET', '/v1/threads/hooked')).text;
  h.pushOutside('hooked', (s) => `${s}\n---\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nTitle: pushed by hand\n\nhello\n`);
  assert.equal((await h.api('GET', '/v1/threads/hooked')).text, before, 'the cache (1 h here) still serves the old copy');

  const forged = await deliver(push([`${DIR}/hooked.md`]), { secret: 'guess' });
  assert.equal(forged.status, 401);
  assert.equal(forged.json.error.code, 'bad_signature');
  assert.equal((await h.api('GET', '/v1/threads/hooked')).text, before, 'a forged delivery changes nothing');

  const ping = await deliver({ zen: 'Keep it logically awesome.', repository: { full_name: `${OWNER}/${REPO}` } }, { event: 'ping' });
  assert.equal(ping.json.pong, true);
  const r = await deliver(push([`${DIR}/hooked.md`, 'README.md']));
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.refreshed, [`${DIR}/hooked.md`]);
  const after = await h.api('GET', '/v1/threads/hooked');
  assert.match(after.text, /Title: pushed by hand/);
  const list = await h.api('GET', '/v1/threads');
  assert.equal(list.json.threads.find((t) => t.topic === 'hooked').entries, 2);
});

test('pushes to another branch, and the service\'s own commits, are ignored', async () => {
  const other = await deliver({ ...push([`${DIR}/hooked.md`]), ref: 'refs/heads/feature' });
  assert.match(other.json.ignored, /not the branch served/);
  const own = await deliver(push([`${DIR}/hooked.md`], 'Claude (mira): x (hooked)\n\nWatercooler-Topic: hooked\n'));
  assert.match(own.json.ignored, /no thread file changed outside this service/);
});

test('the git host\'s own webhook: a plain git push is readable at once', async () => {
  await h.admin.call('PUT', 'webhook', { url: `${h.worker.url}/webhooks/github`, secret: SECRET });
  try {
    const said = await h.api('POST', '/v1/threads/hooked-live/entries', { body: { title: 'first', body: 'B', agent: 'Claude' } });
    assert.equal(said.status, 201, said.text);
    await h.api('GET', '/v1/threads/hooked-live');
    h.pushOutside('hooked-live', (s) => `${s}\n---\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nTitle: pushed live\n\nhello\n`);
    const deadline = Date.now() + 10000;
    let text = '';
    while (Date.now() < deadline && !text.includes('pushed live')) {
      await new Promise((r) => setTimeout(r, 100));
      text = (await h.api('GET', '/v1/threads/hooked-live')).text;
    }
    assert.match(text, /Title: pushed live/, 'the cache (1 h here) was refreshed by the push webhook');
    const deliveries = await h.admin.call('GET', 'webhook/deliveries');
    const pushes = deliveries.filter((d) => d.event === 'push');
    assert.ok(pushes.length >= 2, JSON.stringify(deliveries));
    assert.ok(pushes.every((d) => d.status === 200), JSON.stringify(pushes));
  } finally {
    await h.admin.call('PUT', 'webhook', { url: null });
  }
});

test('a plain git push wakes a waiter through the git host\'s webhook; nothing is told twice', async () => {
  await h.admin.call('PUT', 'webhook', { url: `${h.worker.url}/webhooks/github`, secret: SECRET });
  try {
    const said = await h.api('POST', '/v1/threads/hooked-wake/entries', { body: { title: 'first', body: 'B', agent: 'Claude' } });
    assert.equal(said.status, 201, said.text);
    await h.api('GET', '/v1/threads/hooked-wake');
    const { cursor } = (await h.api('GET', '/v1/events')).json;
    const started = Date.now();
    const waiting = h.api('GET', `/v1/events?since=${cursor}&wait=20&for=Claude`);
    await new Promise((r) => setTimeout(r, 300));
    h.pushOutside('hooked-wake', (s) => `${s.replace('Ball: Codex (mira)', 'Ball: Claude (mira)')}\n---\n\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nRole: implementer\nType: Note\nTitle: over to Claude\n\nhello\n<!-- Entry-ID: 01KEXAMP1E0000000000000001 -->\n`);
    const got = await waiting;
    assert.equal(got.status, 200, got.text);
    assert.ok(Date.now() - started < 10000, 'woken by the webhook, not at the end of the wait');
    assert.deepEqual(got.json.events.map((e) => [e.kind, e.title, e.author, e.ball, e.entry_id, e.pending]),
      [['entry', 'over to Claude', 'Codex (bob)', 'Claude (mira)', '01KEXAMP1E0000000000000001', false]]);
    // GitHub redelivers: the same push again tells nothing new.
    const again = await deliver(push([`${DIR}/hooked-wake.md`]));
    assert.equal(again.json.events, 0, again.text);
    const after = await h.api('GET', `/v1/events?since=${got.json.cursor}`);
    assert.deepEqual(after.json.events, []);
  } finally {
    await h.admin.call('PUT', 'webhook', { url: null });
  }
});
