//! `/`: is the router well — reachable or not and why, bandwidth over the last hour,
//! uptime, counts of everything — and the shutdown button.

use super::{bytes, duration, escape, facts};
use crate::host::status::Status;

pub(super) fn render(s: &Status, token: &str) -> String {
    let state = s.network.state.as_str();
    let reasons: String = s
        .network
        .reasons
        .iter()
        .map(|r| format!("<li>{}</li>", escape(r)))
        .collect();
    let b = &s.bandwidth;
    let t = &s.tunnels;
    let tunnels = match t.enabled {
        true => format!(
            "exploratory {} in / {} out; participating in {}; builds {} ok, {} failed",
            t.exploratory_inbound,
            t.exploratory_outbound,
            t.participating,
            t.builds_succeeded,
            t.builds_failed
        ),
        false => "off".into(),
    };
    let rows = [
        (
            "network",
            format!("<span class=\"badge {state}\">{state}</span><ul>{reasons}</ul>"),
        ),
        ("router", format!("<code>{}</code>", escape(&s.router))),
        ("version", escape(&s.version)),
        ("network id", s.net_id.to_string()),
        ("floodfill", if s.floodfill { "yes" } else { "no" }.into()),
        ("published address", escape(&s.published)),
        ("uptime", duration(s.uptime_secs)),
        (
            "peers",
            format!(
                "{} connected ({} in, {} out), {} connecting",
                s.peers.connected, s.peers.inbound, s.peers.outbound, s.peers.connecting
            ),
        ),
        (
            "netDb",
            format!(
                "{} routers ({} floodfills), {} LeaseSets",
                s.netdb.routers, s.netdb.floodfills, s.netdb.lease_sets
            ),
        ),
        ("tunnels", tunnels),
        ("destinations", s.destinations.len().to_string()),
        (
            "bandwidth",
            format!(
                "in {}/s, out {}/s (last 10 s); total in {}, out {}",
                bytes(b.in_bps),
                bytes(b.out_bps),
                bytes(b.total_in),
                bytes(b.total_out)
            ),
        ),
    ];
    format!(
        "{}<h2>Bandwidth, last hour</h2>\
         <img class=\"chart\" src=\"/chart/bandwidth.svg\" width=\"900\" height=\"280\" \
         alt=\"bandwidth in and out over the last hour\">\
         <h2>Shut down</h2><form method=\"post\" action=\"/shutdown\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <button class=\"danger\" type=\"submit\">Shut down gracefully</button> \
         closes every session and saves the netDb, as SIGTERM does.</form>",
        facts(&rows),
        escape(token)
    )
}
