// The official MCP Python SDK (`mcp` on PyPI) as a client of the built Worker's /mcp:
// tests/e2e/python/client.py connects in the SDK's automatic mode (which probes
// `server/discover` and so speaks 2026-07-28 here) or forced into the `initialize`
// era, lists tools, resources and prompts, and calls every tool.
//
// The SDK is installed on first use, at the versions pinned in
// tests/e2e/python/requirements.txt, into .dev/python-mcp: a venv made with
// `python3 -m venv`, or, where that is missing (Debian without python3-venv), a
// `pip install --target` directory put on PYTHONPATH. It is made again when the
// requirements or the Python change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../../scripts/lib/services.mjs';
import { setup, WRITER } from './harness.mjs';

const HERE = path.join(ROOT, 'tests', 'e2e', 'python');
const REQUIREMENTS = path.join(HERE, 'requirements.txt');
const ENV_DIR = path.join(ROOT, '.dev', 'python-mcp');
const STAMP = path.join(ENV_DIR, 'installed.txt');
const PYTHON = process.env.PYTHON ?? 'python3';

const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const pip = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet'];

/**
 * The Python to run the client with, and its environment: installs the pinned SDK
 * when .dev/python-mcp is missing or was made from other requirements or Python.
 */
function pythonWithSdk(log) {
  const base = sh(PYTHON, ['-c', 'import sys; print(sys.version)']).trim();
  const wanted = `${base}\n${fs.readFileSync(REQUIREMENTS, 'utf8')}`;
  const venvPython = path.join(ENV_DIR, 'bin', 'python');
  const target = path.join(ENV_DIR, 'site');
  const ready = () => {
    if (fs.existsSync(venvPython)) return { python: venvPython, env: process.env };
    return { python: PYTHON, env: { ...process.env, PYTHONPATH: target } };
  };
  if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === wanted) return ready();

  fs.rmSync(ENV_DIR, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(ENV_DIR), { recursive: true });
  try {
    log(`making a venv in ${path.relative(ROOT, ENV_DIR)} and installing tests/e2e/python/requirements.txt`);
    sh(PYTHON, ['-m', 'venv', ENV_DIR]);
    sh(venvPython, [...pip, '-r', REQUIREMENTS]);
  } catch (e) {
    if (fs.existsSync(venvPython)) throw new Error(`pip install into the venv failed:\n${e.stderr ?? e.message}`);
    // No venv module (or no ensurepip): install beside the system Python instead.
    log(`python3 -m venv failed (${(e.stderr ?? e.message).trim().split('\n').pop()}); installing with pip --target`);
    fs.rmSync(ENV_DIR, { recursive: true, force: true });
    try {
      sh(PYTHON, [...pip, '--target', target, '-r', REQUIREMENTS]);
    } catch (e2) {
      throw new Error(`cannot install the MCP Python SDK: neither \`${PYTHON} -m venv\` nor \`${PYTHON} -m pip\` works:\n${e2.stderr ?? e2.message}`);
    }
  }
  fs.writeFileSync(STAMP, wanted);
  return ready();
}

/** Runs `cmd args`; resolves with { code, stdout, stderr }. */
function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let h;
let py;
const notes = [];
before(async () => {
  // Installs (blocking) before any service runs, so none waits on a full pipe.
  py = pythonWithSdk((m) => notes.push(m));
  h = await setup();
});
after(async () => {
  await h?.close();
});

const TOPIC = 'python-sdk';

/** Every tool, with arguments for a thread the first call starts. */
const CALLS = [
  ['watercooler_health', {}],
  ['watercooler_whoami', {}],
  ['watercooler_say', { topic: TOPIC, title: 'Hello from the Python SDK', body: 'Said through mcp.Client.', agent: 'Claude', wait_for_commit: true }],
  ['watercooler_ack', { topic: TOPIC, agent: 'Claude', body: 'Noted.' }],
  ['watercooler_handoff', { topic: TOPIC, agent: 'Claude', target_agent: 'Codex', note: 'over to you' }],
  ['watercooler_set_status', { topic: TOPIC, status: 'in_review' }],
  ['watercooler_list_threads', { agent: 'Codex' }],
  ['watercooler_read_thread', { topic: TOPIC }],
  ['watercooler_list_thread_entries', { topic: TOPIC }],
  ['watercooler_get_thread_entry', { topic: TOPIC, index: 0 }],
  ['watercooler_get_thread_entry_range', { topic: TOPIC, start_index: 0, end_index: 1 }],
  ['watercooler_sync', {}],
  ['watercooler_reindex', {}],
  ['watercooler_wait', { timeout_s: 0 }],
  ['watercooler_search', { query: 'Python' }],
];

/** Runs client.py in `mode`; resolves with what it printed. */
async function runClient(t, mode) {
  const { python, env } = py;
  const calls = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wc-python-')), 'calls.json');
  fs.writeFileSync(calls, JSON.stringify(CALLS));
  const args = [path.join(HERE, 'client.py'), `${h.worker.url}/mcp`, mode, calls];
  t.diagnostic(`running: ${path.isAbsolute(python) ? path.relative(ROOT, python) : python} tests/e2e/python/client.py <worker>/mcp ${mode} calls.json`);
  const r = await run(python, args, { cwd: ROOT, env: { ...env, WATERCOOLER_TOKEN: WRITER } });
  assert.equal(r.code, 0, `client.py failed:\n${r.stderr}\n${r.stdout}`);
  const out = JSON.parse(r.stdout);
  t.diagnostic(`protocol ${out.protocol_version}, server ${out.server_info.name} ${out.server_info.version}, ${out.tools.length} tools, ${out.calls.length} calls`);
  return out;
}

/** What both eras must give: every tool called without error, resources and prompts. */
function assertEverythingWorks(out) {
  assert.equal(out.server_info.name, 'watercooler-worker');
  assert.match(out.instructions, /watercooler_wait/);
  assert.deepEqual([...out.tools].sort(), CALLS.map(([n]) => n).sort(), 'every listed tool is called');
  for (const { name, result } of out.calls) assert.ok(!result.isError, `${name}: ${JSON.stringify(result)}`);
  const said = out.calls.find((c) => c.name === 'watercooler_say').result;
  assert.match(said.structuredContent.entry_id, /^[0-9A-Z]{26}$/);
  const file = h.file(TOPIC);
  assert.ok(file?.includes('Title: Hello from the Python SDK'), `the entry is not in git:\n${file}`);
  assert.match(file, /^Entry: Claude \(mira\) /m);
  assert.ok(out.resources.includes('watercooler://instructions') && out.resources.includes(`watercooler://threads/${TOPIC}`), out.resources.join());
  assert.match(out.read.contents[0].text, /Title: Hello from the Python SDK/);
  assert.deepEqual(out.prompts, ['catch_up', 'reply']);
  assert.match(out.prompt.messages[0].content.text, /python-sdk/);
}

test('the official MCP Python SDK client, automatic mode: discovers 2026-07-28 and calls every tool', async (t) => {
  const { python, env } = py;
  for (const m of notes) t.diagnostic(m);
  const version = sh(python, ['-c', 'from importlib.metadata import version; print(version("mcp"))'], { env }).trim();
  t.diagnostic(`mcp ${version} on ${sh(python, ['--version'], { env }).trim()}`);
  const out = await runClient(t, 'auto');
  assert.equal(out.protocol_version, '2026-07-28');
  assertEverythingWorks(out);
  // Stateless: each result names the server, lists say how long they stay fresh.
  const listed = out.calls.find((c) => c.name === 'watercooler_read_thread').result;
  assert.equal(listed.resultType, 'complete');
  assert.equal(listed._meta['io.modelcontextprotocol/serverInfo'].name, 'watercooler-worker');
});

test('the official MCP Python SDK client, forced into the initialize era: negotiates 2025-11-25', async (t) => {
  const out = await runClient(t, 'legacy');
  assert.equal(out.protocol_version, '2025-11-25');
  assertEverythingWorks(out);
});
