#!/usr/bin/env python3
"""Build certificate chains, honest and forged, with Python `cryptography`
(not credkit), and sign JWTs with PyJWT that carry them in x5c.

    forge_chain.py OUTDIR

Writes into OUTDIR:
- root.pem        a root CA
- int.pem         an intermediate CA under it, pathLenConstraint 0
- chain.pem       root.pem + int.pem (a CA file with both as anchors)
- leaf.pem        a business certificate of LEGIT AS (991825827): CA:FALSE,
                  keyUsage digitalSignature, issued by int
- forged.pem      a certificate for EVIL CORP AS (987654325) "issued" by the
                  business certificate's key (which is no CA)
- nonrep.pem      a business certificate with keyUsage nonRepudiation only
- int2.pem        a CA issued by int, which int's pathLen 0 forbids
- leaf2.pem       a business certificate issued by int2
- tokens.json     {"good", "forged", "forged_full", "nonrep", "pathlen"}:
                  RS256 JWTs whose x5c holds the chains above
"""
import datetime
import json
import os
import sys

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

OUT = sys.argv[1]
NB = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
NA = datetime.datetime(2028, 1, 1, tzinfo=datetime.timezone.utc)


def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(cn, org=None, orgnr=None):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "NO")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    if orgnr:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRNO-" + orgnr))
    return x509.Name(attrs)


def usage(**bits):
    names = ["digital_signature", "content_commitment", "key_encipherment",
             "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
             "encipher_only", "decipher_only"]
    return x509.KeyUsage(**{n: bits.get(n, False) for n in names})


def cert(subject, subject_key, issuer, issuer_key, ca, path_len=None, ku=None):
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer)
         .public_key(subject_key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(NB)
         .not_valid_after(NA)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len), critical=True))
    if ku is not None:
        b = b.add_extension(ku, critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM).decode()


def b64der(c):
    import base64
    return base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()


def token(signing_key, chain):
    claims = {"iss": "client", "aud": "https://test.maskinporten.no/", "scope": "x:y",
              "iat": 1795435100, "exp": 1795435300, "jti": "j-" + chain[0].serial_number.__str__()}
    headers = {"x5c": [b64der(c) for c in chain]}
    pk = signing_key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return jwt.encode(claims, pk, algorithm="RS256", headers=headers)


def main():
    os.makedirs(OUT, exist_ok=True)
    root_k, int_k, leaf_k, forged_k, nonrep_k, int2_k, leaf2_k = (key() for _ in range(7))
    root_n = name("Test Root CA", "Test CA AS")
    int_n = name("Test Business CA", "Test CA AS")
    root = cert(root_n, root_k, root_n, root_k, True, None,
                usage(key_cert_sign=True, crl_sign=True))
    inter = cert(int_n, int_k, root_n, root_k, True, 0,
                 usage(key_cert_sign=True, crl_sign=True))
    leaf_n = name("LEGIT AS", "LEGIT AS", "991825827")
    leaf = cert(leaf_n, leaf_k, int_n, int_k, False, None, usage(digital_signature=True))
    forged = cert(name("EVIL CORP AS", "EVIL CORP AS", "987654325"), forged_k,
                  leaf_n, leaf_k, False, None, usage(digital_signature=True))
    nonrep = cert(name("LEGIT AS NONREP", "LEGIT AS", "991825827"), nonrep_k, int_n, int_k,
                  False, None, usage(content_commitment=True))
    int2_n = name("Test Sub CA", "Test CA AS")
    int2 = cert(int2_n, int2_k, int_n, int_k, True, None,
                usage(key_cert_sign=True, crl_sign=True))
    leaf2 = cert(name("DEEP AS", "DEEP AS", "974760673"), leaf2_k, int2_n, int2_k, False, None,
                 usage(digital_signature=True))
    files = {"root": root, "int": inter, "leaf": leaf, "forged": forged, "nonrep": nonrep,
             "int2": int2, "leaf2": leaf2}
    for n, c in files.items():
        with open(os.path.join(OUT, n + ".pem"), "w") as f:
            f.write(pem(c))
    with open(os.path.join(OUT, "chain.pem"), "w") as f:
        f.write(pem(root) + pem(inter))
    tokens = {
        "good": token(leaf_k, [leaf, inter]),
        "forged": token(forged_k, [forged, leaf]),
        "forged_full": token(forged_k, [forged, leaf, inter]),
        "nonrep": token(nonrep_k, [nonrep, inter]),
        "pathlen": token(leaf2_k, [leaf2, int2, inter]),
    }
    with open(os.path.join(OUT, "tokens.json"), "w") as f:
        json.dump(tokens, f)


if __name__ == "__main__":
    main()
