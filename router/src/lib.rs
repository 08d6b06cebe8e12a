//! The ramsons I2P router.
//!
//! A sans-IO core: it never touches a socket, a wall clock, a thread or the OS random
//! generator. Time comes in as [`time::Instant`], randomness from a per-router
//! `ChaCha20Rng`, messages through [`Router::handle_message`], and everything the router
//! wants done comes out of [`Router::poll_output`].
//!
//! Modules, lowest layer first: [`data`] (wire structures) -> [`crypto`] -> [`i2np`] ->
//! [`netdb`], [`profile`], [`tunnel`], [`garlic`] -> [`Router`] (composition); beside
//! them [`transport`] (NTCP2 connections, sans-IO, for the tokio driver) and [`limit`]
//! (the rate limits the netDb and the tunnels apply against floods). Beside the router
//! core, for the drivers: [`naming`] (the address book, hosts.txt and subscription
//! merges) and, with the `reseed` feature, `reseed` (su3 reseed bundles).

pub mod client;
pub mod crypto;
pub mod data;
pub mod garlic;
pub mod i2np;
pub mod limit;
pub mod naming;
pub mod netdb;
pub mod profile;
#[cfg(feature = "reseed")]
pub mod reseed;
pub mod time;
pub mod transport;
pub mod tunnel;
pub mod units;

#[cfg(feature = "host")]
pub mod host;

mod router;

pub use client::AppError;
pub use router::{ClientError, Event, Load, Output, Router, RouterConfig};
