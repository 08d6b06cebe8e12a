//! What a client tunnel, the HTTP proxy and the SOCKS proxy connect to: a host as an
//! application names it, classified ([`I2pHost::classify`], pure, fuzzed) and then
//! resolved ([`resolve`]) through the address book or the netDb.

use crate::data::{base32_decode, Hash};
use crate::host::apps::RouterBackend;
use crate::host::sam::backend::{Backend, LookupError, LookupName, Target};
use crate::host::sam::keys;

/// A host, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum I2pHost {
    /// `name.i2p` (lowercased): the address book's.
    Name(String),
    /// `<52 characters>.b32.i2p`: a destination's hash, found through its LeaseSet.
    B32(Hash),
    /// `<56 or more characters>.b32.i2p`: an encrypted LeaseSet's address.
    B33(String),
    /// A full base64 destination (client tunnels' `destination`).
    Destination(Box<crate::data::Destination>),
    /// Anything else: a host on the internet, for an outproxy.
    Clearnet(String),
}

/// Base64 destinations are at least this long.
const MIN_DESTINATION_TEXT: usize = 516;

/// Why a host could not be classified or resolved; the proxies' error pages say these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{0:?} is not a valid host")]
    Invalid(String),
    #[error("{0} is not in the address book")]
    Unknown(String),
    #[error("{0} is an encrypted LeaseSet's address (b33), which this router cannot reach yet")]
    B33(String),
    #[error("{0} is not an I2P host, and no outproxy is configured")]
    Clearnet(String),
}

impl I2pHost {
    /// Classifies `text` (without a port). Never panics.
    pub fn classify(text: &str) -> Result<I2pHost, NameError> {
        let invalid = || NameError::Invalid(text.chars().take(80).collect());
        if text.is_empty() || text.len() > 4096 || text.contains(char::is_whitespace) {
            return Err(invalid());
        }
        let lower = text.to_ascii_lowercase();
        if let Some(label) = lower.strip_suffix(".b32.i2p") {
            if label.len() == 52 {
                let bytes = base32_decode(label).map_err(|_| invalid())?;
                return Hash::from_slice(&bytes)
                    .map(I2pHost::B32)
                    .map_err(|_| invalid());
            }
            if label.len() >= 56 && !label.contains('.') {
                return Ok(I2pHost::B33(lower));
            }
            return Err(invalid());
        }
        if lower.ends_with(".i2p") {
            return Ok(I2pHost::Name(lower));
        }
        if text.len() >= MIN_DESTINATION_TEXT {
            if let Ok(d) = keys::parse_destination(text) {
                return Ok(I2pHost::Destination(Box::new(d)));
            }
        }
        Ok(I2pHost::Clearnet(lower))
    }
}

/// Whom to connect to for `host`: a destination from the address book, or a hash the
/// router resolves when it connects (its LeaseSet lookup can then fail on its own:
/// [`crate::host::sam::backend::ConnectError::PeerNotFound`]).
pub async fn resolve(backend: &RouterBackend, host: &I2pHost) -> Result<Target, NameError> {
    match host {
        I2pHost::B32(hash) => Ok(Target::Hash(*hash)),
        I2pHost::Destination(d) => Ok(Target::Destination(d.clone())),
        I2pHost::B33(name) => Err(NameError::B33(name.clone())),
        I2pHost::Clearnet(name) => Err(NameError::Clearnet(name.clone())),
        I2pHost::Name(name) => match backend.lookup(None, LookupName::Host(name.clone())).await {
            Ok(d) => Ok(Target::Destination(Box::new(d))),
            Err(LookupError::NotFound) => Err(NameError::Unknown(name.clone())),
            Err(LookupError::Invalid(why)) => Err(NameError::Invalid(why)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hosts_are_told_apart() {
        let b32 = format!("{}.b32.i2p", "a".repeat(52));
        assert!(matches!(I2pHost::classify(&b32), Ok(I2pHost::B32(_))));
        assert!(matches!(
            I2pHost::classify(&b32.to_uppercase()),
            Ok(I2pHost::B32(_))
        ));
        let b33 = format!("{}.b32.i2p", "a".repeat(60));
        assert!(matches!(I2pHost::classify(&b33), Ok(I2pHost::B33(_))));
        assert_eq!(
            I2pHost::classify("Stats.I2P"),
            Ok(I2pHost::Name("stats.i2p".into()))
        );
        assert_eq!(
            I2pHost::classify("example.com"),
            Ok(I2pHost::Clearnet("example.com".into()))
        );
        assert!(I2pHost::classify("").is_err());
        assert!(I2pHost::classify("a b.i2p").is_err());
        assert!(I2pHost::classify(&format!("{}.b32.i2p", "a".repeat(40))).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = I2pHost::classify(&text);
        }
    }
}
