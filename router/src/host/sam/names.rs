//! Names: NAMING LOOKUP, DEST GENERATE, and what a STREAM CONNECT or datagram names.
//!
//! A name is `ME` (the socket's own session), a full base64 destination (parsed here),
//! a `.b32.i2p` address (a hash: connects and sends take it as it is, the router finds
//! the LeaseSet; a lookup asks the router for the full destination), or any other
//! `.i2p` name (the router's address book, through [`Backend::lookup`]).

use super::backend::{Backend, LookupError, LookupName, Target};
use super::command::SignatureType;
use super::keys;
use super::reply::{Failure, Reply, ResultCode};
use super::server::Bridge;
use super::session::{check_signature_type, Session};
use crate::data::{base32_decode, Destination, Hash};
use crate::host::Network;

/// What a name text is.
#[derive(Debug, PartialEq, Eq)]
enum Name {
    Me,
    Destination(Box<Destination>),
    Lookup(LookupName),
}

/// Base64 destinations are at least this long; shorter names are host names or nothing.
const MIN_DESTINATION_TEXT: usize = 516;

fn classify(text: &str) -> Result<Name, Failure> {
    let invalid = |why: String| Failure::new(ResultCode::InvalidKey, why);
    if text == "ME" {
        return Ok(Name::Me);
    }
    let lower = text.to_ascii_lowercase();
    if let Some(b32) = lower.strip_suffix(".b32.i2p") {
        // 52 characters are a hash; longer ones are b33 addresses, the router's business.
        if b32.len() == 52 {
            let bytes =
                base32_decode(b32).map_err(|_| invalid(format!("bad b32 address {text:?}")))?;
            let hash = Hash::from_slice(&bytes)
                .map_err(|_| invalid(format!("bad b32 address {text:?}")))?;
            return Ok(Name::Lookup(LookupName::Hash(hash)));
        }
        return Ok(Name::Lookup(LookupName::Host(lower)));
    }
    if lower.ends_with(".i2p") {
        return Ok(Name::Lookup(LookupName::Host(lower)));
    }
    if text.len() >= MIN_DESTINATION_TEXT {
        return keys::parse_destination(text)
            .map(|d| Name::Destination(Box::new(d)))
            .map_err(|e| invalid(e.to_string()));
    }
    Err(invalid(format!(
        "{text:?} is neither a destination nor an .i2p name"
    )))
}

/// Whom a STREAM CONNECT or a datagram goes to.
pub(crate) async fn resolve<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    session: Option<&B::Session>,
    text: &str,
) -> Result<Target, Failure> {
    match classify(text)? {
        Name::Destination(d) => Ok(Target::Destination(d)),
        Name::Lookup(LookupName::Hash(hash)) => Ok(Target::Hash(hash)),
        Name::Lookup(name) => match bridge.backend.lookup(session, name).await {
            Ok(d) => Ok(Target::Destination(Box::new(d))),
            Err(e) => Err(Failure::new(
                ResultCode::InvalidKey,
                format!("cannot resolve {text:?}: {e}"),
            )),
        },
        Name::Me => Err(Failure::new(ResultCode::InvalidKey, "ME is not a peer")),
    }
}

/// NAMING LOOKUP. `options`: OPTIONS=true, which changes only the not-found result (we
/// return no service records).
pub(crate) async fn lookup<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    session: Option<&Session<B>>,
    name: String,
    options: bool,
) -> Reply {
    let result = match classify(&name) {
        Ok(Name::Me) => session
            .map(|s| keys::public_base64(s.keys.destination()))
            .ok_or_else(|| Failure::new(ResultCode::KeyNotFound, "ME: no session on this socket")),
        Ok(Name::Destination(d)) => Ok(keys::public_base64(&d)),
        Ok(Name::Lookup(what)) => match bridge
            .backend
            .lookup(session.map(|s| &s.handle), what)
            .await
        {
            Ok(d) => Ok(keys::public_base64(&d)),
            Err(LookupError::NotFound) if options => {
                Err(Failure::bare(ResultCode::LeasesetNotFound))
            }
            Err(LookupError::NotFound) => Err(Failure::new(ResultCode::KeyNotFound, "not found")),
            Err(LookupError::Invalid(m)) => Err(Failure::new(ResultCode::InvalidKey, m)),
        },
        Err(failure) => Err(failure),
    };
    Reply::Naming { name, result }
}

/// DEST GENERATE: fresh Ed25519 keys (other signature types refused).
pub(crate) fn generate<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    signature_type: Option<SignatureType>,
) -> Reply {
    Reply::Dest(check_signature_type(signature_type).map(|()| {
        let keys = bridge.generate_keys();
        (
            keys::public_base64(keys.destination()),
            keys::private_base64(&keys),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DestinationKeys;
    use rand::SeedableRng;

    #[test]
    fn names_are_told_apart() {
        let keys = DestinationKeys::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
        let dest = keys.destination();
        assert_eq!(classify("ME"), Ok(Name::Me));
        assert_eq!(
            classify(&dest.to_base64()),
            Ok(Name::Destination(Box::new(dest.clone())))
        );
        assert_eq!(
            classify(&dest.to_b32_address().to_uppercase()),
            Ok(Name::Lookup(LookupName::Hash(dest.hash())))
        );
        assert_eq!(
            classify("Example.I2P"),
            Ok(Name::Lookup(LookupName::Host("example.i2p".into())))
        );
        for bad in [
            "me",
            "example.com",
            "",
            &"A".repeat(600),
            &format!("{}.b32.i2p", "1".repeat(52)),
        ] {
            assert_eq!(
                classify(bad).map_err(|f| f.result),
                Err(ResultCode::InvalidKey),
                "{bad}"
            );
        }
    }
}
