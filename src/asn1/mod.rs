//! A small, bounds-checked reader for ASN.1 DER and the BER subset that real
//! keystores use (indefinite lengths and constructed OCTET STRINGs, as written
//! by Windows and NSS PKCS#12 exporters).
//!
//! Every length is checked against the bytes that remain, recursion is capped,
//! and errors carry the byte offset where reading failed.

use std::fmt;

/// Universal tags used by the readers.
pub(crate) mod tag {
    pub(crate) const BOOLEAN: u8 = 0x01;
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const BIT_STRING: u8 = 0x03;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const UTF8_STRING: u8 = 0x0c;
    pub(crate) const PRINTABLE_STRING: u8 = 0x13;
    pub(crate) const IA5_STRING: u8 = 0x16;
    pub(crate) const BMP_STRING: u8 = 0x1e;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
    pub(crate) const OCTET_STRING_CONSTRUCTED: u8 = 0x24;
}

/// Deepest nesting accepted; real keystores stay below 15.
const MAX_DEPTH: usize = 64;

/// A reading failure, with the absolute byte offset where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asn1Error {
    /// Byte offset of the failure, relative to the start of the input.
    pub offset: usize,
    /// What the reader expected there ("a SEQUENCE", "a length").
    pub expected: String,
}

impl fmt::Display for Asn1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {} at byte {}", self.expected, self.offset)
    }
}

impl std::error::Error for Asn1Error {}

pub(crate) type Result<T> = std::result::Result<T, Asn1Error>;

fn err<T>(offset: usize, expected: impl Into<String>) -> Result<T> {
    Err(Asn1Error {
        offset,
        expected: expected.into(),
    })
}

/// One decoded TLV. `content` is the value bytes (for a definite length) or the
/// raw inner encoding up to the end-of-contents marker (for an indefinite one).
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// Absolute offset of `content[0]` in the outermost buffer.
    pub content_offset: usize,
    /// The whole encoding (tag, length, content, and end-of-contents if any).
    pub raw: &'a [u8],
    pub indefinite: bool,
}

impl<'a> Tlv<'a> {
    pub(crate) fn is_constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// A reader over the children of a constructed value.
    pub(crate) fn reader(&self) -> Reader<'a> {
        Reader::with_offset(self.content, self.content_offset)
    }

    /// Require a universal tag.
    pub(crate) fn expect(self, tag: u8, what: &str) -> Result<Self> {
        if self.tag == tag {
            Ok(self)
        } else {
            err(
                self.content_offset.saturating_sub(2),
                format!("{what} (tag 0x{tag:02x}), found tag 0x{:02x}", self.tag),
            )
        }
    }

    /// The bytes of an OCTET STRING, joining the chunks of a BER constructed one.
    pub fn octets(&self) -> Result<Vec<u8>> {
        match self.tag {
            tag::OCTET_STRING => Ok(self.content.to_vec()),
            tag::OCTET_STRING_CONSTRUCTED => {
                let mut out = Vec::new();
                collect_octets(self, &mut out, 0)?;
                Ok(out)
            }
            other => err(
                self.content_offset,
                format!("an OCTET STRING, found tag 0x{other:02x}"),
            ),
        }
    }

    /// A non-negative INTEGER as a u64 (iteration counts, versions).
    pub fn u64(&self) -> Result<u64> {
        if self.tag != tag::INTEGER {
            return err(self.content_offset, "an INTEGER");
        }
        let bytes = strip_leading_zeros(self.content);
        if self.content.first().is_some_and(|b| b & 0x80 != 0) || bytes.len() > 8 {
            return err(self.content_offset, "a small non-negative INTEGER");
        }
        Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// An unsigned big integer's magnitude bytes (leading zeros removed).
    pub(crate) fn uint_bytes(&self) -> Result<&'a [u8]> {
        if self.tag != tag::INTEGER {
            return err(self.content_offset, "an INTEGER");
        }
        Ok(strip_leading_zeros(self.content))
    }

    /// The dotted form of an OBJECT IDENTIFIER.
    pub fn oid(&self) -> Result<String> {
        if self.tag != tag::OID {
            return err(
                self.content_offset,
                format!("an OBJECT IDENTIFIER, found tag 0x{:02x}", self.tag),
            );
        }
        oid_to_string(self.content).ok_or(Asn1Error {
            offset: self.content_offset,
            expected: "a well-formed OBJECT IDENTIFIER".into(),
        })
    }

    /// BIT STRING content without the unused-bits byte.
    pub(crate) fn bit_string(&self) -> Result<&'a [u8]> {
        if self.tag != tag::BIT_STRING {
            return err(self.content_offset, "a BIT STRING");
        }
        match self.content.split_first() {
            Some((_, rest)) => Ok(rest),
            None => err(self.content_offset, "a non-empty BIT STRING"),
        }
    }
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|x| **x == 0).count();
    &b[n..]
}

fn collect_octets(t: &Tlv<'_>, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    if depth > 8 {
        return err(t.content_offset, "shallower OCTET STRING nesting");
    }
    let mut r = t.reader();
    while !r.is_empty() {
        let c = r.read()?;
        match c.tag {
            tag::OCTET_STRING => out.extend_from_slice(c.content),
            tag::OCTET_STRING_CONSTRUCTED => collect_octets(&c, out, depth + 1)?,
            other => {
                return err(
                    c.content_offset,
                    format!("an OCTET STRING chunk, found tag 0x{other:02x}"),
                );
            }
        }
    }
    Ok(())
}

/// Dotted OID string from its DER content.
pub(crate) fn oid_to_string(content: &[u8]) -> Option<String> {
    if content.is_empty() || content.len() > 64 {
        return None;
    }
    let mut arcs: Vec<u64> = Vec::new();
    let mut cur: u64 = 0;
    let mut in_arc = false;
    for &b in content {
        if !in_arc && b == 0x80 {
            return None; // non-minimal encoding
        }
        if cur > (u64::MAX >> 7) {
            return None;
        }
        cur = (cur << 7) | u64::from(b & 0x7f);
        in_arc = true;
        if b & 0x80 == 0 {
            arcs.push(cur);
            cur = 0;
            in_arc = false;
        }
    }
    if in_arc {
        return None;
    }
    let first = *arcs.first()?;
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut s = format!("{a}.{b}");
    for arc in arcs.iter().skip(1) {
        s.push('.');
        s.push_str(&arc.to_string());
    }
    Some(s)
}

/// Sequential reader over a run of TLVs.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self::with_offset(data, 0)
    }

    pub(crate) fn with_offset(data: &'a [u8], base: usize) -> Self {
        Reader {
            data,
            pos: 0,
            base,
            depth: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Absolute offset of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Peek at the next tag without consuming.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Read one TLV.
    pub(crate) fn read(&mut self) -> Result<Tlv<'a>> {
        let (tlv, used) = parse_tlv(&self.data[self.pos..], self.base + self.pos, self.depth)?;
        self.pos += used;
        Ok(tlv)
    }

    /// Read one TLV that must have `tag`.
    pub(crate) fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>> {
        let off = self.offset();
        let t = self.read()?;
        if t.tag != tag {
            return err(
                off,
                format!("{what} (tag 0x{tag:02x}), found tag 0x{:02x}", t.tag),
            );
        }
        Ok(t)
    }

    /// Read an optional TLV if the next tag equals `tag`.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fail if bytes remain.
    pub(crate) fn finish(&self, what: &str) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            err(self.offset(), format!("the end of {what}"))
        }
    }
}

/// Parse one TLV at the start of `data`. Returns it and the bytes consumed.
fn parse_tlv(data: &[u8], abs: usize, depth: usize) -> Result<(Tlv<'_>, usize)> {
    if depth > MAX_DEPTH {
        return err(abs, "less deeply nested data");
    }
    let Some(&tag) = data.first() else {
        return err(abs, "another ASN.1 value, found the end of the data");
    };
    if tag & 0x1f == 0x1f {
        return err(abs, "a single-byte ASN.1 tag");
    }
    let Some(&l0) = data.get(1) else {
        return err(abs + 1, "an ASN.1 length, found the end of the data");
    };
    let mut hdr = 2usize;
    if l0 == 0x80 {
        // Indefinite length: constructed only; scan children until 00 00.
        if tag & 0x20 == 0 {
            return err(abs + 1, "a definite length on a primitive value");
        }
        let mut pos = hdr;
        loop {
            match (data.get(pos), data.get(pos + 1)) {
                (Some(0), Some(0)) => break,
                (None, _) | (_, None) => {
                    return err(
                        abs + pos,
                        "an end-of-contents marker, found the end of the data (file truncated?)",
                    );
                }
                _ => {
                    let (_, used) = parse_tlv(&data[pos..], abs + pos, depth + 1)?;
                    pos += used;
                }
            }
        }
        let content = &data[hdr..pos];
        let total = pos + 2;
        return Ok((
            Tlv {
                tag,
                content,
                content_offset: abs + hdr,
                raw: &data[..total],
                indefinite: true,
            },
            total,
        ));
    }
    let len: usize = if l0 & 0x80 == 0 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n > 4 {
            return err(abs + 1, "a length of at most 4 bytes");
        }
        let Some(bytes) = data.get(2..2 + n) else {
            return err(
                abs + 2,
                "the rest of an ASN.1 length, found the end of the data",
            );
        };
        hdr += n;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let Some(content) = data.get(hdr..hdr.saturating_add(len)) else {
        return err(
            abs + hdr,
            format!(
                "{len} bytes of content, found only {} (file truncated?)",
                data.len().saturating_sub(hdr)
            ),
        );
    };
    Ok((
        Tlv {
            tag,
            content,
            content_offset: abs + hdr,
            raw: &data[..hdr + len],
            indefinite: false,
        },
        hdr + len,
    ))
}

/// Parse exactly one TLV spanning all of `data`.
pub fn parse_single(data: &[u8]) -> Result<Tlv<'_>> {
    let mut r = Reader::new(data);
    let t = r.read()?;
    r.finish("the outer value")?;
    Ok(t)
}

/// Encode a DER length.
pub(crate) fn encode_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Encode a TLV in DER.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    encode_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// Encode a magnitude as a DER INTEGER.
pub(crate) fn encode_uint(mag: &[u8]) -> Vec<u8> {
    let start = mag.iter().position(|b| *b != 0).unwrap_or(mag.len());
    let mag = &mag[start..];
    let mut c = Vec::with_capacity(mag.len() + 1);
    if mag.first().is_none_or(|b| b & 0x80 != 0) {
        c.push(0);
    }
    c.extend_from_slice(mag);
    encode(tag::INTEGER, &c)
}

/// Encode a dotted OID's content bytes.
pub(crate) fn oid_bytes(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').filter_map(|a| a.parse().ok()).collect();
    let mut out = Vec::new();
    if arcs.len() < 2 {
        return out;
    }
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(((v & 0x7f) as u8) | 0x80);
            v >>= 7;
        }
        tmp.reverse();
        out.extend_from_slice(&tmp);
    };
    push(arcs[0] * 40 + arcs[1]);
    for a in &arcs[2..] {
        push(*a);
    }
    out
}

/// DER OBJECT IDENTIFIER from its dotted form.
pub(crate) fn oid(dotted: &str) -> Vec<u8> {
    encode(tag::OID, &oid_bytes(dotted))
}

/// DER SEQUENCE of already-encoded parts.
pub(crate) fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    encode(tag::SEQUENCE, &parts.concat())
}

/// DER INTEGER of a small non-negative number (versions, iteration counts).
pub(crate) fn encode_u64(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    encode_uint(&bytes[skip..])
}

/// Re-encode a BER value as DER: indefinite lengths become definite and
/// constructed OCTET STRINGs are joined. SET ordering is kept as is.
pub fn to_der(t: &Tlv<'_>) -> Result<Vec<u8>> {
    to_der_depth(t, 0)
}

fn to_der_depth(t: &Tlv<'_>, depth: usize) -> Result<Vec<u8>> {
    if depth > MAX_DEPTH {
        return err(t.content_offset, "less deeply nested data");
    }
    if t.tag == tag::OCTET_STRING_CONSTRUCTED {
        return Ok(encode(tag::OCTET_STRING, &t.octets()?));
    }
    if !t.is_constructed() {
        return Ok(encode(t.tag, t.content));
    }
    if !t.indefinite && !contains_ber(t, depth)? {
        return Ok(t.raw.to_vec());
    }
    let mut inner = Vec::with_capacity(t.content.len());
    let mut r = t.reader();
    while !r.is_empty() {
        let c = r.read()?;
        inner.extend_from_slice(&to_der_depth(&c, depth + 1)?);
    }
    Ok(encode(t.tag, &inner))
}

fn contains_ber(t: &Tlv<'_>, depth: usize) -> Result<bool> {
    if depth > MAX_DEPTH {
        return err(t.content_offset, "less deeply nested data");
    }
    if t.indefinite || t.tag == tag::OCTET_STRING_CONSTRUCTED {
        return Ok(true);
    }
    if !t.is_constructed() {
        return Ok(false);
    }
    let mut r = t.reader();
    while !r.is_empty() {
        let c = r.read()?;
        if contains_ber(&c, depth + 1)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Does the buffer hold BER-only encodings anywhere (best effort, top levels)?
pub fn is_ber(data: &[u8]) -> bool {
    match parse_single(data) {
        Ok(t) => contains_ber(&t, 0).unwrap_or(false),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_roundtrip() {
        assert_eq!(
            oid_to_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]).as_deref(),
            Some("1.2.840.113549.1.1.1")
        );
        assert_eq!(
            oid_to_string(&[0x55, 0x04, 0x61]).as_deref(),
            Some("2.5.4.97")
        );
        assert_eq!(oid_to_string(&[0x80, 0x01]), None);
        assert_eq!(oid_to_string(&[0x86]), None);
    }

    #[test]
    fn indefinite_to_der() {
        // SEQUENCE(indef) { OCTET STRING(constructed, indef) { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x00,
            0x00,
        ];
        let t = parse_single(&ber).expect("parses");
        assert!(t.indefinite);
        assert_eq!(
            to_der(&t).expect("der"),
            vec![0x30, 0x05, 0x04, 0x03, b'a', b'b', b'c']
        );
        assert!(is_ber(&ber));
    }

    #[test]
    fn truncation_is_an_error_with_offset() {
        let der = [0x30, 0x05, 0x04, 0x03, b'a'];
        let e = parse_single(&der).expect_err("truncated");
        assert_eq!(e.offset, 2);
        assert!(e.expected.contains("truncated"));
        let e = parse_single(&[0x30, 0x80, 0x04, 0x01, b'a']).expect_err("no eoc");
        assert!(e.expected.contains("end-of-contents"));
    }

    #[test]
    fn deep_nesting_is_capped() {
        let mut v = Vec::new();
        for _ in 0..200 {
            v.extend_from_slice(&[0x30, 0x80]);
        }
        assert!(parse_single(&v).is_err());
    }

    #[test]
    fn small_integers() {
        let t = parse_single(&[0x02, 0x02, 0x08, 0x00]).expect("int");
        assert_eq!(t.u64().expect("u64"), 2048);
        let t = parse_single(&[0x02, 0x01, 0xff]).expect("int");
        assert!(t.u64().is_err());
    }
}
