//! The big-endian `DataInput` reader under both the container and the
//! serialization walker: every length is checked against a cap and against
//! the bytes that remain, and errors carry the byte offset.

use super::{JksError, MAX_BLOB};

pub(super) struct Reader<'a> {
    data: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(super) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub(super) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], JksError> {
        let truncated = JksError::Truncated {
            offset: self.pos,
            needed: n,
            what,
        };
        let end = match self.pos.checked_add(n) {
            Some(end) if end <= self.data.len() => end,
            _ => return Err(truncated),
        };
        let out = self.data.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(out)
    }

    pub(super) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], JksError> {
        let offset = self.pos;
        self.take(N, what)?
            .try_into()
            .map_err(|_| JksError::Truncated {
                offset,
                needed: N,
                what,
            })
    }

    pub(super) fn u8(&mut self, what: &'static str) -> Result<u8, JksError> {
        let [b] = self.array::<1>(what)?;
        Ok(b)
    }

    pub(super) fn peek_u8(&self, what: &'static str) -> Result<u8, JksError> {
        self.data.get(self.pos).copied().ok_or(JksError::Truncated {
            offset: self.pos,
            needed: 1,
            what,
        })
    }

    pub(super) fn u16(&mut self, what: &'static str) -> Result<u16, JksError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    pub(super) fn u32(&mut self, what: &'static str) -> Result<u32, JksError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    pub(super) fn i32(&mut self, what: &'static str) -> Result<i32, JksError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    pub(super) fn u64(&mut self, what: &'static str) -> Result<u64, JksError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    pub(super) fn i64(&mut self, what: &'static str) -> Result<i64, JksError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// A length-checked byte run: the length is capped at [`MAX_BLOB`] and
    /// must fit in the remaining input. Returns the data offset and the bytes.
    pub(super) fn sized(
        &mut self,
        len: u64,
        len_offset: usize,
        what: &'static str,
    ) -> Result<&'a [u8], JksError> {
        if len > MAX_BLOB {
            return Err(JksError::TooLarge {
                offset: len_offset,
                what,
                len,
                max: MAX_BLOB,
            });
        }
        let n = usize::try_from(len).map_err(|_| JksError::TooLarge {
            offset: len_offset,
            what,
            len,
            max: MAX_BLOB,
        })?;
        self.take(n, what)
    }

    /// `u32` length-prefixed blob. Returns the offset of the data and the data.
    pub(super) fn blob(&mut self, what: &'static str) -> Result<(usize, &'a [u8]), JksError> {
        let len_offset = self.pos;
        let len = self.u32(what)?;
        let data_offset = self.pos;
        let bytes = self.sized(u64::from(len), len_offset, what)?;
        Ok((data_offset, bytes))
    }

    /// `u16` length-prefixed modified UTF-8 bytes (Java `DataInput.readUTF`).
    pub(super) fn utf(&mut self, what: &'static str) -> Result<&'a [u8], JksError> {
        let len = self.u16(what)?;
        self.take(usize::from(len), what)
    }

    pub(super) fn utf_string(&mut self, what: &'static str) -> Result<String, JksError> {
        let offset = self.pos;
        let bytes = self.utf(what)?;
        decode_modified_utf8(bytes).ok_or(JksError::Malformed {
            offset,
            what: "valid Java modified UTF-8 string",
        })
    }
}

/// Decodes Java modified UTF-8 (as written by `DataOutput.writeUTF`) into a
/// `String` via UTF-16 code units. Accepts what Java's `readUTF` accepts;
/// returns `None` for malformed sequences and unpaired surrogates.
pub(super) fn decode_modified_utf8(bytes: &[u8]) -> Option<String> {
    let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&b0) = bytes.get(i) {
        let cont = |k: usize| -> Option<u16> {
            let b = *bytes.get(i.checked_add(k)?)?;
            (b & 0xC0 == 0x80).then_some(u16::from(b & 0x3F))
        };
        match b0 >> 4 {
            0..=7 => {
                units.push(u16::from(b0));
                i += 1;
            }
            12 | 13 => {
                units.push((u16::from(b0 & 0x1F) << 6) | cont(1)?);
                i += 2;
            }
            14 => {
                units.push((u16::from(b0 & 0x0F) << 12) | (cont(1)? << 6) | cont(2)?);
                i += 3;
            }
            _ => return None,
        }
    }
    String::from_utf16(&units).ok()
}
