// A Maskinporten-compatible test server for credkit's diagnosis tests: it
// answers the RFC 7523 jwt-bearer grant the way Maskinporten does, with the
// error texts Digdir documents (docs/maskinporten-errors.md, "Error answers"). It does NOT
// verify signatures; it only plays back known answers:
//
//   scope "case:<name>"  -> the error answer <name> below
//   scope "retry:503" / "retry:429" -> one 503 (or 429 with Retry-After: 1), then a token
//   scope "always:500"   -> 500 every time
//   scope "life:<n>"     -> a token that expires in n seconds
//   any other scope      -> a token (expires_in 120)
//
// Every grant's jti is remembered: a second use gets "Grant is used before",
// as Maskinporten answers, so retries must mint a fresh grant.
// Listens on 127.0.0.1 on a free port, printed on the first line of stdout.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

const INVALID = 'Invalid assertion. Client authentication failed.';
const CASES = {
  'MP-100': [400, 'invalid_grant', INVALID],
  'MP-100-not-found': [400, 'invalid_grant', 'Client not found'],
  'MP-110': [400, 'invalid_grant', `${INVALID} Invalid JWT claim aud`],
  'MP-120': [400, 'invalid_grant', `${INVALID} The JWT is signed with an invalid certificate.`],
  'MP-121': [400, 'invalid_grant', `${INVALID} Expired key`, 'https://maskinporten.no/errors/MP-121'],
  'unknown-kid': [400, 'invalid_grant', `${INVALID} Unknown key identifier (kid) for client.`],
  'kid-required': [400, 'invalid_grant', `${INVALID} Invalid JWT. The client requires pre-registered jwk and no key identifier (kid) provided`],
  'MP-124': [400, 'invalid_grant', `${INVALID} Invalid JWT signature.`],
  'MP-011': [400, 'invalid_request', 'Invalid assertion. Invalid parameter value'],
  'extra-claim': [400, 'invalid_request', 'Invalid assertion'],
  'consumer-org-own': [400, 'invalid_request', 'Validation of JWT claim failed: The combination consumer_org in claim and delegation scope on client is invalid'],
  'MP-200': [400, 'invalid_scope', 'Token request contains invalid scopes for client'],
  'MP-201': [400, 'invalid_scope', 'Token request contains scopes not allowed for maskinporten'],
  'MP-012': [400, 'invalid_grant', 'Grant is used before'],
  'MP-130': [400, 'invalid_grant', 'JWT is expired'],
  'MP-122': [400, 'invalid_grant', 'Invalid JWT. Invalid organization number for client. Does not match certificate orgno'],
  'MP-123': [400, 'invalid_grant', 'Invalid JWT header x5c'],
  'iat-future': [400, 'invalid_grant', 'Issue time is after now'],
  'MP-301': [400, 'invalid_request', 'Unknown authorization details type'],
  'MP-302': [400, 'invalid_request', 'Unknown fields in the authorization details'],
  'MP-303': [400, 'invalid_request', 'Invalid authorization details values'],
  'MP-250': [403, 'forbidden', 'Consumer has not been granted access to the scope case:MP-250.'],
  'MP-251': [403, 'forbidden', 'Consumer 123456785 has not delegated access to the scope case:MP-251 to supplier 987654321.'],
};
const seen = new Set();
const tried = new Map();

function b64json(part) {
  try { return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')); } catch { return null; }
}

const server = createServer(async (req, res) => {
  const port = server.address().port;
  const issuer = `http://127.0.0.1:${port}/`;
  const send = (status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const fail = (status, error, description, uri) => send(status, {
    error, error_description: `${description} (trace_id: ${randomUUID().replaceAll('-', '')})`, ...(uri ? { error_uri: uri } : {}) });
  if (req.method === 'GET' && req.url === '/.well-known/oauth-authorization-server') {
    return send(200, { issuer, token_endpoint: `${issuer}token`, jwks_uri: `${issuer}jwk`,
      grant_types_supported: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'RS512'] });
  }
  // Any other path: an HTML page, as a web server in front of the token endpoint answers.
  if (req.method !== 'POST' || req.url !== '/token') {
    res.writeHead(404, { 'content-type': 'text/html' });
    return res.end('<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>');
  }
  const chunks = []; for await (const c of req) chunks.push(c);
  const form = new URLSearchParams(Buffer.concat(chunks).toString());
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
    return fail(400, 'unsupported_grant_type', 'Unsupported grant type');
  const parts = (form.get('assertion') ?? '').split('.');
  const claims = parts.length === 3 ? b64json(parts[1]) : null;
  if (!claims || !b64json(parts[0])) return fail(400, 'invalid_request', 'Invalid assertion. Invalid parameter value');
  if (claims.jti && seen.has(claims.jti)) return fail(400, 'invalid_grant', 'Grant is used before');
  if (claims.jti) seen.add(claims.jti);
  const scope = String(claims.scope ?? '');
  const [kind, name] = scope.split(':');
  if (kind === 'case' && CASES[name]) {
    const [status, error, description, uri] = CASES[name];
    if (name === 'MP-130') {
      // The server's clock is 10 minutes ahead of the client's.
      res.setHeader('date', new Date(Date.now() + 600_000).toUTCString());
    }
    return fail(status, error, description, uri);
  }
  if (kind === 'always' && name === '500') return send(500, { error: 'server_error' });
  if (kind === 'retry') {
    const n = tried.get(scope) ?? 0;
    tried.set(scope, n + 1);
    if (n === 0 && name === '503') return send(503, { message: 'unavailable' });
    if (n === 0 && name === '429') return send(429, { message: 'slow down' }, { 'retry-after': '1' });
  }
  const life = kind === 'life' ? Number(name) : 120;
  return send(200, { access_token: `mp.${Buffer.from(JSON.stringify({ scope, jti: claims.jti })).toString('base64url')}.sig`,
    token_type: 'Bearer', expires_in: life, scope });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
