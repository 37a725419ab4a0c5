// `make bench`: what users feel and what GitHub charges, beside the naive approach.
//
// Runs the built Worker under workerd (wrangler dev) against the local git host with
// an injected latency on every GitHub request (default 120 ms), and measures reads,
// single-agent appends, a concurrency sweep, and the same sweep done the naive way
// (GET, then PUT with the sha, retrying a 409 up to 3 times; no cache, no
// coordination). Prints a table and writes bench/results/latest.json.
//
//   node bench/run.mjs [--latency-ms 120] [--agents 1,10,50,100] [--entries 3]
//                      [--threads 5] [--reads 30] [--smoke] [--no-native]
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { entryIds as idsIn, githostAdmin, gitShow, sha256, sleep, waitSynced, workerClient } from '../scripts/lib/client.mjs';
import { ROOT, startGithost, startWorker, stop } from '../scripts/lib/services.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const smoke = flag('smoke');
const cfg = {
  latencyMs: Number(opt('latency-ms', smoke ? 5 : 120)),
  agents: opt('agents', smoke ? '1,3' : '1,10,50,100').split(',').map(Number),
  entries: Number(opt('entries', smoke ? 1 : 3)),
  threads: Number(opt('threads', smoke ? 2 : 5)),
  reads: Number(opt('reads', smoke ? 3 : 30)),
  appends: Number(opt('appends', smoke ? 2 : 10)),
  native: !flag('no-native') && !smoke,
};

const TOKEN = `bench-${randomBytes(8).toString('hex')}`;
const progress = (msg) => process.stderr.write(`[bench] ${msg}\n`);
const now = () => performance.now();

function pct(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const round = (v, d = 1) => (v == null ? null : Math.round(v * 10 ** d) / 10 ** d);

// ---------------------------------------------------------------- the git host
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wc-bench-'));
const children = [];
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const admin = (host, method, p, body) => githostAdmin(host.url).call(method, p, body);
const stats = (host) => githostAdmin(host.url).stats();
const resetStats = (host) => githostAdmin(host.url).resetStats();

// ---------------------------------------------------------------- the Worker
async function worker(host, repo, extra = {}) {
  const t0 = now();
  const w = await startWorker({
    persistTo: path.join(tmp, `wrangler-${repo}`),
    vars: {
      GITHUB_REPO: `bench/${repo}`,
      GITHUB_BRANCH: 'main',
      THREADS_DIR: 'threads',
      GITHUB_API_BASE: host.url,
      GITHUB_TOKEN: 'bench-github-token',
      AUTH_TOKENS: JSON.stringify({ [sha256(TOKEN)]: { user: 'bench', scopes: ['read', 'write'], agent: 'Claude' } }),
      CACHE_TTL_SECONDS: '3600',
      ...extra,
    },
  });
  children.push(w.child);
  w.startupMs = now() - t0;
  return w;
}

const call = (w, method, p, body) => workerClient(() => w.url, TOKEN)(method, p, { body });
const synced = (w, ms = 300000) => waitSynced((m, p) => call(w, m, p), ms, { failOnFailed: true });
const entryIds = (host, repo, topic) => idsIn(gitShow(path.join(host.dir, 'bench', `${repo}.git`), 'main', `threads/${topic}.md`));

function commitCount(host, repo) {
  return Number(execFileSync('git', ['--git-dir', path.join(host.dir, 'bench', `${repo}.git`), 'rev-list', '--count', 'main'], { encoding: 'utf8' }).trim());
}

const seedThread = (topic) => `# ${topic} — Thread\nStatus: OPEN\nBall: Codex (bench)\nTopic: ${topic}\nCreated: 2026-01-01T00:00:00Z\n`;

// ---------------------------------------------------------------- measurements
async function measureReads(host, w, wTtl0) {
  const repo = 'reads';
  const files = {};
  for (let i = 0; i < cfg.reads; i++) files[`threads/miss-${i}.md`] = seedThread(`miss-${i}`);
  files['threads/hot.md'] = seedThread('hot');
  await admin(host, 'POST', 'repos', { owner: 'bench', name: repo, files });
  const out = {};
  // Misses: each thread read once.
  await resetStats(host);
  const miss = [];
  for (let i = 0; i < cfg.reads; i++) miss.push((await call(w, 'GET', `/v1/threads/miss-${i}`)).ms);
  let s = await stats(host);
  out.miss = { p50_ms: round(pct(miss, 50)), p95_ms: round(pct(miss, 95)), github_requests_per_read: round(s.total / cfg.reads, 2) };
  progress(`reads: miss p50 ${out.miss.p50_ms} ms`);
  // Hits: one thread, read again and again.
  await call(w, 'GET', '/v1/threads/hot');
  await resetStats(host);
  const hit = [];
  for (let i = 0; i < cfg.reads; i++) hit.push((await call(w, 'GET', '/v1/threads/hot')).ms);
  s = await stats(host);
  out.hit = { p50_ms: round(pct(hit, 50)), p95_ms: round(pct(hit, 95)), github_requests_per_read: round(s.total / cfg.reads, 2) };
  progress(`reads: hit p50 ${out.hit.p50_ms} ms`);
  // Revalidations: a Worker with CACHE_TTL_SECONDS=0 asks with If-None-Match each time.
  await call(wTtl0, 'GET', '/v1/threads/hot');
  await resetStats(host);
  const reval = [];
  for (let i = 0; i < cfg.reads; i++) reval.push((await call(wTtl0, 'GET', '/v1/threads/hot')).ms);
  s = await stats(host);
  out.revalidate = {
    p50_ms: round(pct(reval, 50)),
    p95_ms: round(pct(reval, 95)),
    github_requests_per_read: round(s.total / cfg.reads, 2),
    not_modified_share: round(s.not_modified / Math.max(1, s.total), 2),
  };
  progress(`reads: revalidate p50 ${out.revalidate.p50_ms} ms`);
  return out;
}

async function measureAppends(host, w) {
  await admin(host, 'POST', 'repos', { owner: 'bench', name: 'reads', files: { 'threads/solo.md': seedThread('solo') } });
  await call(w, 'GET', '/v1/threads/solo');
  await synced(w);
  await resetStats(host);
  const lat = [];
  for (let i = 0; i < cfg.appends; i++) {
    const r = await call(w, 'POST', '/v1/threads/solo/entries', { title: `solo ${i}`, body: 'one agent, one entry at a time' });
    if (![201, 202].includes(r.status)) throw new Error(`append: ${r.status} ${r.text}`);
    lat.push(r.ms);
  }
  await synced(w);
  const s = await stats(host);
  const out = { p50_ms: round(pct(lat, 50)), p95_ms: round(pct(lat, 95)), github_requests_per_append: round(s.total / cfg.appends, 2), mutating_per_append: round(s.mutating / cfg.appends, 2) };
  progress(`appends: p50 ${out.p50_ms} ms, ${out.github_requests_per_append} requests each`);
  return out;
}

/**
 * Runs the sweep workload: `agents` agents, each appending `cfg.entries` entries in
 * turn across the threads with `append(agent, k, topic)`, which resolves to the
 * accepted entry id or null. Returns the figures, after `settle()` (waiting until
 * everything accepted has landed).
 */
async function workload(host, repo, agents, append, settle = async () => {}) {
  const commitsBefore = commitCount(host, repo);
  await resetStats(host);
  const acks = [];
  const accepted = [];
  let failures = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: agents }, async (_, a) => {
      for (let k = 0; k < cfg.entries; k++) {
        const topic = `t${(a + k) % cfg.threads}`;
        const s0 = now();
        const id = await append(a, k, topic);
        if (id) {
          acks.push(now() - s0);
          accepted.push({ topic, id });
        } else failures++;
      }
    }),
  );
  await settle();
  const seconds = (now() - t0) / 1000;
  const s = await stats(host);
  const result = tally(host, repo, accepted, agents, failures);
  return {
    agents,
    ...result,
    entries_per_s: round(result.committed / seconds, 2),
    ack_p50_ms: round(pct(acks, 50)),
    ack_p95_ms: round(pct(acks, 95)),
    ack_p99_ms: round(pct(acks, 99)),
    github_requests: s.total,
    mutating_requests: s.mutating,
    commits: commitCount(host, repo) - commitsBefore,
    conflicts: (s.by_status?.['409'] ?? 0) + (s.by_status?.['422'] ?? 0),
  };
}

/** A thread of about `bytes` bytes, written as this service writes them. */
function bigThread(topic, bytes) {
  let s = seedThread(topic);
  for (let i = 0; s.length < bytes; i++) {
    const id = `01ARZ3NDEKTSV4RRFFQ${String(i).padStart(7, '0')}`;
    s += `\n---\nEntry: ${i % 2 ? 'Codex' : 'Claude'} (bench) 2026-01-01T00:00:00Z\nRole: implementer\nType: Note\nTitle: Progress ${i}\n\nWe looked at the failing test and found the cause.\n\n\`\`\`rust\nfn main() {}\n\`\`\`\n\n- item one\n- item two\n<!-- Entry-ID: ${id} -->\n`;
  }
  return s;
}

/**
 * Time per request on a thread near MAX_THREAD_BYTES (1 MiB) against a small one, in
 * workerd with GitHub's latency at 0 and the cache warm: what is left is almost all
 * CPU. Reads are served from the cache; an append reads, checks both readings and
 * commits (the git host's own commit time is in the figure too).
 */
async function measureBig(host) {
  const repo = 'big';
  const big = bigThread('big', (1 << 20) - 4096);
  await admin(host, 'POST', 'repos', { owner: 'bench', name: repo, files: { 'threads/big.md': big, 'threads/small.md': bigThread('small', 2000) } });
  const w = await worker(host, repo, { WRITE_PACING_MS: '0' });
  await admin(host, 'PUT', 'latency', { ms: 0 });
  try {
    const out = { bytes: big.length };
    const n = smoke ? 3 : 10;
    for (const topic of ['small', 'big']) {
      await call(w, 'GET', `/v1/threads/${topic}`);
      const md = [];
      const js = [];
      for (let i = 0; i < n; i++) md.push((await call(w, 'GET', `/v1/threads/${topic}`)).ms);
      for (let i = 0; i < n; i++) js.push((await call(w, 'GET', `/v1/threads/${topic}?format=json`)).ms);
      const app = [];
      for (let i = 0; i < Math.min(n, 5); i++) {
        const r = await call(w, 'POST', `/v1/threads/${topic}/entries`, { title: `append ${i}`, body: 'near the limit' });
        if (r.status !== 201) throw new Error(`append to ${topic}: ${r.status} ${r.text}`);
        app.push(r.ms);
      }
      out[topic] = { read_ms: round(pct(md, 50)), read_json_ms: round(pct(js, 50)), append_ms: round(pct(app, 50)) };
    }
    progress(`near the limit (${out.bytes} bytes): read ${out.big.read_ms} ms, json ${out.big.read_json_ms} ms, append ${out.big.append_ms} ms`);
    return out;
  } finally {
    await admin(host, 'PUT', 'latency', { ms: cfg.latencyMs });
    await stop(w.child);
  }
}

/**
 * A hung GitHub: one PUT is taken and its answer held (40 s; 6 s in the smoke run)
 * while agents write. Callers must be answered by their deadline, and every entry
 * must land exactly once after the timeout.
 */
async function measureHung(host) {
  const repo = 'hung';
  await admin(host, 'POST', 'repos', { owner: 'bench', name: repo, files: { 'threads/h.md': seedThread('h') } });
  const holdMs = smoke ? 6000 : 40000;
  const vars = smoke ? { GITHUB_TIMEOUT_SECONDS: '2', WRITE_WAIT_SECONDS: '3' } : {};
  const w = await worker(host, repo, vars);
  try {
    await call(w, 'GET', '/v1/threads/h');
    await admin(host, 'POST', 'faults', { method: 'PUT', route: 'contents', delay_ms: holdMs, mode: 'after', times: 1 });
    const agents = smoke ? 3 : 10;
    const t0 = now();
    const rs = await Promise.all(
      Array.from({ length: agents }, (_, a) =>
        call(w, 'POST', '/v1/threads/h/entries', { title: `hung ${a}`, body: 'while GitHub holds a PUT', agent: a % 2 ? 'Codex' : 'Claude' }),
      ),
    );
    const accepted = rs.filter((r) => [201, 202].includes(r.status)).map((r) => r.json.entry_id);
    await synced(w);
    const landedMs = now() - t0;
    const ids = entryIds(host, repo, 'h');
    const out = {
      agents,
      hold_ms: holdMs,
      timeout_s: Number(vars.GITHUB_TIMEOUT_SECONDS ?? 10),
      wait_s: Number(vars.WRITE_WAIT_SECONDS ?? 10),
      caller_p50_ms: round(pct(rs.map((r) => r.ms), 50)),
      caller_p95_ms: round(pct(rs.map((r) => r.ms), 95)),
      queued: rs.filter((r) => r.status === 202).length,
      refused: agents - accepted.length,
      landed_ms: round(landedMs, 0),
      lost: accepted.filter((id) => !ids.includes(id)).length,
      duplicated: ids.length - new Set(ids).size,
    };
    progress(`hung GitHub: callers p95 ${out.caller_p95_ms} ms, all landed after ${out.landed_ms} ms`);
    return out;
  } finally {
    await admin(host, 'DELETE', 'faults');
    await stop(w.child);
  }
}

/**
 * Wake-up latency: from a say's acknowledgement (answered once durable) to the answer
 * of an agent waiting on GET /v1/events for its turn; and from a plain `git push`
 * returning to a waiter's answer, through the git host's signed push webhook.
 */
async function measureWake(host) {
  const repo = 'wake';
  await admin(host, 'POST', 'repos', { owner: 'bench', name: repo, files: { 'threads/w.md': seedThread('w') } });
  const secret = randomBytes(16).toString('hex');
  const w = await worker(host, repo, { GITHUB_WEBHOOK_SECRET: secret });
  await admin(host, 'PUT', 'webhook', { url: `${w.url}/webhooks/github`, secret });
  const api = workerClient(() => w.url, TOKEN);
  const n = smoke ? 3 : 20;
  const wait = async (query) => {
    const { cursor } = (await api('GET', '/v1/events')).json;
    const out = { heard: null };
    out.answer = api('GET', `/v1/events?since=${cursor}&wait=30&${query}`).then((r) => {
      out.heard = now();
      if (r.status !== 200 || r.json.events.length === 0) throw new Error(`the waiter heard nothing: ${r.status} ${r.text}`);
      return r;
    });
    await sleep(100);
    return out;
  };
  const said = [];
  const pushed = [];
  const work = fs.mkdtempSync(path.join(tmp, 'wake-clone-'));
  const git = (...a) => execFileSync('git', a, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await api('GET', '/v1/threads/w');
    for (let i = 0; i < n; i++) {
      const waiter = await wait('for=Codex');
      const r = await api('POST', '/v1/threads/w/entries', { body: { title: `wake ${i}`, body: 'b', agent: 'Claude' }, headers: { prefer: 'respond-async' } });
      if (r.status !== 202) throw new Error(`say: ${r.status} ${r.text}`);
      const acked = now();
      await waiter.answer;
      said.push(Math.max(0, waiter.heard - acked));
    }
    await synced(w);
    git('clone', '-q', path.join(host.dir, 'bench', `${repo}.git`), '.');
    for (let i = 0; i < n; i++) {
      git('pull', '-q', 'origin', 'main');
      const waiter = await wait('topic=w');
      const file = path.join(work, 'threads', 'w.md');
      fs.appendFileSync(file, `\n---\n\nEntry: Codex (bench) 2026-03-02T10:00:00Z\nRole: implementer\nType: Note\nTitle: pushed ${i}\n\nby hand\n`);
      git('-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', 'commit', '-qam', `pushed ${i}`);
      git('push', '-q', 'origin', 'HEAD:main');
      const done = now();
      await waiter.answer;
      pushed.push(Math.max(0, waiter.heard - done));
    }
  } finally {
    await admin(host, 'PUT', 'webhook', { url: null });
    await stop(w.child);
  }
  const row = (xs) => ({ n: xs.length, p50_ms: round(pct(xs, 50)), p95_ms: round(pct(xs, 95)) });
  return { say: row(said), git_push: row(pushed) };
}

async function seedSweepRepo(host, repo) {
  const files = {};
  for (let t = 0; t < cfg.threads; t++) files[`threads/t${t}.md`] = seedThread(`t${t}`);
  await admin(host, 'POST', 'repos', { owner: 'bench', name: repo, files });
}

/**
 * One sweep step through the Worker. `durable`: each write asks to be answered once
 * durable in the journal (`Prefer: respond-async`), so the ack latency is the
 * durable one and the commit follows.
 */
async function sweepOurs(host, agents, { durable = false } = {}) {
  const repo = `${durable ? 'durable' : 'ours'}-${agents}`;
  await seedSweepRepo(host, repo);
  const w = await worker(host, repo);
  for (let t = 0; t < cfg.threads; t++) await call(w, 'GET', `/v1/threads/t${t}`);
  const api = workerClient(() => w.url, TOKEN);
  const headers = durable ? { prefer: 'respond-async' } : {};
  const append = async (a, k, topic) => {
    const r = await api('POST', `/v1/threads/${topic}/entries`, { body: { title: `a${a} e${k}`, body: 'sweep', agent: a % 2 ? 'Codex' : 'Claude' }, headers });
    return [201, 202].includes(r.status) ? r.json.entry_id : null;
  };
  try {
    const out = await workload(host, repo, agents, append, () => synced(w));
    if (durable) {
      // The floor under the same burst: as many GET /health at once.
      const ms = await Promise.all(Array.from({ length: agents }, async () => {
        const s0 = now();
        await call(w, 'GET', '/health');
        return now() - s0;
      }));
      out.health_p50_ms = round(pct(ms, 50));
      out.health_p95_ms = round(pct(ms, 95));
    }
    return out;
  } finally {
    await stop(w.child);
  }
}

/** Counts what landed: every accepted entry exactly once. */
function tally(host, repo, accepted, agents, failures) {
  const seen = new Map();
  for (let t = 0; t < cfg.threads; t++) for (const id of entryIds(host, repo, `t${t}`)) seen.set(id, (seen.get(id) ?? 0) + 1);
  const lost = accepted.filter((a) => !seen.has(a.id)).length;
  const duplicated = [...seen.values()].filter((n) => n > 1).length;
  const attempted = agents * cfg.entries;
  return { attempted, committed: accepted.length - lost, lost, duplicated, success_rate: round((accepted.length - lost) / attempted, 3), failures };
}

// The naive client: GET, append, PUT with the sha; on 409 re-GET and retry, 3 times.
function entryBlock(agent, title, id) {
  const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return `---\nEntry: ${agent} (bench) ${ts}\nRole: implementer\nType: Note\nTitle: ${title}\n\nsweep\n<!-- Entry-ID: ${id} -->\n`;
}
async function gh(host, method, p, body) {
  const r = await fetch(`${host.url}${p}`, {
    method,
    headers: { authorization: 'Bearer naive', 'user-agent': 'naive-bench', accept: 'application/vnd.github+json', ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}
async function naiveAppend(host, repo, topic, agent, title, id) {
  const p = `/repos/bench/${repo}/contents/threads/${topic}.md`;
  for (let attempt = 0; attempt <= 3; attempt++) {
    const got = await gh(host, 'GET', `${p}?ref=main`);
    if (got.status !== 200) return false;
    const old = Buffer.from(got.json.content.replace(/\n/g, ''), 'base64').toString('utf8');
    const content = `${old.trimEnd()}\n\n${entryBlock(agent, title, id)}`;
    const put = await gh(host, 'PUT', p, { message: `${agent}: ${title}`, content: Buffer.from(content).toString('base64'), sha: got.json.sha, branch: 'main' });
    if (put.status === 200 || put.status === 201) return true;
    if (put.status !== 409) return false;
  }
  return false;
}
/** The same step done the naive way, straight against the git host. */
async function sweepNaive(host, agents) {
  const repo = `naive-${agents}`;
  await seedSweepRepo(host, repo);
  const append = async (a, k, topic) => {
    const id = `01NAIVE${String(a).padStart(9, '0')}${String(k).padStart(10, '0')}`.slice(0, 26);
    return (await naiveAppend(host, repo, topic, a % 2 ? 'Codex' : 'Claude', `a${a} e${k}`, id)) ? id : null;
  };
  return workload(host, repo, agents, append);
}

function wasmSize() {
  const wasm = fs.readFileSync(path.join(ROOT, 'build', 'index_bg.wasm'));
  return { raw_bytes: wasm.length, gzip_bytes: zlib.gzipSync(wasm, { level: 9 }).length };
}

function nativeCore() {
  progress('native: cargo bench --bench core (a minute or two)');
  execFileSync('cargo', ['bench', '--bench', 'core', '--', '--noplot'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'ignore'] });
  const out = {};
  for (const op of ['parse', 'append', 'render']) {
    out[op] = {};
    for (const size of ['10KB', '100KB', '1MB', '5MB']) {
      const f = path.join(ROOT, 'target', 'criterion', op, size, 'new', 'estimates.json');
      const est = JSON.parse(fs.readFileSync(f, 'utf8'));
      out[op][size] = round(est.median.point_estimate / 1e3, 1); // µs
    }
  }
  return out;
}

// ---------------------------------------------------------------- main
function table(title, rows, cols) {
  const widths = cols.map(([h, k]) => Math.max(h.length, ...rows.map((r) => String(r[k] ?? '-').length)));
  const line = (cells) => cells.map((c, i) => String(c ?? '-').padStart(widths[i])).join('  ');
  console.log(`\n${title}`);
  console.log(line(cols.map(([h]) => h)));
  for (const r of rows) console.log(line(cols.map(([, k]) => r[k])));
}

let exitCode = 0;
try {
  progress(`starting the git host (latency ${cfg.latencyMs} ms per GitHub request)`);
  const host = await startGithost({ dir: path.join(tmp, 'githost') });
  children.push(host.child);
  await admin(host, 'PUT', 'latency', { ms: cfg.latencyMs });
  await admin(host, 'POST', 'repos', { owner: 'bench', name: 'reads', files: { 'threads/seed.md': seedThread('seed') } });

  progress('starting the Worker (wrangler dev)');
  const w = await worker(host, 'reads');
  const wTtl0 = await worker(host, 'reads', { CACHE_TTL_SECONDS: '0' });
  const results = {
    when: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gb: round(os.totalmem() / 2 ** 30, 1), node: process.version },
    config: cfg,
    worker: { startup_ms: round(w.startupMs, 0), ...wasmSize() },
  };
  results.reads = await measureReads(host, w, wTtl0);
  results.appends = await measureAppends(host, w);
  await stop(w.child);
  await stop(wTtl0.child);

  results.sweep = [];
  for (const agents of cfg.agents) {
    progress(`sweep: ${agents} agent(s) x ${cfg.entries} entries over ${cfg.threads} threads, ours`);
    const ours = await sweepOurs(host, agents);
    progress(`sweep: ${agents} agent(s), ours, answered once durable (Prefer: respond-async)`);
    const durable = await sweepOurs(host, agents, { durable: true });
    progress(`sweep: ${agents} agent(s), naive`);
    const naive = await sweepNaive(host, agents);
    results.sweep.push({
      agents,
      ours,
      durable,
      naive,
      ratios: {
        ack_p50: naive.ack_p50_ms ? round(ours.ack_p50_ms / naive.ack_p50_ms, 2) : null,
        github_requests_per_entry: round(ours.github_requests / Math.max(1, ours.committed) / (naive.github_requests / Math.max(1, naive.committed)), 3),
        success_rate: naive.success_rate ? round(ours.success_rate / naive.success_rate, 2) : null,
      },
    });
    for (const [name, r] of [['ours', ours], ['durable', durable]]) {
      if (r.lost || r.duplicated) {
        exitCode = 1;
        progress(`FAILED: ${name}, ${agents} agents lost ${r.lost} and duplicated ${r.duplicated} entries`);
      }
    }
  }
  progress('a thread near MAX_THREAD_BYTES');
  results.big_thread = await measureBig(host);
  progress('a hung GitHub: one PUT held while agents write');
  results.hung = await measureHung(host);
  if (results.hung.lost || results.hung.duplicated || results.hung.refused) {
    exitCode = 1;
    progress(`FAILED: with GitHub hung, ${results.hung.lost} lost, ${results.hung.duplicated} duplicated, ${results.hung.refused} refused`);
  }
  progress('wake-up: a waiter answered after a say, and after a plain git push (webhook)');
  results.wake = await measureWake(host);
  if (cfg.native) results.native_core_us = nativeCore();

  // ------------------------------------------------------------ report
  table('Reads (GitHub latency ' + cfg.latencyMs + ' ms)', Object.entries(results.reads).map(([k, v]) => ({ kind: k, ...v })), [
    ['read', 'kind'],
    ['p50 ms', 'p50_ms'],
    ['p95 ms', 'p95_ms'],
    ['GitHub req/read', 'github_requests_per_read'],
  ]);
  table('Appends, one agent', [results.appends], [
    ['p50 ms', 'p50_ms'],
    ['p95 ms', 'p95_ms'],
    ['GitHub req/append', 'github_requests_per_append'],
    ['mutating/append', 'mutating_per_append'],
  ]);
  const sweepRows = results.sweep.flatMap((s) => [
    { who: `ours x${s.agents}`, ...s.ours },
    { who: `durable x${s.agents}`, ...s.durable },
    { who: `naive x${s.agents}`, ...s.naive },
  ]);
  table(`Concurrency sweep (${cfg.entries} entries per agent over ${cfg.threads} threads)`, sweepRows, [
    ['', 'who'],
    ['committed', 'committed'],
    ['of', 'attempted'],
    ['entries/s', 'entries_per_s'],
    ['ack p50', 'ack_p50_ms'],
    ['ack p95', 'ack_p95_ms'],
    ['ack p99', 'ack_p99_ms'],
    ['GH req', 'github_requests'],
    ['mutating', 'mutating_requests'],
    ['commits', 'commits'],
    ['conflicts', 'conflicts'],
    ['lost', 'lost'],
    ['dup', 'duplicated'],
  ]);
  table('Answered once durable, beside the floor: as many GET /health at once', results.sweep.map((s) => ({ agents: s.agents, ...s.durable })), [
    ['agents', 'agents'],
    ['durable p50', 'ack_p50_ms'],
    ['durable p95', 'ack_p95_ms'],
    ['/health p50', 'health_p50_ms'],
    ['/health p95', 'health_p95_ms'],
  ]);
  table('Ours / naive', results.sweep.map((s) => ({ agents: s.agents, ...s.ratios })), [
    ['agents', 'agents'],
    ['ack p50', 'ack_p50'],
    ['GH req per entry', 'github_requests_per_entry'],
    ['success rate', 'success_rate'],
  ]);
  table(`A thread near the limit (${results.big_thread.bytes} bytes) beside a small one: p50 ms in workerd, GitHub latency 0, cache warm`, ['small', 'big'].map((t) => ({ thread: t, ...results.big_thread[t] })), [
    ['thread', 'thread'],
    ['read', 'read_ms'],
    ['read json', 'read_json_ms'],
    ['append', 'append_ms'],
  ]);
  table(`A hung GitHub (one PUT held ${results.hung.hold_ms / 1000} s; timeout ${results.hung.timeout_s} s, callers wait ${results.hung.wait_s} s)`, [results.hung], [
    ['agents', 'agents'],
    ['caller p50 ms', 'caller_p50_ms'],
    ['caller p95 ms', 'caller_p95_ms'],
    ['queued (202)', 'queued'],
    ['all landed ms', 'landed_ms'],
    ['lost', 'lost'],
    ['dup', 'duplicated'],
  ]);
  table('Wake-up: a waiter on GET /v1/events answered after…', [
    { after: 'a say\'s acknowledgement (202, durable)', ...results.wake.say },
    { after: 'a plain git push returned (webhook)', ...results.wake.git_push },
  ], [
    ['after', 'after'],
    ['n', 'n'],
    ['p50 ms', 'p50_ms'],
    ['p95 ms', 'p95_ms'],
  ]);
  console.log(`\nWorker: startup ${results.worker.startup_ms} ms (wrangler dev until /health), wasm ${results.worker.raw_bytes} bytes, ${results.worker.gzip_bytes} gzipped`);
  if (results.native_core_us) {
    table('Native core CPU, median µs', ['parse', 'append', 'render'].map((op) => ({ op, ...results.native_core_us[op] })), [
      ['op', 'op'],
      ['10KB', '10KB'],
      ['100KB', '100KB'],
      ['1MB', '1MB'],
      ['5MB', '5MB'],
    ]);
  }
  const out = path.join(ROOT, 'bench', 'results', smoke ? 'smoke.json' : 'latest.json');
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nWrote ${path.relative(ROOT, out)}`);
} catch (e) {
  exitCode = 1;
  process.stderr.write(`[bench] ${e.stack}\n`);
} finally {
  await Promise.all(children.map(stop));
}
if (exitCode) process.stderr.write('[bench] FAILED\n');
process.exit(exitCode);
