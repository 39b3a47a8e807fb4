//! The protobuf wire format, read the way upstream's gogo-protobuf generated code reads it
//! (same limits, same error wording): varints, fixed-width values, length-delimited bytes,
//! groups skipped only as unknown fields.

use std::fmt;

/// Why bytes are not a well-formed message, worded as gogo-protobuf's generated
/// `Unmarshal` words it (upstream puts these words in its 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum WireError {
    /// A value runs past the end of its message (`io.ErrUnexpectedEOF`).
    UnexpectedEof,
    /// A varint longer than ten bytes.
    IntegerOverflow,
    /// A length that does not fit.
    NegativeLength,
    /// A field number of zero.
    IllegalTag {
        /// The Go type being decoded.
        message: &'static str,
        /// The field number.
        tag: u64,
        /// The wire type.
        wire: u8,
    },
    /// An end-group marker outside a group.
    EndGroup {
        /// The Go type being decoded.
        message: &'static str,
    },
    /// Wire type 6 or 7.
    IllegalWireType(u8),
    /// A known field sent with another wire type than its type has.
    WrongWireType {
        /// The wire type sent.
        wire: u8,
        /// The Go field name.
        field: String,
    },
    /// Messages nested deeper than we follow.
    TooDeep,
    /// Well-formed, but a value with no JSON form (a timestamp out of range, embedded raw
    /// bytes that are not JSON).
    Invalid(String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEof => f.write_str("unexpected EOF"),
            Self::IntegerOverflow => f.write_str("proto: integer overflow"),
            Self::NegativeLength => f.write_str("proto: negative length found during unmarshaling"),
            Self::IllegalTag { message, tag, wire } => {
                write!(f, "proto: {message}: illegal tag {tag} (wire type {wire})")
            }
            Self::EndGroup { message } => {
                write!(f, "proto: {message}: wiretype end group for non-group")
            }
            Self::IllegalWireType(wire) => write!(f, "proto: illegal wireType {wire}"),
            Self::WrongWireType { wire, field } => {
                write!(f, "proto: wrong wireType = {wire} for field {field}")
            }
            Self::TooDeep => f.write_str("proto: message nested too deeply"),
            Self::Invalid(reason) => f.write_str(reason),
        }
    }
}

/// One field's value as it appears on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WireValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2.
    Bytes(&'a [u8]),
    /// Wire type 3: a group, already skipped.
    Group,
    /// Wire type 5.
    Fixed32(u32),
}

impl WireValue<'_> {
    /// The wire type number, for errors.
    pub(super) fn wire_type(&self) -> u8 {
        match self {
            Self::Varint(_) => 0,
            Self::Fixed64(_) => 1,
            Self::Bytes(_) => 2,
            Self::Group => 3,
            Self::Fixed32(_) => 5,
        }
    }
}

/// Reads the fields of one message in order.
pub(super) struct Reader<'a> {
    data: &'a [u8],
    position: usize,
    /// The Go type name, for errors.
    message: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader of `data`, a message of Go type `message`.
    pub(super) fn new(data: &'a [u8], message: &'static str) -> Self {
        Self {
            data,
            position: 0,
            message,
        }
    }

    /// The next field's number and value; `None` at the end.
    pub(super) fn next_field(&mut self) -> Result<Option<(u32, WireValue<'a>)>, WireError> {
        if self.position >= self.data.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let wire = (key & 7) as u8;
        let number = key >> 3;
        if wire == 4 {
            return Err(WireError::EndGroup {
                message: self.message,
            });
        }
        // gogo reads the field number as an int32.
        if number as u32 as i32 <= 0 {
            return Err(WireError::IllegalTag {
                message: self.message,
                tag: number,
                wire,
            });
        }
        let value = self.value(wire)?;
        Ok(Some((number as u32, value)))
    }

    fn value(&mut self, wire: u8) -> Result<WireValue<'a>, WireError> {
        Ok(match wire {
            0 => WireValue::Varint(self.varint()?),
            1 => WireValue::Fixed64(u64::from_le_bytes(self.fixed::<8>()?)),
            2 => WireValue::Bytes(self.length_delimited()?),
            3 => {
                self.skip_group()?;
                WireValue::Group
            }
            5 => WireValue::Fixed32(u32::from_le_bytes(self.fixed::<4>()?)),
            other => return Err(WireError::IllegalWireType(other)),
        })
    }

    /// Skips to the end of the group whose start was just read.
    fn skip_group(&mut self) -> Result<(), WireError> {
        let mut depth = 1usize;
        while depth > 0 {
            if self.position >= self.data.len() {
                return Err(WireError::UnexpectedEof);
            }
            let key = self.varint()?;
            match (key & 7) as u8 {
                3 => depth += 1,
                4 => depth -= 1,
                wire => {
                    self.value(wire)?;
                }
            }
        }
        Ok(())
    }

    /// A base-128 varint, as gogo reads it (at most ten bytes).
    pub(super) fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            if shift >= 64 {
                return Err(WireError::IntegerOverflow);
            }
            let byte = *self
                .data
                .get(self.position)
                .ok_or(WireError::UnexpectedEof)?;
            self.position += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let end = self
            .position
            .checked_add(N)
            .ok_or(WireError::UnexpectedEof)?;
        let bytes = self
            .data
            .get(self.position..end)
            .ok_or(WireError::UnexpectedEof)?;
        self.position = end;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn length_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let length = self.varint()?;
        // gogo accumulates the length in a Go int: past i64::MAX it is negative.
        let length = usize::try_from(length)
            .ok()
            .filter(|length| i64::try_from(*length).is_ok())
            .ok_or(WireError::NegativeLength)?;
        let end = self
            .position
            .checked_add(length)
            .ok_or(WireError::NegativeLength)?;
        let bytes = self
            .data
            .get(self.position..end)
            .ok_or(WireError::UnexpectedEof)?;
        self.position = end;
        Ok(bytes)
    }

    /// A little-endian fixed 64-bit value (an item of a packed `double` list).
    pub(super) fn fixed64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.fixed::<8>()?))
    }

    /// Whether every byte has been read (for packed values).
    pub(super) fn at_end(&self) -> bool {
        self.position >= self.data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{Reader, WireError, WireValue};

    #[test]
    fn reads_fields_in_order() -> Result<(), WireError> {
        // 1: varint 150; 2: "hi"; 3: fixed64 1; 5: fixed32 2.
        let data = [
            0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x19, 1, 0, 0, 0, 0, 0, 0, 0, 0x2d, 2, 0, 0,
            0,
        ];
        let mut reader = Reader::new(&data, "Test");
        assert_eq!(reader.next_field()?, Some((1, WireValue::Varint(150))));
        assert_eq!(reader.next_field()?, Some((2, WireValue::Bytes(b"hi"))));
        assert_eq!(reader.next_field()?, Some((3, WireValue::Fixed64(1))));
        assert_eq!(reader.next_field()?, Some((5, WireValue::Fixed32(2))));
        assert_eq!(reader.next_field()?, None);
        Ok(())
    }

    #[test]
    fn errors_read_like_gogo() {
        let error = |data: &[u8]| {
            let mut reader = Reader::new(data, "Deployment");
            loop {
                match reader.next_field() {
                    Ok(Some(_)) => continue,
                    Ok(None) => return String::new(),
                    Err(error) => return error.to_string(),
                }
            }
        };
        assert_eq!(error(&[0x12, 0x05, b'a']), "unexpected EOF");
        assert_eq!(error(&[0x08]), "unexpected EOF");
        assert_eq!(
            error(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            "proto: integer overflow"
        );
        assert_eq!(
            error(&[0x00, 0x00]),
            "proto: Deployment: illegal tag 0 (wire type 0)"
        );
        assert_eq!(
            error(&[0x0c]),
            "proto: Deployment: wiretype end group for non-group"
        );
        assert_eq!(error(&[0x0e]), "proto: illegal wireType 6");
        assert_eq!(
            error(&[0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            "proto: negative length found during unmarshaling"
        );
        // A group of an unknown field is skipped.
        assert_eq!(error(&[0x0b, 0x10, 0x01, 0x0c, 0x10, 0x02]), "");
    }
}
