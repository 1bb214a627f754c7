#!/usr/bin/env python3
"""Independent JOSE checks for credkit's tests, with jwcrypto and cryptography.

  jose_peer.py keys FILE      one line per key: "<spki-sha256-hex> <rfc7638-thumbprint> <kid> <private 0|1>"
  jose_peer.py certs FILE     one line per x5c certificate: SHA-256 fingerprint (AA:BB:..)
  jose_peer.py sign PRIV PUB  sign with the private JWK(S), verify with the public one; prints "ok"
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk, jws


def load_keys(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return doc["keys"] if "keys" in doc else [doc]


def spki_sha256(key):
    pem = key.export_to_pem(private_key=False)
    pub = serialization.load_pem_public_key(pem)
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def main():
    mode = sys.argv[1]
    if mode == "keys":
        for d in load_keys(sys.argv[2]):
            k = jwk.JWK(**d)
            print(spki_sha256(k), k.thumbprint(), d.get("kid", "-"), 1 if k.has_private else 0)
    elif mode == "certs":
        for d in load_keys(sys.argv[2]):
            for c in d.get("x5c", []):
                h = hashlib.sha256(base64.b64decode(c)).hexdigest().upper()
                print(":".join(h[i:i + 2] for i in range(0, len(h), 2)))
    elif mode == "sign":
        privs = load_keys(sys.argv[2])
        pubs = {d["kid"]: d for d in load_keys(sys.argv[3])}
        signed = 0
        for d in privs:
            priv = jwk.JWK(**d)
            if not priv.has_private:
                continue  # a certificate's public key in the same set
            signed += 1
            pub = jwk.JWK(**pubs[d["kid"]])
            assert not pub.has_private, "public JWK holds private parameters"
            alg = d["alg"]
            s = jws.JWS(b"credkit interop payload")
            s.add_signature(priv, alg=alg, protected=json.dumps({"alg": alg, "kid": d["kid"]}))
            token = s.serialize(compact=True)
            v = jws.JWS()
            v.deserialize(token)
            v.verify(pub)
            assert v.payload == b"credkit interop payload"
        assert signed > 0, "no private JWK in the set"
        print("ok")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
