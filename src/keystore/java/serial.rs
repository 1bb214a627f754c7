//! A bounded, non-evaluating walker over the Java serialization stream of a
//! JCEKS secret-key entry (a `javax.crypto.SealedObject`): it finds the
//! `sealAlg` and `paramsAlg` strings and never decrypts or deserializes.

use super::JksError;
use super::input::{Reader, decode_modified_utf8};
use std::rc::Rc;

pub(super) const STREAM_MAGIC: u16 = 0xACED;
pub(super) const STREAM_VERSION: u16 = 5;

pub(super) const TC_NULL: u8 = 0x70;
pub(super) const TC_REFERENCE: u8 = 0x71;
pub(super) const TC_CLASSDESC: u8 = 0x72;
pub(super) const TC_OBJECT: u8 = 0x73;
pub(super) const TC_STRING: u8 = 0x74;
pub(super) const TC_ARRAY: u8 = 0x75;
pub(super) const TC_CLASS: u8 = 0x76;
pub(super) const TC_BLOCKDATA: u8 = 0x77;
pub(super) const TC_ENDBLOCKDATA: u8 = 0x78;
pub(super) const TC_BLOCKDATALONG: u8 = 0x7A;
pub(super) const TC_LONGSTRING: u8 = 0x7C;
pub(super) const TC_PROXYCLASSDESC: u8 = 0x7D;
pub(super) const TC_ENUM: u8 = 0x7E;

pub(super) const BASE_WIRE_HANDLE: u32 = 0x007E_0000;

pub(super) const SC_WRITE_METHOD: u8 = 0x01;
pub(super) const SC_SERIALIZABLE: u8 = 0x02;
pub(super) const SC_EXTERNALIZABLE: u8 = 0x04;
pub(super) const SC_BLOCK_DATA: u8 = 0x08;

pub(super) const MAX_SER_DEPTH: usize = 32;
pub(super) const MAX_SER_HANDLES: usize = 10_000;
pub(super) const MAX_CLASS_CHAIN: usize = 32;
pub(super) const MAX_PROXY_INTERFACES: i32 = 65_535;

pub(super) const SEALED_OBJECT_CLASS: &str = "javax.crypto.SealedObject";

struct FieldDesc {
    code: u8,
    name: String,
}

struct ClassDesc {
    name: String,
    flags: u8,
    fields: Vec<FieldDesc>,
    super_desc: Option<Rc<ClassDesc>>,
    /// Number of descriptors in the superclass chain including this one.
    chain_len: usize,
}

enum Handle {
    ClassDesc(Rc<ClassDesc>),
    Str(Rc<str>),
    Other,
}

enum Value {
    Null,
    Str(Rc<str>),
    ClassDesc(Rc<ClassDesc>),
    Other,
}

struct SerParser<'r, 'a> {
    r: &'r mut Reader<'a>,
    handles: Vec<Handle>,
    seal_alg: Option<Rc<str>>,
}

/// Walks one `ObjectOutputStream` stream holding a `SealedObject` and returns
/// its `sealAlg` string if present.
pub(super) fn parse_sealed_object(r: &mut Reader<'_>) -> Result<Option<String>, JksError> {
    let magic_offset = r.pos;
    if r.u16("Java serialization stream magic")? != STREAM_MAGIC {
        return Err(JksError::Malformed {
            offset: magic_offset,
            what: "Java serialization stream magic 0xACED",
        });
    }
    let version_offset = r.pos;
    if r.u16("Java serialization stream version")? != STREAM_VERSION {
        return Err(JksError::Malformed {
            offset: version_offset,
            what: "Java serialization stream version 5",
        });
    }
    let object_offset = r.pos;
    if r.u8("serialized SealedObject")? != TC_OBJECT {
        return Err(JksError::Malformed {
            offset: object_offset,
            what: "serialized SealedObject (TC_OBJECT)",
        });
    }
    let mut p = SerParser {
        r,
        handles: Vec::new(),
        seal_alg: None,
    };
    p.new_object(1, true)?;
    Ok(p.seal_alg.map(|s| s.to_string()))
}

impl SerParser<'_, '_> {
    fn check_depth(&self, depth: usize) -> Result<(), JksError> {
        if depth > MAX_SER_DEPTH {
            return Err(JksError::TooLarge {
                offset: self.r.pos,
                what: "Java serialization nesting depth",
                len: depth as u64,
                max: MAX_SER_DEPTH as u64,
            });
        }
        Ok(())
    }

    fn push(&mut self, handle: Handle) -> Result<usize, JksError> {
        if self.handles.len() >= MAX_SER_HANDLES {
            return Err(JksError::TooLarge {
                offset: self.r.pos,
                what: "Java serialization handle count",
                len: self.handles.len() as u64 + 1,
                max: MAX_SER_HANDLES as u64,
            });
        }
        self.handles.push(handle);
        Ok(self.handles.len() - 1)
    }

    fn reference(&mut self, offset: usize) -> Result<Value, JksError> {
        let handle = self.r.u32("Java serialization handle")?;
        let entry = handle
            .checked_sub(BASE_WIRE_HANDLE)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.handles.get(i))
            .ok_or(JksError::Malformed {
                offset,
                what: "reference to a previously defined serialization handle",
            })?;
        Ok(match entry {
            Handle::ClassDesc(d) => Value::ClassDesc(Rc::clone(d)),
            Handle::Str(s) => Value::Str(Rc::clone(s)),
            Handle::Other => Value::Other,
        })
    }

    fn new_string(&mut self, offset: usize, bytes: &[u8]) -> Result<Value, JksError> {
        let s: Rc<str> = decode_modified_utf8(bytes)
            .ok_or(JksError::Malformed {
                offset,
                what: "serialized string in valid modified UTF-8",
            })?
            .into();
        self.push(Handle::Str(Rc::clone(&s)))?;
        Ok(Value::Str(s))
    }

    /// `content`: any object (block data is only accepted inside annotations).
    fn content(&mut self, depth: usize) -> Result<Value, JksError> {
        self.check_depth(depth)?;
        let offset = self.r.pos;
        let tc = self.r.u8("Java serialization type code")?;
        match tc {
            TC_NULL => Ok(Value::Null),
            TC_REFERENCE => self.reference(offset),
            TC_STRING => {
                let bytes = self.r.utf("serialized string")?;
                self.new_string(offset, bytes)
            }
            TC_LONGSTRING => {
                let len_offset = self.r.pos;
                let len = self.r.u64("serialized long string")?;
                let bytes = self.r.sized(len, len_offset, "serialized long string")?;
                self.new_string(offset, bytes)
            }
            TC_CLASSDESC => Ok(Value::ClassDesc(self.new_class_desc(depth)?)),
            TC_PROXYCLASSDESC => Ok(Value::ClassDesc(self.new_proxy_class_desc(depth)?)),
            TC_OBJECT => {
                self.new_object(depth, false)?;
                Ok(Value::Other)
            }
            TC_ARRAY => {
                self.new_array(depth)?;
                Ok(Value::Other)
            }
            TC_CLASS => {
                self.required_class_desc(depth)?;
                self.push(Handle::Other)?;
                Ok(Value::Other)
            }
            TC_ENUM => {
                self.required_class_desc(depth)?;
                self.push(Handle::Other)?;
                let name_offset = self.r.pos;
                match self.content(depth + 1)? {
                    Value::Str(_) => Ok(Value::Other),
                    _ => Err(JksError::Malformed {
                        offset: name_offset,
                        what: "enum constant name string",
                    }),
                }
            }
            _ => Err(JksError::Malformed {
                offset,
                what: "supported Java serialization type code",
            }),
        }
    }

    /// `classDesc`: new descriptor, proxy descriptor, reference or null.
    fn class_desc(&mut self, depth: usize) -> Result<Option<Rc<ClassDesc>>, JksError> {
        self.check_depth(depth)?;
        let offset = self.r.pos;
        let tc = self.r.u8("class descriptor")?;
        match tc {
            TC_NULL => Ok(None),
            TC_CLASSDESC => self.new_class_desc(depth).map(Some),
            TC_PROXYCLASSDESC => self.new_proxy_class_desc(depth).map(Some),
            TC_REFERENCE => match self.reference(offset)? {
                Value::ClassDesc(d) => Ok(Some(d)),
                _ => Err(JksError::Malformed {
                    offset,
                    what: "reference to a class descriptor",
                }),
            },
            _ => Err(JksError::Malformed {
                offset,
                what: "class descriptor (TC_CLASSDESC, TC_PROXYCLASSDESC, TC_REFERENCE or TC_NULL)",
            }),
        }
    }

    fn required_class_desc(&mut self, depth: usize) -> Result<Rc<ClassDesc>, JksError> {
        let offset = self.r.pos;
        self.class_desc(depth + 1)?.ok_or(JksError::Malformed {
            offset,
            what: "non-null class descriptor",
        })
    }

    fn finish_class_desc(
        &mut self,
        handle: usize,
        name: String,
        flags: u8,
        fields: Vec<FieldDesc>,
        depth: usize,
    ) -> Result<Rc<ClassDesc>, JksError> {
        self.annotation(depth + 1)?;
        let super_offset = self.r.pos;
        let super_desc = self.class_desc(depth + 1)?;
        let chain_len = super_desc
            .as_ref()
            .map_or(1, |s| s.chain_len.saturating_add(1));
        if chain_len > MAX_CLASS_CHAIN {
            return Err(JksError::TooLarge {
                offset: super_offset,
                what: "Java class hierarchy depth",
                len: chain_len as u64,
                max: MAX_CLASS_CHAIN as u64,
            });
        }
        let desc = Rc::new(ClassDesc {
            name,
            flags,
            fields,
            super_desc,
            chain_len,
        });
        if let Some(slot) = self.handles.get_mut(handle) {
            *slot = Handle::ClassDesc(Rc::clone(&desc));
        }
        Ok(desc)
    }

    fn placeholder_desc() -> Handle {
        Handle::ClassDesc(Rc::new(ClassDesc {
            name: String::new(),
            flags: 0,
            fields: Vec::new(),
            super_desc: None,
            chain_len: 1,
        }))
    }

    /// After `TC_CLASSDESC`: name, serialVersionUID, flags, fields, annotation, super.
    fn new_class_desc(&mut self, depth: usize) -> Result<Rc<ClassDesc>, JksError> {
        let name = self.r.utf_string("class name")?;
        self.r.take(8, "serialVersionUID")?;
        let handle = self.push(Self::placeholder_desc())?;
        let flags = self.r.u8("class descriptor flags")?;
        let count = self.r.u16("class field count")?;
        let mut fields = Vec::new();
        for _ in 0..count {
            let code_offset = self.r.pos;
            let code = self.r.u8("field type code")?;
            let name = self.r.utf_string("field name")?;
            match code {
                b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' => {}
                b'L' | b'[' => {
                    let type_offset = self.r.pos;
                    if !matches!(self.content(depth + 1)?, Value::Str(_)) {
                        return Err(JksError::Malformed {
                            offset: type_offset,
                            what: "field class name string",
                        });
                    }
                }
                _ => {
                    return Err(JksError::Malformed {
                        offset: code_offset,
                        what: "field type code (one of B C D F I J S Z L [)",
                    });
                }
            }
            fields.push(FieldDesc { code, name });
        }
        self.finish_class_desc(handle, name, flags, fields, depth)
    }

    /// After `TC_PROXYCLASSDESC`: interface names, annotation, super.
    fn new_proxy_class_desc(&mut self, depth: usize) -> Result<Rc<ClassDesc>, JksError> {
        let handle = self.push(Self::placeholder_desc())?;
        let count_offset = self.r.pos;
        let count = self.r.i32("proxy interface count")?;
        if !(0..=MAX_PROXY_INTERFACES).contains(&count) {
            return Err(JksError::Malformed {
                offset: count_offset,
                what: "proxy interface count between 0 and 65535",
            });
        }
        for _ in 0..count {
            self.r.utf("proxy interface name")?;
        }
        self.finish_class_desc(handle, String::new(), SC_SERIALIZABLE, Vec::new(), depth)
    }

    /// `classAnnotation` / `objectAnnotation`: contents up to `TC_ENDBLOCKDATA`.
    fn annotation(&mut self, depth: usize) -> Result<(), JksError> {
        self.check_depth(depth)?;
        loop {
            match self.r.peek_u8("annotation end marker (TC_ENDBLOCKDATA)")? {
                TC_ENDBLOCKDATA => {
                    self.r.u8("annotation end marker")?;
                    return Ok(());
                }
                TC_BLOCKDATA => {
                    self.r.u8("block data")?;
                    let len = self.r.u8("block data length")?;
                    self.r.take(usize::from(len), "block data")?;
                }
                TC_BLOCKDATALONG => {
                    self.r.u8("block data")?;
                    let len_offset = self.r.pos;
                    let len = self.r.i32("long block data length")?;
                    let len = u64::try_from(len).map_err(|_| JksError::Malformed {
                        offset: len_offset,
                        what: "non-negative block data length",
                    })?;
                    self.r.sized(len, len_offset, "long block data")?;
                }
                _ => {
                    self.content(depth + 1)?;
                }
            }
        }
    }

    /// After `TC_OBJECT`: class descriptor, then class data super-first.
    fn new_object(&mut self, depth: usize, capture: bool) -> Result<(), JksError> {
        self.check_depth(depth)?;
        let desc = self.required_class_desc(depth)?;
        self.push(Handle::Other)?;

        if desc.flags & SC_EXTERNALIZABLE != 0 {
            if desc.flags & SC_BLOCK_DATA != 0 {
                return self.annotation(depth + 1);
            }
            return Err(JksError::Malformed {
                offset: self.r.pos,
                what: "externalizable object written in block-data mode",
            });
        }

        let mut chain: Vec<Rc<ClassDesc>> = Vec::with_capacity(desc.chain_len.min(MAX_CLASS_CHAIN));
        let mut cur = Some(desc);
        while let Some(d) = cur {
            cur = d.super_desc.clone();
            chain.push(d);
        }

        for class in chain.iter().rev() {
            if class.flags & SC_SERIALIZABLE == 0 {
                continue;
            }
            let is_sealed = capture && class.name == SEALED_OBJECT_CLASS;
            for field in &class.fields {
                let value = self.field_value(field.code, depth)?;
                if is_sealed
                    && field.name.as_str() == "sealAlg"
                    && let Value::Str(s) = value
                {
                    self.seal_alg = Some(s);
                }
            }
            if class.flags & SC_WRITE_METHOD != 0 {
                self.annotation(depth + 1)?;
            }
        }
        Ok(())
    }

    fn field_value(&mut self, code: u8, depth: usize) -> Result<Value, JksError> {
        let size = match code {
            b'B' | b'Z' => 1,
            b'C' | b'S' => 2,
            b'I' | b'F' => 4,
            b'J' | b'D' => 8,
            _ => return self.content(depth + 1),
        };
        self.r.take(size, "primitive field value")?;
        Ok(Value::Null)
    }

    /// After `TC_ARRAY`: class descriptor, size, elements.
    fn new_array(&mut self, depth: usize) -> Result<(), JksError> {
        let desc_offset = self.r.pos;
        let desc = self.required_class_desc(depth)?;
        self.push(Handle::Other)?;
        let size_offset = self.r.pos;
        let size = self.r.i32("array length")?;
        let size = usize::try_from(size).map_err(|_| JksError::Malformed {
            offset: size_offset,
            what: "non-negative array length",
        })?;
        let name = desc.name.as_bytes();
        let width = match (name.first(), name.get(1)) {
            (Some(b'['), Some(b'B' | b'Z')) => 1,
            (Some(b'['), Some(b'C' | b'S')) => 2,
            (Some(b'['), Some(b'I' | b'F')) => 4,
            (Some(b'['), Some(b'J' | b'D')) => 8,
            (Some(b'['), Some(b'L' | b'[')) => 0,
            _ => {
                return Err(JksError::Malformed {
                    offset: desc_offset,
                    what: "array class descriptor (name starting with '[')",
                });
            }
        };
        if width == 0 {
            // Each element takes at least one byte.
            if size > self.r.remaining() {
                return Err(JksError::Truncated {
                    offset: self.r.pos,
                    needed: size,
                    what: "array elements",
                });
            }
            for _ in 0..size {
                self.content(depth + 1)?;
            }
        } else {
            let bytes = size.checked_mul(width).ok_or(JksError::Truncated {
                offset: self.r.pos,
                needed: usize::MAX,
                what: "array elements",
            })?;
            self.r.take(bytes, "array elements")?;
        }
        Ok(())
    }
}
