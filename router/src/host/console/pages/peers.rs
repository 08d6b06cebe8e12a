//! `/peers`: the routers we have an NTCP2 session with.

use super::{escape, short_hash, table};
use crate::host::status::Status;

pub(super) fn render(s: &Status) -> String {
    let p = &s.peers;
    let rows: Vec<Vec<String>> = p
        .details
        .iter()
        .map(|d| {
            vec![
                short_hash(&d.hash),
                if d.inbound { "in" } else { "out" }.into(),
                escape(d.address.as_deref().unwrap_or("")),
                escape(&d.caps),
                escape(&d.version),
            ]
        })
        .collect();
    format!(
        "<p>{} connected ({} dialled to us, {} dialled by us), {} still in their handshake.</p>{}",
        p.connected,
        p.inbound,
        p.outbound,
        p.connecting,
        table(
            &["router", "direction", "address", "caps", "version"],
            &rows,
            "No peers connected yet."
        )
    )
}
