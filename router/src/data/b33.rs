//! The "b33" address of a destination that publishes encrypted LeaseSets
//! (spec: "B32 for Encrypted Leasesets", proposal 149).
//!
//! A plain `.b32.i2p` name is the destination's hash, from which nobody can derive the
//! blinded key an encrypted LeaseSet is stored under. A b33 name instead carries the
//! destination's signing public key and both signature types, plus two flags telling the
//! client what else it needs (a secret, a per-client key). It keeps the `.b32.i2p` suffix
//! and is told apart by length: 56 characters before the suffix instead of 52.

use super::base::{base32_decode, base32_encode};
use std::fmt;
use std::str::FromStr;

/// The suffix both b32 and b33 names end with.
const SUFFIX: &str = ".b32.i2p";
/// Flags (spec: Creation and encoding). Bit 0 set means two-byte sig types.
const FLAG_TWO_BYTE_SIG_TYPES: u8 = 0x01;
const FLAG_SECRET_REQUIRED: u8 = 0x02;
const FLAG_PER_CLIENT_AUTH: u8 = 0x04;
const KNOWN_FLAGS: u8 = FLAG_TWO_BYTE_SIG_TYPES | FLAG_SECRET_REQUIRED | FLAG_PER_CLIENT_AUTH;
/// Flags and two one-byte sig types, all three masked by the checksum.
const HEADER_LEN: usize = 3;
/// Ed25519 and RedDSA public keys are both 32 bytes.
const PUBLIC_KEY_LEN: usize = 32;
/// The shortest b33 address in bytes: header and a 32-byte key (56 base32 characters).
const MIN_LEN: usize = HEADER_LEN + PUBLIC_KEY_LEN;
/// The highest signature type registered with I2P that a b33 name may carry (RedDSA).
/// An unmasked sig type above it cannot come from any encoder: the checksum failed.
const HIGHEST_SIG_TYPE: u16 = 11;

/// The signature types a destination's signing key may have for its LeaseSets to be
/// blinded (spec: Encrypted LeaseSet, Key Blinding, Goals: "Ed25519 (sig type 7) or
/// RedDSA (sig type 11); no other sig types are supported").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlindableSigType {
    /// EdDSA_SHA512_Ed25519, the signing key of every ramsons destination.
    Ed25519,
    /// RedDSA_SHA512_Ed25519, recommended for new destinations that will be blinded.
    RedDsa,
}

impl BlindableSigType {
    /// The type of every blinded key: RedDSA_SHA512_Ed25519 (spec: "stA'... 0x000b").
    pub const BLINDED: u16 = 11;

    /// The wire code.
    pub fn code(self) -> u16 {
        match self {
            BlindableSigType::Ed25519 => 7,
            BlindableSigType::RedDsa => 11,
        }
    }

    /// The type for a wire code, if keys of that type can be blinded.
    pub fn from_code(code: u16) -> Option<BlindableSigType> {
        match code {
            7 => Some(BlindableSigType::Ed25519),
            11 => Some(BlindableSigType::RedDsa),
            _ => None,
        }
    }
}

/// Why a name is not a b33 address we can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum B33Error {
    #[error("b33 address: does not end in {SUFFIX}")]
    MissingSuffix,
    #[error("b33 address: not valid base32")]
    BadBase32,
    /// Fewer than 35 bytes; a 52-character name is a plain b32 address (a hash).
    #[error("b33 address: too short ({0} bytes, at least {MIN_LEN})")]
    TooShort(usize),
    /// The checksum, XORed into the header, did not unmask a header any encoder writes:
    /// almost always a mistyped character.
    #[error("b33 address: bad checksum")]
    BadChecksum,
    #[error("b33 address: unknown flags {0:#04x}")]
    UnknownFlags(u8),
    #[error("b33 address: unsupported signature type {0} (only 7 and 11 can be blinded)")]
    UnsupportedSigType(u16),
    #[error("b33 address: unsupported blinded signature type {0} (only 11)")]
    UnsupportedBlindedSigType(u16),
    #[error("b33 address: {actual} bytes, a key of this type needs {expected}")]
    WrongLength { expected: usize, actual: usize },
    #[error("b33 address: public key is not a point on Ed25519")]
    InvalidKey,
}

/// A b33 address: what a client needs to find and decrypt a destination's encrypted
/// LeaseSet, apart from the secret and per-client key the flags may ask for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct B33Address {
    public_key: [u8; 32],
    sig_type: BlindableSigType,
    secret_required: bool,
    per_client_auth: bool,
}

impl B33Address {
    /// The address of a destination whose signing public key is `public_key`. The blinded
    /// sig type is always [`BlindableSigType::BLINDED`]: RedDSA is the only blinding scheme
    /// for the two blindable types.
    ///
    /// Fails if `public_key` is not an Ed25519 point, which no encoder should publish.
    pub fn new(
        public_key: [u8; 32],
        sig_type: BlindableSigType,
        secret_required: bool,
        per_client_auth: bool,
    ) -> Result<B33Address, B33Error> {
        ed25519_dalek::VerifyingKey::from_bytes(&public_key).map_err(|_| B33Error::InvalidKey)?;
        Ok(B33Address {
            public_key,
            sig_type,
            secret_required,
            per_client_auth,
        })
    }

    /// The destination's (unblinded) signing public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public_key
    }

    pub fn sig_type(&self) -> BlindableSigType {
        self.sig_type
    }

    /// Whether the blinding needs a secret shared out of band (flag bit 1).
    pub fn secret_required(&self) -> bool {
        self.secret_required
    }

    /// Whether decryption needs a per-client DH or PSK key (flag bit 2).
    pub fn per_client_auth(&self) -> bool {
        self.per_client_auth
    }

    /// The binary form (spec: Creation and encoding): flags, one-byte sig types (both
    /// types fit, and the spec says two-byte ones need not be written), the public key,
    /// and then the little-endian CRC-32 of everything after the header XORed into the
    /// header's three bytes.
    pub fn to_bytes(&self) -> [u8; MIN_LEN] {
        let mut flags = 0;
        if self.secret_required {
            flags |= FLAG_SECRET_REQUIRED;
        }
        if self.per_client_auth {
            flags |= FLAG_PER_CLIENT_AUTH;
        }
        let mut out = [0u8; MIN_LEN];
        // Both codes are at most 11, so the narrowing keeps them whole.
        out[..HEADER_LEN].copy_from_slice(&[
            flags,
            self.sig_type.code() as u8,
            BlindableSigType::BLINDED as u8,
        ]);
        out[HEADER_LEN..].copy_from_slice(&self.public_key);
        mask_header(&mut out);
        out
    }

    /// Reads the binary form (spec: Decoding and Verification).
    ///
    /// The spec has no checksum field: the CRC-32 masks the header, so a corrupted address
    /// unmasks a random header. We call that a bad checksum when a sig type comes out as a
    /// number no registered signature type has; a header that unmasks to registered types
    /// but undefined flags or types we cannot blind gets the more specific error.
    pub fn from_bytes(data: &[u8]) -> Result<B33Address, B33Error> {
        if data.len() < MIN_LEN {
            return Err(B33Error::TooShort(data.len()));
        }
        let mut data = data.to_vec();
        mask_header(&mut data);
        let flags = data[0];
        let (sig_type, blinded_sig_type, key_at) = if flags & FLAG_TWO_BYTE_SIG_TYPES == 0 {
            (u16::from(data[1]), u16::from(data[2]), HEADER_LEN)
        } else {
            // The second type sits after the masked header, in the checksummed part.
            let two = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
            (two(1), two(3), HEADER_LEN + 2)
        };
        if sig_type > HIGHEST_SIG_TYPE || blinded_sig_type > HIGHEST_SIG_TYPE {
            return Err(B33Error::BadChecksum);
        }
        if flags & !KNOWN_FLAGS != 0 {
            return Err(B33Error::UnknownFlags(flags));
        }
        let sig_type =
            BlindableSigType::from_code(sig_type).ok_or(B33Error::UnsupportedSigType(sig_type))?;
        if blinded_sig_type != BlindableSigType::BLINDED {
            return Err(B33Error::UnsupportedBlindedSigType(blinded_sig_type));
        }
        let public_key = <[u8; PUBLIC_KEY_LEN]>::try_from(&data[key_at..]).map_err(|_| {
            B33Error::WrongLength {
                expected: key_at + PUBLIC_KEY_LEN,
                actual: data.len(),
            }
        })?;
        B33Address::new(
            public_key,
            sig_type,
            flags & FLAG_SECRET_REQUIRED != 0,
            flags & FLAG_PER_CLIENT_AUTH != 0,
        )
    }

    /// Parses a `….b32.i2p` host name (either case) of b33 length.
    pub fn parse(host: &str) -> Result<B33Address, B33Error> {
        let split = host
            .len()
            .checked_sub(SUFFIX.len())
            .filter(|&at| host.is_char_boundary(at))
            .ok_or(B33Error::MissingSuffix)?;
        let (name, suffix) = host.split_at(split);
        if !suffix.eq_ignore_ascii_case(SUFFIX) {
            return Err(B33Error::MissingSuffix);
        }
        // The base32 decoder also rejects set bits past the last byte, which the spec
        // requires to be zero.
        let data = base32_decode(name).map_err(|_| B33Error::BadBase32)?;
        B33Address::from_bytes(&data)
    }
}

/// XORs the little-endian CRC-32 of `data[3..]` into `data[0..3]`; its own inverse,
/// because the masked bytes are not covered by the checksum.
fn mask_header(data: &mut [u8]) {
    let checksum = crc32fast::hash(&data[HEADER_LEN..]).to_le_bytes();
    for (byte, mask) in data[..HEADER_LEN].iter_mut().zip(checksum) {
        *byte ^= mask;
    }
}

/// The host name: lowercase base32 without padding, then `.b32.i2p`.
impl fmt::Display for B33Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{SUFFIX}", base32_encode(&self.to_bytes()))
    }
}

impl FromStr for B33Address {
    type Err = B33Error;

    fn from_str(host: &str) -> Result<B33Address, B33Error> {
        B33Address::parse(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The Ed25519 base point: a valid public key with known bytes.
    const BASE_POINT: [u8; 32] = {
        let mut key = [0x66; 32];
        key[0] = 0x58;
        key
    };

    fn address(secret: bool, auth: bool) -> B33Address {
        B33Address::new(BASE_POINT, BlindableSigType::Ed25519, secret, auth).expect("valid key")
    }

    /// Builds the binary form from an unmasked header and tail, the way an encoder would.
    fn encode_raw(header: &[u8], rest: &[u8]) -> Vec<u8> {
        let mut data = [header, rest].concat();
        mask_header(&mut data);
        data
    }

    fn host(data: &[u8]) -> String {
        format!("{}{SUFFIX}", base32_encode(data))
    }

    #[test]
    fn encodes_56_characters_with_the_b32_suffix() {
        let text = address(false, false).to_string();
        assert_eq!(text.len(), 56 + SUFFIX.len());
        assert!(text.ends_with(".b32.i2p"));
        assert_eq!(text, text.to_lowercase());
    }

    #[test]
    fn header_is_masked_by_the_crc_of_the_key() {
        let bytes = address(true, false).to_bytes();
        let crc = crc32fast::hash(&BASE_POINT).to_le_bytes();
        assert_eq!(bytes[0], FLAG_SECRET_REQUIRED ^ crc[0]);
        assert_eq!(bytes[1], 7 ^ crc[1]);
        assert_eq!(bytes[2], 11 ^ crc[2]);
        assert_eq!(&bytes[3..], &BASE_POINT);
    }

    #[test]
    fn round_trips_every_flag_combination() {
        for (secret, auth) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = address(secret, auth);
            let parsed: B33Address = a.to_string().parse().expect("own encoding parses");
            assert_eq!(parsed, a);
            assert_eq!(
                (parsed.secret_required(), parsed.per_client_auth()),
                (secret, auth)
            );
            let upper = a.to_string().to_uppercase();
            assert_eq!(B33Address::parse(&upper), Ok(a));
        }
    }

    #[test]
    fn reads_the_two_byte_sig_type_form() {
        let data = encode_raw(&[FLAG_TWO_BYTE_SIG_TYPES, 0, 11, 0, 11], &BASE_POINT);
        let parsed = B33Address::parse(&host(&data)).expect("two-byte form");
        assert_eq!(parsed.sig_type(), BlindableSigType::RedDsa);
        assert_eq!(parsed.public_key(), &BASE_POINT);
    }

    #[test]
    fn rejects_a_missing_suffix() {
        let text = address(false, false).to_string();
        let name = text.trim_end_matches(SUFFIX);
        assert_eq!(B33Address::parse(name), Err(B33Error::MissingSuffix));
        assert_eq!(
            B33Address::parse(&format!("{name}.i2p")),
            Err(B33Error::MissingSuffix)
        );
        assert_eq!(B33Address::parse(""), Err(B33Error::MissingSuffix));
        assert_eq!(B33Address::parse("éé.b32.i2"), Err(B33Error::MissingSuffix));
    }

    #[test]
    fn rejects_bad_base32() {
        // '1' is not in the base32 alphabet.
        let good = address(false, false).to_string();
        let text = format!("1{}", &good[1..]);
        assert_eq!(B33Address::parse(&text), Err(B33Error::BadBase32));
        // 37 bytes leave 4 unused bits, which must be zero.
        let two_byte = encode_raw(&[FLAG_TWO_BYTE_SIG_TYPES, 0, 7, 0, 11], &BASE_POINT);
        let mut name = base32_encode(&two_byte);
        let last = name.pop().expect("not empty");
        assert_eq!(last, 'a', "unused bits are zero");
        name.push('b');
        assert_eq!(
            B33Address::parse(&format!("{name}{SUFFIX}")),
            Err(B33Error::BadBase32)
        );
    }

    #[test]
    fn rejects_a_plain_b32_address_as_too_short() {
        let b32 = host(&[0x42; 32]);
        assert_eq!(b32.len(), 52 + SUFFIX.len());
        assert_eq!(B33Address::parse(&b32), Err(B33Error::TooShort(32)));
        assert_eq!(B33Address::from_bytes(&[]), Err(B33Error::TooShort(0)));
    }

    #[test]
    fn a_mistyped_key_character_is_a_bad_checksum() {
        let good = address(false, false).to_string();
        // Change a character inside the key part.
        let mut chars: Vec<char> = good.chars().collect();
        chars[30] = if chars[30] == 'q' { 'r' } else { 'q' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(B33Address::parse(&typo), Err(B33Error::BadChecksum));
    }

    #[test]
    fn rejects_unknown_flags() {
        let data = encode_raw(&[0x08, 7, 11], &BASE_POINT);
        assert_eq!(
            B33Address::parse(&host(&data)),
            Err(B33Error::UnknownFlags(0x08))
        );
    }

    #[test]
    fn rejects_sig_types_that_cannot_be_blinded() {
        let dsa = encode_raw(&[0, 0, 11], &BASE_POINT);
        assert_eq!(
            B33Address::parse(&host(&dsa)),
            Err(B33Error::UnsupportedSigType(0))
        );
        let ed25519_blinded = encode_raw(&[0, 7, 7], &BASE_POINT);
        assert_eq!(
            B33Address::parse(&host(&ed25519_blinded)),
            Err(B33Error::UnsupportedBlindedSigType(7))
        );
    }

    #[test]
    fn rejects_a_key_of_the_wrong_length() {
        let long = encode_raw(&[0, 7, 11], &[BASE_POINT.as_slice(), &[0]].concat());
        assert_eq!(
            B33Address::parse(&host(&long)),
            Err(B33Error::WrongLength {
                expected: 35,
                actual: 36
            })
        );
        let short = encode_raw(&[FLAG_TWO_BYTE_SIG_TYPES, 0, 7, 0, 11], &BASE_POINT[..30]);
        assert_eq!(
            B33Address::from_bytes(&short),
            Err(B33Error::WrongLength {
                expected: 37,
                actual: 35
            })
        );
    }

    #[test]
    fn rejects_a_key_off_the_curve() {
        // y = 2 has no x on Ed25519.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        let data = encode_raw(&[0, 7, 11], &off_curve);
        assert_eq!(B33Address::parse(&host(&data)), Err(B33Error::InvalidKey));
        assert_eq!(
            B33Address::new(off_curve, BlindableSigType::Ed25519, false, false),
            Err(B33Error::InvalidKey)
        );
    }

    proptest! {
        #[test]
        fn round_trip(seed in any::<[u8; 32]>(), red in any::<bool>(), secret in any::<bool>(), auth in any::<bool>()) {
            let key = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            let sig_type = if red { BlindableSigType::RedDsa } else { BlindableSigType::Ed25519 };
            let a = B33Address::new(key, sig_type, secret, auth)?;
            prop_assert_eq!(B33Address::parse(&a.to_string())?, a.clone());
            prop_assert_eq!(B33Address::from_bytes(&a.to_bytes())?, a);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,80}") {
            let _ = B33Address::parse(&text);
        }

        #[test]
        fn from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            if let Ok(a) = B33Address::from_bytes(&bytes) {
                prop_assert_eq!(B33Address::from_bytes(&a.to_bytes())?, a);
            }
        }
    }
}
