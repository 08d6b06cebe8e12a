//! Routers that cannot be dialled (behind NAT or a firewall) and the sessions they open.
//!
//! The simulator does not run NTCP2, so between two dialable routers a message simply
//! crosses the link. A router of a group with `dialable = false` publishes caps 'U' and
//! accepts no connection: a message to it crosses only over a session it opened itself,
//! by sending to that peer, and which carried something in either direction within the
//! last [`SESSION_IDLE`]. A session ends when either router goes down or comes back (its
//! state changes, and so its epoch). A message without such a session is a failed dial:
//! it is dropped, and the sender's router hears `handle_unreachable` after the connect
//! timeout the tokio driver uses; further dials of the same pair within the driver's
//! dial backoff are dropped without another notice, as the driver does.
//!
//! Real firewalled routers also publish SSU2 introducers, through which a peer without a
//! session reaches them after a hole punch; that path is not modelled (no SSU2 here), so
//! here they are reached only over their own sessions. Two routers that both cannot be
//! dialled never reach each other.

use ramsons_router::time::Instant;
use ramsons_router::tunnel::SESSION_IDLE;
use std::collections::HashMap;
use std::time::Duration;

/// How long a dial waits for an answer before it fails (the tokio driver's).
pub(super) const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// After a failed dial, further dials of the same peer within this fail without a new
/// notice (the tokio driver's backoff).
const DIAL_BACKOFF: Duration = Duration::from_secs(20);

/// One end of a session: a router and the epoch (life) it was in when the session
/// opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct End {
    pub index: u32,
    pub epoch: u32,
}

#[derive(Debug, Clone, Copy)]
struct Session {
    /// The epochs of the opener and the peer when it opened.
    epochs: (u32, u32),
    last: Instant,
}

/// What became of a message to a router that cannot be dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// It crosses the session the router opened.
    Carried,
    /// No session: the dial fails and the sender hears of it.
    Failed,
    /// No session, and the sender already heard of a failed dial lately.
    FailedAgain,
}

/// The sessions opened by routers that cannot be dialled.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    /// By (opener, peer).
    open: HashMap<(u32, u32), Session>,
    /// Failed dials by (dialler, peer): when the backoff ends.
    failed: HashMap<(u32, u32), Instant>,
    /// Entries at the last prune: the next one comes when they have doubled.
    pruned_len: usize,
    /// Messages carried to routers that cannot be dialled over their sessions.
    pub carried: u64,
}

impl Sessions {
    /// `opener` (which cannot be dialled) sends to `peer` at `now`: the session opens,
    /// or carries it if it is already up.
    pub fn send_out(&mut self, now: Instant, opener: End, peer: End) {
        let epochs = (opener.epoch, peer.epoch);
        let session = self
            .open
            .entry((opener.index, peer.index))
            .or_insert(Session { epochs, last: now });
        if session.epochs != epochs || session.last + SESSION_IDLE < now {
            *session = Session { epochs, last: now };
        }
        session.last = now;
        self.prune(now);
    }

    /// `from` sends to `to`, which cannot be dialled, at `now`.
    pub fn send_in(&mut self, now: Instant, from: End, to: End) -> Reach {
        let up = self
            .open
            .get_mut(&(to.index, from.index))
            .filter(|s| s.epochs == (to.epoch, from.epoch) && s.last + SESSION_IDLE >= now);
        if let Some(session) = up {
            session.last = now;
            self.carried += 1;
            return Reach::Carried;
        }
        let backoff = self.failed.entry((from.index, to.index)).or_insert(now);
        if *backoff > now {
            return Reach::FailedAgain;
        }
        *backoff = now + DIAL_BACKOFF;
        self.prune(now);
        Reach::Failed
    }

    /// Forgets closed sessions and ended backoffs once the tables have doubled.
    fn prune(&mut self, now: Instant) {
        let len = self.open.len() + self.failed.len();
        if len < 2 * self.pruned_len.max(1024) {
            return;
        }
        self.open.retain(|_, s| s.last + SESSION_IDLE >= now);
        self.failed.retain(|_, until| *until > now);
        self.pruned_len = self.open.len() + self.failed.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(index: u32, epoch: u32) -> End {
        End { index, epoch }
    }

    #[test]
    fn a_router_behind_nat_is_reached_only_over_a_session_it_opened() {
        let t0 = Instant::from_secs(100);
        let (nat, peer, other) = (end(0, 1), end(1, 1), end(2, 1));
        let mut s = Sessions::default();
        assert_eq!(s.send_in(t0, peer, nat), Reach::Failed, "no session yet");
        assert_eq!(s.send_in(t0, peer, nat), Reach::FailedAgain, "backoff");
        s.send_out(t0, nat, peer);
        assert_eq!(s.send_in(t0, peer, nat), Reach::Carried);
        assert_eq!(s.send_in(t0, other, nat), Reach::Failed, "only its peer");
        // Traffic in either direction keeps it up; idle, it closes.
        let t1 = t0 + SESSION_IDLE;
        assert_eq!(s.send_in(t1, peer, nat), Reach::Carried);
        let t2 = t1 + SESSION_IDLE + Duration::from_secs(1);
        assert_eq!(s.send_in(t2, peer, nat), Reach::Failed, "idle too long");
        assert_eq!(s.carried, 2);
    }

    #[test]
    fn a_restart_at_either_end_closes_the_session() {
        let t0 = Instant::from_secs(100);
        let mut s = Sessions::default();
        s.send_out(t0, end(0, 1), end(1, 1));
        assert_eq!(s.send_in(t0, end(1, 3), end(0, 1)), Reach::Failed);
        assert_ne!(s.send_in(t0, end(1, 1), end(0, 3)), Reach::Carried);
        s.send_out(t0, end(0, 3), end(1, 1));
        assert_eq!(s.send_in(t0, end(1, 1), end(0, 3)), Reach::Carried);
    }
}
