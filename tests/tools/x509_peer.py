#!/usr/bin/env python3
"""Independent X.509 checks for credkit's keygen tests, with pyca/cryptography.

  x509_peer.py describe CERT          JSON: subject, issuer, serial, validity, key usage,
                                      extended key usage, basic constraints, SKI, AKI, key
  x509_peer.py issued-by CERT ISSUER  prints "ok" if ISSUER's key signed CERT and the names chain

CERT and ISSUER are PEM or DER; the first certificate in the file is used.
"""
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtensionOID


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"-----BEGIN CERTIFICATE-----" in data:
        start = data.index(b"-----BEGIN CERTIFICATE-----")
        end = data.index(b"-----END CERTIFICATE-----", start) + len(b"-----END CERTIFICATE-----")
        return x509.load_pem_x509_certificate(data[start:end])
    return x509.load_der_x509_certificate(data)


def name(n):
    return [[a.oid.dotted_string, a.value] for rdn in n.rdns for a in rdn]


def ext(cert, oid):
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None


def describe(cert):
    out = {
        "subject": name(cert.subject),
        "issuer": name(cert.issuer),
        "serial": str(cert.serial_number),
        "serial_bytes": (cert.serial_number.bit_length() + 8) // 8,
        "not_before": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": cert.version.name,
        "signature_oid": cert.signature_algorithm_oid.dotted_string,
    }
    ku = ext(cert, ExtensionOID.KEY_USAGE)
    if ku:
        v = ku.value
        names = {
            "digitalSignature": v.digital_signature,
            "nonRepudiation": v.content_commitment,
            "keyEncipherment": v.key_encipherment,
            "dataEncipherment": v.data_encipherment,
            "keyAgreement": v.key_agreement,
            "keyCertSign": v.key_cert_sign,
            "cRLSign": v.crl_sign,
        }
        out["key_usage"] = sorted(k for k, on in names.items() if on)
        out["key_usage_critical"] = ku.critical
    eku = ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    out["extended_key_usage"] = [o.dotted_string for o in eku.value] if eku else None
    bc = ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    out["basic_constraints"] = (
        {"ca": bc.value.ca, "path_length": bc.value.path_length, "critical": bc.critical} if bc else None
    )
    ski = ext(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    out["ski"] = ski.value.digest.hex() if ski else None
    aki = ext(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    out["aki"] = aki.value.key_identifier.hex() if aki and aki.value.key_identifier else None
    # What RFC 5280 method 1 gives for this certificate's key, computed by cryptography.
    out["ski_from_key"] = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest.hex()
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        out["key"] = f"RSA {key.key_size}"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        out["key"] = f"EC {key.curve.name}"
    elif isinstance(key, ed25519.Ed25519PublicKey):
        out["key"] = "Ed25519"
    else:
        out["key"] = type(key).__name__
    return out


def main():
    mode = sys.argv[1]
    if mode == "describe":
        print(json.dumps(describe(load(sys.argv[2]))))
    elif mode == "issued-by":
        cert, issuer = load(sys.argv[2]), load(sys.argv[3])
        cert.verify_directly_issued_by(issuer)
        print("ok")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
