#!/usr/bin/env python3
"""Grants minted by PyJWT (not by credkit) for every documented Maskinporten
error, sent to `credkit serve mock-maskinporten`.

    python3 mock_grants.py ISSUER FIXTURE_DIR PASSWORD

ISSUER is the mock's issuer (with the trailing slash); FIXTURE_DIR holds a
`credkit keygen --fixture-set` (PEM files encrypted with PASSWORD). The mock
must run with the clients.toml that tests/it/serve.rs writes. Prints one JSON
object: case id -> {"status", "error", "error_description"}, plus "valid" (a
good grant's answer) and "jwks" (the mock's /jwk), so the caller can check
the token with PyJWT too (done here: "valid_claims").
"""
import base64
import json
import sys
import time
import urllib.parse
import urllib.request
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

issuer, fx, password = sys.argv[1], sys.argv[2], sys.argv[3].encode()
CERT = "00000000-0000-4000-8000-0000000000c1"   # org1, certificate
KEYC = "00000000-0000-4000-8000-0000000000c2"   # org1, registered keys
SUPP = "00000000-0000-4000-8000-0000000000c3"   # org2, a supplier


def load(name):
    text = open(f"{fx}/{name}.pem", "rb").read()
    key = serialization.load_pem_private_key(text, password)
    certs = x509.load_pem_x509_certificates(text)
    der = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certs]
    return key, der


org1_key, org1_x5c = load("org1-auth")
org2_key, org2_x5c = load("org2-auth")
expired_key, expired_x5c = load("expired")
wrong_key, wrong_x5c = load("wrong-key")


def claims(iss=CERT, **kw):
    now = int(time.time())
    c = {"aud": issuer, "iss": iss, "scope": "test:read", "iat": now, "exp": now + 60,
         "jti": str(uuid.uuid4())}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


def grant(c, key=org1_key, x5c=None, kid=None, alg="RS256"):
    headers = {}
    if kid is not None:
        headers["kid"] = kid
    elif x5c is not None:
        headers["x5c"] = x5c
    else:
        headers["x5c"] = org1_x5c[:1]
    return jwt.encode(c, key, algorithm=alg, headers=headers)


def post(assertion):
    body = urllib.parse.urlencode({
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": assertion,
    }).encode()
    req = urllib.request.Request(issuer + "token", data=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def answer(a):
    status, body = post(a)
    return {"status": status, "error": body.get("error"),
            "error_description": body.get("error_description"),
            "error_uri": body.get("error_uri")}


out = {}
sysuser = {"type": "urn:altinn:systemuser",
           "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:987654325"}}
cases = {
    "MP-011": "not-a-jwt",
    "extra-claim": grant(claims(sub=CERT)),
    "MP-100": grant(claims(iss=None)),
    "MP-100-not-found": grant(claims(iss="no-such-client")),
    "MP-110": grant(claims(aud=issuer.rstrip("/"))),
    "unknown-kid": grant(claims(iss=KEYC), kid="no-such-kid"),
    "kid-required": grant(claims(iss=KEYC)),
    "MP-121": grant(claims(iss=KEYC), kid="old-key"),
    "MP-120": grant(claims(), key=expired_key, x5c=expired_x5c[:1]),
    "MP-122": grant(claims(), key=org2_key, x5c=org2_x5c[:1]),
    "MP-123": jwt.encode(claims(), org1_key, algorithm="RS256", headers={"x5c": org1_x5c[0]}),
    "MP-124": grant(claims(), key=org2_key, x5c=org1_x5c[:1]),
    "MP-130": grant(claims(iat=int(time.time()) - 200, exp=int(time.time()) - 90)),
    "iat-future": grant(claims(iat=int(time.time()) + 60, exp=int(time.time()) + 120)),
    "consumer-org-own": grant(claims(consumer_org="123456785")),
    "MP-251": grant(claims(iss=SUPP, consumer_org="123456785", scope="test:write"), key=org2_key, x5c=org2_x5c[:1]),
    "MP-301": grant(claims(authorization_details=[{"type": "urn:example:other"}])),
    "MP-302": grant(claims(authorization_details=[dict(sysuser, extra=1)])),
    "MP-303": grant(claims(authorization_details=[dict(sysuser, systemuser_org={"authority": "x", "ID": "1"})])),
    "MP-200": grant(claims(scope="test:write test:unknown")),
    "MP-201": grant(claims(scope="openid")),
    "MP-250": grant(claims(iss=SUPP, scope="test:restricted"), key=org2_key, x5c=org2_x5c[:1]),
}
for case, a in cases.items():
    out[case] = answer(a)

# A replay: the first use is good, the second is MP-012.
once = grant(claims())
first = answer(once)
out["MP-012"] = answer(once)
out["replay_first_use"] = first

# A good grant (delegated supplier, with resource), and the token checked by PyJWT.
status, body = post(grant(claims(iss=SUPP, consumer_org="123456785", scope="test:read",
                                 resource=["https://api.example/"]), key=org2_key, x5c=org2_x5c[:1]))
out["valid"] = {"status": status, "body": body}
jwks = json.loads(urllib.request.urlopen(issuer + "jwk").read())
out["jwks"] = jwks
if status == 200:
    kid = jwt.get_unverified_header(body["access_token"])["kid"]
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    out["valid_claims"] = jwt.decode(body["access_token"], key.key, algorithms=["RS256"],
                                     audience="https://api.example/", issuer=issuer)
# A registered-key grant (kid "k1" in clients.toml) also works.
out["key_client"] = answer(grant(claims(iss=KEYC), kid="k1"))
print(json.dumps(out))
