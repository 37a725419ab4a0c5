// Talking to the local services, shared by the end-to-end tests and the benchmarks:
// the git host's admin API, the Worker's API with a token, and what a thread file holds.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';

export const sha256 = (s) => createHash('sha256').update(s).digest('hex');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The git host's admin API (`/_githost/...`): repositories, stats, faults, pacing. */
export function githostAdmin(url) {
  const call = async (method, p, body) => {
    const r = await fetch(`${url}/_githost/${p}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`githost ${method} ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  return {
    call,
    repo: (spec) => call('POST', 'repos', spec),
    stats: () => call('GET', 'stats'),
    resetStats: () => call('POST', 'stats/reset', {}),
    fault: (spec) => call('POST', 'faults', spec),
    clearFaults: () => call('DELETE', 'faults'),
    pacing: (ms) => call('PUT', 'pacing', { min_gap_ms: ms }),
    latency: (ms) => call('PUT', 'latency', { ms }),
  };
}

/**
 * Calls the Worker. `token` (default: the client's) goes in Authorization; `body` is
 * sent as JSON, `raw` as is. Resolves with { status, headers, text, json, ms }.
 */
export function workerClient(baseUrl, defaultToken) {
  return async function api(method, p, { token = defaultToken, body, headers = {}, raw } = {}) {
    const hd = { ...headers };
    if (token) hd.authorization = `Bearer ${token}`;
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      hd['content-type'] ??= 'application/json';
    }
    const t0 = performance.now();
    const r = await fetch(`${baseUrl()}${p}`, { method, headers: hd, body: payload });
    const text = await r.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: r.status, headers: r.headers, text, json, ms: performance.now() - t0 };
  };
}

/** Polls `GET /v1/sync` through `api` until every accepted write landed. */
export async function waitSynced(api, ms, { failOnFailed = false } = {}) {
  const deadline = Date.now() + ms;
  let s;
  while (Date.now() < deadline) {
    s = (await api('GET', '/v1/sync')).json;
    if (s?.state === 'synced') return s;
    if (failOnFailed && s?.state === 'failing' && s.failed > 0) throw new Error(`writes failed: ${JSON.stringify(s)}`);
    await sleep(200);
  }
  throw new Error(`not synced after ${ms} ms: ${JSON.stringify(s)}`);
}

/** Entry-IDs in a thread file, in order. */
export function entryIds(content) {
  return [...(content ?? '').matchAll(/^<!-- Entry-ID: (\S+) -->$/gm)].map((m) => m[1]);
}

/** A file on a branch of a bare repository, or null. */
export function gitShow(bare, ref, file) {
  try {
    return execFileSync('git', ['--git-dir', bare, 'show', `${ref}:${file}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}
