//! RouterInfo (spec: Common structures, RouterInfo).

use super::identity::KEY_AREA_LEN;
use super::reader::Reader;
use super::{DataError, Hash, Mapping, RouterAddress, RouterIdentity};
use std::fmt;
use std::sync::OnceLock;

/// What a router publishes in the netDb: identity, publication date, addresses, options,
/// and an Ed25519 signature over all of it.
///
/// Always verified: the only ways to obtain one are [`RouterInfo::parse`], which checks
/// the signature, and signing with the router's keys (`crypto::RouterKeys`). It keeps
/// the exact signed bytes, so it can be forwarded (flooded) without re-encoding, and is
/// immutable, so one parsed copy can be shared (`Arc`) by many routers in the simulator.
#[derive(Clone)]
pub struct RouterInfo {
    bytes: Box<[u8]>,
    identity: RouterIdentity,
    published_ms: u64,
    addresses: Vec<RouterAddress>,
    options: Mapping,
    /// Options the netDb reads on every store, parsed once.
    net_id: Option<u8>,
    floodfill: bool,
    /// "caps" has 'U': the router cannot be dialled (behind NAT or a firewall).
    unreachable: bool,
    /// The gzip'd bytes a DatabaseStore carries, compressed on first use: a RouterInfo is
    /// sent many times (lookup replies, floods), and building a compressor costs far
    /// more than the compression. The encoding is deterministic, so caching it changes
    /// no byte on the wire.
    gzipped: OnceLock<Box<[u8]>>,
}

impl RouterInfo {
    fn assemble(
        bytes: Box<[u8]>,
        identity: RouterIdentity,
        published_ms: u64,
        addresses: Vec<RouterAddress>,
        options: Mapping,
    ) -> RouterInfo {
        let net_id = options.get("netId").and_then(|v| v.parse().ok());
        let caps = options.get("caps").unwrap_or("");
        let (floodfill, unreachable) = (caps.contains('f'), caps.contains('U'));
        RouterInfo {
            bytes,
            identity,
            published_ms,
            addresses,
            options,
            net_id,
            floodfill,
            unreachable,
            gzipped: OnceLock::new(),
        }
    }

    /// Our bytes compressed by `compress`, computed once per RouterInfo. Every caller
    /// must pass the same (deterministic) compressor: the first result is kept.
    pub(crate) fn gzipped_with<E>(
        &self,
        compress: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
    ) -> Result<&[u8], E> {
        if let Some(bytes) = self.gzipped.get() {
            return Ok(bytes);
        }
        let bytes = compress(&self.bytes)?.into_boxed_slice();
        Ok(self.gzipped.get_or_init(|| bytes))
    }

    /// The router hash of the RouterInfo encoded in `bytes`: SHA-256 of the RouterIdentity
    /// they start with (384 bytes of keys, then the certificate: type, 2-byte length,
    /// payload). Nothing else is read or checked; `None` if the bytes are too short.
    pub fn identity_hash_of(bytes: &[u8]) -> Option<Hash> {
        let cert_len = bytes.get(KEY_AREA_LEN + 1..KEY_AREA_LEN + 3)?;
        let identity_len =
            KEY_AREA_LEN + 3 + usize::from(u16::from_be_bytes([cert_len[0], cert_len[1]]));
        Some(Hash::digest(bytes.get(..identity_len)?))
    }

    /// Parses exactly one RouterInfo filling `bytes` and verifies its signature.
    pub fn parse(bytes: &[u8]) -> Result<RouterInfo, DataError> {
        let mut r = Reader::new(bytes);
        let info = RouterInfo::read(&mut r)?;
        r.finish("router info")?;
        Ok(info)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<RouterInfo, DataError> {
        let start = r.position();
        let identity = RouterIdentity::read(r)?;
        let published_ms = r.u64("router info: published")?;
        let count = r.u8("router info: address count")?;
        let mut addresses = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            addresses.push(RouterAddress::read(r)?);
        }
        // peer_size and its hashes: unused (restricted routes were never implemented),
        // skipped but kept in the signed bytes.
        let peers = r.u8("router info: peer count")?;
        r.take(usize::from(peers) * 32, "router info: peer hashes")?;
        let options = Mapping::read(r)?;
        let signed = r.since(start);
        let signature = r.take(identity.signature_len(), "router info: signature")?;
        identity.verify(signed, signature)?;
        Ok(RouterInfo::assemble(
            r.since(start).into(),
            identity,
            published_ms,
            addresses,
            options,
        ))
    }

    /// The bytes a signature covers: everything but the signature.
    pub(crate) fn unsigned_bytes(
        identity: &RouterIdentity,
        published_ms: u64,
        addresses: &[RouterAddress],
        options: &Mapping,
    ) -> Result<Vec<u8>, DataError> {
        let count = u8::try_from(addresses.len()).map_err(|_| DataError::TooLarge {
            what: "router info: addresses",
            max: 255,
            actual: addresses.len(),
        })?;
        let mut out = Vec::with_capacity(
            identity.as_bytes().len()
                + 10
                + addresses
                    .iter()
                    .map(RouterAddress::encoded_len)
                    .sum::<usize>()
                + options.encoded_len()
                + identity.signature_len(),
        );
        out.extend_from_slice(identity.as_bytes());
        out.extend_from_slice(&published_ms.to_be_bytes());
        out.push(count);
        for address in addresses {
            address.emit(&mut out)?;
        }
        out.push(0); // peer_size, always 0
        options.emit(&mut out);
        Ok(out)
    }

    /// Builds a RouterInfo signed by `sign`, which must sign with the private key of
    /// `identity`. Crate-visible so that only `crypto::RouterKeys` (which owns the key)
    /// creates RouterInfos; the signature is re-checked in debug builds.
    pub(crate) fn sign_with(
        identity: RouterIdentity,
        published_ms: u64,
        addresses: Vec<RouterAddress>,
        options: Mapping,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<RouterInfo, DataError> {
        let mut bytes = Self::unsigned_bytes(&identity, published_ms, &addresses, &options)?;
        let signature = sign(&bytes);
        debug_assert!(
            identity.verify(&bytes, &signature).is_ok(),
            "signer does not match identity"
        );
        bytes.extend_from_slice(&signature);
        Ok(RouterInfo::assemble(
            bytes.into(),
            identity,
            published_ms,
            addresses,
            options,
        ))
    }

    /// The router's hash (SHA-256 of its identity), its netDb key. Cached.
    pub fn hash(&self) -> Hash {
        self.identity.hash()
    }

    pub fn identity(&self) -> &RouterIdentity {
        &self.identity
    }

    /// Milliseconds since the epoch; newer RouterInfos replace older ones in the netDb.
    pub fn published_ms(&self) -> u64 {
        self.published_ms
    }

    pub fn addresses(&self) -> &[RouterAddress] {
        &self.addresses
    }

    pub fn options(&self) -> &Mapping {
        &self.options
    }

    /// The "caps" option: bandwidth class letters plus flags ('f' floodfill, 'R'
    /// reachable, 'U' unreachable, 'H' hidden ...), or "" if absent.
    pub fn caps(&self) -> &str {
        self.options.get("caps").unwrap_or("")
    }

    /// Whether "caps" has the floodfill flag 'f'.
    pub fn is_floodfill(&self) -> bool {
        self.floodfill
    }

    /// Whether the router can be dialled: "caps" lacks the unreachable flag 'U'. A router
    /// behind NAT or a firewall publishes 'U' and is reached only over sessions it opened
    /// itself (real routers add SSU2 introducers, which we do not model).
    pub fn is_reachable(&self) -> bool {
        !self.unreachable
    }

    /// The "netId" option (2 is the main network); `None` if absent or not a number.
    pub fn net_id(&self) -> Option<u8> {
        self.net_id
    }

    /// The "router.version" option: the I2NP API version, which decides features.
    pub fn router_version(&self) -> Option<&str> {
        self.options.get("router.version")
    }

    /// The exact signed serialization (signature included).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The trailing Ed25519 signature.
    pub fn signature(&self) -> &[u8] {
        let len = self.bytes.len();
        self.bytes
            .get(len.saturating_sub(self.identity.signature_len())..)
            .unwrap_or(&[])
    }
}

/// Two RouterInfos are equal when their signed bytes are.
impl PartialEq for RouterInfo {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for RouterInfo {}

impl fmt::Debug for RouterInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouterInfo")
            .field("hash", &self.hash())
            .field("published_ms", &self.published_ms)
            .field("caps", &self.caps())
            .field("addresses", &self.addresses.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::strategies::{arb_router_info, mutated, sign_test_router_info};
    use proptest::prelude::*;

    fn sample() -> RouterInfo {
        let mut options = Mapping::new();
        options.insert("caps", "XfR").expect("small");
        options.insert("netId", "2").expect("small");
        options.insert("router.version", "0.9.65").expect("small");
        let mut addr = Mapping::new();
        addr.insert("host", "192.0.2.1").expect("small");
        addr.insert("port", "12345").expect("small");
        sign_test_router_info(
            3,
            1_700_000_000_000,
            vec![RouterAddress::new(10, "NTCP2", addr)],
            options,
        )
    }

    #[test]
    fn accessors() {
        let ri = sample();
        assert!(ri.is_floodfill());
        assert_eq!(ri.caps(), "XfR");
        assert_eq!(ri.net_id(), Some(2));
        assert_eq!(ri.router_version(), Some("0.9.65"));
        assert_eq!(ri.published_ms(), 1_700_000_000_000);
        assert_eq!(ri.hash(), Hash::digest(ri.identity().as_bytes()));
        assert_eq!(ri.signature().len(), 64);
        assert_eq!(RouterInfo::parse(ri.as_bytes()), Ok(ri));
    }

    #[test]
    fn tampering_fails_verification() {
        let ri = sample();
        let bytes = ri.as_bytes();
        // Flip one bit in the published date, inside an address, inside the options and in
        // the signature: each must be refused.
        for pos in [392, 420, bytes.len() - 70, bytes.len() - 1] {
            let mut tampered = bytes.to_vec();
            tampered[pos] ^= 0x01;
            assert!(
                RouterInfo::parse(&tampered).is_err(),
                "flip at {pos} accepted"
            );
        }
        let mut tampered = bytes.to_vec();
        tampered[392] ^= 0x01;
        assert_eq!(RouterInfo::parse(&tampered), Err(DataError::BadSignature));
    }

    #[test]
    fn truncated_and_trailing_are_errors() {
        let ri = sample();
        let bytes = ri.as_bytes();
        assert!(matches!(
            RouterInfo::parse(&bytes[..bytes.len() - 1]),
            Err(DataError::Truncated { .. })
        ));
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(matches!(
            RouterInfo::parse(&longer),
            Err(DataError::TrailingBytes { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn round_trip(ri in arb_router_info()) {
            let parsed = RouterInfo::parse(ri.as_bytes())?;
            prop_assert_eq!(parsed.hash(), ri.hash());
            prop_assert_eq!(parsed.published_ms(), ri.published_ms());
            prop_assert_eq!(parsed.addresses(), ri.addresses());
            prop_assert_eq!(parsed.options(), ri.options());
            prop_assert_eq!(parsed, ri);
        }

        #[test]
        fn mutated_encodings_never_panic(
            bytes in arb_router_info().prop_flat_map(|ri| mutated(ri.as_bytes().to_vec()))
        ) {
            let _ = RouterInfo::parse(&bytes);
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in any::<Vec<u8>>()) {
            let _ = RouterInfo::parse(&bytes);
        }
    }
}
