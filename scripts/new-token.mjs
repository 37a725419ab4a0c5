// Makes a client token and the AUTH_TOKENS entry for it.
//   node scripts/new-token.mjs <user> [read|write] [agent] [--repos owner/name,owner/*]
// Prints the token (give it to the client; it is not stored anywhere) and the JSON
// entry to merge into AUTH_TOKENS (which holds only the token's SHA-256). Without
// --repos the token opens only GITHUB_REPO.
import { createHash, randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
let repos;
const at = args.indexOf('--repos');
if (at >= 0) {
  repos = (args[at + 1] ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  args.splice(at, 2);
}
const [user, scope = 'write', agent] = args;
const name = /^[A-Za-z0-9._-]{1,100}$/;
const pattern = (p) => {
  const [owner, repo, ...rest] = p.split('/');
  return rest.length === 0 && name.test(owner ?? '') && (repo === '*' || name.test(repo ?? ''));
};
if (
  !user ||
  !/^[A-Za-z0-9._-]{1,64}$/.test(user) ||
  !['read', 'write'].includes(scope) ||
  (repos !== undefined && (repos.length === 0 || !repos.every(pattern)))
) {
  process.stderr.write('usage: node scripts/new-token.mjs <user> [read|write] [agent] [--repos owner/name,owner/*]\n');
  process.exit(2);
}
const token = `wc_${randomBytes(24).toString('base64url')}`;
const hash = createHash('sha256').update(token).digest('hex');
const grant = {
  user,
  scopes: scope === 'write' ? ['read', 'write'] : ['read'],
  ...(agent ? { agent } : {}),
  ...(repos ? { repos } : {}),
};
process.stdout.write(`token:       ${token}\nAUTH_TOKENS: ${JSON.stringify({ [hash]: grant })}\n`);
