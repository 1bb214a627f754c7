// A minimal https token endpoint for credkit's TLS tests: TLS_CERT and TLS_KEY
// (PEM files, made by the test with openssl) on 127.0.0.1, a free port printed
// on the first line of stdout. POST /token answers a token; nothing is verified
// but the TLS handshake, which is what the tests are about.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';

const server = createServer({ cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(req.method === 'POST' && req.url === '/token' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'tls.token.ok', token_type: 'Bearer', expires_in: 60 }));
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on https://127.0.0.1:${server.address().port}`));
