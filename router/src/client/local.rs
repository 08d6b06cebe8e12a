//! A local destination's state: its keys, sessions, LeaseSet and the messages in flight.

use super::publish::Publication;
use super::streaming::StreamManager;
use super::Outgoing;
use crate::crypto::DestinationKeys;
use crate::data::{
    B33Address, ClientAuthorization, ClientKey, DataError, EncryptedLeaseSet, Hash, Lease2,
    LeaseSet2,
};
use crate::garlic::ratchet::RatchetEndpoint;
use crate::time::Instant;
use crate::tunnel::PoolId;
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// How a destination hides its LeaseSet from floodfills and from whoever lacks its
/// address (spec: Encrypted LeaseSet).
#[derive(Debug, Clone)]
pub struct LeaseSetEncryption {
    /// What clients need besides the address to find the LeaseSet; empty for none.
    pub secret: Vec<u8>,
    /// Who may read it.
    pub auth: ClientAuthorization,
}

/// A destination known by its b33 address: what a sender needs to find and read its
/// encrypted LeaseSet. `Debug` shows no key.
#[derive(Clone)]
pub struct HiddenDestination {
    pub address: B33Address,
    /// The secret the address requires; empty when it requires none.
    pub secret: Vec<u8>,
    /// Our key, when the destination authorises clients one by one.
    pub client_key: Option<ClientKey>,
}

impl fmt::Debug for HiddenDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HiddenDestination")
            .field("address", &self.address.to_string())
            .field("client_key", &self.client_key)
            .finish_non_exhaustive()
    }
}

/// A hidden destination's current LeaseSet, encrypted under one day's blinded key.
#[derive(Debug)]
pub(super) struct Encrypted {
    pub(super) lease_set: Arc<EncryptedLeaseSet>,
    /// The next UTC midnight, when the blinded key changes and with it the storage key
    /// clients look under: the same LeaseSet is encrypted and published again then.
    pub(super) renew_at: Instant,
}

/// A message waiting for its DeliveryStatus.
#[derive(Debug)]
pub(super) struct Unconfirmed {
    pub(super) to: Hash,
    /// The recipient's encryption key: its ratchet session is reset if this goes stale.
    pub(super) remote_key: [u8; 32],
    pub(super) reference: u64,
    pub(super) sent: Instant,
    /// Counted against the path already (see [`STALE_AFTER`]).
    pub(super) stale: bool,
}

#[derive(Debug)]
pub(super) struct Local {
    pub(super) keys: DestinationKeys,
    /// A balancer signs its LeaseSets; the router only builds tunnels and publishes.
    pub(super) balanced: bool,
    pub(super) pool: PoolId,
    pub(super) ratchet: RatchetEndpoint,
    pub(super) lease_set: Option<Arc<LeaseSet2>>,
    /// Set for a hidden destination: what it publishes instead of its LeaseSet2.
    pub(super) encryption: Option<LeaseSetEncryption>,
    /// The current LeaseSet encrypted, for a hidden destination.
    pub(super) encrypted: Option<Encrypted>,
    pub(super) publication: Option<Publication>,
    /// Peers our current LeaseSet was bundled to.
    pub(super) informed: BTreeSet<Hash>,
    /// Messages waiting for the recipient's LeaseSet.
    pub(super) waiting: BTreeMap<Hash, Vec<Outgoing>>,
    /// Messages sent, by the id of the DeliveryStatus that confirms them.
    pub(super) unconfirmed: BTreeMap<u32, Unconfirmed>,
    /// Recipients whose path went stale: their LeaseSet is looked up before the next
    /// message, even when we hold one.
    pub(super) stale: BTreeSet<Hash>,
    /// The lease each recipient is sent through, with `sticky_leases`.
    pub(super) routes: BTreeMap<Hash, Lease2>,
    /// Leases a stream found dead (see `Clients::suspect_path`), not drawn again
    /// while the recipient has others; dropped as they expire.
    pub(super) avoided: BTreeMap<Hash, Vec<Lease2>>,
    /// Its streams, once it streamed at all (see [`apps`](super::apps)).
    pub(super) streams: Option<StreamManager>,
}

impl Local {
    /// `ls` encrypted under today's blinded key for a hidden destination, `None` for
    /// another. Clients derive the storage key from their own date, so the encryption
    /// is renewed at midnight.
    pub(super) fn encrypt(
        &self,
        rng: &mut ChaCha20Rng,
        now: Instant,
        ls: &LeaseSet2,
    ) -> Result<Option<Encrypted>, DataError> {
        let Some(encryption) = &self.encryption else {
            return Ok(None);
        };
        let date = now.utc_date_string();
        let els =
            self.keys
                .encrypt_lease_set(rng, &date, &encryption.secret, ls, &encryption.auth)?;
        Ok(Some(Encrypted {
            lease_set: Arc::new(els),
            renew_at: now.next_utc_midnight(),
        }))
    }
}
