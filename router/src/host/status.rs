//! What the router task reports about itself: the [`Status`] snapshot the console
//! ([`super::console`]) renders as pages and JSON, and `/ping`, which sends one message
//! from the router's test destination and reports whether it was delivered.
//!
//! New fields carry `#[serde(default)]` so that a client reading an older router's JSON
//! (the testnet's `status`) still parses it.

use crate::data::Hash;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long `/ping` waits for the delivery confirmation.
const PING_TIMEOUT: Duration = Duration::from_secs(30);

/// A snapshot, refreshed about once a second by the router task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub router: String,
    pub version: String,
    pub net_id: u8,
    pub floodfill: bool,
    pub published: String,
    /// The test destination's hash (base64), when the router runs one.
    pub destination: Option<String>,
    pub uptime_secs: u64,
    pub peers: PeerStatus,
    pub netdb: NetDbStatus,
    pub tunnels: TunnelStatus,
    pub tiers: TierStatus,
    pub bandwidth: BandwidthStatus,
    /// Whether peers can reach us, and why we think so.
    #[serde(default)]
    pub network: NetworkStatus,
    /// Local destinations: the test destination, SAM sessions, client and server tunnels.
    #[serde(default)]
    pub destinations: Vec<DestinationStatus>,
}

/// Reachable, firewalled or not known yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reachability {
    Reachable,
    Firewalled,
    #[default]
    Unknown,
}

impl Reachability {
    pub fn as_str(self) -> &'static str {
        match self {
            Reachability::Reachable => "reachable",
            Reachability::Firewalled => "firewalled",
            Reachability::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkStatus {
    pub state: Reachability,
    /// Sentences a person reads: what the state rests on, what to check.
    pub reasons: Vec<String>,
}

/// One connected peer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerDetail {
    /// Base64 router hash.
    pub hash: String,
    /// It dialled us.
    pub inbound: bool,
    /// The address the session runs over (theirs for inbound, the dialled one otherwise).
    pub address: Option<String>,
    /// From its RouterInfo, when we hold it.
    pub caps: String,
    pub version: String,
}

/// One of our own tunnels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OwnTunnel {
    /// "exploratory" or "client N".
    pub pool: String,
    pub inbound: bool,
    /// Base64 hashes, gateway first for outbound tunnels, endpoint last for inbound ones.
    pub hops: Vec<String>,
    pub expires_in_secs: u64,
}

/// A tunnel of others we are a hop of.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransitTunnel {
    /// The tunnel id we receive on.
    pub tunnel_id: u32,
    /// "inbound gateway", "participant" or "outbound endpoint".
    pub role: String,
    pub expires_in_secs: u64,
}

/// A router of the netDb.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KnownRouter {
    pub hash: String,
    pub caps: String,
    pub version: String,
    pub address: Option<String>,
    pub floodfill: bool,
    pub published_secs_ago: u64,
}

/// A destination this router runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DestinationStatus {
    /// The tunnel's name, the SAM session's nickname, or "test destination".
    pub name: String,
    /// `<52 chars>.b32.i2p`.
    pub b32: String,
    /// "building tunnels", "publishing LeaseSet" or "ready".
    pub state: String,
    pub inbound_tunnels: usize,
    pub outbound_tunnels: usize,
}

/// Traffic over ten seconds, the unit of the console's chart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BandwidthSample {
    /// Seconds since the router started, at the end of the interval.
    pub uptime_secs: u64,
    pub in_bps: u64,
    pub out_bps: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerStatus {
    /// Established NTCP2 sessions.
    pub connected: usize,
    /// Sessions still in their handshake.
    pub connecting: usize,
    pub inbound: usize,
    pub outbound: usize,
    /// Established sessions' peers, base64 hashes, sorted.
    pub list: Vec<String>,
    /// The same peers with what we know of them, in the same order.
    #[serde(default)]
    pub details: Vec<PeerDetail>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetDbStatus {
    pub routers: usize,
    pub floodfills: usize,
    pub lease_sets: usize,
    pub lookups_succeeded: u64,
    pub lookups_failed: u64,
    /// Lookups and stores other routers sent us (floodfills see most).
    pub lookups_received: u64,
    pub stores_received: u64,
    /// Routers we hold, floodfills first, at most [`MAX_ROWS`].
    #[serde(default)]
    pub known: Vec<KnownRouter>,
}

/// Rows of a list in the snapshot, at most: a floodfill of the main network holds
/// thousands of RouterInfos, and the snapshot is rebuilt every second.
pub const MAX_ROWS: usize = 500;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TunnelStatus {
    pub enabled: bool,
    /// Our exploratory tunnels, built and not expired.
    pub exploratory_inbound: usize,
    pub exploratory_outbound: usize,
    /// Tunnels of others we are a hop of.
    pub participating: usize,
    pub builds_succeeded: u64,
    pub builds_failed: u64,
    /// What became of other routers' build requests: the first thing to read when
    /// their builds through us time out.
    #[serde(default)]
    pub requests: TransitRequests,
    /// Our tunnels, exploratory and client, by pool.
    #[serde(default)]
    pub own: Vec<OwnTunnel>,
    /// At most [`MAX_ROWS`], soonest to expire first.
    #[serde(default)]
    pub transit: Vec<TransitTunnel>,
}

/// Other routers' build requests, cumulative since start (the tunnel manager's
/// [`crate::tunnel::TunnelLoad`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitRequests {
    /// Records addressed to us that we decrypted (one X25519 each).
    pub decrypted: u64,
    /// Rejected (code 30): their previous hop over its limit, our accept rate, or full.
    pub rejected_per_hop: u64,
    pub rejected_rate: u64,
    pub rejected_full: u64,
    /// Dropped unread, without an answer: their previous hop over twice its limit.
    pub dropped_per_hop: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TierStatus {
    pub fast: usize,
    pub high_capacity: usize,
    pub not_failing: usize,
    pub failing: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BandwidthStatus {
    /// Bytes per second over the last ten seconds (one second is too short: a quiet
    /// second between bursts of traffic read 0).
    pub in_bps: u64,
    pub out_bps: u64,
    pub total_in: u64,
    pub total_out: u64,
    /// Ten-second samples over the last hour, oldest first.
    #[serde(default)]
    pub history: Vec<BandwidthSample>,
}

/// What `/ping` answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PingOutcome {
    /// The recipient's router confirmed the message (its DeliveryStatus came back).
    pub delivered: bool,
    /// From sending to the confirmation: a round trip through four tunnels.
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
}

impl PingOutcome {
    pub(super) fn failed(error: impl Into<String>) -> PingOutcome {
        PingOutcome {
            error: Some(error.into()),
            ..PingOutcome::default()
        }
    }
}

/// Sends pings from a running router's test destination: what `/ping` uses, for
/// programs and tests that hold the [`Host`](super::Host) rather than its status page.
#[derive(Debug, Clone)]
pub struct Pinger {
    pub(super) requests: mpsc::Sender<PingRequest>,
}

impl Pinger {
    pub(super) fn new(requests: mpsc::Sender<PingRequest>) -> Pinger {
        Pinger { requests }
    }

    /// Sends one message to destination `to` and waits (up to 30 s) for the
    /// recipient's router to confirm it.
    pub async fn ping(&self, to: Hash) -> PingOutcome {
        ping(&self.requests, Ok(to)).await
    }
}

/// A `/ping` for the router task.
#[derive(Debug)]
pub(super) struct PingRequest {
    pub to: Hash,
    pub reply: oneshot::Sender<PingOutcome>,
}

/// The `to` of a `/ping?to=...` query: an error when it is missing or not a hash.
pub(super) fn ping_target(query: Option<&str>) -> Result<Hash, String> {
    let to = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("to="));
    match to {
        Some(to) => Hash::from_base64(&percent_decode(to))
            .map_err(|e| format!("`to` is not a base64 destination hash: {e}")),
        None => Err("usage: /ping?to=<base64 destination hash>".into()),
    }
}

/// Undoes the URL escapes a client may apply to base64's `=` (and, rarely, `~`).
fn percent_decode(s: &str) -> String {
    s.replace("%3D", "=")
        .replace("%3d", "=")
        .replace("%7E", "~")
        .replace("%7e", "~")
}

pub(super) async fn ping(
    pings: &mpsc::Sender<PingRequest>,
    to: Result<Hash, String>,
) -> PingOutcome {
    let to = match to {
        Ok(to) => to,
        Err(e) => return PingOutcome::failed(e),
    };
    let (reply, outcome) = oneshot::channel();
    if pings.send(PingRequest { to, reply }).await.is_err() {
        return PingOutcome::failed("the router is shutting down");
    }
    match tokio::time::timeout(PING_TIMEOUT, outcome).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => PingOutcome::failed("the router is shutting down"),
        Err(_) => PingOutcome::failed(format!(
            "no delivery confirmation within {} s",
            PING_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_targets() {
        let hash = Hash::from([7; 32]);
        let query = format!("to={}", hash.to_base64());
        assert_eq!(ping_target(Some(&query)), Ok(hash));
        let escaped = query.replace('=', "%3D").replacen("to%3D", "to=", 1);
        assert_eq!(ping_target(Some(&escaped)), Ok(hash));
        assert!(ping_target(None).is_err());
        assert!(ping_target(Some("to=zz")).is_err());
    }

    /// A client reading an older router's JSON (without the console's fields) still
    /// gets a status.
    #[test]
    fn older_json_parses() {
        let mut json = serde_json::to_value(Status::default()).expect("json");
        let map = json.as_object_mut().expect("object");
        map.remove("network");
        map.remove("destinations");
        let back: Status = serde_json::from_value(json).expect("parses");
        assert_eq!(back, Status::default());
    }
}
