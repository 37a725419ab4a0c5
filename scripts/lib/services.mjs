// Starting and stopping the local services: the git host and the Worker under
// `wrangler dev`. Shared by `make dev`, the end-to-end tests and the benchmarks.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const GITHOST_BIN = path.join(ROOT, 'target', 'debug', 'githost');
const WRANGLER = path.join(ROOT, 'node_modules', '.bin', 'wrangler');

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

function collect(child, name, { echo }) {
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 400) lines.shift();
      if (echo) process.stderr.write(`[${name}] ${line}\n`);
    });
  }
  return lines;
}

/** Whether any process of the group led by `pid` is still alive. */
function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills a child and its whole process group (wrangler's workerd included); resolves
 * when every one of them is gone, so their ports are free for the next start.
 */
export async function stop(child) {
  if (!child) return;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(timer);
  }
  const deadline = Date.now() + 5000;
  while (groupAlive(child.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(child.pid)) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    while (groupAlive(child.pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts the local git host (`args`: more flags, e.g. the GitHub App's and sign-in's).
 * Resolves with { url, port, dir, child, logs } once it printed its listening line.
 */
export async function startGithost({ port = 0, dir, echo = false, args = [] } = {}) {
  const child = spawn(GITHOST_BIN, ['--port', String(port), '--dir', dir, ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = collect(child, 'githost', { echo });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`githost did not start in 20 s:\n${logs.join('\n')}`)), 20000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`githost exited with ${code}:\n${logs.join('\n')}`));
    });
  });
  return { url, port: Number(new URL(url).port), dir, child, logs };
}

/** Polls `url` until it answers (any status), or throws after `ms`. */
export async function waitForHttp(url, ms, what = url, logs = []) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return r;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer in ${ms / 1000} s (${last?.message}):\n${logs.slice(-40).join('\n')}`);
}

/**
 * Starts the built Worker under `wrangler dev`. `vars` are passed with --var and win
 * over .dev.vars. Resolves with { url, port, child, logs } once /health answers.
 * workerd sometimes fails to start ("The Workers runtime failed to start"), for
 * instance on a port still held by a process that is exiting: up to three tries, on
 * fresh ports unless a port was asked for.
 */
export async function startWorker(options = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerOnce(options);
    } catch (e) {
      if (attempt >= 3) throw e;
      process.stderr.write(`[services] wrangler dev did not start (try ${attempt} of 3), trying again: ${e.message.split('\n')[0]}\n`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function startWorkerOnce({ port, vars = {}, persistTo, envFile, echo = false, inspectorPort } = {}) {
  port ??= await freePort();
  const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--show-interactive-dev-session=false', '--log-level', 'warn'];
  args.push('--inspector-port', String(inspectorPort ?? (await freePort())));
  if (persistTo) args.push('--persist-to', persistTo);
  if (envFile) args.push('--env-file', envFile);
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: process.env.CI ?? 'true', NO_COLOR: '1' },
  });
  const logs = collect(child, 'wrangler', { echo });
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`wrangler dev exited with ${code}:\n${logs.join('\n')}`);
  });
  exited.catch(() => {});
  try {
    await Promise.race([waitForHttp(`${url}/health`, 60000, 'wrangler dev', logs), exited]);
  } catch (e) {
    await stop(child);
    throw e;
  }
  return { url, port, child, logs };
}
