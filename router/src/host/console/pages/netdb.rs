//! `/netdb`: the routers and LeaseSets we hold, and how lookups went.

use super::{duration, escape, facts, short_hash, table};
use crate::host::status::{Status, MAX_ROWS};

pub(super) fn render(s: &Status) -> String {
    let n = &s.netdb;
    let summary = [
        (
            "routers",
            format!("{} ({} floodfills)", n.routers, n.floodfills),
        ),
        ("LeaseSets", n.lease_sets.to_string()),
        (
            "our lookups",
            format!("{} found, {} failed", n.lookups_succeeded, n.lookups_failed),
        ),
        (
            "received",
            format!(
                "{} lookups, {} stores",
                n.lookups_received, n.stores_received
            ),
        ),
    ];
    let rows: Vec<Vec<String>> = n
        .known
        .iter()
        .map(|r| {
            vec![
                short_hash(&r.hash),
                escape(&r.caps),
                if r.floodfill { "yes" } else { "" }.into(),
                escape(&r.version),
                escape(r.address.as_deref().unwrap_or("")),
                format!("{} ago", duration(r.published_secs_ago)),
            ]
        })
        .collect();
    let note = match n.routers > n.known.len() {
        true => format!("<p>The first {MAX_ROWS}: floodfills, then the newest.</p>"),
        false => String::new(),
    };
    format!(
        "{}<h2>Routers</h2>{note}{}",
        facts(&summary),
        table(
            &[
                "router",
                "caps",
                "floodfill",
                "version",
                "NTCP2 address",
                "published"
            ],
            &rows,
            "The netDb is empty."
        )
    )
}
