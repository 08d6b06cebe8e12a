//! Two NTCP2 sessions to one peer, and which one stays.
//!
//! Two routers that dial each other at about the same time end with two sessions, and
//! so does a router that dials a peer whose own dial to it is still in its handshake (an
//! inbound session names its peer only at message 3). Both ends must keep the same one:
//! if each closed the session the other kept, both would be lost. So the rule rests only
//! on a fact both ends see alike, which router dialled: the session dialled by the
//! router with the larger hash stays. (Which session was established first is not such
//! a fact: each end sees its own dial complete half a round trip before the other end
//! does.) Among sessions dialled by the same router, as when a peer that restarted dials
//! again while its old session lingers here, the newest stays: the old one is likely
//! dead.
//!
//! The other session is not closed at once. Until the peer too has seen both sessions
//! established, it may still send on the one we dropped; both ends stop sending on it
//! once they have, and after [`GRACE`] it is closed with a Termination.

use super::conn::ConnId;
use crate::data::Hash;
use std::time::Duration;

/// How long a superseded session stays open for what the peer sent on it before it
/// also switched (a round trip or two; generous for slow links).
pub(super) const GRACE: Duration = Duration::from_secs(10);

/// An established session to the peer, as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Established {
    pub id: ConnId,
    /// The peer dialled it.
    pub inbound: bool,
}

/// The session to keep among the established sessions to `peer`; `None` if there are
/// none. Connection ids grow with each connection, so the larger is the newer.
pub(super) fn keep(
    me: &Hash,
    peer: &Hash,
    sessions: impl IntoIterator<Item = Established>,
) -> Option<ConnId> {
    let peer_is_larger = peer > me;
    let dialled_by_larger = |s: &Established| s.inbound == peer_is_larger;
    sessions
        .into_iter()
        .max_by_key(|s| (dialled_by_larger(s), s.id))
        .map(|s| s.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two routers, each with its own connection ids for the same two sessions: the
    /// one A dialled and the one B dialled.
    fn both_ends_keep(a: Hash, b: Hash, a_ids: [ConnId; 2], b_ids: [ConnId; 2]) -> (bool, bool) {
        // Index 0 is the session A dialled, 1 the one B dialled.
        let at_a = [
            Established {
                id: a_ids[0],
                inbound: false,
            },
            Established {
                id: a_ids[1],
                inbound: true,
            },
        ];
        let at_b = [
            Established {
                id: b_ids[0],
                inbound: true,
            },
            Established {
                id: b_ids[1],
                inbound: false,
            },
        ];
        let kept_at_a = keep(&a, &b, at_a).expect("one kept");
        let kept_at_b = keep(&b, &a, at_b).expect("one kept");
        (kept_at_a == a_ids[0], kept_at_b == b_ids[0])
    }

    #[test]
    fn both_ends_keep_the_session_the_larger_hash_dialled() {
        let (small, large) = (Hash::from([1; 32]), Hash::from([2; 32]));
        // Whatever order each end numbered its connections in.
        for a_ids in [[0, 1], [1, 0]] {
            for b_ids in [[5, 9], [9, 5]] {
                // A is the larger: both keep the session A dialled.
                assert_eq!(both_ends_keep(large, small, a_ids, b_ids), (true, true));
                // A is the smaller: both keep the one B dialled.
                assert_eq!(both_ends_keep(small, large, a_ids, b_ids), (false, false));
            }
        }
    }

    #[test]
    fn of_two_sessions_dialled_by_one_router_the_newest_stays() {
        let (me, peer) = (Hash::from([1; 32]), Hash::from([2; 32]));
        let inbound = |id| Established { id, inbound: true };
        assert_eq!(keep(&me, &peer, [inbound(3), inbound(7)]), Some(7));
        // A session the larger dialled beats a newer one the smaller dialled.
        let outbound = Established {
            id: 9,
            inbound: false,
        };
        assert_eq!(keep(&me, &peer, [inbound(3), outbound]), Some(3));
    }

    #[test]
    fn a_single_session_stays_and_none_keeps_none() {
        let (me, peer) = (Hash::from([2; 32]), Hash::from([1; 32]));
        let only = Established {
            id: 4,
            inbound: true,
        };
        assert_eq!(keep(&me, &peer, [only]), Some(4));
        assert_eq!(keep(&me, &peer, []), None);
    }
}
