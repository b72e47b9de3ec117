#!/usr/bin/env node
// Local OpenID Connect provider for PromptDB end-to-end auth tests.
//
// Built on the certified `oidc-provider` package (pinned in package.json).
// See README.md next to this file for the flags, the exact login HTTP
// sequence and the token claims. Prints exactly one line
// `ready http://127.0.0.1:<port>` to stdout once listening; everything else
// goes to stderr. Exits cleanly on SIGTERM / SIGINT.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

const log = (...a) => console.error('[oidc-provider]', ...a);

function die(msg) {
  console.error(`provider.mjs: ${msg}`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      resource: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'access-ttl': { type: 'string', default: '300' },
      'key-file': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (e) {
  die(e.message);
}

for (const req of ['port', 'resource', 'client-id', 'client-secret', 'redirect-uri']) {
  if (args[req] === undefined) die(`--${req} is required`);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) die('--port must be an integer 0..65535');
const accessTtl = Number(args['access-ttl']);
if (!Number.isInteger(accessTtl) || accessTtl <= 0) die('--access-ttl must be a positive integer (seconds)');
let defaultResourceUrl;
try {
  new URL(args.resource); // validate only; the value is used verbatim as `aud`
  defaultResourceUrl = args.resource;
} catch {
  die('--resource must be an absolute URL');
}

const RESOURCE_SCOPE = 'promptdb:read promptdb:write';

// Any absolute http(s) URL without fragment is accepted as a resource
// indicator (so tests can obtain a *real* token for a wrong audience); the
// audience of the access token is the indicator itself.
function isAcceptableResource(indicator) {
  try {
    const u = new URL(indicator);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.hash;
  } catch {
    return false;
  }
}

// Signing key, generated at start.
const { privateKey } = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
const privateJwk = await jose.exportJWK(privateKey);
privateJwk.kid = await jose.calculateJwkThumbprint(privateJwk);
privateJwk.alg = 'RS256';
privateJwk.use = 'sig';

if (args['key-file']) {
  fs.writeFileSync(args['key-file'], `${JSON.stringify(privateJwk)}\n`, { mode: 0o600 });
}

// Bind first so port 0 resolves to a concrete port before the issuer is fixed.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const actualPort = server.address().port;
const issuer = `http://127.0.0.1:${actualPort}`;

const configuration = {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: args['redirect-uri'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // Registered as client_secret_basic, but oidc-provider 9 accepts
    // client_secret_post for the same client as well (both are tested).
    token_endpoint_auth_method: 'client_secret_basic',
    application_type: 'web',
  }],
  jwks: { keys: [privateJwk] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    // Cookies are not port-isolated: the provider and the relying party both
    // live on 127.0.0.1, so use names a relying party will not pick.
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_resume' },
  },
  scopes: ['openid', 'profile', 'email', 'offline_access', 'promptdb:read', 'promptdb:write'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  // Every username is a valid account; the account id (sub) is the username.
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: sub,
          preferred_username: sub,
          email: `${sub}@example.test`,
          email_verified: true,
        };
      },
    };
  },
  pkce: { required: () => true }, // S256 only (the package default methods)
  // Always issue a refresh token to a client allowed the refresh_token
  // grant; offline_access / prompt=consent are NOT needed.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Tokens outlive the browser session (no dependence on the _session cookie).
  expiresWithSession: async () => false,
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Session: 86400,
    Grant: 86400,
    RefreshToken: 86400,
  },
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No resource parameter in the authorization request -> --resource.
      defaultResource: async (_ctx, _client, oneOf) => oneOf || defaultResourceUrl,
      // Token/refresh requests without a resource parameter reuse the granted
      // one (otherwise an `openid` request would yield an opaque
      // userinfo-only token).
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (!isAcceptableResource(indicator)) throw new errors.InvalidTarget();
        return {
          scope: RESOURCE_SCOPE,
          audience: indicator,
          accessTokenTTL: accessTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  formats: {
    customizers: {
      // RFC 9068 does not require nbf; add it anyway (= iat).
      async jwt(_ctx, _token, jwt) {
        jwt.payload.nbf = jwt.payload.iat;
      },
    },
  },
  renderError(ctx, out, error) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>oops</title><pre id="error">${
      Object.entries(out).map(([k, v]) => `${k}: ${String(v).replace(/[<>&]/g, '')}`).join('\n')
    }</pre>`;
    log('renderError', out, error?.message);
  },
};

// Silence the one-time "this is development configuration" banners
// (they go to stderr via console.warn/info anyway; keep stdout clean).
const origInfo = console.info;
const origWarn = console.warn;
console.info = (...a) => console.error(...a);
console.warn = (...a) => console.error(...a);

const provider = new Provider(issuer, configuration);
console.info = origInfo;
console.warn = origWarn;

// Plain http on 127.0.0.1: never treat the connection as behind a proxy.
provider.proxy = false;

provider.on('server_error', (_ctx, err) => log('server_error', err));
provider.on('grant.error', (_ctx, err) => log('grant.error', err.message, err.error_description ?? ''));
provider.on('authorization.error', (_ctx, err) => log('authorization.error', err.message, err.error_description ?? ''));
provider.on('grant.success', (ctx) => log('grant.success', ctx.oidc.params.grant_type));

server.on('request', provider.callback());

process.stdout.write(`ready ${issuer}\n`);
log(`issuer ${issuer}, client ${args['client-id']}, default resource ${defaultResourceUrl}, access ttl ${accessTtl}s, kid ${privateJwk.kid}`);

let stopping = false;
function shutdown(sig) {
  if (stopping) return;
  stopping = true;
  log(`${sig}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
