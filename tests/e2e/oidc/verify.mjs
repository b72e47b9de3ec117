#!/usr/bin/env node
// Verify a JWT access token against a running provider's JWKS (reference
// verifier for the self-test; uses jose).
//   node verify.mjs --issuer http://127.0.0.1:P --aud http://127.0.0.1:5001 TOKEN
// Prints {"ok":true,"header":...,"payload":...} and exits 0, or
// {"ok":false,"code":"ERR_...","message":...} and exits 1.
// Accepts only RS256 and typ at+jwt (RFC 9068), like a strict resource server.
import { parseArgs } from 'node:util';

import * as jose from 'jose';

const { values: args, positionals } = parseArgs({
  options: { issuer: { type: 'string' }, aud: { type: 'string' } },
  allowPositionals: true,
});
if (!args.issuer || !args.aud || positionals.length !== 1) {
  console.error('usage: verify.mjs --issuer ISS --aud AUD TOKEN');
  process.exit(2);
}
const jwks = jose.createRemoteJWKSet(new URL(`${args.issuer}/jwks`));
try {
  const { protectedHeader, payload } = await jose.jwtVerify(positionals[0], jwks, {
    issuer: args.issuer,
    audience: args.aud,
    algorithms: ['RS256'],
    typ: 'at+jwt',
    requiredClaims: ['sub', 'exp', 'iat'],
  });
  console.log(JSON.stringify({ ok: true, header: protectedHeader, payload }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, code: e.code, message: e.message }));
  process.exit(1);
}
