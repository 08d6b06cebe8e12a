//! RouterAddress (spec: Common structures, RouterAddress).

use super::mapping::{read_string, write_string};
use super::reader::Reader;
use super::{DataError, Mapping};

/// One way to reach a router: a transport ("NTCP2", "SSU2") and its options (host,
/// port, static key "s", IV "i", ...).
///
/// `expiration_ms` is an unused Date that routers must set to zero; a non-zero value is
/// kept as read (older Java routers dropped it, failing the RouterInfo signature).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouterAddress {
    /// 0 (free) to 255 (expensive); typically 5-6 for SSU and 10-11 for NTCP.
    pub cost: u8,
    pub expiration_ms: u64,
    /// At most 255 bytes (a String).
    pub transport: String,
    pub options: Mapping,
}

impl RouterAddress {
    /// An address that never expires, as the spec requires routers to publish.
    pub fn new(cost: u8, transport: impl Into<String>, options: Mapping) -> RouterAddress {
        RouterAddress {
            cost,
            expiration_ms: 0,
            transport: transport.into(),
            options,
        }
    }

    /// Parses exactly one RouterAddress filling `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<RouterAddress, DataError> {
        let mut r = Reader::new(bytes);
        let address = RouterAddress::read(&mut r)?;
        r.finish("router address")?;
        Ok(address)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<RouterAddress, DataError> {
        Ok(RouterAddress {
            cost: r.u8("router address: cost")?,
            expiration_ms: r.u64("router address: expiration")?,
            transport: read_string(r, "router address: transport")?,
            options: Mapping::read(r)?,
        })
    }

    /// Appends the encoding; fails if the transport name exceeds 255 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), DataError> {
        out.push(self.cost);
        out.extend_from_slice(&self.expiration_ms.to_be_bytes());
        write_string(out, &self.transport, "router address: transport")?;
        self.options.emit(out);
        Ok(())
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, DataError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.emit(&mut out)?;
        Ok(out)
    }

    pub fn encoded_len(&self) -> usize {
        1 + 8 + 1 + self.transport.len() + self.options.encoded_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::strategies::{arb_address, mutated};
    use proptest::prelude::*;

    #[test]
    fn known_encoding() {
        let mut options = Mapping::new();
        options.insert("port", "1").expect("small");
        let a = RouterAddress::new(10, "NTCP2", options);
        let bytes = a.to_bytes().expect("short transport");
        let mut expected = vec![10, 0, 0, 0, 0, 0, 0, 0, 0, 5];
        expected.extend_from_slice(b"NTCP2");
        expected.extend_from_slice(b"\x00\x09\x04port=\x011;");
        assert_eq!(bytes, expected);
        assert_eq!(RouterAddress::parse(&bytes), Ok(a));
    }

    #[test]
    fn long_transport_is_an_error() {
        let a = RouterAddress::new(10, "x".repeat(256), Mapping::new());
        assert!(a.to_bytes().is_err());
    }

    proptest! {
        #[test]
        fn round_trip(a in arb_address()) {
            let bytes = a.to_bytes()?;
            prop_assert_eq!(bytes.len(), a.encoded_len());
            prop_assert_eq!(RouterAddress::parse(&bytes)?, a);
        }

        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
            let _ = RouterAddress::parse(&bytes);
        }

        #[test]
        fn mutated_encodings_never_panic(
            bytes in arb_address().prop_flat_map(|a| mutated(a.to_bytes().unwrap_or_default()))
        ) {
            let _ = RouterAddress::parse(&bytes);
        }
    }
}
