#!/usr/bin/env python3
"""Write the seed inputs of the `config` and `token_json` fuzz targets.

    python3 fuzz/seeds/make_seeds.py

token_json seeds start with two bytes that the target maps to the HTTP
status (see fuzz_targets/token_json.rs); the rest is the body.
"""
import json
import os
import re
import struct

here = os.path.dirname(os.path.abspath(__file__))


def write(sub, name, data):
    d = os.path.join(here, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def status(code):
    # The target computes 100 + (u16 % 500).
    return struct.pack(">H", code - 100)


write("config", "profiles.toml", """default_profile = "mp-test"

[profiles.mp-test]
key = "virksomhet-test.p12"
alias = "auth"
password_env = "MP_KEYSTORE_PASSWORD"
client_id = "0b7c5c8e-1111-2222-3333-444455556666"
scope = "nav:example"
env = "test"
resource = "https://api.example.no/"
consumer_org = "987654325"
claims = { pid = "12345678901" }

[profiles.a]
key = "app.pem"
token_endpoint = "https://example.okta.com/oauth2/v1/token"
jwt_profile = "okta"
grant = "client-credentials"
auth = "private-key-jwt"
kid = "k1"
aud = "https://example.okta.com/oauth2/v1/token"
ca_file = "ca.pem"
client_secret_file = "secret.txt"
""")
write("config", "client.properties", """# jwt-grant-generator
issuer=0b7c5c8e-1111-2222-3333-444455556666
audience=https://test.maskinporten.no/
resource=https://api.example.no/
scope=nav:example altinn:read
consumer_org=987654325
pid=12345678901
token.endpoint=https://test.maskinporten.no/token
keystore.type=PKCS12
keystore.file=base64:MIIB
keystore.password=changeit
keystore.alias=auth
keystore.alias.password=changeit
keystore.kid=k1
multi = a \\
    b\\u00e5
""")

# Every documented Maskinporten answer, from the project's test server.
mjs = open(os.path.join(here, "..", "..", "tests", "peer", "maskinporten-errors.mjs")).read()
for name, code, err, desc in re.findall(r"'([\w-]+)': \[(\d+), '(\w+)', ([^\]]+)\]", mjs):
    desc = desc.split(", 'https")[0].strip("`'").replace("${INVALID}", "Invalid assertion. Client authentication failed.")
    body = {"error": err, "error_description": desc + " (trace_id: 0123456789abcdef)"}
    write("token_json", f"mp-{name}.json", status(int(code)) + json.dumps(body).encode())

others = {
    "ok": (200, {"access_token": "eyJ.eyJ.sig", "token_type": "Bearer", "expires_in": 119, "scope": "a b"}),
    "ok-string-expiry": (200, {"access_token": "x", "expires_in": "3600", "refresh_token": "r", "id_token": "i"}),
    "entra-700027": (401, {"error": "invalid_client", "error_description": "AADSTS700027: Client assertion failed signature validation.", "error_codes": [700027], "trace_id": "t", "correlation_id": "c"}),
    "entra-700024": (400, {"error": "invalid_client", "error_description": "AADSTS700024: Client assertion is not within its valid time range.", "error_codes": [700024]}),
    "okta-sig": (401, {"error": "invalid_client", "error_description": "The client_assertion signature is invalid."}),
    "keycloak-aud": (400, {"error": "invalid_client", "error_description": "Client authentication with signed JWT failed: Token audience doesn't match domain."}),
    "rfc-scope": (400, {"error": "invalid_scope"}),
    "metadata": (200, {"issuer": "https://test.maskinporten.no/", "token_endpoint": "https://test.maskinporten.no/token", "jwks_uri": "https://test.maskinporten.no/jwk", "grant_types_supported": ["urn:ietf:params:oauth:grant-type:jwt-bearer"], "token_endpoint_auth_methods_supported": ["private_key_jwt"]}),
    "cache": (200, {"endpoint": "https://test.maskinporten.no/token", "client_id": "c", "response": {"access_token": "x", "expires_in": 120}, "obtained_at": 1700000000, "expires_at": 1700000120}),
}
for name, (code, body) in others.items():
    write("token_json", f"{name}.json", status(code) + json.dumps(body).encode())
write("token_json", "html-502.txt", status(502) + b"<html><body>Bad gateway</body></html>")
write("token_json", "date.txt", status(503) + b"Mon, 23 Nov 2026 17:00:00 GMT\n{}")
