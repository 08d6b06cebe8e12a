//! Tunnels: unidirectional paths of routers that carry I2NP messages in layered encryption.
//!
//! - [`data`]: the data plane. TunnelData messages of 1028 bytes, per-hop AES-256 layers,
//!   fragmentation and delivery instructions, reassembly, replay filtering, and the
//!   gateway, participant and endpoint roles.
//! - [`build`]: the control plane. ECIES-X25519 short build records, one message for the
//!   whole tunnel, accept or reject per hop, and the reply the creator reads.
//! - [`manager`]: our own exploratory tunnels (built, tested, rebuilt) and the tunnels we
//!   take part in for others.

pub mod build;
pub mod data;
pub mod direct;
pub mod manager;
pub mod pool;

pub use direct::{DirectPeers, SESSION_IDLE};
pub use manager::{
    BuildOutcome, BuildThroughError, TunnelAction, TunnelConfig, TunnelEvent, TunnelLoad,
    TunnelManager, TunnelRequestId, TunnelStatus,
};
pub use pool::{InboundLease, PoolConfig, PoolId};

/// Defined with the common structures (`data`); re-exported where tunnels are.
pub use crate::data::TunnelId;
