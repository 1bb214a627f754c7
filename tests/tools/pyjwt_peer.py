#!/usr/bin/env python3
"""Independent JWT checks for credkit's tests, with PyJWT and cryptography.

  pyjwt_peer.py verify TOKEN_FILE KEY_FILE          verify with the public key of a PEM
                                                   certificate, public key or private key;
                                                   prints header and claims as JSON
  pyjwt_peer.py x5c TOKEN_FILE                      verify with the key of x5c[0]; also prints
                                                   the recomputed x5t and x5t#S256 of x5c[0]
  pyjwt_peer.py mint ALG KEY_PEM CLAIMS_JSON [HEADER_JSON]
                                                   sign with PyJWT; prints the token
Time claims are not judged here (tests pin credkit's clock); the signature is.
"""
import base64
import hashlib
import json
import sys

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

OPTS = {"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False}
ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]


def public_key(path):
    data = open(path, "rb").read()
    if b"CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    if b"PRIVATE KEY" in data:
        return serialization.load_pem_private_key(data, password=None).public_key()
    return serialization.load_pem_public_key(data)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    mode = sys.argv[1]
    if mode == "verify":
        token = open(sys.argv[2]).read().strip()
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, public_key(sys.argv[3]), algorithms=ALGS, options=OPTS)
        print(json.dumps({"header": header, "claims": claims}))
    elif mode == "x5c":
        token = open(sys.argv[2]).read().strip()
        header = jwt.get_unverified_header(token)
        der = base64.b64decode(header["x5c"][0])
        cert = x509.load_der_x509_certificate(der)
        claims = jwt.decode(token, cert.public_key(), algorithms=ALGS, options=OPTS)
        print(json.dumps({
            "header": header,
            "claims": claims,
            "x5t": b64u(hashlib.sha1(der).digest()),
            "x5t#S256": b64u(hashlib.sha256(der).digest()),
        }))
    elif mode == "mint":
        alg, key_path, claims = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
        headers = json.loads(sys.argv[5]) if len(sys.argv) > 5 else None
        key = serialization.load_pem_private_key(open(key_path, "rb").read(), password=None)
        print(jwt.encode(claims, key, algorithm=alg, headers=headers))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
