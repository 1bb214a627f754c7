//! PKCS#7 / CMS certificate bundles (`.p7b`, `.p7c`): a SignedData that
//! carries certificates and, usually, nothing else. `openssl crl2pkcs7`,
//! Windows' "export the whole chain" and many CAs write them; Windows and NSS
//! write BER with indefinite lengths. Read as DER, BER or a PEM `PKCS7`
//! block. Only the certificates are read: signatures over the content are not
//! checked, and CRLs and attribute certificates are named and left alone.

use super::KeystoreError;
use super::model::{Entry, EntryKind, Format, Store};
use crate::asn1::{self, Tlv, tag};
use crate::cert::{Certificate, chain};
use crate::diagnostics::findings::Text;
use std::collections::HashSet;

/// Most certificates accepted in one bundle.
const MAX_CERTS: usize = 10_000;

mod oid {
    pub(crate) const PKCS7_PREFIX: &str = "1.2.840.113549.1.7.";
    pub(crate) const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
    pub(crate) const ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
    pub(crate) const ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
    pub(crate) const AUTH_ENVELOPED_DATA: &str = "1.2.840.113549.1.9.16.1.23";
}

/// The certificates of a bundle, in file order without duplicates, and what
/// the reader wants the user to know.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    pub(crate) certificates: Vec<Certificate>,
    pub(crate) notes: Vec<String>,
}

/// The content type of a CMS ContentInfo (`SEQUENCE { OID, [0] ... }`),
/// DER or BER, when the data starts like one.
fn content_type(data: &[u8]) -> Option<String> {
    let t = asn1::Reader::new(data).read().ok()?;
    if t.tag != tag::SEQUENCE {
        return None;
    }
    let mut r = t.reader();
    let ct = r.read().ok().filter(|t| t.tag == tag::OID)?.oid().ok()?;
    (r.peek_tag() == Some(0xa0)).then_some(ct)
}

/// Does this look like a PKCS#7 / CMS message (any content type)?
pub(crate) fn looks_like(data: &[u8]) -> bool {
    content_type(data)
        .is_some_and(|ct| ct.starts_with(oid::PKCS7_PREFIX) || ct == oid::AUTH_ENVELOPED_DATA)
}

fn malformed(e: asn1::Asn1Error) -> KeystoreError {
    KeystoreError::Malformed {
        format: "PKCS#7",
        source: e,
    }
}

/// A PKCS#7 message that is not a certificate bundle, or one that holds no
/// certificate.
fn refused(detail: String, way_out: &str) -> KeystoreError {
    KeystoreError::NotReadable {
        detail,
        way_out: way_out.into(),
    }
}

/// Read the certificates of a bundle (DER or BER).
/// A PKCS#7 message that is not signedData: what it is instead.
fn not_signed_data(ct: &str) -> KeystoreError {
    let name = match ct {
        oid::ENVELOPED_DATA => "envelopedData (an encrypted message)",
        oid::AUTH_ENVELOPED_DATA => "authEnvelopedData (an encrypted message)",
        oid::ENCRYPTED_DATA => "encryptedData (password-encrypted content)",
        "1.2.840.113549.1.7.1" => "data (plain content, no certificates)",
        "1.2.840.113549.1.7.5" => "digestedData",
        _ => "an unknown content type",
    };
    refused(
        format!("a PKCS#7 message of type {name} ({ct}), not a certificate bundle"),
        "a certificate bundle is a signedData message; ask the sender for the certificates \
         as .p7b, .pem or .cer",
    )
}

/// Notes on what the bundle holds besides its certificates, and what was
/// left out of them.
fn content_notes(
    crl_count: usize,
    skipped: usize,
    duplicates: usize,
    signer_count: usize,
) -> Vec<String> {
    let mut notes = Vec::new();
    if crl_count > 0 {
        notes.push(format!(
            "the bundle also holds {crl_count} CRL{} (revocation lists; not read)",
            plural(crl_count)
        ));
    }
    if skipped > 0 {
        notes.push(format!(
            "skipped {skipped} attribute or other non-X.509 certificate{}",
            plural(skipped)
        ));
    }
    if duplicates > 0 {
        notes.push(format!(
            "{duplicates} certificate{} appeared more than once and {} listed once",
            plural(duplicates),
            if duplicates == 1 { "is" } else { "are" }
        ));
    }
    if signer_count > 0 {
        notes.push(format!(
            "the message is signed by {signer_count} signer{}; credkit reads its certificates \
             and does not check the signature",
            plural(signer_count)
        ));
    }
    notes
}

pub(crate) fn read_bundle(data: &[u8]) -> Result<Bundle, KeystoreError> {
    let outer = asn1::parse_single(data).map_err(malformed)?;
    let mut notes = Vec::new();
    let der_owned;
    let outer = if asn1::is_ber(data) {
        der_owned = asn1::to_der(&outer).map_err(malformed)?;
        notes.push(
            "the bundle uses BER indefinite lengths (Windows/NSS export); it was read as DER"
                .to_string(),
        );
        asn1::parse_single(&der_owned).map_err(malformed)?
    } else {
        outer
    };
    let mut r = outer
        .expect(tag::SEQUENCE, "a ContentInfo SEQUENCE")
        .map_err(malformed)?
        .reader();
    let ct = r
        .expect(tag::OID, "a content type")
        .and_then(|t| t.oid())
        .map_err(malformed)?;
    if ct != oid::SIGNED_DATA {
        return Err(not_signed_data(&ct));
    }
    let signed = r
        .expect(0xa0, "the signedData content [0]")
        .and_then(|t| t.reader().read())
        .and_then(|t| t.expect(tag::SEQUENCE, "a SignedData SEQUENCE"))
        .map_err(malformed)?;
    let mut sr = signed.reader();
    sr.expect(tag::INTEGER, "the SignedData version")
        .map_err(malformed)?;
    sr.expect(tag::SET, "the digest algorithms")
        .map_err(malformed)?;
    sr.expect(tag::SEQUENCE, "the encapsulated content")
        .map_err(malformed)?;
    let cert_set = sr.optional(0xa0).map_err(malformed)?;
    let crls = sr.optional(0xa1).map_err(malformed)?;
    let signers = sr.expect(tag::SET, "the signer infos").map_err(malformed)?;
    let (certificates, skipped, duplicates) = match cert_set {
        Some(set) => read_certificates(&set)?,
        None => (Vec::new(), 0, 0),
    };
    let crl_count = crls.map(|c| count(&c)).transpose()?.unwrap_or(0);
    let signer_count = count(&signers)?;
    notes.extend(content_notes(crl_count, skipped, duplicates, signer_count));
    if certificates.is_empty() {
        let what = if crl_count > 0 {
            format!("{crl_count} CRL{} and no certificate", plural(crl_count))
        } else {
            "no certificate".into()
        };
        return Err(refused(
            format!("a PKCS#7 certificate bundle that holds {what}"),
            "ask for the certificate chain again (`openssl pkcs7 -print_certs -in FILE` shows \
             what a bundle holds)",
        ));
    }
    Ok(Bundle {
        certificates,
        notes,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn count(set: &Tlv<'_>) -> Result<usize, KeystoreError> {
    let mut r = set.reader();
    let mut n = 0;
    while !r.is_empty() {
        r.read().map_err(malformed)?;
        n += 1;
    }
    Ok(n)
}

/// The X.509 certificates of a `certificates [0]` set, without duplicates;
/// also how many other choices (attribute certificates ...) were skipped and
/// how many duplicates were dropped.
fn read_certificates(set: &Tlv<'_>) -> Result<(Vec<Certificate>, usize, usize), KeystoreError> {
    let mut out: Vec<Certificate> = Vec::new();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let (mut skipped, mut duplicates) = (0, 0);
    let mut r = set.reader();
    while !r.is_empty() {
        if out.len() + skipped + duplicates >= MAX_CERTS {
            return Err(KeystoreError::TooLarge {
                what: "number of certificates in the bundle".into(),
                value: MAX_CERTS as u64 + 1,
                max: MAX_CERTS as u64,
            });
        }
        let t = r.read().map_err(malformed)?;
        if t.tag != tag::SEQUENCE {
            skipped += 1;
            continue;
        }
        if !seen.insert(t.raw.to_vec()) {
            duplicates += 1;
            continue;
        }
        out.push(Certificate::from_der(t.raw).map_err(KeystoreError::Cert)?);
    }
    Ok((out, skipped, duplicates))
}

/// Read a bundle (DER or BER) into a store of certificate chains.
pub(crate) fn read(data: &[u8]) -> Result<Store, KeystoreError> {
    let bundle = read_bundle(data)?;
    Ok(store_from(bundle))
}

/// Order a bundle's certificates into chains: one entry per certificate
/// that issued none of the others (a leaf, or a lone CA), holding its chain
/// as far as the bundle goes (leaf first, then each issuer). Certificates no
/// chain reaches get an entry each.
pub(crate) fn store_from(bundle: Bundle) -> Store {
    let certs = bundle.certificates;
    let mut store = Store::new(Format::Pkcs7);
    store.notes = bundle.notes.into_iter().map(Text::from).collect();
    // The names that issued some other certificate of the bundle.
    let issuers: HashSet<&[u8]> = certs
        .iter()
        .filter(|c| !c.is_self_issued())
        .map(|c| c.issuer.raw.as_slice())
        .collect();
    let mut used = vec![false; certs.len()];
    let (mut chain_certs, mut cut) = (0usize, 0usize);
    for (i, c) in certs.iter().enumerate() {
        if issuers.contains(c.subject.raw.as_slice()) {
            continue;
        }
        let chain = if chain_certs >= chain::MAX_CHAIN_CERTS_PER_FILE {
            cut += 1;
            vec![c.clone()]
        } else {
            chain::build(c, &certs)
        };
        chain_certs += chain.len();
        for link in &chain {
            if let Some(j) = certs.iter().position(|x| x.der == link.der) {
                used[j] = true;
            }
        }
        used[i] = true;
        let mut e = Entry::new(EntryKind::Certificate);
        e.chain = chain;
        store.entries.push(e);
    }
    if cut > 0 {
        store.notes.push(chain::chains_cut_note(cut).into());
    }
    for (c, u) in certs.into_iter().zip(used) {
        if !u {
            let mut e = Entry::new(EntryKind::Certificate);
            e.chain = vec![c];
            store.entries.push(e);
        }
    }
    store
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asn1::{encode, oid as oid_tlv, seq};

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        std::fs::read(p).expect("fixture")
    }

    fn signed_data(certs: &[&[u8]], crls: usize) -> Vec<u8> {
        let mut sd = vec![
            encode(tag::INTEGER, &[1]),
            encode(tag::SET, &[]),
            seq(&[oid_tlv("1.2.840.113549.1.7.1")]),
        ];
        if !certs.is_empty() {
            sd.push(encode(0xa0, &certs.concat()));
        }
        if crls > 0 {
            sd.push(encode(0xa1, &vec![seq(&[]); crls].concat()));
        }
        sd.push(encode(tag::SET, &[]));
        seq(&[oid_tlv(oid::SIGNED_DATA), encode(0xa0, &seq(&sd))])
    }

    #[test]
    fn empty_bundles_are_refused_by_name() {
        let e = read(&signed_data(&[], 0)).expect_err("no certs");
        assert!(e.to_string().contains("holds no certificate"), "{e}");
        assert_eq!(e.id(), "input-format-unsupported");
        let e = read(&signed_data(&[], 2)).expect_err("crls only");
        assert!(e.to_string().contains("2 CRLs and no certificate"), "{e}");
    }

    #[test]
    fn duplicates_are_listed_once_and_chains_ordered() {
        let leaf = fixture("der/auth.cert.der");
        let pem = String::from_utf8(fixture("ca/chain.pem")).expect("utf8");
        let blocks = crate::keystore::pem::parse_blocks(&pem).expect("pem");
        let (int, root) = (&blocks[0].der, &blocks[1].der);
        // Root first, the intermediate twice (as NSS writes them).
        let data = signed_data(&[root, int, &leaf, int], 0);
        let store = read(&data).expect("reads");
        assert_eq!(store.format, Format::Pkcs7);
        assert_eq!(store.entries.len(), 1);
        let chain = &store.entries[0].chain;
        assert_eq!(chain.len(), 3);
        assert_eq!(chain[0].der, leaf);
        assert_eq!(&chain[1].der, int);
        assert_eq!(&chain[2].der, root);
        assert!(
            store
                .notes
                .iter()
                .any(|n| n.contains_words("more than once"))
        );
    }

    #[test]
    fn other_content_types_are_named() {
        let data = seq(&[
            oid_tlv(oid::ENVELOPED_DATA),
            encode(0xa0, &seq(&[encode(tag::INTEGER, &[0])])),
        ]);
        assert!(looks_like(&data));
        let e = read(&data).expect_err("enveloped");
        assert!(e.to_string().contains("envelopedData"), "{e}");
    }
}
