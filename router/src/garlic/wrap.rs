//! Garlic around a single I2NP message, in the two forms a router uses for its own
//! traffic: to another router's static key (a store or lookup it must not let the
//! outbound endpoint read), and under a one-time reply key and tag (the answer, which the
//! reply tunnel's gateway must not read). Either way the message travels as one clove
//! delivered locally to whoever opens the garlic.

use super::payload::{emit_payload, parse_payload_with, Block, Clove, CloveDelivery};
use super::router::{open_as_router, open_with_tag, seal_to_router, seal_with_tag, TAG_LEN};
use super::GarlicError;
use crate::crypto::SharedSecrets;
use crate::i2np::{Garlic, I2npMessage, KnownRouterInfos};
use crate::time::Instant;
use rand::{CryptoRng, RngCore};
use x25519_dalek::StaticSecret;

fn local_clove(msg: I2npMessage) -> Block {
    Block::Clove(Clove {
        delivery: CloveDelivery::Local,
        message: msg,
    })
}

/// `msg` for the router whose X25519 key is `router_key`. A DateTime block leads, as the
/// routers' specification asks of every message to a router.
pub fn for_router<R: RngCore + CryptoRng>(
    rng: &mut R,
    now: Instant,
    router_key: &[u8; 32],
    msg: I2npMessage,
    memo: Option<&SharedSecrets>,
) -> Result<Garlic, GarlicError> {
    let payload = emit_payload(&[Block::DateTime(now.as_secs() as u32), local_clove(msg)])?;
    Ok(Garlic {
        data: seal_to_router(rng, router_key, &payload, memo)?,
    })
}

/// `msg` as the reply the holder of `key` and `tag` is waiting for.
pub fn as_reply(
    key: &[u8; 32],
    tag: [u8; TAG_LEN],
    msg: I2npMessage,
) -> Result<Garlic, GarlicError> {
    let payload = emit_payload(&[local_clove(msg)])?;
    Ok(Garlic {
        data: seal_with_tag(key, tag, &payload),
    })
}

/// The messages of the locally delivered cloves in garlic sent to this router, whose key
/// pair is `secret` and `public`; RouterInfos it holds come from `known`.
pub fn open_for_router(
    secret: &StaticSecret,
    public: &[u8; 32],
    garlic: &Garlic,
    known: &dyn KnownRouterInfos,
    memo: Option<&SharedSecrets>,
) -> Result<Vec<I2npMessage>, GarlicError> {
    local_messages(&open_as_router(secret, public, &garlic.data, memo)?, known)
}

/// The messages of the locally delivered cloves in a reply under `key`; RouterInfos the
/// router holds come from `known`.
pub fn open_reply(
    key: &[u8; 32],
    garlic: &Garlic,
    known: &dyn KnownRouterInfos,
) -> Result<Vec<I2npMessage>, GarlicError> {
    local_messages(&open_with_tag(key, &garlic.data)?, known)
}

fn local_messages(
    payload: &[u8],
    known: &dyn KnownRouterInfos,
) -> Result<Vec<I2npMessage>, GarlicError> {
    Ok(parse_payload_with(payload, known)?
        .into_iter()
        .filter_map(|block| match block {
            Block::Clove(Clove {
                delivery: CloveDelivery::Local,
                message,
            }) => Some(message),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i2np::{DeliveryStatus, MessageBody};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use x25519_dalek::PublicKey;

    fn status() -> I2npMessage {
        I2npMessage {
            id: 7,
            expiration_ms: 1_700_000_060_000,
            body: MessageBody::DeliveryStatus(DeliveryStatus {
                msg_id: 9,
                timestamp_ms: 1_700_000_000_000,
            }),
        }
    }

    #[test]
    fn round_trips_and_wrong_keys() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let now = Instant::from_secs(1_700_000_000);
        let secret = StaticSecret::from([5u8; 32]);
        let public = PublicKey::from(&secret).to_bytes();
        let garlic = for_router(&mut rng, now, &public, status(), None).expect("seals");
        assert_eq!(
            open_for_router(&secret, &public, &garlic, &(), None),
            Ok(vec![status()])
        );
        let other = StaticSecret::from([6u8; 32]);
        assert_eq!(
            open_for_router(
                &other,
                &PublicKey::from(&other).to_bytes(),
                &garlic,
                &(),
                None
            ),
            Err(GarlicError::Undecryptable)
        );

        let reply = as_reply(&[1; 32], [2; TAG_LEN], status()).expect("seals");
        assert_eq!(open_reply(&[1; 32], &reply, &()), Ok(vec![status()]));
        assert_eq!(
            open_reply(&[3; 32], &reply, &()),
            Err(GarlicError::Undecryptable)
        );
    }
}
