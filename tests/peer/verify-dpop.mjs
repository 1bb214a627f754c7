// Verify a DPoP proof (RFC 9449 §4.3) with panva's jose, independently of
// credkit: node verify-dpop.mjs PROOF ACCESS_TOKEN. The signature is checked
// with the proof's own embedded jwk; prints the header's typ and alg, the
// claims, the jwk's RFC 7638 thumbprint and whether ath is the token's hash.
import { createHash } from 'node:crypto';
import * as jose from 'jose';

const [proof, token] = process.argv.slice(2);
const { payload, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, { typ: 'dpop+jwt' });
const ath = createHash('sha256').update(token ?? '').digest('base64url');
console.log(JSON.stringify({
  typ: protectedHeader.typ,
  alg: protectedHeader.alg,
  jkt: await jose.calculateJwkThumbprint(protectedHeader.jwk),
  claims: payload,
  ath_matches: payload.ath === ath,
}));
