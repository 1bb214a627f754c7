//! Files credkit recognises but does not read: BouncyCastle BKS and UBER
//! keystores, certificate revocation lists and certificate signing requests.
//! Each is refused with its name and the way out, never as "unknown format".

use super::KeystoreError;
use crate::asn1::{self, Tlv, tag};
use crate::key::PublicKey;

/// BouncyCastle's provider class, for the keytool command in the hints.
const BC_PROVIDER: &str = "org.bouncycastle.jce.provider.BouncyCastleProvider";

fn u32_at(data: &[u8], at: usize) -> Option<usize> {
    let b = data.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// Does `rest` (what follows a BKS header) start like BKS entries: an entry
/// type 1..=4 and a plausible alias, or the end marker 0 and a 20-byte
/// HMAC-SHA1? UBER encrypts everything after its header, so it does not.
fn bks_body(rest: &[u8]) -> bool {
    match rest.first() {
        Some(0) => rest.len() == 21,
        Some(1..=4) => {
            let Some(len) = rest
                .get(1..3)
                .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            else {
                return false;
            };
            len > 0
                && rest
                    .get(3..3 + len)
                    .and_then(|a| std::str::from_utf8(a).ok())
                    .is_some_and(|a| !a.chars().any(char::is_control))
        }
        _ => false,
    }
}

/// A BouncyCastle BKS or UBER keystore: version 1 or 2, a salt, an
/// iteration count, then entries (BKS) or Twofish-encrypted entries (UBER).
pub(crate) fn bouncycastle(data: &[u8]) -> Option<KeystoreError> {
    let version = u32_at(data, 0)?;
    let salt_len = u32_at(data, 4)?;
    if !(1..=2).contains(&version) || !(1..=255).contains(&salt_len) {
        return None;
    }
    let iterations = u32_at(data, 8 + salt_len)?;
    if !(1..=10_000_000).contains(&iterations) {
        return None;
    }
    let rest = data.get(12 + salt_len..)?;
    let (kind, name) = if bks_body(rest) {
        (
            "BKS",
            if version == 1 {
                "a BouncyCastle BKS-V1 keystore"
            } else {
                "a BouncyCastle BKS keystore"
            },
        )
    } else if rest.len() >= 20 {
        ("UBER", "a BouncyCastle UBER keystore")
    } else {
        return None;
    };
    Some(KeystoreError::NotReadable {
        detail: format!(
            "{name} (version {version}, {iterations} iterations): credkit does not read \
             BouncyCastle's formats"
        ),
        way_out: format!(
            "convert it to PKCS#12 with keytool and the BouncyCastle provider (Debian: \
             libbcprov-java): keytool -importkeystore -srckeystore FILE -srcstoretype {kind} \
             -providerpath /usr/share/java/bcprov.jar -providerclass {BC_PROVIDER} \
             -destkeystore FILE.p12 -deststoretype PKCS12"
        ),
    })
}

/// The children of a SEQUENCE, when `t` is one.
fn children<'a>(t: &Tlv<'a>) -> Option<Vec<Tlv<'a>>> {
    if t.tag != tag::SEQUENCE {
        return None;
    }
    let mut r = t.reader();
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(r.read().ok()?);
        if out.len() > 12 {
            break;
        }
    }
    Some(out)
}

fn name_of(t: &Tlv<'_>) -> String {
    crate::cert::parse_name(t)
        .map(|n| n.to_display())
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "an empty name".into())
}

/// A CRL or a CSR in DER: `SEQUENCE { tbs, algorithm, BIT STRING }` like a
/// certificate, told apart by what the signed part holds.
pub(crate) fn signed_object(der: &[u8]) -> Option<KeystoreError> {
    let outer = asn1::parse_single(der).ok()?;
    let top = children(&outer)?;
    let [tbs, alg, sig] = top.as_slice() else {
        return None;
    };
    if alg.tag != tag::SEQUENCE || sig.tag != tag::BIT_STRING {
        return None;
    }
    let inner = children(tbs)?;
    let tags: Vec<u8> = inner.iter().map(|t| t.tag).collect();
    // CertificationRequestInfo: version, subject, subjectPKInfo, [0] attributes.
    if let [tag::INTEGER, tag::SEQUENCE, tag::SEQUENCE, 0xa0] = tags.as_slice() {
        return Some(csr(&inner[1], &inner[2]));
    }
    // TBSCertList: [version], signature, issuer, thisUpdate (UTCTime or
    // GeneralizedTime), [nextUpdate], [revokedCertificates], [extensions].
    let skip = usize::from(tags.first() == Some(&tag::INTEGER));
    if let [tag::SEQUENCE, tag::SEQUENCE, 0x17 | 0x18, ..] = &tags[skip.min(tags.len())..] {
        let revoked = inner[skip + 3..]
            .iter()
            .find(|t| t.tag == tag::SEQUENCE)
            .and_then(children)
            .map_or(0, |v| v.len());
        return Some(crl(&name_of(&inner[skip + 1]), revoked));
    }
    None
}

fn csr(subject: &Tlv<'_>, spki: &Tlv<'_>) -> KeystoreError {
    let key = PublicKey::from_spki(spki.raw)
        .map(|k| k.describe().to_string())
        .unwrap_or_else(|_| "a key credkit does not read".into());
    KeystoreError::NotReadable {
        detail: format!(
            "a PKCS#10 certificate signing request (CSR) for \"{}\", {key}: it asks a CA for a \
             certificate and holds no private key",
            name_of(subject)
        ),
        way_out: "give credkit the certificate the CA issued, with its private key (the key \
             stayed where the CSR was made); `openssl req -in FILE -noout -text` shows the request"
            .into(),
    }
}

fn crl(issuer: &str, revoked: usize) -> KeystoreError {
    KeystoreError::NotReadable {
        detail: format!(
            "a certificate revocation list (CRL) from \"{issuer}\" listing {revoked} revoked \
             certificate{}: it holds no key or certificate",
            if revoked == 1 { "" } else { "s" }
        ),
        way_out: "`openssl crl -in FILE -noout -text` shows it; give credkit the certificate or \
             keystore the CRL is about"
            .into(),
    }
}

/// A PEM file whose blocks are only CSRs or CRLs: refuse it by the first.
pub(crate) fn pem_blocks(blocks: &[super::pem::Block]) -> Option<KeystoreError> {
    blocks.iter().find_map(|b| match b.label.as_str() {
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" | "X509 CRL" => signed_object(&b.der)
            .map(|e| KeystoreError::InBlock {
                label: b.label.clone(),
                line: b.line,
                source: Box::new(e),
            }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bks_header_shapes() {
        let mut bks = vec![0, 0, 0, 2, 0, 0, 0, 20];
        bks.extend_from_slice(&[7; 20]);
        bks.extend_from_slice(&1500u32.to_be_bytes());
        let mut empty = bks.clone();
        empty.push(0);
        empty.extend_from_slice(&[9; 20]);
        let e = bouncycastle(&empty).expect("empty BKS");
        assert!(e.to_string().contains("BKS keystore"), "{e}");
        let mut entry = bks.clone();
        entry.extend_from_slice(&[1, 0, 4]);
        entry.extend_from_slice(b"auth");
        entry.extend_from_slice(&[0; 40]);
        assert!(bouncycastle(&entry).is_some());
        let mut uber = bks.clone();
        uber[3] = 1;
        uber.extend_from_slice(&[0xd3; 64]);
        let e = bouncycastle(&uber).expect("UBER");
        assert!(e.to_string().contains("UBER"), "{e}");
        assert_eq!(e.id(), "input-format-unsupported");
        // Not BouncyCastle: an SSH key blob, a short file.
        assert!(bouncycastle(b"\0\0\0\x07ssh-rsa\0\0\0\x03\x01\0\x01").is_none());
        assert!(bouncycastle(&[0, 0, 0, 1]).is_none());
    }
}
