// Makes a client token and the AUTH_TOKENS entry for it.
//   node scripts/new-token.mjs <user> [read|write] [agent]
// Prints the token (give it to the client; it is not stored anywhere) and the JSON
// entry to merge into AUTH_TOKENS (which holds only the token's SHA-256).
import { createHash, randomBytes } from 'node:crypto';

const [user, scope = 'write', agent] = process.argv.slice(2);
if (!user || !/^[A-Za-z0-9._-]{1,64}$/.test(user) || !['read', 'write'].includes(scope)) {
  process.stderr.write('usage: node scripts/new-token.mjs <user> [read|write] [agent]\n');
  process.exit(2);
}
const token = `wc_${randomBytes(24).toString('base64url')}`;
const hash = createHash('sha256').update(token).digest('hex');
const grant = { user, scopes: scope === 'write' ? ['read', 'write'] : ['read'], ...(agent ? { agent } : {}) };
process.stdout.write(`token:       ${token}\nAUTH_TOKENS: ${JSON.stringify({ [hash]: grant })}\n`);
