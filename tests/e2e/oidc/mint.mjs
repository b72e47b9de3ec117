#!/usr/bin/env node
// Mint a JWT for negative/positive access-token tests. Prints the compact JWT
// (one line) to stdout. See README.md for details.
//
//   --key provider     RS256 with the provider's private JWK from --key-file
//                      (kid = the provider's kid: a token the provider could have issued)
//   --key other        a freshly generated RSA-2048 key that is NOT in the JWKS;
//                      kid = "other-<random>" unless --kid-from-provider
//   --key none         unsigned: header alg "none", empty signature
//   --key hmac-public  HS256 keyed with the provider's PUBLIC key PEM
//                      (algorithm-confusion attack); kid = provider kid
//   --key-file PATH    the private JWK written by provider.mjs --key-file
//   --iss URL --aud URL --sub ID   defaults for those claims (sub default "alice")
//   --claims JSON      merged over {iss, aud, sub, iat, exp, nbf, jti, scope, client_id}
//                      a null value deletes a default claim; a string
//                      "now", "now+N", "now-N" becomes a number of seconds
//   --header JSON      merged over the header (null deletes, e.g. {"kid":null})
//   --alg ALG          header alg to write (default per --key); the signature is
//                      computed with --sign-alg (default: same as --alg)
//   --sign-alg ALG     RS256|RS384|RS512|PS256|PS384|PS512|HS256|HS384|HS512|none
//   --hmac-secret-format spki-pem|pkcs1-pem|spki-der  (hmac-public only; default spki-pem)
//   --ttl SECONDS      default exp = now + ttl (default 300)

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';

function die(msg) {
  console.error(`mint.mjs: ${msg}`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      key: { type: 'string' },
      'key-file': { type: 'string' },
      claims: { type: 'string', default: '{}' },
      header: { type: 'string', default: '{}' },
      alg: { type: 'string' },
      'sign-alg': { type: 'string' },
      'kid-from-provider': { type: 'boolean', default: false },
      'hmac-secret-format': { type: 'string', default: 'spki-pem' },
      iss: { type: 'string' },
      aud: { type: 'string' },
      sub: { type: 'string', default: 'alice' },
      scope: { type: 'string', default: 'promptdb:read promptdb:write' },
      ttl: { type: 'string', default: '300' },
    },
    strict: true,
  }));
} catch (e) {
  die(e.message);
}

const KEYS = ['provider', 'other', 'none', 'hmac-public'];
if (!KEYS.includes(args.key)) die(`--key must be one of ${KEYS.join('|')}`);

let providerJwk;
function providerKey() {
  if (!args['key-file']) die(`--key ${args.key} needs --key-file`);
  if (!providerJwk) {
    try {
      providerJwk = JSON.parse(fs.readFileSync(args['key-file'], 'utf8'));
    } catch (e) {
      die(`cannot read --key-file: ${e.message}`);
    }
  }
  return providerJwk;
}

const now = Math.floor(Date.now() / 1000);
const ttl = Number(args.ttl);
if (!Number.isFinite(ttl)) die('--ttl must be a number');

function parseJson(name, text) {
  try {
    const v = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch (e) {
    return die(`--${name} must be a JSON object (${e.message})`);
  }
}

function resolveTime(v) {
  if (typeof v !== 'string') return v;
  const m = /^now(?:([+-])(\d+))?$/.exec(v);
  if (!m) return v;
  return m[1] === '-' ? now - Number(m[2]) : now + Number(m[2] || 0);
}

function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = resolveTime(v);
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

// Defaults
const payload = merge({
  iss: args.iss,
  aud: args.aud,
  sub: args.sub,
  iat: now,
  nbf: now,
  exp: now + ttl,
  jti: crypto.randomBytes(16).toString('base64url'),
  scope: args.scope || undefined,
  client_id: 'minted',
}, parseJson('claims', args.claims));

let signKey; // KeyObject (private or secret) or null for none
let defaultAlg;
let kid;
switch (args.key) {
  case 'provider': {
    const jwk = providerKey();
    signKey = crypto.createPrivateKey({ key: jwk, format: 'jwk' });
    defaultAlg = 'RS256';
    kid = jwk.kid;
    break;
  }
  case 'other': {
    ({ privateKey: signKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }));
    defaultAlg = 'RS256';
    kid = args['kid-from-provider'] ? providerKey().kid : `other-${crypto.randomBytes(8).toString('hex')}`;
    break;
  }
  case 'none': {
    signKey = null;
    defaultAlg = 'none';
    kid = args['kid-from-provider'] ? providerKey().kid : undefined;
    break;
  }
  case 'hmac-public': {
    const jwk = providerKey();
    const { kty, n, e } = jwk;
    const pub = crypto.createPublicKey({ key: { kty, n, e }, format: 'jwk' });
    const fmt = args['hmac-secret-format'];
    let secret;
    if (fmt === 'spki-pem') secret = pub.export({ type: 'spki', format: 'pem' });
    else if (fmt === 'pkcs1-pem') secret = pub.export({ type: 'pkcs1', format: 'pem' });
    else if (fmt === 'spki-der') secret = pub.export({ type: 'spki', format: 'der' });
    else die('--hmac-secret-format must be spki-pem|pkcs1-pem|spki-der');
    signKey = crypto.createSecretKey(Buffer.from(secret));
    defaultAlg = 'HS256';
    kid = jwk.kid;
    break;
  }
  default:
    die('unreachable');
}

const headerAlg = args.alg || defaultAlg;
const signAlg = args['sign-alg'] || headerAlg;
const header = merge({ alg: headerAlg, typ: 'at+jwt', kid }, parseJson('header', args.header));

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const signingInput = `${b64(header)}.${b64(payload)}`;

function sign(alg, key, data) {
  if (alg === 'none') return '';
  if (!key) die(`--key none cannot produce a ${alg} signature`);
  const m = /^(RS|PS|HS)(256|384|512)$/.exec(alg);
  if (!m) die(`unsupported signing alg ${alg}`);
  const hash = `sha${m[2]}`;
  if (m[1] === 'HS') {
    if (key.type !== 'secret') die(`${alg} needs --key hmac-public`);
    return crypto.createHmac(hash, key).update(data).digest('base64url');
  }
  if (key.type !== 'private') die(`${alg} needs an RSA key (--key provider|other)`);
  const opts = m[1] === 'PS'
    ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(m[2]) / 8 }
    : { key, padding: crypto.constants.RSA_PKCS1_PADDING };
  return crypto.sign(hash, Buffer.from(data), opts).toString('base64url');
}

process.stdout.write(`${signingInput}.${sign(signAlg, signKey, signingInput)}\n`);
