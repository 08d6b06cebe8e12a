//! Router-to-router transports, sans-IO: each connection is a state machine the driver
//! feeds with bytes read and drains of bytes to write (the simulator models links
//! instead and does not run these).
//!
//! Only NTCP2 is implemented; SSU2 would sit beside it.

pub mod ntcp2;
