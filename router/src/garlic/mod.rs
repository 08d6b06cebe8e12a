//! Garlic encryption: end-to-end messages between destinations.

pub mod ratchet;
