// The page for people, in a real headless browser: Debian's chromium driven by
// playwright-core, against the built Worker and the git host (GitHub's sign-in
// played by the git host: alice may write, bob may only read).
//
// `make test` installs chromium when missing (scripts/browser.sh); CHROMIUM=/path
// picks another. Screenshots of the list and a thread, light and dark (and the
// thread on a phone), are saved in build/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from '../../scripts/lib/services.mjs';
import { setup, DIR, WRITER } from './harness.mjs';

const SHOTS = path.join(ROOT, 'build', 'screenshots');
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
// As the machine's notes say: headless, and no background traffic to the outside.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const thread = ({ topic, status = 'OPEN', ball, entries }) =>
  `# ${topic} — Thread\nStatus: ${status}\nBall: ${ball}\nTopic: ${topic}\nCreated: ${entries[0].at}\n` +
  entries
    .map((e, i) => `\n---\nEntry: ${e.author} ${e.at}\nRole: ${e.role ?? 'implementer'}\nType: ${e.type ?? 'Note'}\nTitle: ${e.title}\n\n${e.body}\n<!-- Entry-ID: 01JNB6Q4X7K2M9P3R5T8V0W${String(i).padStart(3, '0')} -->\n`)
    .join('');

const HOSTILE = [
  '<script>window.__pwned = "script"</script>',
  '',
  'An image: <img src="x" onerror="window.__pwned = \'img\'">',
  '',
  'A [link](javascript:window.__pwned=\'link\') and **bold** and `code`.',
].join('\n');

let h;
let browser;
let attacker;
before(async () => {
  if (!fs.existsSync(EXECUTABLE)) {
    throw new Error(`no Chromium at ${EXECUTABLE}: run \`make test\` (scripts/browser.sh installs Debian's chromium), or set CHROMIUM=/path/to/chromium`);
  }
  h = await setup({
    githostArgs: [
      '--oauth-client-id', 'page-oauth-app',
      '--oauth-client-secret', 'page-oauth-secret',
      '--users', JSON.stringify({ alice: { '*': 'write' }, bob: { '*': 'read' } }),
      '--dev-user', 'alice',
    ],
    vars: {
      GITHUB_OAUTH_CLIENT_ID: 'page-oauth-app',
      GITHUB_OAUTH_CLIENT_SECRET: 'page-oauth-secret',
      OAUTH_SIGNING_KEY: 'page-signing-key-0123456789abcdef0123456789',
      GITHUB_WEB_BASE: (githost) => githost,
    },
  });
  h.pushMany({
    plan: thread({ topic: 'plan', ball: 'Claude (alice)', entries: [
      { author: 'Claude (alice)', at: '2026-11-20T09:00:00Z', role: 'planner', type: 'Plan', title: 'A plan', body: 'Ship the **page**.' },
      { author: 'Codex (mira)', at: '2026-11-20T10:00:00Z', role: 'critic', title: 'Looks fine', body: 'Over to Claude.' },
    ] }),
    mine: thread({ topic: 'mine', ball: 'Team (alice)', entries: [{ author: 'Team (alice)', at: '2026-11-21T09:00:00Z', title: 'My note', body: 'Mine to answer.' }] }),
    theirs: thread({ topic: 'theirs', ball: 'Codex (mira)', entries: [{ author: 'Claude (mira)', at: '2026-11-22T09:00:00Z', title: 'For Codex', body: 'Yours, Codex.' }] }),
    done: thread({ topic: 'done', status: 'CLOSED', ball: 'Claude (mira)', entries: [{ author: 'Codex (mira)', at: '2026-11-19T09:00:00Z', title: 'Finished', body: 'All done.' }] }),
    hostile: thread({ topic: 'hostile', ball: 'Codex (mira)', entries: [{ author: 'Claude (mira)', at: '2026-11-23T09:00:00Z', title: '<b>not bold</b>', body: HOSTILE }] }),
  });
  browser = await chromium.launch({ executablePath: EXECUTABLE, args: ARGS });
  fs.mkdirSync(SHOTS, { recursive: true });
  // A page on another origin, posting a reply form to the Worker.
  attacker = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<form id="f" method="post" action="${h.worker.url}/threads/plan"><input name="action" value="say"><input name="title" value="forged"><input name="body" value="forged"></form><script>document.getElementById('f').submit()</script>`);
  });
  await new Promise((r) => attacker.listen(0, '127.0.0.1', r));
});
after(async () => {
  attacker?.close();
  await browser?.close();
  await h?.close();
});

/** A browser of its own (cookies and all), signed in as `login`, on `next`. */
async function signedIn(login, next = '/') {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${h.worker.url}/auth/signin?login=${login}&next=${encodeURIComponent(next)}`);
  assert.equal(new URL(page.url()).pathname, next.split('?')[0], `signed in as ${login}, back on ${next}; the page says: ${(await page.textContent('body')).slice(0, 300)}`);
  return { context, page };
}

test('signed out: a sign-in button and nothing else', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const res = await page.goto(`${h.worker.url}/threads/plan`);
  assert.equal(res.status(), 200);
  const text = await page.textContent('body');
  assert.match(text, /Sign in with GitHub/);
  for (const secret of ['A plan', 'plan —', 'Codex', 'Ship the']) assert.ok(!text.includes(secret), `${secret} shows while signed out`);
  assert.equal(await page.locator('a.button').getAttribute('href'), '/auth/signin?repo=&next=%2Fthreads%2Fplan');
  // Straight on through GitHub, and back where we were.
  await page.click('a.button');
  assert.equal(new URL(page.url()).pathname, '/threads/plan');
  assert.match(await page.textContent('h1'), /plan/);
  await context.close();
});

test('alice sees the sections, opens a thread, moves with j/k, and reaches the reply box with r', async () => {
  const { context, page } = await signedIn('alice');
  const section = async (id) => page.locator(`#${id} .row .topic`).allTextContents();
  assert.deepEqual(await section('your-turn'), ['mine']);
  assert.deepEqual(await section('new'), ['plan']);
  assert.deepEqual((await section('waiting')).sort(), ['hostile', 'theirs']);
  assert.deepEqual(await section('closed'), ['done']);
  assert.equal(await page.locator('details#closed').getAttribute('open'), null, 'closed threads start collapsed');
  const row = page.locator('.row[data-topic="plan"]');
  assert.match(await row.textContent(), /OPEN.*Claude \(alice\).*2 entries.*Codex \(mira\)/s);
  await page.screenshot({ path: path.join(SHOTS, 'list-light.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(SHOTS, 'list-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });

  await page.click('.row[data-topic="plan"] a');
  assert.equal(new URL(page.url()).pathname, '/threads/plan');
  const entries = page.locator('.entry');
  assert.equal(await entries.count(), 2);
  const first = entries.nth(0);
  assert.equal(await first.locator('.author').textContent(), 'Claude (alice)');
  assert.equal(await first.locator('.role').textContent(), 'planner');
  assert.equal(await first.locator('.kind').textContent(), 'Plan');
  assert.equal(await first.locator('time').getAttribute('title'), '2026-11-20T09:00:00Z');
  assert.match(await first.locator('time').textContent(), /d ago|2026-11-20/);
  assert.equal(await first.locator('.body strong').textContent(), 'page');
  assert.match(await page.textContent('.meta'), /OPEN.*Ball: Claude \(alice\)/s);
  assert.match(await page.locator('.meta a', { hasText: 'file' }).getAttribute('href'), new RegExp(`/acme/threads/blob/main/${DIR}/plan\\.md$`));
  assert.match(await page.locator('.meta a', { hasText: 'history' }).getAttribute('href'), new RegExp(`/acme/threads/commits/main/${DIR}/plan\\.md$`));
  await page.keyboard.press('j');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'e-0');
  await page.keyboard.press('j');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'e-1');
  await page.keyboard.press('k');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'e-0');
  await page.keyboard.press('r');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'body');
  await page.screenshot({ path: path.join(SHOTS, 'thread-light.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(SHOTS, 'thread-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'fits a phone screen');
  await page.screenshot({ path: path.join(SHOTS, 'thread-phone.png'), fullPage: true });
  await context.close();
});

test('alice replies: her entry shows pending, then committed; bob sees it arrive live and has no reply box', async () => {
  const bob = await signedIn('bob', '/threads/plan');
  assert.equal(await bob.page.locator('#reply').count(), 0, 'bob may only read');
  await bob.page.evaluate(() => (window.__stayed = true));
  const alice = await signedIn('alice', '/threads/plan');
  // Hold the commit a moment, so "pending" can be seen before it lands.
  await h.fault({ method: 'PUT', route: 'contents', delay_ms: 2500, times: 1 });
  await alice.page.fill('#reply input[name=title]', 'From the page');
  await alice.page.fill('#reply textarea[name=body]', 'Typed in a *browser*.');
  await alice.page.click('#reply button[value=say]');
  const mine = alice.page.locator('.entry', { hasText: 'From the page' });
  await mine.waitFor();
  assert.match(await mine.getAttribute('class'), /pending/, 'pending before the commit');
  assert.equal(await mine.locator('.author').textContent(), 'Team (alice)');
  await alice.page.evaluate(() => (window.__stayed = true));
  await alice.page.waitForFunction(() => {
    const e = [...document.querySelectorAll('.entry')].find((x) => x.textContent.includes('From the page'));
    return e && !e.classList.contains('pending');
  }, null, { timeout: 20000 });
  assert.equal(await alice.page.evaluate(() => window.__stayed), true, 'no reload');
  // Bob's page, opened before, shows it without a reload.
  await bob.page.locator('.entry', { hasText: 'From the page' }).waitFor({ timeout: 20000 });
  assert.equal(await bob.page.evaluate(() => window.__stayed), true, 'no reload');
  assert.match(h.file('plan'), /^Entry: Team \(alice\) /m);
  assert.match(h.file('plan'), /Typed in a \*browser\*\./);

  // Answering as an agent of the thread, and handing off: by the same rules.
  await alice.page.selectOption('#reply select[name=agent]', 'Claude');
  await alice.page.fill('#reply input[name=target]', 'Codex');
  await alice.page.fill('#reply textarea[name=body]', 'Codex, yours.');
  await alice.page.click('#reply button[value=handoff]');
  await alice.page.locator('.entry', { hasText: 'Codex, yours.' }).waitFor();
  assert.match(await alice.page.textContent('.meta'), /Ball: Codex \(alice\)/);
  await bob.context.close();
  await alice.context.close();
});

test('an entry with <script>, <img onerror> and a javascript: link renders inert under a strict CSP', async () => {
  const { context, page } = await signedIn('alice', '/threads/hostile');
  const violations = [];
  page.on('console', (m) => violations.push(m.text()));
  const res = await page.reload();
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.ok(!/unsafe-inline|unsafe-eval|https?:/.test(csp), csp);
  const body = page.locator('.entry .body');
  assert.match(await body.textContent(), /<script>window.__pwned = "script"<\/script>/);
  assert.equal(await page.locator('.entry .body script, .entry .body img').count(), 0);
  assert.equal(await page.locator('.entry .body a', { hasText: 'link' }).getAttribute('href'), '#');
  assert.equal(await page.locator('.entry .title').textContent(), '<b>not bold</b>');
  await page.click('.entry .body a:has-text("link")');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing ran');
  // Even a script that got into the page would not run: the CSP holds.
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__pwned = "inline"';
    document.body.append(s);
  });
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'an inline script is refused');
  assert.ok(violations.some((v) => /Content Security Policy/.test(v)), violations.join('\n'));
  await context.close();
});

test('a cross-site form post is refused, and writes nothing', async () => {
  const { context, page } = await signedIn('alice', '/');
  const before = h.file('plan');
  const refused = page.waitForResponse((r) => r.url() === `${h.worker.url}/threads/plan` && r.request().method() === 'POST');
  await page.goto(`http://127.0.0.1:${attacker.address().port}/`);
  const res = await refused;
  assert.equal(res.status(), 403);
  assert.match(await page.textContent('body'), /another site/);
  // Without the page's form token, even from this origin.
  const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const r = await fetch(`${h.worker.url}/threads/plan`, { method: 'POST', headers: { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=say&title=forged&body=forged' });
  assert.equal(r.status, 403);
  await h.synced(20000);
  assert.equal(h.file('plan'), before);
  assert.ok(!(await (await fetch(`${h.worker.url}/v1/threads/plan`, { headers: { authorization: `Bearer ${WRITER}` } })).text()).includes('forged'));
  await context.close();
});

test('the list marks what is new since you looked, live', async () => {
  const { context, page } = await signedIn('alice', '/threads/theirs');
  await page.goto(`${h.worker.url}/`);
  const badge = page.locator('.row[data-topic="theirs"] .badge.new');
  assert.equal(await badge.count(), 0, 'seen: nothing new');
  assert.equal(await page.locator('.row[data-topic="done"] .badge.new').count(), 0, 'never opened: not marked');
  const said = await fetch(`${h.worker.url}/v1/threads/theirs/entries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${WRITER}`, 'content-type': 'application/json', prefer: 'respond-async' },
    body: JSON.stringify({ agent: 'Codex', title: 'While you were away', body: 'News.' }),
  });
  assert.equal(said.status, 202, await said.text());
  await badge.waitFor({ timeout: 20000 });
  assert.equal(await badge.textContent(), '1 new since you looked');
  await page.click('.row[data-topic="theirs"] a');
  await page.locator('.entry', { hasText: 'While you were away' }).waitFor();
  await page.goBack();
  await page.reload();
  assert.equal(await page.locator('.row[data-topic="theirs"] .badge.new').count(), 0, 'looked again');
  await context.close();
});

test('search from the box at the top, and sign out', async () => {
  const { context, page } = await signedIn('alice', '/');
  await page.fill('header input[name=q]', 'Codex');
  await page.press('header input[name=q]', 'Enter');
  assert.equal(new URL(page.url()).pathname, '/search');
  const hits = page.locator('.hit');
  await hits.first().waitFor();
  assert.ok((await hits.count()) >= 1);
  assert.ok((await page.locator('.hit mark').count()) >= 1, 'the match is marked');
  await page.click('header form.signout button');
  assert.match(await page.textContent('body'), /Sign in with GitHub/);
  const res = await page.goto(`${h.worker.url}/threads/plan`);
  assert.match(await res.text(), /Sign in with GitHub/);
  await context.close();
});
