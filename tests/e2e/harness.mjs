// End-to-end harness: a local git host with a real bare repository, and the built
// Worker under `wrangler dev` (workerd, local R2) pointed at it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { entryIds, githostAdmin, gitShow, sha256, waitSynced, workerClient } from '../../scripts/lib/client.mjs';
import { startGithost, startWorker, stop } from '../../scripts/lib/services.mjs';

export { entryIds };

export const WRITER = 'e2e-writer-token';
export const READER = 'e2e-reader-token';
export const OWNER = 'acme';
export const REPO = 'threads';
export const DIR = 'threads';

/**
 * Starts a git host and a Worker. `vars` override the Worker's settings (`vars` may
 * be functions of the git host's URL); `tokens` (token -> grant) are added to the
 * writer's and the reader's; `githostArgs` are more flags for the git host.
 */
export async function setup({ vars = {}, tokens: extraTokens = {}, githostArgs = [] } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wc-e2e-'));
  const githost = await startGithost({ dir: path.join(tmp, 'githost'), args: githostArgs });
  const admin = githostAdmin(githost.url);
  const repo = await admin.repo({
    owner: OWNER,
    name: REPO,
    default_branch: 'main',
    files: { 'README.md': '# threads\n' },
  });
  const tokens = {
    [sha256(WRITER)]: { user: 'mira', scopes: ['read', 'write'], agent: 'Claude' },
    [sha256(READER)]: { user: 'rob', scopes: ['read'] },
    ...Object.fromEntries(Object.entries(extraTokens).map(([t, grant]) => [sha256(t), grant])),
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
        ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'function' ? v(githost.url) : v])),
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

  /** Changes a thread file in a clone, commits it as someone else, and pushes. */
  const outside = (message, write, topic) => outsideMany(message, (file) => write(file(topic)));
  /** The same for many files at once: `write` gets the path of a topic's file. */
  const outsideMany = (message, write) => {
    const work = fs.mkdtempSync(path.join(tmp, 'clone-'));
    const run = (...args) => execFileSync('git', args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    run('clone', '-q', bare, '.');
    fs.mkdirSync(path.join(work, DIR), { recursive: true });
    write((topic) => path.join(work, DIR, `${topic}.md`));
    run('add', '.');
    run('-c', 'user.name=Outside', '-c', 'user.email=outside@example.com', 'commit', '-qm', message);
    run('push', '-q', 'origin', 'HEAD:main');
  };

  const h = {
    worker,
    githost,
    bare,
    tmp,
    git,
    /** Calls the Worker (as the writer, unless `token` says otherwise). */
    api: workerClient(() => h.worker.url, WRITER),
    stats: admin.stats,
    resetStats: admin.resetStats,
    /** The git host's admin API. */
    admin,
    fault: admin.fault,
    clearFaults: admin.clearFaults,
    /** Makes the git host refuse mutating requests closer together than `ms`. */
    pacing: admin.pacing,
    /** Polls /v1/sync until every accepted write landed. */
    synced: (ms) => waitSynced(h.api, ms),
    /** The file on the branch, or null. */
    file: (topic) => gitShow(bare, 'main', `${DIR}/${topic}.md`),
    commitCount() {
      return Number(git('rev-list', '--count', 'main').trim());
    },
    /** Commits a change to a file with plain git, from a clone, and pushes it. */
    pushOutside(topic, edit) {
      outside('outside edit', (f) => fs.writeFileSync(f, edit(fs.readFileSync(f, 'utf8'))), topic);
    },
    /** Adds many files (topic -> content) with plain git, in one commit, and pushes it. */
    pushMany(files) {
      outsideMany('outside add', (file) => {
        for (const [topic, content] of Object.entries(files)) fs.writeFileSync(file(topic), content);
      });
    },
    /** Adds a new file with plain git, from a clone, and pushes it. */
    pushNew(topic, content) {
      outside('outside add', (f) => fs.writeFileSync(f, content), topic);
    },
    /** Stops the Worker (as Ctrl-C would) and starts it again on the same local state. */
    async restartWorker() {
      await stop(h.worker.child);
      h.worker = await startWorker({ ...workerOptions, port: h.worker.port });
    },
    async close() {
      await Promise.all([stop(h.worker.child), stop(githost.child)]);
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  return h;
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
