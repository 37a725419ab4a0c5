// The official MCP Python SDK (`mcp` on PyPI) as a client of the built Worker's /mcp:
// tests/e2e/python/client.py initializes, lists the tools, says and reads back.
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

test('the official MCP Python SDK client: initialize, list tools, say, read the thread', async (t) => {
  const { python, env } = py;
  for (const m of notes) t.diagnostic(m);
  const version = sh(python, ['-c', 'from importlib.metadata import version; print(version("mcp"))'], { env }).trim();
  t.diagnostic(`mcp ${version} on ${sh(python, ['--version'], { env }).trim()}`);

  const topic = 'python-sdk';
  const title = 'Hello from the Python SDK';
  const body = 'Said through mcp.client.streamable_http.';
  const args = [path.join(HERE, 'client.py'), `${h.worker.url}/mcp`, topic, title, body];
  t.diagnostic(`running: ${path.isAbsolute(python) ? path.relative(ROOT, python) : python} tests/e2e/python/client.py <worker>/mcp ${topic} ...`);
  const r = await run(python, args, { cwd: ROOT, env: { ...env, WATERCOOLER_TOKEN: WRITER } });
  assert.equal(r.code, 0, `client.py failed:\n${r.stderr}\n${r.stdout}`);
  const out = JSON.parse(r.stdout);
  t.diagnostic(`protocol ${out.protocol_version}, server ${out.server_info.name} ${out.server_info.version}, ${out.tools.length} tools`);

  assert.equal(out.server_info.name, 'watercooler-worker');
  assert.ok(['2025-03-26', '2025-06-18', '2025-11-25'].includes(out.protocol_version), out.protocol_version);
  assert.ok(out.tools.includes('watercooler_say'), out.tools.join(', '));
  assert.ok(out.tools.includes('watercooler_read_thread'), out.tools.join(', '));

  assert.ok(!out.say.isError, JSON.stringify(out.say));
  assert.match(out.say.structuredContent.entry_id, /^[0-9A-Z]{26}$/);
  assert.equal(out.say.structuredContent.ball, 'Codex (mira)');

  const file = h.file(topic);
  assert.ok(file?.includes(`Title: ${title}`), `the entry is not in git:\n${file}`);
  assert.ok(file.includes(body));
  assert.match(file, /^Entry: Claude \(mira\) /m);
  assert.ok(!out.read_thread.isError, JSON.stringify(out.read_thread));
  assert.equal(out.read_thread.content.map((c) => c.text).join('\n'), file);
});
