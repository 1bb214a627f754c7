// panva's oidc-provider on 127.0.0.1 with the sender-constrained tokens and
// the unattended grants beyond RFC 6749, for tests/it/grants_proofs.rs:
//
//   - DPoP (RFC 9449) with server nonces (features.dPoP, nonceSecret;
//     DPOP_REQUIRE_NONCE=1 makes every proof need one; DPOP_FOREIGN_NONCE=1
//     replaces each DPoP-Nonce it sends with one this instance never made, as
//     a second instance with its own nonceSecret behind a balancer would);
//   - mutual TLS (RFC 8705: tls_client_auth and certificate-bound tokens)
//     when TLS_CERT and TLS_KEY are set: it then serves https itself and
//     reads the client certificate from the TLS socket, trusting CLIENT_CA;
//   - RAR (RFC 9396) with one type, urn:test:payment;
//   - client_secret_jwt (its own HS256 check);
//   - token exchange (RFC 8693): a handler registered here that accepts a
//     subject token this server issued (a JWT it verifies with its own key).
//
// The free port is printed on the first line of stdout.
import { readFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';

const tls = process.env.TLS_CERT && process.env.TLS_KEY;
const server = tls
  ? createHttps({ cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY),
    ca: process.env.CLIENT_CA ? readFileSync(process.env.CLIENT_CA) : undefined,
    requestCert: true, rejectUnauthorized: false })
  : createHttp();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const PORT = server.address().port;
const ISSUER = `${tls ? 'https' : 'http'}://127.0.0.1:${PORT}`;
const API = 'https://api.example.test';
const SCOPES = 'api:read api:write';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
const sigJwk = { ...(await jose.exportJWK(privateKey)), kid: 'as-key-1', use: 'sig', alg: 'RS256' };
const ownKeys = jose.createLocalJWKSet({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'as-key-1', alg: 'RS256' }] });
const secret = (id) => `${id}-secret-0123456789abcdef0123456789abcdef`;
// A self-signed client certificate registered in the client's jwks (x5c), when given.
const selfSigned = [];
if (process.env.SELF_SIGNED_CERT) {
  const pem = readFileSync(process.env.SELF_SIGNED_CERT, 'utf8');
  const der = pem.split('-----BEGIN CERTIFICATE-----')[1].split('-----END CERTIFICATE-----')[0].replace(/\s+/g, '');
  const alg = process.env.SELF_SIGNED_ALG ?? 'RS256';
  const cert = `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----`;
  const jwk = await jose.exportJWK(await jose.importX509(cert, alg, { extractable: true }));
  selfSigned.push({ client_id: 'selfsigned-client', token_endpoint_auth_method: 'self_signed_tls_client_auth',
    jwks: { keys: [{ ...jwk, x5c: [der] }] }, tls_client_certificate_bound_access_tokens: true,
    grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'api:read api:write' });
}
const cc = { grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: SCOPES };

const provider = new Provider(ISSUER, {
  jwks: { keys: [sigJwk] },
  clients: [
    { client_id: 'dpop-client', client_secret: secret('dpop-client'), token_endpoint_auth_method: 'client_secret_basic',
      dpop_bound_access_tokens: true, ...cc },
    { client_id: 'csjwt-client', client_secret: secret('csjwt-client'), token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'HS256', ...cc },
    { client_id: 'mtls-client', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=mtls-client',
      tls_client_certificate_bound_access_tokens: true, ...cc },
    { client_id: 'rar-client', client_secret: secret('rar-client'), token_endpoint_auth_method: 'client_secret_basic',
      authorization_details_types: ['urn:test:payment'], ...cc },
    { client_id: 'exchange-client', client_secret: secret('exchange-client'), token_endpoint_auth_method: 'client_secret_basic',
      ...cc, grant_types: ['client_credentials', TOKEN_EXCHANGE] },
    { client_id: 'obo-client', client_secret: secret('obo-client'), token_endpoint_auth_method: 'client_secret_post',
      ...cc, grant_types: ['client_credentials', JWT_BEARER] },
    ...selfSigned,
  ],
  scopes: ['api:read', 'api:write'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none',
    'tls_client_auth', 'self_signed_tls_client_auth'],
  enabledJWA: { dPoPSigningAlgValues: (process.env.DPOP_ALGS ?? 'ES256 RS256 PS256 EdDSA').split(' ') },
  features: {
    clientCredentials: { enabled: true },
    resourceIndicators: { enabled: true, defaultResource: () => API, useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: SCOPES, audience: API, accessTokenFormat: 'jwt', accessTokenTTL: 300 }) },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => process.env.DPOP_REQUIRE_NONCE === '1' },
    mTLS: {
      enabled: true, certificateBoundAccessTokens: true, tlsClientAuth: true, selfSignedTlsClientAuth: true,
      // The certificate from the TLS socket (node verifies it against CLIENT_CA).
      getCertificate(ctx) {
        const c = ctx.socket?.getPeerCertificate?.(true);
        if (!c || !c.raw) return undefined;
        return `-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
      },
      certificateAuthorized: (ctx) => ctx.socket?.authorized === true,
      certificateSubjectMatches(ctx, property, expected) {
        const c = ctx.socket.getPeerCertificate();
        return property === 'tls_client_auth_subject_dn' && `CN=${c.subject?.CN}` === expected;
      },
    },
    richAuthorizationRequests: {
      enabled: true,
      types: { 'urn:test:payment': { validate(ctx, detail) {
        if (typeof detail.amount !== 'number') throw new errors.InvalidAuthorizationDetails('amount must be a number');
      } } },
      authorizationDetailsForAccessToken: (ctx) => JSON.parse(ctx.oidc.params.authorization_details ?? '[]'),
    },
  },
});

// RFC 8693 §2: the subject token must be a JWT access token of this server.
provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
  const { client, params } = ctx.oidc;
  if (!params.subject_token || !params.subject_token_type)
    throw new errors.InvalidRequest('missing required parameter(s) (subject_token, subject_token_type)');
  if (params.subject_token_type !== 'urn:ietf:params:oauth:token-type:access_token')
    throw new errors.InvalidRequest(`unsupported subject_token_type ${params.subject_token_type}`);
  let subject;
  try {
    ({ payload: subject } = await jose.jwtVerify(params.subject_token, ownKeys, { issuer: ISSUER }));
  } catch (e) { throw new errors.InvalidGrant(`subject_token is not valid: ${e.code}`); }
  const token = new provider.ClientCredentials({ client, scope: subject.scope });
  const aud = params.audience ?? API;
  token.resourceServer = new provider.ResourceServer(aud, { scope: SCOPES, audience: aud, accessTokenFormat: 'jwt', accessTokenTTL: 120 });
  ctx.body = { access_token: await token.save(), issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
}, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope']);

// Entra ID's on-behalf-of: the jwt-bearer grant with the user's token as the
// assertion, requested_token_use=on_behalf_of, and the client's own authentication.
provider.registerGrantType(JWT_BEARER, async (ctx) => {
  const { client, params } = ctx.oidc;
  if (params.requested_token_use !== 'on_behalf_of')
    throw new errors.InvalidRequest('requested_token_use must be on_behalf_of');
  let subject;
  try {
    ({ payload: subject } = await jose.jwtVerify(params.assertion ?? '', ownKeys, { issuer: ISSUER }));
  } catch (e) { throw new errors.InvalidGrant(`assertion is not valid: ${e.code}`); }
  const token = new provider.ClientCredentials({ client, scope: params.scope ?? subject.scope });
  token.resourceServer = new provider.ResourceServer(API, { scope: SCOPES, audience: API, accessTokenFormat: 'jwt', accessTokenTTL: 120 });
  // Whose token it acted on, in the answer (the test's check that the assertion arrived).
  ctx.body = { access_token: await token.save(), token_type: 'Bearer', expires_in: token.expiration, scope: token.scope,
    obo_of: subject.client_id ?? subject.sub };
}, ['assertion', 'scope', 'requested_token_use']);

for (const ev of ['grant.error', 'server_error'])
  provider.on(ev, (ctx, err) => console.error(ev, err.error, '|', err.error_description, '|', err.error_detail ?? ''));
if (process.env.DPOP_FOREIGN_NONCE === '1') {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.response.get('DPoP-Nonce')) ctx.set('DPoP-Nonce', randomBytes(32).toString('base64url'));
  });
}
server.on('request', provider.callback());
console.log(`listening on ${ISSUER}`);
