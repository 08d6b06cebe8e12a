//! `/tunnels`: our tunnels by pool, the tunnels of others we are a hop of, and the
//! peer tiers hops are picked from.

use super::{duration, escape, facts, short_hash, table};
use crate::host::status::Status;

pub(super) fn render(s: &Status) -> String {
    let t = &s.tunnels;
    if !t.enabled {
        return "<p class=\"empty\">Tunnels are off ([tunnels] enabled = false).</p>".into();
    }
    let own: Vec<Vec<String>> = t
        .own
        .iter()
        .map(|o| {
            let hops: Vec<String> = o.hops.iter().map(|h| short_hash(h)).collect();
            let path = match o.inbound {
                true => format!("{} → us", hops.join(" → ")),
                false => format!("us → {}", hops.join(" → ")),
            };
            vec![
                escape(&o.pool),
                if o.inbound { "inbound" } else { "outbound" }.into(),
                path,
                duration(o.expires_in_secs),
            ]
        })
        .collect();
    let transit: Vec<Vec<String>> = t
        .transit
        .iter()
        .map(|p| {
            vec![
                p.tunnel_id.to_string(),
                escape(&p.role),
                duration(p.expires_in_secs),
            ]
        })
        .collect();
    let tiers = &s.tiers;
    let summary = [
        (
            "builds",
            format!(
                "{} succeeded, {} failed",
                t.builds_succeeded, t.builds_failed
            ),
        ),
        (
            "tiers",
            format!(
                "fast {}, high capacity {}, not failing {}, failing {}",
                tiers.fast, tiers.high_capacity, tiers.not_failing, tiers.failing
            ),
        ),
    ];
    format!(
        "{}<h2>Our tunnels ({})</h2>{}<h2>Participating ({})</h2>{}",
        facts(&summary),
        t.own.len(),
        table(
            &["pool", "direction", "hops", "expires in"],
            &own,
            "No tunnels built yet."
        ),
        t.participating,
        table(
            &["tunnel id", "our role", "expires in"],
            &transit,
            "We are not a hop of any tunnel."
        )
    )
}
