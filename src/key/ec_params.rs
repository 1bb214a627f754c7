//! EC keys with explicit curve parameters (`-param_enc explicit`): when the
//! parameters are exactly those of P-256, P-384 or P-521, the key is that
//! named curve's key, as openssl treats it.

use super::Curve;
use crate::asn1::{Tlv, tag};

/// The prime-field type OID of X9.62.
const PRIME_FIELD: &str = "1.2.840.10045.1.1";

struct Constants {
    curve: Curve,
    p: &'static str,
    a: &'static str,
    b: &'static str,
    gx: &'static str,
    gy: &'static str,
    n: &'static str,
}

/// From `openssl ecparam -name NAME -param_enc explicit` (SEC 2 / FIPS 186-4).
const CURVES: [Constants; 3] = [
    Constants {
        curve: Curve::P256,
        p: "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF",
        a: "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC",
        b: "5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B",
        gx: "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296",
        gy: "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5",
        n: "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
    },
    Constants {
        curve: Curve::P384,
        p: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFF0000000000000000FFFFFFFF",
        a: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFF0000000000000000FFFFFFFC",
        b: "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF",
        gx: "AA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7",
        gy: "3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F",
        n: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    },
    Constants {
        curve: Curve::P521,
        p: "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
        a: "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC",
        b: "0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00",
        gx: "00C6858E06B70404E9CD9E3ECB662395B4429C648139053FB521F828AF606B4D3DBAA14B5E77EFE75928FE1DC127A2FFA8DE3348B3C1856A429BF97E7E31C2E5BD66",
        gy: "011839296A789A3BC0045C8A5FB42C7D1BD998F54449579B446817AFBD17273E662C97EE72995EF42640C550B9013FAD0761353C7086A272C24088BE94769FD16650",
        n: "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
    },
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| s.get(2 * i..2 * i + 2))
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

fn strip(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|x| **x == 0).count();
    &b[n..]
}

fn same(a: &[u8], hex: &str) -> bool {
    strip(a) == strip(&unhex(hex))
}

/// What explicit parameters say: the named curve they are, or the field
/// size in bits when they are some other curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Explicit {
    Named(Curve),
    Unknown { bits: u32 },
}

/// Read X9.62 `ECParameters` and compare p, a, b, G and n with the named
/// curves. `None` when the structure cannot be read.
pub(crate) fn recognise(t: &Tlv<'_>) -> Option<Explicit> {
    let seq = t.expect(tag::SEQUENCE, "ECParameters").ok()?;
    let mut r = seq.reader();
    let _version = r.expect(tag::INTEGER, "the version").ok()?;
    let field = r.expect(tag::SEQUENCE, "the FieldID").ok()?;
    let mut fr = field.reader();
    let field_type = fr.expect(tag::OID, "the field type").ok()?.oid().ok()?;
    let p = fr
        .expect(tag::INTEGER, "the prime")
        .ok()?
        .uint_bytes()
        .ok()?;
    let curve = r.expect(tag::SEQUENCE, "the Curve").ok()?;
    let mut cr = curve.reader();
    let a = cr.expect(tag::OCTET_STRING, "a").ok()?.content;
    let b = cr.expect(tag::OCTET_STRING, "b").ok()?.content;
    let base = r.expect(tag::OCTET_STRING, "the base point").ok()?.content;
    let n = r
        .expect(tag::INTEGER, "the order")
        .ok()?
        .uint_bytes()
        .ok()?;
    let bits = super::bit_len(p);
    if field_type != PRIME_FIELD {
        return Some(Explicit::Unknown { bits });
    }
    for c in &CURVES {
        if same(p, c.p) && same(a, c.a) && same(b, c.b) && same(n, c.n) && base_is(base, c) {
            return Some(Explicit::Named(c.curve));
        }
    }
    Some(Explicit::Unknown { bits })
}

/// The base point, uncompressed (04 x y) or compressed (02/03 x).
fn base_is(base: &[u8], c: &Constants) -> bool {
    let l = c.curve.coord_len();
    let gx = unhex(c.gx);
    let gy = unhex(c.gy);
    let pad = |v: &[u8]| {
        let v = strip(v);
        let mut out = vec![0u8; l.saturating_sub(v.len())];
        out.extend_from_slice(v);
        out
    };
    match base.split_first() {
        Some((4, rest)) if rest.len() == 2 * l => {
            rest[..l] == pad(&gx)[..] && rest[l..] == pad(&gy)[..]
        }
        Some((&pc @ (2 | 3), rest)) if rest.len() == l => {
            let y_odd = gy.last().is_some_and(|b| b & 1 == 1);
            rest == &pad(&gx)[..] && (pc == 3) == y_odd
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_constants_match_the_library() {
        // d = 1 gives the generator: the constants above must agree with aws-lc.
        for c in &CURVES {
            let k = crate::key::PrivateKey::from_ec_private(c.curve, &[1]).expect("key");
            let crate::key::PublicKey::Ec { point, .. } = &k.public else {
                panic!("not EC")
            };
            let l = c.curve.coord_len();
            assert_eq!(strip(&point[1..1 + l]), strip(&unhex(c.gx)));
            assert_eq!(strip(&point[1 + l..]), strip(&unhex(c.gy)));
        }
    }
}
