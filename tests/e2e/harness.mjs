// End-to-end harness: a local git host with a real bare repository, and the built
// Worker under `wrangler dev` (workerd, local R2) pointed at it.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGithost, startWorker, stop } from '../../scripts/lib/services.mjs';

export const WRITER = 'e2e-writer-token';
export const READER = 'e2e-reader-token';
export const OWNER = 'acme';
export const REPO = 'threads';
export const DIR = 'threads';
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

/** Starts a git host and a Worker. `vars` override the Worker's settings. */
export async function setup({ vars = {} } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wc-e2e-'));
  const githost = await startGithost({ dir: path.join(tmp, 'githost') });
  const adminPost = async (p, body) => {
    const r = await fetch(`${githost.url}/_githost/${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`githost ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const repo = await adminPost('repos', {
    owner: OWNER,
    name: REPO,
    default_branch: 'main',
    files: { 'README.md': '# threads\n' },
  });
  const tokens = {
    [sha256(WRITER)]: { user: 'mira', scopes: ['read', 'write'], agent: 'Claude' },
    [sha256(READER)]: { user: 'rob', scopes: ['read'] },
  };
  const workerOptions = {
      persistTo: path.join(tmp, 'wrangler'),
      vars: {
        GITHUB_REPO: `${OWNER}/${REPO}`,
        GITHUB_BRANCH: 'main',
        THREADS_DIR: DIR,
        GITHUB_API_BASE: githost.url,
        GITHUB_TOKEN: 'e2e-github-token',
        AUTH_TOKENS: JSON.stringify(tokens),
        CACHE_TTL_SECONDS: '3600',
        // Callers wait 5 s for their commit before "accepted, queued" (default 10).
        WRITE_WAIT_SECONDS: '5',
        ...vars,
      },
  };
  let worker;
  try {
    worker = await startWorker(workerOptions);
  } catch (e) {
    await stop(githost.child);
    throw e;
  }
  const bare = repo.path;
  const git = (...args) => execFileSync('git', ['--git-dir', bare, ...args], { encoding: 'utf8' });

  const h = {
    worker,
    githost,
    bare,
    tmp,
    git,
    /** Calls the Worker. */
    async api(method, p, { token = WRITER, body, headers = {}, raw } = {}) {
      const hd = { ...headers };
      if (token) hd.authorization = `Bearer ${token}`;
      let payload;
      if (raw !== undefined) payload = raw;
      else if (body !== undefined) {
        payload = JSON.stringify(body);
        hd['content-type'] ??= 'application/json';
      }
      const r = await fetch(`${h.worker.url}${p}`, { method, headers: hd, body: payload });
      const text = await r.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: r.status, headers: r.headers, text, json };
    },
    async stats() {
      return (await fetch(`${githost.url}/_githost/stats`)).json();
    },
    async resetStats() {
      await adminPost('stats/reset', {});
    },
    async fault(spec) {
      return adminPost('faults', spec);
    },
    async clearFaults() {
      await fetch(`${githost.url}/_githost/faults`, { method: 'DELETE' });
    },
    /** The file on the branch, or null. */
    file(topic) {
      try {
        return git('show', `main:${DIR}/${topic}.md`);
      } catch {
        return null;
      }
    },
    commitCount() {
      return Number(git('rev-list', '--count', 'main').trim());
    },
    /** Commits a change to a file with plain git, from a clone, and pushes it. */
    pushOutside(topic, edit) {
      const work = fs.mkdtempSync(path.join(tmp, 'clone-'));
      const run = (...args) => execFileSync('git', args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      run('clone', '-q', bare, '.');
      const f = path.join(work, DIR, `${topic}.md`);
      fs.writeFileSync(f, edit(fs.readFileSync(f, 'utf8')));
      run('-c', 'user.name=Outside', '-c', 'user.email=outside@example.com', 'commit', '-qam', 'outside edit');
      run('push', '-q', 'origin', 'HEAD:main');
    },
    /** Adds a new file with plain git, from a clone, and pushes it. */
    pushNew(topic, content) {
      const work = fs.mkdtempSync(path.join(tmp, 'clone-'));
      const run = (...args) => execFileSync('git', args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      run('clone', '-q', bare, '.');
      fs.mkdirSync(path.join(work, DIR), { recursive: true });
      fs.writeFileSync(path.join(work, DIR, `${topic}.md`), content);
      run('add', '.');
      run('-c', 'user.name=Outside', '-c', 'user.email=outside@example.com', 'commit', '-qm', 'outside add');
      run('push', '-q', 'origin', 'HEAD:main');
    },
    /** Stops the Worker (as Ctrl-C would) and starts it again on the same local state. */
    async restartWorker() {
      await stop(h.worker.child);
      h.worker = await startWorker({ ...workerOptions, port: h.worker.port });
    },
    /** Makes the git host refuse mutating requests closer together than `ms`. */
    async pacing(ms) {
      const r = await fetch(`${githost.url}/_githost/pacing`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ min_gap_ms: ms }),
      });
      if (!r.ok) throw new Error(`githost pacing: ${r.status}`);
    },
    async close() {
      await Promise.all([stop(h.worker.child), stop(githost.child)]);
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  return h;
}

/** Entry-IDs in a thread file, in order. */
export function entryIds(content) {
  return [...(content ?? '').matchAll(/^<!-- Entry-ID: (\S+) -->$/gm)].map((m) => m[1]);
}

/** How the watercooler tools read a file (tests/oracle/tools_reader.py). */
export function toolsRead(content) {
  const out = execFileSync('python3', [path.join(import.meta.dirname, '../oracle/tools_reader.py')], {
    input: JSON.stringify([content]),
    encoding: 'utf8',
  });
  return JSON.parse(out)[0];
}

/** Counts of requests by route since the last reset. */
export function route(stats, name) {
  return stats.by_route?.[name] ?? 0;
}
