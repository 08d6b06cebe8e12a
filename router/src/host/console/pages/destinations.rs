//! `/destinations`: the destinations this router runs (the test destination, SAM
//! sessions, client and server tunnels), their b32 addresses and how far along they are.

use super::{escape, table};
use crate::host::status::Status;

pub(super) fn render(s: &Status) -> String {
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
    table(
        &["name", "address", "state", "tunnels"],
        &rows,
        "No local destinations: configure [[tunnel]] tables, connect a SAM client, or set \
         [client] test_destination.",
    )
}
