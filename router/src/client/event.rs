//! What destinations report, and why a request was refused.

use super::datagram::Datagram;
use super::streaming::{ManagerEvent, Ports};
use super::DestinationId;
use crate::data::{Hash, Lease2};
use crate::profile::PathError;
use crate::tunnel::{TunnelRequestId, TunnelStatus};
use std::time::Duration;

/// Why a message was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailure {
    /// The recipient's LeaseSet could not be found, or has no usable lease or key.
    NoLeaseSet,
    /// The sending destination has no outbound tunnel (yet).
    NoTunnel,
    /// The payload does not fit one garlic message.
    TooLarge,
    /// The recipient's encrypted LeaseSet was found, and it does not list us (or we
    /// gave no client key): only the destination can change that.
    NotAuthorised,
}

/// A message for a destination: application data, and the caller's reference for it
/// (given back in [`ClientEvent::SendFailed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub reference: u64,
    pub payload: Vec<u8>,
    /// Whether a DeliveryStatus clove asks the recipient's router to confirm it
    /// ([`ClientEvent::Delivered`]); unconfirmed messages also tell a broken path.
    pub confirm: bool,
}

/// What destinations report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A message for `destination` arrived that is neither a stream packet nor a
    /// datagram (see [`apps`](super::apps)).
    Received {
        destination: DestinationId,
        payload: Vec<u8>,
    },
    /// A datagram for `destination` arrived (verified, when its kind is signed), with
    /// the ports as the sender wrote them.
    Datagram {
        destination: DestinationId,
        /// The I2CP protocol it came with (raw datagrams may use any).
        protocol: u8,
        ports: Ports,
        /// Boxed: a signed datagram carries its sender's whole Destination.
        datagram: Box<Datagram>,
    },
    /// What `destination`'s streams report: incoming streams, data to read, room to
    /// write, closes, resets and timeouts.
    Stream {
        destination: DestinationId,
        event: ManagerEvent,
    },
    /// The message the caller sent with `reference` could not be sent.
    SendFailed {
        destination: DestinationId,
        to: Hash,
        reference: u64,
        reason: SendFailure,
    },
    /// The recipient's router confirmed the message sent with `reference`: the
    /// DeliveryStatus clove it carried came back through our inbound tunnel, `after` the
    /// send.
    Delivered {
        destination: DestinationId,
        to: Hash,
        reference: u64,
        after: Duration,
    },
    /// A new LeaseSet of `destination` went out to its floodfill, with `leases` leases
    /// (for a MetaLeaseSet: entries).
    LeaseSetPublished {
        destination: DestinationId,
        leases: usize,
    },
    /// The inbound tunnels of a balanced destination changed: these are the ones worth
    /// publishing now (the proposal's "Tunnel List").
    InboundTunnels {
        destination: DestinationId,
        leases: Vec<Lease2>,
    },
    /// The tunnel asked for as `request` ([`Clients::create_tunnel`]) was built or not
    /// (the proposal's "Tunnel Status"). A built inbound tunnel is also in the
    /// [`ClientEvent::InboundTunnels`] report that follows.
    TunnelStatus {
        destination: DestinationId,
        request: TunnelRequestId,
        status: TunnelStatus,
    },
}

/// Why [`Clients::publish_lease_set`] refused a LeaseSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("no such local destination")]
    UnknownDestination,
    #[error("the LeaseSet is not the destination's")]
    WrongDestination,
    #[error("the destination signs its own LeaseSets (it is not balanced)")]
    NotBalanced,
    #[error("the LeaseSet is not newer than the one published")]
    NotNewer,
}

/// Why [`Clients::create_tunnel`] refused to build a tunnel through named peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreateTunnelError {
    #[error("destinations need tunnels: this router was configured without them")]
    NoTunnels,
    #[error("no such local destination")]
    UnknownDestination,
    #[error("the destination is not balanced: its router chooses its peers")]
    NotBalanced,
    #[error("unusable path: {0}")]
    Path(#[from] PathError),
    /// A named peer's RouterInfo has an encryption key no build record can be made for.
    #[error("the build request could not be made")]
    Unbuildable,
}
