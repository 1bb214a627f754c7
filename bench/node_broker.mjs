// The peer of `credkit serve broker` in bench/serve.py: what people write
// today as a local token server for Postman (a Node http server that keeps a
// token and hands it out), with the same checks as credkit's broker: Host,
// a secret header, JSON answer. Listens on 127.0.0.1 on a free port, printed
// on the first line of stdout.
//   SECRET=... TOKEN=... node node_broker.mjs
import { createServer } from 'node:http';

const secret = process.env.SECRET ?? 'secret';
const token = process.env.TOKEN ?? 'token';
const expiresAt = Date.now() + 120_000;
const server = createServer((req, res) => {
  const port = server.address().port;
  const host = req.headers.host;
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
    res.writeHead(421, { 'content-type': 'application/json' });
    return res.end('{"error":"host_not_allowed"}');
  }
  if (req.headers['x-credkit-secret'] !== secret) {
    res.writeHead(401, { 'content-type': 'application/json' });
    return res.end('{"error":"secret_wrong"}');
  }
  if (req.method !== 'GET' || !req.url.startsWith('/token/')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    return res.end('{"error":"not_found"}');
  }
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ access_token: token, token_type: 'Bearer',
    expires_in: Math.round((expiresAt - Date.now()) / 1000), cached: true }));
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
