//! Client workloads, each a plug-in ([`crate::plugin`]): the random router lookups every
//! online router makes ([`lookups`]), the messages destinations send each other
//! ([`messages`]) and the page fetches over streams ([`streams`]).
//!
//! Lookups and messages draw from the world's shared generator
//! ([`crate::plugin::Cx::shared_rng`]), as they did when they were part of the world, so
//! that traces recorded then still hold; the stream workload has a stream of its own.

pub mod lookups;
pub mod messages;
pub mod streams;
