//! Publishing our own RouterInfo: store at the closest floodfill, wait for its
//! DeliveryStatus, then verify the store through a *different* floodfill a little later.
//! Verifying elsewhere checks that the flood worked, not just that one floodfill took it.

use super::lookup::{LookupId, Peers, Purpose};
use super::{routing, NetDb, NetDbEvent};
use crate::data::{Hash, RouterInfo};
use crate::i2np::{DatabaseStore, DeliveryStatus, LookupKind, MessageBody, StoreEntry, StoreReply};
use crate::time::Instant;
use rand::Rng;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Why a publication did not end verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishFailure {
    /// We know no usable floodfill (left) to store at.
    NoFloodfill,
    /// The last floodfill tried never acknowledged the store.
    NoAck,
    /// The verifying floodfill did not return our RouterInfo (or an older one).
    NotVerified,
}

#[derive(Debug)]
enum Stage {
    /// Not stored anywhere yet.
    Starting,
    AwaitingAck {
        floodfill: Hash,
        token: NonZeroU32,
        deadline: Instant,
    },
    VerifyAt {
        stored_at: Hash,
        at: Instant,
    },
    Verifying {
        lookup: LookupId,
    },
}

/// One publication in progress.
#[derive(Debug)]
pub(super) struct Publication {
    info: Arc<RouterInfo>,
    /// Floodfills stored at so far, in order.
    tried: Vec<Hash>,
    stage: Stage,
}

impl Publication {
    /// When this publication's own timer fires; a verifying lookup has its own.
    pub fn deadline(&self) -> Instant {
        match self.stage {
            Stage::AwaitingAck { deadline, .. } => deadline,
            Stage::VerifyAt { at, .. } => at,
            Stage::Starting | Stage::Verifying { .. } => Instant::MAX,
        }
    }
}

impl NetDb {
    /// Publishes `info` (our freshly signed RouterInfo).
    pub fn publish(&mut self, now: Instant, info: Arc<RouterInfo>) {
        let publication = Publication {
            info,
            tried: Vec::new(),
            stage: Stage::Starting,
        };
        self.store_at_next(now, publication);
    }

    /// Stores at the closest usable floodfill not tried yet, or ends the publication.
    fn store_at_next(&mut self, now: Instant, mut publication: Publication) {
        if publication.tried.len() >= self.config.publish_attempts {
            let failure = match publication.stage {
                Stage::Verifying { .. } => PublishFailure::NotVerified,
                _ => PublishFailure::NoAck,
            };
            return self.end_publication(now, &publication, Some(failure));
        }
        let routing_key = routing::routing_key(&self.me, now);
        let mut exclude = publication.tried.clone();
        exclude.push(self.me);
        let Some(floodfill) = self.store.next_floodfill(&routing_key, &exclude, now) else {
            let failure = if publication.tried.is_empty() {
                PublishFailure::NoFloodfill
            } else {
                PublishFailure::NoAck
            };
            return self.end_publication(now, &publication, Some(failure));
        };
        let token = NonZeroU32::new(self.rng.gen_range(1..=u32::MAX)).unwrap_or(NonZeroU32::MIN);
        let body = MessageBody::DatabaseStore(DatabaseStore {
            key: self.me,
            reply: Some(StoreReply {
                token,
                tunnel_id: 0,
                gateway: self.me,
            }),
            entry: StoreEntry::RouterInfo(publication.info.clone()),
        });
        self.send(floodfill, body);
        publication.tried.push(floodfill);
        publication.stage = Stage::AwaitingAck {
            floodfill,
            token,
            deadline: now + self.config.store_ack_timeout,
        };
        self.publication = Some(publication);
    }

    fn end_publication(
        &mut self,
        now: Instant,
        publication: &Publication,
        failure: Option<PublishFailure>,
    ) {
        let wait = match failure {
            None => self
                .config
                .republish_interval
                .mul_f64(self.rng.gen_range(0.9..1.1)),
            Some(_) => self.config.publish_retry,
        };
        self.next_publish = now + wait;
        self.publication = None;
        self.emit(NetDbEvent::PublishFinished {
            failure,
            attempts: publication.tried.len() as u32,
        });
    }

    pub(super) fn handle_delivery_status(&mut self, now: Instant, status: DeliveryStatus) {
        let Some(publication) = &mut self.publication else {
            return;
        };
        let Stage::AwaitingAck {
            floodfill, token, ..
        } = publication.stage
        else {
            return;
        };
        if status.msg_id != token.get() {
            return;
        }
        publication.stage = Stage::VerifyAt {
            stored_at: floodfill,
            at: now + self.config.verify_delay,
        };
        self.store.note_success(&floodfill);
    }

    /// Runs the publication's timer. Starting a publication needs a freshly signed
    /// RouterInfo, so the router does that (see `publish_due`).
    pub(super) fn publication_timeout(&mut self, now: Instant) {
        let Some(publication) = self.publication.take() else {
            return;
        };
        if publication.deadline() > now {
            self.publication = Some(publication);
            return;
        }
        match publication.stage {
            Stage::AwaitingAck { floodfill, .. } => {
                self.store.note_failure(&floodfill, now);
                self.store_at_next(now, publication);
            }
            Stage::VerifyAt { stored_at, .. } => self.start_verify(now, publication, stored_at),
            Stage::Starting | Stage::Verifying { .. } => self.publication = Some(publication),
        }
    }

    /// Asks the closest floodfill other than the one we stored at for our RouterInfo.
    fn start_verify(&mut self, now: Instant, mut publication: Publication, stored_at: Hash) {
        let routing_key = routing::routing_key(&self.me, now);
        let verifier = self
            .store
            .next_floodfill(&routing_key, &[self.me, stored_at], now);
        let Some(verifier) = verifier else {
            // No second floodfill to ask: the acknowledgement is all we can have.
            return self.end_publication(now, &publication, None);
        };
        // A fixed-peer lookup always sends its one query first, so it cannot finish
        // (and call back into `verify_finished`) before we record its id.
        let lookup = self.start_lookup(
            now,
            self.me,
            LookupKind::RouterInfo,
            Purpose::Verify,
            Peers::Fixed(verifier),
        );
        publication.stage = Stage::Verifying { lookup };
        self.publication = Some(publication);
    }

    /// The verifying lookup ended with `found`.
    pub(super) fn verify_finished(
        &mut self,
        now: Instant,
        id: LookupId,
        found: Option<Arc<RouterInfo>>,
    ) {
        let Some(publication) = self.publication.take() else {
            return;
        };
        if !matches!(publication.stage, Stage::Verifying { lookup } if lookup == id) {
            self.publication = Some(publication);
            return;
        }
        let verified =
            found.is_some_and(|info| info.published_ms() >= publication.info.published_ms());
        if verified {
            self.end_publication(now, &publication, None);
        } else {
            // Store again elsewhere: the next closest floodfill not tried yet.
            self.store_at_next(now, publication);
        }
    }
}
