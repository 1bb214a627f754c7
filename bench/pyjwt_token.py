#!/usr/bin/env python3
"""The Python peer of `credkit token` for bench/run.py: mint a Maskinporten-style
RS256 grant (x5c with the leaf certificate, a UUID jti, exp = iat + 120 s) from a
PKCS#12 file with PyJWT and cryptography, POST it with requests, print the
access token.

    python3 bench/pyjwt_token.py KEYSTORE.p12 PASSWORD TOKEN_ENDPOINT CLIENT_ID SCOPE
"""
import base64
import sys
import time
import uuid

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12


def main():
    path, password, endpoint, client_id, scope = sys.argv[1:6]
    with open(path, "rb") as f:
        key, cert, _ = pkcs12.load_key_and_certificates(f.read(), password.encode())
    der = cert.public_bytes(serialization.Encoding.DER)
    now = int(time.time())
    claims = {"aud": "https://test.maskinporten.no/", "iss": client_id, "scope": scope,
              "iat": now, "exp": now + 120, "jti": str(uuid.uuid4())}
    grant = jwt.encode(claims, key, algorithm="RS256",
                       headers={"x5c": [base64.b64encode(der).decode()]})
    r = requests.post(endpoint, data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                      "assertion": grant}, timeout=30)
    r.raise_for_status()
    print(r.json()["access_token"])


if __name__ == "__main__":
    main()
