// Runs a Postman pre-request script under Node with a minimal `pm`:
// pm.sendRequest is mapped to fetch, pm.variables / pm.environment are maps.
//   node postman_shim.mjs SCRIPT.js [credkit_secret]
// Prints {"variables": {...}, "environment": {...}, "errors": [...]} as JSON.
import { readFileSync } from 'node:fs';

const variables = {};
const environment = {};
if (process.argv[3]) variables.credkit_secret = process.argv[3];
const errors = [];
const pending = [];

function headersOf(h) {
  const out = {};
  if (Array.isArray(h)) {
    for (const e of h) {
      if (typeof e === 'string') { const i = e.indexOf(':'); out[e.slice(0, i).trim()] = e.slice(i + 1).trim(); }
      else out[e.key] = e.value;
    }
  } else Object.assign(out, h ?? {});
  return out;
}

globalThis.pm = {
  variables: { get: (k) => variables[k], set: (k, v) => { variables[k] = v; } },
  environment: { get: (k) => environment[k], set: (k, v) => { environment[k] = v; } },
  sendRequest(req, cb) {
    const r = typeof req === 'string' ? { url: req } : req;
    pending.push(fetch(r.url, { method: r.method ?? 'GET', headers: headersOf(r.header) })
      .then(async (res) => {
        const text = await res.text();
        cb(null, { code: res.status, text: () => text, json: () => JSON.parse(text) });
      }, (e) => cb(e, null)));
  },
};
console.error = (...a) => errors.push(a.map(String).join(' '));
new Function(readFileSync(process.argv[2], 'utf8'))();
await Promise.all(pending);
process.stdout.write(JSON.stringify({ variables, environment, errors }));
