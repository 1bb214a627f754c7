// A real OAuth 2.0 authorization server for credkit's tests: panva's
// oidc-provider on 127.0.0.1, on a free port (printed on the first line of
// stdout). Its own code verifies private_key_jwt, client secrets and refresh
// tokens; the RFC 7523 jwt-bearer grant is a small handler here whose checks
// are jose's jwtVerify and oidc-provider's ReplayDetection.
//
//   node server.mjs            (CLIENT_JWKS defaults to client.jwks.json)
//
// Interactive grants (credkit's tests drive the devInteractions pages with
// tests/tools/browser.py): native-client (public, PKCE, loopback redirect on
// any port, device flow), par-client (secret, PAR required), device-slow
// (its first poll is answered slow_down), device-short (device codes live
// 3 s). REQUIRE_PAR=1: the metadata requires PAR of every client. The device authorization answer says interval 1 (oidc-provider says
// nothing, which means 5 s).
//
// Test-only route: POST /__test/refresh-token runs the authorization-code
// flow for basic-client (devInteractions login, automatic consent, PKCE)
// against this server and answers {"refresh_token": ...}.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';

const here = dirname(fileURLToPath(import.meta.url));
const server = createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
const PORT = server.address().port;
const ISSUER = `http://127.0.0.1:${PORT}`;
const clientJwks = JSON.parse(readFileSync(process.env.CLIENT_JWKS ?? join(here, 'client.jwks.json'), 'utf8'));
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const API = 'https://api.example.test';
const API_SCOPES = 'api:read api:write';
const REDIRECT = 'http://127.0.0.1:9/cb';
const LOOPBACK = 'http://127.0.0.1/callback';
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const sigJwk = { ...(await jose.exportJWK(privateKey)), kid: 'as-key-1', use: 'sig', alg: 'RS256' };

const provider = new Provider(ISSUER, {
  jwks: { keys: [sigJwk] },
  clients: [
    { client_id: 'pkjwt-client', token_endpoint_auth_method: 'private_key_jwt',
      jwks: clientJwks, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: API_SCOPES },
    { client_id: 'basic-client', client_secret: 'basic-secret', token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT], response_types: ['code'], scope: `openid offline_access ${API_SCOPES}` },
    { client_id: 'post-client', client_secret: 'post-secret', token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: API_SCOPES },
    { client_id: 'mp-client', token_endpoint_auth_method: 'none', jwks: clientJwks,
      grant_types: [JWT_BEARER], redirect_uris: [], response_types: [], scope: API_SCOPES },
    // Interactive grants.
    { client_id: 'native-client', application_type: 'native', token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE], redirect_uris: [LOOPBACK],
      response_types: ['code'], scope: `openid offline_access ${API_SCOPES}` },
    { client_id: 'par-client', client_secret: 'par-secret', application_type: 'native',
      token_endpoint_auth_method: 'client_secret_basic', require_pushed_authorization_requests: true,
      grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [LOOPBACK],
      response_types: ['code'], scope: `openid offline_access ${API_SCOPES}` },
    { client_id: 'device-slow', application_type: 'native', token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_CODE], redirect_uris: [], response_types: [], scope: `openid ${API_SCOPES}` },
    { client_id: 'device-short', application_type: 'native', token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_CODE], redirect_uris: [], response_types: [], scope: `openid ${API_SCOPES}` },
  ],
  ttl: {
    DeviceCode: (ctx, token, client) => (client.clientId === 'device-short' ? 3 : 600),
  },
  scopes: ['openid', 'offline_access', 'api:read', 'api:write'],
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: process.env.REQUIRE_PAR === '1' },
    resourceIndicators: { enabled: true, defaultResource: () => API, useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: API_SCOPES, audience: API, accessTokenFormat: 'jwt', accessTokenTTL: 300 }) },
  },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid offline_access'); grant.addResourceScope(API, API_SCOPES);
    await grant.save(); return grant;
  },
});

// The authorization-code flow, scripted, to get a refresh token for basic-client.
async function refreshTokenForTests() {
  const jar = new Map();
  const cookies = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res) => {
    for (const c of res.headers.getSetCookie()) { const [kv] = c.split(';'); const i = kv.indexOf('='); jar.set(kv.slice(0, i), kv.slice(i + 1)); }
  };
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({ client_id: 'basic-client', response_type: 'code', redirect_uri: REDIRECT,
    scope: 'openid offline_access api:read', prompt: 'consent', resource: API, code_challenge: challenge, code_challenge_method: 'S256' });
  let url = `${ISSUER}/auth?${q}`;
  let method = 'GET'; let body;
  let logins = 0;
  for (let i = 0; i < 20; i += 1) {
    if (url.startsWith(REDIRECT)) break;
    const res = await fetch(url, { method, body, redirect: 'manual', headers: { cookie: cookies(),
      ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) } });
    keep(res);
    const loc = res.headers.get('location');
    if (loc) { url = new URL(loc, url).toString(); method = 'GET'; body = undefined; continue; }
    if (new URL(url).pathname.startsWith('/interaction/')) {
      method = 'POST';
      body = logins === 0 ? 'prompt=login&login=alice&password=x' : 'prompt=consent';
      logins += 1;
      continue;
    }
    throw new Error(`unexpected answer ${res.status} at ${url}`);
  }
  const code = new URL(url).searchParams.get('code');
  const res = await fetch(`${ISSUER}/token`, { method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('basic-client:basic-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, resource: API }).toString() });
  return res.json();
}

provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/__test/refresh-token') {
    ctx.body = await refreshTokenForTests();
    return;
  }
  // RFC 7523 §2.1 grant. Maskinporten sends no client_id: take it from the assertion's iss.
  if (ctx.method === 'POST' && ctx.path === '/token' && ctx.is('application/x-www-form-urlencoded')) {
    const chunks = []; for await (const c of ctx.req) chunks.push(c);
    const params = new URLSearchParams(Buffer.concat(chunks).toString());
    if (params.get('grant_type') === JWT_BEARER && !params.has('client_id')) {
      try { params.set('client_id', jose.decodeJwt(params.get('assertion') ?? '').iss ?? ''); } catch {}
    }
    ctx.req.body = params.toString();
  }
  await next();
});
provider.registerGrantType(JWT_BEARER, async (ctx) => {
  const { client } = ctx.oidc;
  const { assertion } = ctx.oidc.params;
  if (!assertion) throw new errors.InvalidRequest('missing required parameter(s) (assertion)');
  let payload;
  try {
    ({ payload } = await jose.jwtVerify(assertion, jose.createLocalJWKSet(client.jwks), {
      issuer: client.clientId, audience: [ISSUER, `${ISSUER}/`, `${ISSUER}/token`], requiredClaims: ['exp', 'iat', 'jti'],
      maxTokenAge: '120s', clockTolerance: 5, algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256'] }));
  } catch (e) { throw new errors.InvalidGrant(`invalid assertion: ${e.code}: ${e.message}`); }
  if (!payload.jti || payload.exp - payload.iat > 120) throw new errors.InvalidGrant('invalid assertion: empty jti or lifetime > 120s');
  if (!(await provider.ReplayDetection.unique(payload.iss, payload.jti, payload.exp + 5)))
    throw new errors.InvalidGrant('invalid assertion: jti already used');
  const requested = String(payload.scope ?? ctx.oidc.params.scope ?? '').split(' ').filter(Boolean);
  const bad = requested.filter((s) => !client.scope.split(' ').includes(s));
  if (bad.length) throw new errors.InvalidScope('requested scope is not allowed', bad.join(' '));
  const token = new provider.ClientCredentials({ client, scope: requested.join(' ') || undefined });
  token.resourceServer = new provider.ResourceServer(API, { scope: API_SCOPES, audience: API, accessTokenFormat: 'jwt', accessTokenTTL: 120 });
  ctx.body = { access_token: await token.save(), token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
}, ['assertion', 'scope', 'resource']);

// The device flow, made quick and (for device-slow) made to slow down once.
const slowedDown = new Set();
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/token' && typeof ctx.req.body === 'string') {
    const params = new URLSearchParams(ctx.req.body);
    const code = params.get('device_code');
    if (params.get('grant_type') === DEVICE_CODE && params.get('client_id') === 'device-slow' && code && !slowedDown.has(code)) {
      slowedDown.add(code);
      ctx.status = 400;
      ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly and should back off at a reasonable rate' };
      return;
    }
  }
  await next();
  if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') ctx.body.interval = 1;
});

for (const ev of ['grant.error', 'server_error'])
  provider.on(ev, (ctx, err) => console.error(ev, err.error, '|', err.error_description, '|', err.error_detail ?? ''));
server.on('request', provider.callback());
console.log(`listening on ${ISSUER}`);
