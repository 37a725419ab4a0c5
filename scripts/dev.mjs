// `make dev`: the local git host, a seeded demo repository, and the Worker under
// `wrangler dev`, all stopped together by Ctrl-C.
//
// Environment: PORT (default 8787), GITHOST_PORT (default 8790), GITHOST_DIR
// (default .dev/githost), GITHOST_DEV_USER (who signs in: alice, default, may
// write; bob may only read). Settings come from .dev.vars, created from
// .dev.vars.example when missing. Unless .dev.vars sets GITHUB_API_BASE, the Worker
// talks to the local git host, acts as a dev GitHub App (its key made on first run,
// beside the git host's directory), lets people sign in with GitHub as played by
// the git host, and hears of every push to it (plain `git push` too) by webhook.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startGithost, startWorker, stop } from './lib/services.mjs';
import { seedDemo } from './lib/seed.mjs';

const port = Number(process.env.PORT || 8787);
const githostPort = Number(process.env.GITHOST_PORT || 8790);
const githostDir = path.resolve(ROOT, process.env.GITHOST_DIR || '.dev/githost');
const devVars = path.join(ROOT, '.dev.vars');

function log(msg) {
  process.stdout.write(`[dev] ${msg}\n`);
}

/** Parses the KEY=value lines of a .dev.vars file (quotes optional). */
function readVars(file) {
  const vars = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/);
    if (!m) continue;
    let v = m[2];
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    vars[m[1]] = v;
  }
  return vars;
}

if (!fs.existsSync(devVars)) {
  fs.copyFileSync(path.join(ROOT, '.dev.vars.example'), devVars);
  log('created .dev.vars from .dev.vars.example');
}
const vars = readVars(devVars);
const [owner, name] = (vars.GITHUB_REPO || 'demo/threads').split('/');

/** The dev GitHub App's key pair and the sign-in signing key, made once and kept. */
function devIdentity(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const key = path.join(dir, 'app-private-key.pem');
  const pub = path.join(dir, 'app-public-key.pem');
  const signing = path.join(dir, 'oauth-signing-key');
  if (!fs.existsSync(key) || !fs.existsSync(pub)) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.writeFileSync(key, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.writeFileSync(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    log(`made a dev GitHub App key in ${dir}`);
  }
  if (!fs.existsSync(signing)) fs.writeFileSync(signing, randomBytes(32).toString('base64url'), { mode: 0o600 });
  const hook = path.join(dir, 'webhook-secret');
  if (!fs.existsSync(hook)) fs.writeFileSync(hook, randomBytes(24).toString('base64url'), { mode: 0o600 });
  return {
    key: fs.readFileSync(key, 'utf8').trim(),
    pub,
    signing: fs.readFileSync(signing, 'utf8').trim(),
    webhook: fs.readFileSync(hook, 'utf8').trim(),
  };
}

const DEV_APP_ID = 'watercooler-dev';
const DEV_OAUTH = { id: 'dev-oauth-app', secret: 'dev-oauth-secret' };
const local = !vars.GITHUB_API_BASE;
const identity = local ? devIdentity(path.join(path.dirname(githostDir), 'dev-app')) : undefined;

const children = [];
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  log('stopping');
  await Promise.all(children.map(stop));
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

try {
  fs.mkdirSync(githostDir, { recursive: true });
  const githostArgs = local
    ? [
        '--app-id', DEV_APP_ID,
        '--app-public-key', identity.pub,
        '--oauth-client-id', DEV_OAUTH.id,
        '--oauth-client-secret', DEV_OAUTH.secret,
        // Every change of a branch, plain `git push` included, reaches the Worker at once.
        '--webhook-url', `http://127.0.0.1:${port}/webhooks/github`,
        '--webhook-secret', identity.webhook,
      ]
    : [];
  const githost = await startGithost({ port: githostPort, dir: githostDir, echo: true, args: githostArgs });
  children.push(githost.child);
  log(`git host on ${githost.url}, repositories under ${githostDir}`);

  const seeded = await seedDemo(githost.url, { owner, name, branch: vars.GITHUB_BRANCH || 'main', dir: vars.THREADS_DIR || '' });
  log(seeded.created ? `seeded ${owner}/${name} with ${seeded.files} sample threads` : `using the existing ${owner}/${name}`);

  const override = local
    ? {
        GITHUB_API_BASE: githost.url,
        GITHUB_TOKEN: '',
        GITHUB_APP_ID: DEV_APP_ID,
        GITHUB_APP_PRIVATE_KEY: identity.key.replaceAll('\n', '\\n'),
        GITHUB_OAUTH_CLIENT_ID: DEV_OAUTH.id,
        GITHUB_OAUTH_CLIENT_SECRET: DEV_OAUTH.secret,
        OAUTH_SIGNING_KEY: identity.signing,
        GITHUB_WEB_BASE: githost.url,
        GITHUB_WEBHOOK_SECRET: identity.webhook,
      }
    : {};
  const worker = await startWorker({ port, vars: override, persistTo: path.join(ROOT, '.wrangler', 'state'), echo: true });
  children.push(worker.child);
  worker.child.on('exit', () => shutdown(1));
  githost.child.on('exit', () => shutdown(1));

  const write = vars.AUTH_TOKENS?.includes('0f56e031fd00dca69f8b7ea427a35fd4b122ff75790d0c5d948e957a17591b0d');
  log('');
  log(`Worker:          ${worker.url}  (health: ${worker.url}/health)`);
  if (local) log(`Page:            ${worker.url}/  (sign in: the local "GitHub" signs you in as alice; ${worker.url}/auth/signin?login=bob for bob)`);
  log(`Git repository:  ${path.join(githostDir, owner, `${name}.git`)}  (git --git-dir=... log)`);
  log(write ? 'Client token:    wc_dev_write_token  (read-only: wc_dev_read_token)' : 'Client token:    one of yours from AUTH_TOKENS in .dev.vars');
  log(`Try:             curl -H 'Authorization: Bearer wc_dev_write_token' ${worker.url}/v1/threads`);
  if (local) {
    log(`Sign in:         claude mcp add --transport http watercooler ${worker.url}/mcp`);
    log(`                 then /mcp in Claude Code; the local "GitHub" signs you in at once as ${process.env.GITHOST_DEV_USER || 'alice'}`);
    log('                 (alice may write, bob may only read: GITHOST_DEV_USER=bob make dev)');
    log(`GitHub App:      commits come from ${DEV_APP_ID}[bot]; its key is in ${path.join(path.dirname(githostDir), 'dev-app')}`);
  }
  log('Ctrl-C stops everything.');
} catch (e) {
  process.stderr.write(`[dev] ${e.message}\n`);
  await shutdown(1);
}
