// The remote MCP endpoint, driven by the official MCP TypeScript SDK client, plus raw
// HTTP checks of every transport rule.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { setup, entryIds, READER, WRITER } from './harness.mjs';

let h;
before(async () => {
  // NOT_FOUND_CACHE_SECONDS=0: a read of a missing topic always asks GitHub here.
  h = await setup({ vars: { ALLOWED_ORIGINS: 'http://allowed.example', NOT_FOUND_CACHE_SECONDS: '0' } });
});
after(async () => {
  await h?.close();
});

async function connect(token = WRITER, name = 'e2e', { headers = {}, query = '' } = {}) {
  const client = new Client({ name, version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${h.worker.url}/mcp${query}`), {
    requestInit: { headers: { Authorization: `Bearer ${token}`, ...headers } },
  });
  await client.connect(transport);
  return client;
}

const TOOLS = [
  'watercooler_health',
  'watercooler_whoami',
  'watercooler_list_threads',
  'watercooler_read_thread',
  'watercooler_list_thread_entries',
  'watercooler_get_thread_entry',
  'watercooler_get_thread_entry_range',
  'watercooler_say',
  'watercooler_ack',
  'watercooler_handoff',
  'watercooler_set_status',
  'watercooler_reindex',
  'watercooler_sync',
  'watercooler_wait',
  'watercooler_search',
];

const text = (r) => r.content.map((c) => c.text).join('\n');

test('resources: the instructions and every thread, read as markdown through the SDK', async () => {
  const client = await connect();
  try {
    await client.callTool({ name: 'watercooler_say', arguments: { topic: 'mcp-resource', title: 'r', body: 'as a resource', wait_for_commit: true } });
    const { resources } = await client.listResources();
    assert.equal(resources[0].uri, 'watercooler://instructions');
    assert.ok(resources.some((r) => r.uri === 'watercooler://threads/mcp-resource'), JSON.stringify(resources));
    const read = await client.readResource({ uri: 'watercooler://threads/mcp-resource' });
    assert.equal(read.contents[0].text, h.file('mcp-resource'));
    const how = await client.readResource({ uri: 'watercooler://instructions' });
    assert.match(how.contents[0].text, /ball/);
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.equal(resourceTemplates[0].uriTemplate, 'watercooler://threads/{topic}');
    await assert.rejects(client.readResource({ uri: 'watercooler://threads/no-such-thread' }), (e) => e.code === -32002);
  } finally {
    await client.close();
  }
});

test('a lean surface: a read-only token lists only read tools; a client narrows with X-MCP-Tools or ?tools=', async () => {
  const names = async (client) => (await client.listTools()).tools.map((t) => t.name);
  const reader = await connect(READER, 'reader');
  const narrow = await connect(WRITER, 'narrow', { headers: { 'X-MCP-Tools': 'wait,say' } });
  const query = await connect(WRITER, 'query', { query: '?tools=read_thread,search' });
  const readonly = await connect(WRITER, 'readonly', { headers: { 'X-MCP-Readonly': 'true' } });
  try {
    const read = await names(reader);
    assert.ok(read.includes('watercooler_read_thread') && read.includes('watercooler_search'), read.join());
    assert.deepEqual(read.filter((n) => /_(say|ack|handoff|set_status)$/.test(n)), []);
    assert.deepEqual(await names(readonly), read);
    assert.deepEqual(await names(narrow), ['watercooler_say', 'watercooler_wait']);
    assert.deepEqual(await names(query), ['watercooler_read_thread', 'watercooler_search']);
    await assert.rejects(query.callTool({ name: 'watercooler_say', arguments: { topic: 'x', title: 't', body: 'b' } }), (e) => e.code === -32602);
  } finally {
    await Promise.all([reader, narrow, query, readonly].map((c) => c.close()));
  }
});

test('connects, negotiates, and lists every tool with precise schemas', async () => {
  const client = await connect();
  try {
    assert.equal(client.getServerVersion().name, 'watercooler-worker');
    assert.match(client.getInstructions(), /ball/);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...TOOLS].sort());
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', t.name);
      assert.equal(t.inputSchema.additionalProperties, false, t.name);
      assert.ok(t.inputSchema.properties.code_path && t.inputSchema.properties.agent_func, t.name);
      assert.equal(typeof t.annotations.readOnlyHint, 'boolean', t.name);
      assert.equal(typeof t.annotations.idempotentHint, 'boolean', t.name);
      assert.equal(typeof t.annotations.destructiveHint, 'boolean', t.name);
      assert.ok(t.description.length > 20, t.name);
      if (t.name !== 'watercooler_read_thread') assert.equal(t.outputSchema?.type, 'object', t.name);
    }
    const say = tools.find((t) => t.name === 'watercooler_say');
    assert.deepEqual(say.inputSchema.required, ['topic', 'title', 'body']);
    assert.equal(say.annotations.readOnlyHint, false);
  } finally {
    await client.close();
  }
});

test('the whole workflow: say, read, ack, handoff, set_status, with correct files in git', async () => {
  const client = await connect();
  try {
    const said = await client.callTool({
      name: 'watercooler_say',
      arguments: { topic: 'mcp-flow', title: 'Plan', body: 'Ship it on Friday.', role: 'planner', entry_type: 'Plan', agent: 'Claude', code_path: '.', wait_for_commit: true },
    });
    assert.ok(!said.isError, text(said));
    assert.equal(said.structuredContent.ball, 'Codex (mira)');
    assert.match(said.structuredContent.commit_sha, /^[0-9a-f]{40}$/, 'wait_for_commit: answered with the commit');
    const id = said.structuredContent.entry_id;
    assert.match(id, /^[0-9A-Z]{26}$/);

    const md = await client.callTool({ name: 'watercooler_read_thread', arguments: { topic: 'mcp-flow' } });
    assert.equal(text(md), h.file('mcp-flow'));
    assert.match(text(md), /Ship it on Friday\./);

    // By default a write is answered once stored: no commit yet, the ball it gives.
    const ack = await client.callTool({ name: 'watercooler_ack', arguments: { topic: 'mcp-flow', agent_func: 'Codex:gpt-5:critic' } });
    assert.ok(!ack.isError, text(ack));
    assert.equal(ack.structuredContent.ball, 'Codex (mira)');
    assert.equal(ack.structuredContent.queued, true);
    assert.equal(ack.structuredContent.commit_sha, null);
    assert.match(text(ack), /^Stored: ack on mcp-flow \(entry_id [0-9A-Z]{26}\)/);

    const ho = await client.callTool({ name: 'watercooler_handoff', arguments: { topic: 'mcp-flow', agent: 'Codex', note: 'over to you' } });
    assert.equal(ho.structuredContent.ball, 'Claude (mira)');

    const st = await client.callTool({ name: 'watercooler_set_status', arguments: { topic: 'mcp-flow', status: 'in_review' } });
    assert.equal(st.structuredContent.status, 'IN_REVIEW');

    await h.synced(20000);
    const file = h.file('mcp-flow');
    assert.match(file, /^Status: IN_REVIEW$/m);
    assert.match(file, /^Ball: Claude \(mira\)$/m);
    assert.match(file, /^Entry: Codex \(mira\) \S+\nRole: implementer\nType: Note\nTitle: Ack\n\nack\n/m);
    assert.match(file, /^Entry: Codex \(mira\) \S+\nRole: pm\nType: Note\nTitle: Handoff to Claude \(mira\)\n\nover to you\n/m);
    assert.equal(entryIds(file)[0], id);

    const json = await client.callTool({ name: 'watercooler_read_thread', arguments: { topic: 'mcp-flow', format: 'json', from_entry: 1, limit: 1 } });
    assert.equal(json.structuredContent.total_entries, 3);
    assert.equal(json.structuredContent.entries.length, 1);
    assert.equal(json.structuredContent.entries[0].title, 'Ack');

    const partial = await client.callTool({ name: 'watercooler_read_thread', arguments: { topic: 'mcp-flow', from_entry: 2 } });
    assert.match(text(partial), /^# mcp-flow — Thread/);
    assert.match(text(partial), /Handoff to Claude/);
    assert.doesNotMatch(text(partial), /Ship it on Friday/);

    const entries = await client.callTool({ name: 'watercooler_list_thread_entries', arguments: { topic: 'mcp-flow', offset: 1, limit: 5 } });
    assert.deepEqual(entries.structuredContent.entries.map((e) => e.index), [1, 2]);
    assert.equal(entries.structuredContent.entries[0].body, undefined);

    const byId = await client.callTool({ name: 'watercooler_get_thread_entry', arguments: { topic: 'mcp-flow', entry_id: id } });
    assert.equal(byId.structuredContent.entry.body, 'Ship it on Friday.');
    const byIndex = await client.callTool({ name: 'watercooler_get_thread_entry', arguments: { topic: 'mcp-flow', index: 2 } });
    assert.equal(byIndex.structuredContent.entry.role, 'pm');
    const range = await client.callTool({ name: 'watercooler_get_thread_entry_range', arguments: { topic: 'mcp-flow', start_index: 0, end_index: 1 } });
    assert.deepEqual(range.structuredContent.entries.map((e) => e.title), ['Plan', 'Ack']);

    const who = await client.callTool({ name: 'watercooler_whoami', arguments: {} });
    assert.deepEqual(who.structuredContent, { user: 'mira', agent: 'Claude', author: 'Claude (mira)', can_write: true });
    const health = await client.callTool({ name: 'watercooler_health', arguments: {} });
    assert.equal(health.structuredContent.ok, true);
    assert.equal(health.structuredContent.repo, 'acme/threads');

    const index = await client.callTool({ name: 'watercooler_reindex', arguments: {} });
    assert.ok(index.structuredContent.in_review.some((t) => t.topic === 'mcp-flow'));
  } finally {
    await client.close();
  }
});

test('list_threads: sections for the caller, and working pagination', async () => {
  const client = await connect();
  try {
    for (let i = 0; i < 5; i++) {
      // Codex says: the ball goes to Claude (mira), the caller's default agent.
      await client.callTool({ name: 'watercooler_say', arguments: { topic: `page-${i}`, title: 't', body: 'b', agent: 'Codex' } });
    }
    await client.callTool({ name: 'watercooler_say', arguments: { topic: 'page-mine', title: 't', body: 'b' } });
    const seen = [];
    let cursor;
    let pages = 0;
    do {
      const r = await client.callTool({ name: 'watercooler_list_threads', arguments: { limit: 2, ...(cursor ? { cursor } : {}) } });
      assert.ok(!r.isError, text(r));
      assert.ok(r.structuredContent.threads.length <= 2);
      seen.push(...r.structuredContent.threads);
      cursor = r.structuredContent.next_cursor;
      pages++;
    } while (cursor && pages < 50);
    const topics = seen.map((t) => t.topic);
    assert.equal(new Set(topics).size, topics.length, 'no thread twice across pages');
    for (let i = 0; i < 5; i++) assert.ok(topics.includes(`page-${i}`));
    assert.equal(seen.find((t) => t.topic === 'page-0').section, 'new_entries');
    assert.equal(seen.find((t) => t.topic === 'page-mine').section, 'waiting');
    const first = await client.callTool({ name: 'watercooler_list_threads', arguments: {} });
    assert.match(text(first), /## New entries for you/);
    assert.match(text(first), /## Waiting on others/);
  } finally {
    await client.close();
  }
});

test('error paths: unknown tool is a protocol error, everything else an isError result', async () => {
  const client = await connect();
  const reader = await connect(READER, 'reader');
  try {
    await assert.rejects(client.callTool({ name: 'watercooler_nope', arguments: {} }), (e) => e.code === -32602);
    const cases = [
      [client, 'watercooler_say', { topic: 'x', body: 'no title' }, /title/],
      [client, 'watercooler_say', { topic: '../x', title: 't', body: 'b' }, /topic/],
      [client, 'watercooler_say', { topic: 'x', title: 't', body: 'b', colour: 'red' }, /unknown field "colour"/],
      [client, 'watercooler_say', { topic: 'x', title: 't', body: 'b', agent_func: 'nonsense' }, /agent_func/],
      [client, 'watercooler_read_thread', { topic: 'does-not-exist' }, /does not exist/],
      [client, 'watercooler_read_thread', { topic: 'mcp-flow', format: 'xml' }, /format/],
      [client, 'watercooler_get_thread_entry', { topic: 'mcp-flow', index: 99 }, /out of range/],
      [client, 'watercooler_get_thread_entry', { topic: 'mcp-flow' }, /exactly one/],
      [client, 'watercooler_get_thread_entry_range', { topic: 'mcp-flow', start_index: 2, end_index: 1 }, /end_index/],
      [client, 'watercooler_list_threads', { cursor: 'garbage' }, /cursor/],
      [client, 'watercooler_list_threads', { limit: 0 }, /limit/],
      [client, 'watercooler_set_status', { topic: 'mcp-flow', status: 'a\nb' }, /status/],
      [client, 'watercooler_ack', { topic: 'no-such-thread' }, /does not exist/],
      [reader, 'watercooler_say', { topic: 'x', title: 't', body: 'b' }, /read-only/],
    ];
    const before = h.commitCount();
    for (const [c, name, args, pattern] of cases) {
      const r = await c.callTool({ name, arguments: args });
      assert.equal(r.isError, true, `${name} ${JSON.stringify(args)}: ${text(r)}`);
      assert.match(text(r), pattern);
    }
    assert.equal(h.commitCount(), before);

    await client.callTool({ name: 'watercooler_say', arguments: { topic: 'mcp-rate', title: 't', body: 'b', wait_for_commit: true } });
    await h.fault({ method: 'PUT', route: 'contents', status: 403, message: 'You have exceeded a secondary rate limit', headers: { 'retry-after': '90' }, times: 1 });
    // GitHub trouble while reading is an isError result that says when to retry.
    await h.fault({ method: 'GET', route: 'contents', status: 503, message: 'Service Unavailable', times: 3 });
    const down = await client.callTool({ name: 'watercooler_read_thread', arguments: { topic: 'never-cached' } });
    assert.equal(down.isError, true);
    assert.match(text(down), /GitHub failed with 503/);
    assert.match(text(down), /retry after \d+ s/);
    await h.clearFaults();
    await h.fault({ method: 'PUT', route: 'contents', status: 403, message: 'You have exceeded a secondary rate limit', headers: { 'retry-after': '6' }, times: 1 });
    // A rate-limited write is not an error: it is accepted, queued, and lands later.
    const r = await client.callTool({ name: 'watercooler_say', arguments: { topic: 'mcp-rate', title: 't2', body: 'b', wait_for_commit: true } });
    assert.ok(!r.isError, text(r));
    assert.equal(r.structuredContent.queued, true);
    assert.match(text(r), /queued/);
    assert.doesNotMatch(text(r), new RegExp(WRITER));
    const status = await client.callTool({ name: 'watercooler_sync', arguments: { action: 'status' } });
    assert.equal(status.structuredContent.state, 'failing');
    assert.match(status.structuredContent.last_error, /rate limit/);
    const seen = await client.callTool({ name: 'watercooler_read_thread', arguments: { topic: 'mcp-rate', format: 'json' } });
    assert.equal(seen.structuredContent.entries.at(-1).pending, true);
    const denied = await reader.callTool({ name: 'watercooler_sync', arguments: { action: 'now' } });
    assert.equal(denied.isError, true);
    await h.clearFaults();
    // sync now keeps GitHub's wait, and says so; once it is over, the write lands.
    const early = await client.callTool({ name: 'watercooler_sync', arguments: { action: 'now' } });
    assert.equal(early.structuredContent.state, 'failing', text(early));
    const until = early.structuredContent.github_wait_until_ms;
    assert.ok(until > Date.now(), text(early));
    await new Promise((res) => setTimeout(res, until - Date.now() + 100));
    const now = await client.callTool({ name: 'watercooler_sync', arguments: { action: 'now' } });
    assert.equal(now.structuredContent.state, 'synced', text(now));
    assert.equal(entryIds(h.file('mcp-rate')).at(-1), r.structuredContent.entry_id);
  } finally {
    await client.close();
    await reader.close();
  }
});

test('two clients writing to one thread at once: every entry lands once', async () => {
  const a = await connect(WRITER, 'a');
  const b = await connect(WRITER, 'b');
  try {
    await a.callTool({ name: 'watercooler_say', arguments: { topic: 'mcp-race', title: 'start', body: 'b' } });
    const calls = [];
    for (let i = 0; i < 6; i++) {
      calls.push(a.callTool({ name: 'watercooler_say', arguments: { topic: 'mcp-race', title: `a${i}`, body: 'from a', agent: 'Claude' } }));
      calls.push(b.callTool({ name: 'watercooler_say', arguments: { topic: 'mcp-race', title: `b${i}`, body: 'from b', agent: 'Codex' } }));
    }
    const results = await Promise.all(calls);
    for (const r of results) assert.ok(!r.isError, text(r));
    await h.synced(30000);
    const ids = entryIds(h.file('mcp-race'));
    assert.equal(ids.length, 13);
    assert.equal(new Set(ids).size, 13);
    for (const r of results) assert.ok(ids.includes(r.structuredContent.entry_id));
  } finally {
    await a.close();
    await b.close();
  }
});

// Raw HTTP: the transport rules.
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
async function raw({ method = 'POST', body = INIT, headers = {}, token = WRITER } = {}) {
  const h0 = { accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...headers };
  if (token) h0.authorization = `Bearer ${token}`;
  for (const [k, v] of Object.entries(h0)) if (v === null) delete h0[k];
  const r = await fetch(`${h.worker.url}/mcp`, { method, headers: h0, body: method === 'POST' ? (typeof body === 'string' ? body : JSON.stringify(body)) : undefined });
  const t = await r.text();
  let json;
  try {
    json = JSON.parse(t);
  } catch {}
  return { status: r.status, headers: r.headers, text: t, json };
}

test('transport: methods, batches, versions, media types, parse errors', async () => {
  let r = await raw();
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.json.result.protocolVersion, '2025-03-26');
  assert.equal(r.headers.get('mcp-session-id'), null, 'stateless: no session id');
  for (const v of ['2025-06-18', '2025-11-25']) {
    r = await raw({ body: { ...INIT, params: { ...INIT.params, protocolVersion: v } } });
    assert.equal(r.json.result.protocolVersion, v);
  }
  r = await raw({ body: { ...INIT, params: { ...INIT.params, protocolVersion: '1999-01-01' } } });
  assert.equal(r.json.result.protocolVersion, '2025-11-25');

  for (const method of ['GET', 'DELETE']) {
    r = await raw({ method });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.get('allow'), 'POST');
  }
  r = await raw({ body: [INIT] });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, -32600);
  r = await raw({ headers: { 'mcp-protocol-version': '2024-01-01' } });
  assert.equal(r.status, 400);
  r = await raw({ headers: { 'mcp-protocol-version': '2025-06-18' }, body: { jsonrpc: '2.0', id: 2, method: 'ping' } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { jsonrpc: '2.0', id: 2, result: {} });
  r = await raw({ headers: { accept: 'application/json' } });
  assert.equal(r.status, 406);
  r = await raw({ headers: { accept: null } });
  assert.equal(r.status, 406);
  r = await raw({ headers: { 'content-type': 'text/plain' } });
  assert.equal(r.status, 415);
  r = await raw({ body: '{"jsonrpc": "2.0", ' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, -32700);
  r = await raw({ body: { jsonrpc: '2.0', id: 3, method: 'no/such' } });
  assert.equal(r.json.error.code, -32601);
  assert.equal(r.json.id, 3);
  r = await raw({ body: { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'nope' } } });
  assert.equal(r.json.error.code, -32602);
  r = await raw({ body: { jsonrpc: '2.0', id: 5, method: 'tools/list', params: { cursor: 'x' } } });
  assert.equal(r.json.error.code, -32602);
});

test('transport: notifications and client responses get 202 with no body', async () => {
  let r = await raw({ body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  assert.equal(r.status, 202);
  assert.equal(r.text, '');
  r = await raw({ body: { jsonrpc: '2.0', id: 9, result: {} } });
  assert.equal(r.status, 202);
  assert.equal(r.text, '');
});

test('transport: Origin and bearer token checks', async () => {
  let r = await raw({ headers: { origin: 'http://evil.example' } });
  assert.equal(r.status, 403);
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  r = await raw({ headers: { origin: 'http://allowed.example' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), 'http://allowed.example');
  // A browser page from an allowed origin: its preflight, and a 401 it can read.
  const pre = await fetch(`${h.worker.url}/mcp`, { method: 'OPTIONS', headers: { origin: 'http://allowed.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-protocol-version' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://allowed.example');
  assert.match(pre.headers.get('access-control-allow-headers'), /authorization/);
  const evilPre = await fetch(`${h.worker.url}/mcp`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
  assert.equal(evilPre.status, 403);
  r = await raw({ token: null, headers: { origin: 'http://allowed.example' } });
  assert.equal(r.status, 401);
  assert.match(r.headers.get('access-control-expose-headers'), /www-authenticate/);
  r = await raw();
  assert.equal(r.status, 200, 'no Origin header: allowed');
  r = await raw({ token: null });
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), /^Bearer/);
  r = await raw({ token: 'wrong' });
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), /^Bearer/);
});

// Raw HTTP: the 2026-07-28 revision beside the initialize era.
const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
};
/** A modern request as a conforming client sends it; `headers` and `meta` override. */
function modern(method, params = {}, { headers = {}, meta = {}, id = 1, token } = {}) {
  const name = params.name ?? params.uri;
  const topic = params.arguments?.topic;
  return raw({
    token,
    body: { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...ENVELOPE, ...meta } } },
    headers: {
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(name === undefined ? {} : { 'mcp-name': name }),
      ...(topic === undefined ? {} : { 'mcp-param-topic': topic }),
      ...headers,
    },
  });
}

test('2026-07-28: discover, stateless results with resultType, serverInfo and cache hints', async () => {
  let r = await modern('server/discover');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('mcp-session-id'), null);
  assert.deepEqual(r.json.result.supportedVersions, [MODERN, '2025-11-25', '2025-06-18', '2025-03-26']);
  assert.equal(r.json.result.resultType, 'complete');
  assert.deepEqual(Object.keys(r.json.result.capabilities).sort(), ['prompts', 'resources', 'tools']);
  assert.equal(r.json.result._meta['io.modelcontextprotocol/serverInfo'].name, 'watercooler-worker');
  assert.equal(r.json.result.cacheScope, 'public');

  const a = await modern('tools/list');
  const b = await modern('tools/list');
  assert.equal(a.text, b.text, 'tools/list is the same, byte for byte, every time');
  assert.deepEqual(a.json.result.tools.map((t) => t.name).sort(), [...TOOLS].sort());
  assert.equal(a.json.result.resultType, 'complete');
  assert.equal(a.json.result.cacheScope, 'private', 'it depends on the token');
  assert.ok(a.json.result.ttlMs > 0);
  const read = a.json.result.tools.find((t) => t.name === 'watercooler_read_thread');
  assert.equal(read.inputSchema.properties.topic['x-mcp-header'], 'Topic');

  for (const [method, scope] of [['resources/list', 'private'], ['resources/templates/list', 'public'], ['prompts/list', 'public']]) {
    r = await modern(method);
    assert.equal(r.status, 200, `${method}: ${r.text}`);
    assert.equal(r.json.result.cacheScope, scope, method);
    assert.ok(Number.isInteger(r.json.result.ttlMs) && r.json.result.ttlMs >= 0, method);
  }
  r = await modern('resources/read', { uri: 'watercooler://instructions' });
  assert.equal(r.json.result.ttlMs, 0);
  assert.match(r.json.result.contents[0].text, /Ball/);

  r = await modern('tools/call', { name: 'watercooler_say', arguments: { topic: 'modern-raw', title: 'Stateless', body: 'b', agent: 'Claude' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.result.isError, undefined, r.text);
  assert.equal(r.json.result.resultType, 'complete');
  assert.equal(r.json.result._meta['io.modelcontextprotocol/serverInfo'].name, 'watercooler-worker');
  r = await modern('resources/read', { uri: 'watercooler://threads/modern-raw' });
  assert.match(r.json.result.contents[0].text, /Title: Stateless/);
});

test('2026-07-28: the envelope, the headers and the version are checked before anything runs', async () => {
  const refused = async (res, status, code, why) => {
    const r = await res;
    assert.equal(r.status, status, `${why}: ${r.text}`);
    assert.equal(r.json.error.code, code, `${why}: ${r.text}`);
    return r;
  };
  await refused(raw({ headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } }), 400, -32602, 'no _meta');
  await refused(modern('tools/list', {}, { meta: { 'io.modelcontextprotocol/clientCapabilities': undefined } }), 400, -32602, 'no client capabilities');
  await refused(modern('tools/list', {}, { headers: { 'mcp-protocol-version': null } }), 400, -32020, 'no version header');
  await refused(modern('tools/list', {}, { headers: { 'mcp-protocol-version': '2025-11-25' } }), 400, -32020, 'version header differs from _meta');
  await refused(modern('tools/list', {}, { headers: { 'mcp-method': null } }), 400, -32020, 'no Mcp-Method');
  await refused(modern('tools/list', {}, { headers: { 'mcp-method': 'TOOLS/LIST' } }), 400, -32020, 'values are case-sensitive');
  const say = { name: 'watercooler_say', arguments: { topic: 'forged', title: 't', body: 'b', agent: 'Claude' } };
  await refused(modern('tools/call', say, { headers: { 'mcp-name': 'watercooler_health' } }), 400, -32020, 'Mcp-Name differs');
  await refused(modern('tools/call', say, { headers: { 'mcp-name': null } }), 400, -32020, 'no Mcp-Name');
  await refused(modern('tools/call', say, { headers: { 'mcp-param-topic': 'elsewhere' } }), 400, -32020, 'Mcp-Param-Topic differs');
  await refused(modern('tools/call', say, { headers: { 'mcp-param-topic': null } }), 400, -32020, 'no Mcp-Param-Topic');
  assert.equal(h.file('forged'), null, 'nothing refused was written');
  assert.equal((await h.api('GET', '/v1/threads/forged')).status, 404, 'nor queued');
  let r = await modern('tools/call', say, { headers: { 'mcp-name': '=?base64?d2F0ZXJjb29sZXJfaGVhbHRo?=' } });
  assert.equal(r.json.error.code, -32020, 'base64 of watercooler_health');
  r = await modern('tools/call', { name: 'watercooler_health', arguments: {} }, { headers: { 'mcp-name': '=?base64?d2F0ZXJjb29sZXJfaGVhbHRo?=' } });
  assert.equal(r.status, 200, r.text);

  r = await refused(modern('tools/list', {}, { meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }, headers: { 'mcp-protocol-version': '2099-01-01' } }), 400, -32022, 'unsupported version');
  assert.deepEqual(r.json.error.data, { supported: [MODERN, '2025-11-25', '2025-06-18', '2025-03-26'], requested: '2099-01-01' });
  r = await refused(raw({ headers: { 'mcp-protocol-version': '2024-01-01' } }), 400, -32022, 'unknown version on an initialize');
  assert.equal(r.json.error.data.requested, '2024-01-01');

  for (const method of ['ping', 'logging/setLevel', 'initialize', 'subscriptions/listen']) {
    await refused(modern(method), 404, -32601, `${method} is not part of 2026-07-28`);
  }
  r = await refused(modern('resources/read', { uri: 'watercooler://threads/none-here' }), 400, -32602, 'unknown resource');
  assert.equal(r.json.error.data.uri, 'watercooler://threads/none-here');
  await refused(modern('tools/call', { name: 'nope' }), 400, -32602, 'unknown tool');

  r = await raw({ headers: { 'mcp-protocol-version': MODERN }, body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: {} } });
  assert.equal(r.status, 202);
  r = await raw({ headers: { 'mcp-protocol-version': MODERN }, body: { jsonrpc: '2.0', id: 3, result: {} } });
  assert.equal(r.status, 400, 'clients send no responses in 2026-07-28');
  // The initialize era, beside it, as it was.
  r = await raw({ body: { ...INIT, params: { ...INIT.params, protocolVersion: '2025-11-25' } } });
  assert.equal(r.json.result.protocolVersion, '2025-11-25');
  assert.equal(r.json.result.resultType, undefined);
  const pre = await fetch(`${h.worker.url}/mcp`, { method: 'OPTIONS', headers: { origin: 'http://allowed.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'mcp-method, mcp-name' } });
  assert.match(pre.headers.get('access-control-allow-headers'), /mcp-method, mcp-name/);
});
