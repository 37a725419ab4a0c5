// `make dev`'s script starts the git host and the Worker, seeds the demo repository,
// answers /health, serves the seeded threads with sign-in on and the dev GitHub App
// as its identity, and stops on SIGINT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, waitForHttp } from '../../scripts/lib/services.mjs';

test('the make dev path starts, seeds, serves and stops', { timeout: 120000 }, async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wc-dev-'));
  const port = await freePort();
  const githostPort = await freePort();
  const child = spawn('node', ['scripts/dev.mjs'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), GITHOST_PORT: String(githostPort), GITHOST_DIR: path.join(tmp, 'githost') },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    const health = await waitForHttp(`http://127.0.0.1:${port}/health`, 90000, 'make dev', [out]);
    assert.equal(health.status, 200, out);
    const deadline = Date.now() + 10000;
    while (!out.includes('Ctrl-C stops everything') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, new RegExp(`Worker: +http://127\\.0\\.0\\.1:${port}`));
    assert.match(out, /Git repository: .*demo.threads\.git/);
    assert.match(out, /Client token: +\S+/);
    assert.ok(fs.existsSync(path.join(tmp, 'githost', 'demo', 'threads.git')));
    const token = out.match(/Client token: +(\S+)/)[1];
    const r = await fetch(`http://127.0.0.1:${port}/v1/threads`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, out);
    const { threads } = await r.json();
    assert.ok(threads.some((t) => t.topic === 'welcome'), JSON.stringify(threads));
    // Sign-in is on, and the Worker acts as the dev GitHub App.
    assert.match(out, new RegExp(`Sign in: +claude mcp add --transport http watercooler http://127\\.0\\.0\\.1:${port}/mcp`));
    const as = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`);
    assert.equal(as.status, 200, out);
    // The page for people, with its sign-in button.
    assert.match(out, new RegExp(`Page: +http://127\\.0\\.0\\.1:${port}/ `));
    const home = await fetch(`http://127.0.0.1:${port}/`);
    assert.match(await home.text(), /Sign in with GitHub/);
    assert.ok(fs.existsSync(path.join(tmp, 'dev-app', 'app-private-key.pem')));
    const said = await fetch(`http://127.0.0.1:${port}/v1/threads/dev-check/entries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'dev', body: 'checks the app identity', agent: 'Claude' }),
    });
    assert.equal(said.status, 201, await said.text());
    const bare = path.join(tmp, 'githost', 'demo', 'threads.git');
    const author = execFileSync('git', ['--git-dir', bare, 'log', '-1', '--format=%an', 'main'], { encoding: 'utf8' }).trim();
    assert.equal(author, 'watercooler-dev[bot]');
    // A plain git push reaches the Worker by the git host's webhook: readable at once,
    // well inside the 30 s cache.
    const read = () => fetch(`http://127.0.0.1:${port}/v1/threads/welcome`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text());
    await read();
    const work = path.join(tmp, 'clone');
    const git = (...args) => execFileSync('git', args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    fs.mkdirSync(work);
    git('clone', '-q', bare, '.');
    fs.appendFileSync(path.join(work, 'welcome.md'), '\n---\nEntry: Codex (bob) 2026-03-02T10:00:00Z\nTitle: pushed in dev\n\nhello\n');
    git('-c', 'user.name=Bob', '-c', 'user.email=bob@example.com', 'commit', '-qam', 'by hand');
    git('push', '-q', 'origin', 'HEAD:main');
    const pushDeadline = Date.now() + 10000;
    let text = '';
    while (Date.now() < pushDeadline && !text.includes('pushed in dev')) {
      await new Promise((r) => setTimeout(r, 200));
      text = await read();
    }
    assert.match(text, /Title: pushed in dev/, out);
  } finally {
    const exited = once(child, 'exit');
    process.kill(-child.pid, 'SIGINT');
    const [code] = await Promise.race([exited, new Promise((r) => setTimeout(() => r(['timeout']), 15000))]);
    if (code === 'timeout') process.kill(-child.pid, 'SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
    assert.equal(code, 0, out);
  }
  await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'the Worker stopped with Ctrl-C');
});
