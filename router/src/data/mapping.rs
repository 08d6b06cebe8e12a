//! Mapping and String (spec: Common structures, Mapping / String).

use super::reader::Reader;
use super::DataError;
use std::collections::BTreeMap;

/// Reads a String: one length byte, then that many bytes of UTF-8.
pub(crate) fn read_string(r: &mut Reader<'_>, what: &'static str) -> Result<String, DataError> {
    let len = r.u8(what)?;
    let bytes = r.take(usize::from(len), what)?;
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| DataError::InvalidUtf8 { what })
}

/// Writes a String; fails if it is longer than 255 bytes.
pub(crate) fn write_string(
    out: &mut Vec<u8>,
    s: &str,
    what: &'static str,
) -> Result<(), DataError> {
    let len = u8::try_from(s.len()).map_err(|_| DataError::TooLarge {
        what,
        max: Mapping::MAX_STRING_LEN,
        actual: s.len(),
    })?;
    out.push(len);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Key/value options, as in RouterInfo and RouterAddress options.
///
/// Kept sorted by key, because mappings inside signed I2NP structures must be sorted so
/// the signature is invariant, and duplicate keys are not allowed there (spec: Mapping
/// notes). Rust's `str` order is Unicode code point order; Java's `String.compareTo` (the
/// order the spec names) compares UTF-16 units, which differs only between supplementary
/// characters and U+E000..U+FFFF, never for the ASCII options routers publish.
///
/// Invariants kept by [`Mapping::insert`]: keys and values are at most 255 bytes, and the
/// encoded body fits the 2-byte size field, so [`Mapping::emit`] cannot fail.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Mapping(BTreeMap<String, String>);

impl Mapping {
    /// Longest key or value, in bytes (1-byte String length).
    pub const MAX_STRING_LEN: usize = 255;
    /// Largest encoded body, in bytes (2-byte size field).
    pub const MAX_SIZE: usize = 65535;

    pub fn new() -> Mapping {
        Mapping(BTreeMap::new())
    }

    fn entry_len(key: &str, value: &str) -> usize {
        key.len() + value.len() + 4
    }

    /// Bytes of the body (without the 2-byte size).
    fn body_len(&self) -> usize {
        self.0.iter().map(|(k, v)| Self::entry_len(k, v)).sum()
    }

    /// Encoded length including the 2-byte size field.
    pub fn encoded_len(&self) -> usize {
        2 + self.body_len()
    }

    /// Sets `key` to `value`, replacing any previous value.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<(), DataError> {
        let (key, value) = (key.into(), value.into());
        for (what, s) in [("mapping: key", &key), ("mapping: value", &value)] {
            if s.len() > Self::MAX_STRING_LEN {
                return Err(DataError::TooLarge {
                    what,
                    max: Self::MAX_STRING_LEN,
                    actual: s.len(),
                });
            }
        }
        let old = self.0.get(&key).map_or(0, |v| Self::entry_len(&key, v));
        let new_len = self.body_len() - old + Self::entry_len(&key, &value);
        if new_len > Self::MAX_SIZE {
            return Err(DataError::TooLarge {
                what: "mapping",
                max: Self::MAX_SIZE,
                actual: new_len,
            });
        }
        self.0.insert(key, value);
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// Entries in key order (the order they are encoded in).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses exactly one Mapping filling `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Mapping, DataError> {
        let mut r = Reader::new(bytes);
        let mapping = Mapping::read(&mut r)?;
        r.finish("mapping")?;
        Ok(mapping)
    }

    /// Reads a 2-byte size, then `key=value;` entries filling exactly that many bytes.
    /// Unsorted input is accepted (the signed bytes are kept by the enclosing structure);
    /// duplicate keys are not, as they could not be represented.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Mapping, DataError> {
        let size = r.u16("mapping: size")?;
        let body = r.take(usize::from(size), "mapping: body")?;
        let mut inner = Reader::new(body);
        let mut map = BTreeMap::new();
        while inner.remaining() > 0 {
            let key = read_string(&mut inner, "mapping: key")?;
            if inner.u8("mapping: '='")? != b'=' {
                return Err(DataError::Invalid {
                    what: "mapping",
                    reason: "expected '=' after key",
                });
            }
            let value = read_string(&mut inner, "mapping: value")?;
            if inner.u8("mapping: ';'")? != b';' {
                return Err(DataError::Invalid {
                    what: "mapping",
                    reason: "expected ';' after value",
                });
            }
            if map.contains_key(&key) {
                return Err(DataError::DuplicateKey(key));
            }
            map.insert(key, value);
        }
        Ok(Mapping(map))
    }

    /// Appends the encoding (sorted by key).
    pub fn emit(&self, out: &mut Vec<u8>) {
        // The insert() invariant keeps the body within u16.
        let size = u16::try_from(self.body_len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&size.to_be_bytes());
        for (key, value) in &self.0 {
            // Lengths are at most 255 by the insert() invariant.
            out.push(key.len() as u8);
            out.extend_from_slice(key.as_bytes());
            out.push(b'=');
            out.push(value.len() as u8);
            out.extend_from_slice(value.as_bytes());
            out.push(b';');
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.emit(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::strategies::{arb_mapping, mutated};
    use proptest::prelude::*;

    #[test]
    fn known_encoding() {
        let mut m = Mapping::new();
        m.insert("netId", "2").expect("small");
        m.insert("caps", "XfR").expect("small");
        let bytes = m.to_bytes();
        let mut expected = vec![0, 21];
        expected.extend_from_slice(b"\x04caps=\x03XfR;\x05netId=\x012;");
        assert_eq!(bytes, expected);
        assert_eq!(Mapping::parse(&bytes), Ok(m.clone()));
        assert_eq!(m.get("caps"), Some("XfR"));
        assert_eq!(m.iter().next(), Some(("caps", "XfR")));
        assert_eq!(Mapping::parse(&[0, 0]), Ok(Mapping::new()));
    }

    #[test]
    fn rejects_bad_mappings() {
        // Duplicate key.
        let dup = b"\x00\x0c\x01a=\x01b;\x01a=\x01c;";
        assert_eq!(
            Mapping::parse(dup),
            Err(DataError::DuplicateKey("a".into()))
        );
        // Missing separators.
        assert!(Mapping::parse(b"\x00\x06\x01a:\x01b;").is_err());
        assert!(Mapping::parse(b"\x00\x06\x01a=\x01b,").is_err());
        assert!(Mapping::parse(b"\x00\x06\x01a=\x01b;").is_ok());
        // Size runs past the end; entry runs past the size.
        assert!(Mapping::parse(b"\x00\x07\x01a=\x01b;").is_err());
        assert!(Mapping::parse(b"\x00\x05\x01a=\x01b;").is_err());
        // Not UTF-8.
        assert!(Mapping::parse(b"\x00\x05\x01\xff=\x00;").is_err());
        assert!(Mapping::parse(b"\x00\x06\x01a=\x01\xff;").is_err());
        // Trailing bytes.
        assert!(Mapping::parse(b"\x00\x00\x00").is_err());
    }

    #[test]
    fn insert_enforces_limits() {
        let mut m = Mapping::new();
        assert!(m.insert("k".repeat(256), "v").is_err());
        assert!(m.insert("k", "v".repeat(256)).is_err());
        assert!(m.insert("k".repeat(255), "v".repeat(255)).is_ok());
        for i in 0..200 {
            if m.insert(format!("{i:0>255}"), "v".repeat(255)).is_err() {
                assert!(m.encoded_len() - 2 <= Mapping::MAX_SIZE);
                return;
            }
        }
        panic!("a mapping larger than 65535 bytes was accepted");
    }

    proptest! {
        #[test]
        fn round_trip(m in arb_mapping()) {
            let bytes = m.to_bytes();
            prop_assert_eq!(bytes.len(), m.encoded_len());
            prop_assert_eq!(Mapping::parse(&bytes)?, m);
        }

        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
            let _ = Mapping::parse(&bytes);
        }

        #[test]
        fn mutated_encodings_never_panic(bytes in arb_mapping().prop_flat_map(|m| mutated(m.to_bytes()))) {
            let _ = Mapping::parse(&bytes);
        }
    }
}
