//! Whether peers can reach us: reachable, firewalled or unknown, with the reasons a
//! person can act on. NTCP2 alone gives no peer test, so the evidence is who dialled
//! whom: a peer that connected to us proves our published address works; many
//! sessions we dialled and none dialled to us, for long enough, suggest it does not.

use crate::host::status::{NetworkStatus, Reachability};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How long without an inbound session, with enough outbound ones, before we call the
/// router firewalled: peers dial us only when they need us (a tunnel, a lookup).
pub const FIREWALLED_AFTER: Duration = Duration::from_secs(10 * 60);
/// Sessions we dialled before silence from others means something.
pub const MIN_OUTBOUND: u64 = 3;

/// What the router task knows.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    pub uptime: Duration,
    pub published: SocketAddr,
    /// Sessions established since start, by who dialled.
    pub inbound_total: u64,
    pub outbound_total: u64,
    pub inbound_now: usize,
}

pub fn assess(e: &Evidence) -> NetworkStatus {
    let mut reasons = Vec::new();
    let state = if e.inbound_total > 0 {
        let sessions = match e.inbound_total {
            1 => "1 session was".to_string(),
            n => format!("{n} sessions were"),
        };
        reasons.push(format!(
            "{sessions} dialled to us since start ({} open now): peers reach {}",
            e.inbound_now, e.published
        ));
        Reachability::Reachable
    } else if e.uptime >= FIREWALLED_AFTER && e.outbound_total >= MIN_OUTBOUND {
        reasons.push(format!(
            "no peer has connected to us in {} min, though we connected to {} peers",
            e.uptime.as_secs() / 60,
            e.outbound_total
        ));
        reasons.push(format!(
            "check that TCP {} is open from outside (firewall, port forwarding), or set \
             `publish` to the address peers can dial",
            e.published
        ));
        Reachability::Firewalled
    } else {
        reasons.push(format!(
            "no peer has connected to us yet (up {} s, {} sessions dialled by us); peers \
             dial a router when they need it, which takes a few minutes",
            e.uptime.as_secs(),
            e.outbound_total
        ));
        Reachability::Unknown
    };
    if let Some(scope) = private_scope(e.published.ip()) {
        reasons.push(format!(
            "our published address {} is {scope}: only routers there can reach us",
            e.published.ip()
        ));
    }
    NetworkStatus { state, reasons }
}

fn private_scope(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() => Some("loopback (this machine)"),
        IpAddr::V4(v4) if v4.is_private() || v4.is_link_local() => {
            Some("a private network address")
        }
        // 198.18.0.0/15: benchmarking networks (our docker testnets use it).
        IpAddr::V4(v4) if v4.octets()[0] == 198 && v4.octets()[1] & 0xfe == 18 => {
            Some("a test network address")
        }
        IpAddr::V6(v6) if v6.is_loopback() => Some("loopback (this machine)"),
        IpAddr::V6(v6) if (v6.segments()[0] & 0xfe00) == 0xfc00 => {
            Some("a private network address")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(inbound: u64, outbound: u64, mins: u64, addr: &str) -> Evidence {
        Evidence {
            uptime: Duration::from_secs(mins * 60),
            published: addr.parse().expect("addr"),
            inbound_total: inbound,
            outbound_total: outbound,
            inbound_now: inbound as usize,
        }
    }

    #[test]
    fn states_and_reasons() {
        let r = assess(&evidence(2, 5, 1, "203.0.113.5:12345"));
        assert_eq!(r.state, Reachability::Reachable);
        assert_eq!(r.reasons.len(), 1);

        let f = assess(&evidence(0, 12, 30, "203.0.113.5:12345"));
        assert_eq!(f.state, Reachability::Firewalled);
        assert!(f.reasons[1].contains("port forwarding"), "{:?}", f.reasons);

        assert_eq!(
            assess(&evidence(0, 12, 3, "203.0.113.5:12345")).state,
            Reachability::Unknown
        );
        assert_eq!(
            assess(&evidence(0, 1, 60, "203.0.113.5:12345")).state,
            Reachability::Unknown
        );

        let lo = assess(&evidence(1, 1, 1, "127.0.0.1:12345"));
        assert!(lo.reasons[1].contains("loopback"), "{:?}", lo.reasons);
        let lan = assess(&evidence(0, 0, 0, "192.168.1.2:1"));
        assert!(lan.reasons[1].contains("private"), "{:?}", lan.reasons);
    }
}
