//! `/destinations`: the destinations this router runs (the test destination, SAM
//! sessions, client and server tunnels), their b32 addresses and how far along they
//! are; then the configured tunnels, where they listen or forward, and their state.

use super::{escape, table};
use crate::host::status::Status;
use crate::host::tunnels::TunnelInfo;

pub(super) fn render(s: &Status, tunnels: &[TunnelInfo]) -> String {
    let rows: Vec<Vec<String>> = s
        .destinations
        .iter()
        .map(|d| {
            vec![
                escape(&d.name),
                format!("<code>{}</code>", escape(&d.b32)),
                escape(&d.state),
                format!("{} in / {} out", d.inbound_tunnels, d.outbound_tunnels),
            ]
        })
        .collect();
    let tunnel_rows: Vec<Vec<String>> = tunnels
        .iter()
        .map(|t| {
            // A tunnel's destination is running once the router lists it.
            let state = s
                .destinations
                .iter()
                .find(|d| d.b32 == t.b32)
                .map_or("starting", |d| d.state.as_str());
            vec![
                escape(&t.name),
                escape(&t.kind),
                escape(t.local.as_deref().unwrap_or("")),
                escape(t.target.as_deref().unwrap_or("")),
                format!("<code>{}</code>", escape(&t.b32)),
                escape(state),
            ]
        })
        .collect();
    format!(
        "{}<h2>Client and server tunnels</h2>{}",
        table(
            &["name", "address", "state", "tunnels"],
            &rows,
            "No local destinations: configure [[tunnel]] tables, connect a SAM client, or \
             set [client] test_destination.",
        ),
        table(
            &[
                "name",
                "type",
                "listens on",
                "forwards to",
                "destination",
                "state"
            ],
            &tunnel_rows,
            "No [[tunnel]] tables configured."
        )
    )
}
