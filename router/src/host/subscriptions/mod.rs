//! Address book subscriptions, fetched over I2P: a task that, when feeds are due,
//! brings up a destination of its own, fetches each due feed with hyper's client over
//! a stream ([`fetch`]) and hands what came to [`SharedBook::apply_fetch`].
//!
//! When a feed is due ([`Schedule`]):
//! - never before `[addressbook] first_fetch` after the start (then the destination
//!   still waits for its tunnels and its LeaseSet);
//! - `update_interval` after its last successful fetch (saved with the book, so a
//!   restart does not fetch everything again);
//! - `retry` after a fetch that failed on the way (no LeaseSet, a timeout, a broken
//!   answer, a 5xx);
//! - `update_interval` after one the feed itself refused (4xx, a body over
//!   `max_subscription_size`): asking sooner would fetch the same again.
//!
//! Why a destination of its own, created for each round and removed after it: the
//! feeds' servers learn nothing that links the fetches to the user's proxy or tunnels
//! (stream isolation, as each client tunnel has), and between rounds, usually 12 hours,
//! no tunnels are kept for it. Streams are opened the way the HTTP proxy opens them
//! ([`open_stream`]): the same name resolution, the same connect timeout.

pub mod fetch;

use crate::crypto::DestinationKeys;
use crate::host::addressbook::SharedBook;
use crate::host::apps::{RouterBackend, RouterSession};
use crate::host::config::AddressBookSection;
use crate::host::sam::backend::{Backend, SessionOptions};
use crate::host::tunnels::client::{open_stream, OpenError};
use crate::host::tunnels::names::{resolve, I2pHost};
use crate::host::Clock;
use crate::naming::{Fetched, Subscription};
use fetch::{FeedUrl, FetchError, Got};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::time::Duration;
use tracing::{info, warn};

/// One feed's stream and answer, at most: the stream itself may take 90 s to open, and
/// a feed of 10 MiB over a slow tunnel takes minutes. A server that trickles its
/// answer cannot hold the fetcher longer than this.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// When each subscription is due, in seconds since the UNIX epoch.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// No fetch before this (the start plus `first_fetch`).
    not_before: u64,
    interval: u64,
    retry: u64,
    /// When to try each feed again after a failure, until a success clears it.
    again: BTreeMap<String, u64>,
}

impl Schedule {
    pub fn new(config: &AddressBookSection, started_secs: u64) -> Schedule {
        Schedule {
            not_before: started_secs.saturating_add(config.first_fetch.0.as_secs()),
            interval: config.update_interval.0.as_secs(),
            retry: config.retry.0.as_secs(),
            again: BTreeMap::new(),
        }
    }

    /// When `subscription` is next due.
    pub fn next(&self, subscription: &Subscription) -> u64 {
        let regular = match subscription.fetched {
            0 => 0,
            at => at.saturating_add(self.interval),
        };
        let again = self.again.get(&subscription.url).copied().unwrap_or(0);
        regular.max(again).max(self.not_before)
    }

    /// A failure that trying again may mend (the network, a busy server): `retry` later.
    pub fn failed(&mut self, url: &str, now_secs: u64) {
        let at = now_secs.saturating_add(self.retry);
        self.again.insert(url.to_owned(), at);
    }

    /// A feed at fault (too large, not found): asking sooner than usual would only
    /// fetch the same again, so the whole interval.
    pub fn refused(&mut self, url: &str, now_secs: u64) {
        let at = now_secs.saturating_add(self.interval);
        self.again.insert(url.to_owned(), at);
    }

    pub fn succeeded(&mut self, url: &str) {
        self.again.remove(url);
    }
}

/// The subscription fetcher; [`Fetcher::run`] runs it.
#[derive(Debug)]
pub struct Fetcher {
    pub book: SharedBook,
    pub backend: RouterBackend,
    pub clock: Clock,
    pub config: AddressBookSection,
    /// For the keys of each round's destination.
    pub rng: ChaCha20Rng,
}

impl Fetcher {
    /// Fetches due feeds until the task is aborted (or there are none).
    pub async fn run(mut self) {
        let mut schedule = Schedule::new(&self.config, self.now());
        loop {
            let subscriptions = self.book.subscriptions();
            let Some(next) = subscriptions.iter().map(|s| schedule.next(s)).min() else {
                return;
            };
            let now = self.now();
            if next > now {
                // At most an hour at a time: the clock is read again after each sleep.
                tokio::time::sleep(Duration::from_secs((next - now).min(3600))).await;
                continue;
            }
            let due: Vec<Subscription> = subscriptions
                .into_iter()
                .filter(|s| schedule.next(s) <= now)
                .collect();
            self.round(&due, &mut schedule).await;
        }
    }

    fn now(&self) -> u64 {
        self.clock.now().as_secs()
    }

    /// Fetches `due` from a destination made for them, one feed after the other.
    async fn round(&mut self, due: &[Subscription], schedule: &mut Schedule) {
        // Feeds that cannot be fetched whatever the network does (a name the book
        // lacks, a clearnet host) fail here, without a destination made for nothing.
        let mut reachable = Vec::new();
        for subscription in due {
            match self.check(subscription).await {
                Ok(()) => reachable.push(subscription),
                Err(e) => {
                    warn!(url = %subscription.url, "address book: subscription not fetched: {e}");
                    schedule.failed(&subscription.url, self.now());
                }
            }
        }
        if reachable.is_empty() {
            return;
        }
        info!(
            feeds = reachable.len(),
            "address book: fetching subscriptions"
        );
        let keys = DestinationKeys::generate(&mut self.rng);
        let mut options = SessionOptions::default();
        options
            .options
            .insert("inbound.nickname".into(), "address book".into());
        // Waits for the destination's tunnels and LeaseSet, however long the router
        // takes to have them: there is nothing to fetch with before.
        let session = match self.backend.create_session(keys, options).await {
            Ok(created) => created.session,
            Err(e) => {
                warn!("address book: no destination to fetch subscriptions with: {e}");
                let now = self.now();
                reachable.iter().for_each(|s| schedule.failed(&s.url, now));
                return;
            }
        };
        for subscription in reachable {
            let fetched = self.fetch(&session, subscription).await;
            let now = self.now();
            match fetched {
                Ok(got) => match self.apply(&subscription.url, got, now).await {
                    true => schedule.succeeded(&subscription.url),
                    false => schedule.failed(&subscription.url, now),
                },
                Err(e) => {
                    warn!(url = %subscription.url, "address book: subscription not fetched: {e}");
                    match e.is_transient() {
                        true => schedule.failed(&subscription.url, now),
                        false => schedule.refused(&subscription.url, now),
                    }
                }
            }
        }
        self.backend.remove_session(&session).await;
    }

    /// Whether the feed's URL is one to fetch and its host resolves (through the
    /// address book for a name; a b32 address is looked up when connecting).
    async fn check(&self, subscription: &Subscription) -> Result<(), FetchError> {
        let url = FeedUrl::parse(&subscription.url)?;
        let host = I2pHost::classify(&url.host).map_err(OpenError::from)?;
        resolve(&self.backend, &host)
            .await
            .map_err(OpenError::from)?;
        Ok(())
    }

    /// One feed: its stream and its answer, within [`FETCH_TIMEOUT`].
    async fn fetch(
        &self,
        session: &RouterSession,
        subscription: &Subscription,
    ) -> Result<Got, FetchError> {
        let url = FeedUrl::parse(&subscription.url)?;
        let cap = self.config.max_subscription_size;
        let whole = async {
            let stream = open_stream(&self.backend, session, &url.host, url.port).await?;
            fetch::get(stream, &url, subscription, cap).await
        };
        tokio::time::timeout(FETCH_TIMEOUT, whole)
            .await
            .map_err(|_| FetchError::TimedOut(FETCH_TIMEOUT))?
    }

    /// Merges and saves what came (file I/O, so off the runtime's threads); whether
    /// it was taken.
    async fn apply(&self, url: &str, got: Got, now_secs: u64) -> bool {
        let (book, owned_url) = (self.book.clone(), url.to_owned());
        let merged = tokio::task::spawn_blocking(move || {
            let fetched = match &got {
                Got::NotModified => Fetched::NotModified,
                Got::Body {
                    bytes,
                    etag,
                    last_modified,
                } => Fetched::Body {
                    bytes,
                    etag: etag.clone(),
                    last_modified: last_modified.clone(),
                },
            };
            book.apply_fetch(&owned_url, fetched, now_secs)
        })
        .await;
        match merged {
            Ok(Ok(report)) => {
                info!(%url, added = report.added, "address book: subscription fetched");
                true
            }
            Ok(Err(e)) => {
                warn!(%url, "address book: subscription refused: {e}");
                false
            }
            Err(e) => {
                warn!(%url, "address book: merge failed: {e}");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Span;

    fn config(first: u64, interval: u64, retry: u64) -> AddressBookSection {
        AddressBookSection {
            first_fetch: Span(Duration::from_secs(first)),
            update_interval: Span(Duration::from_secs(interval)),
            retry: Span(Duration::from_secs(retry)),
            ..AddressBookSection::default()
        }
    }

    #[test]
    fn due_after_the_first_delay_the_interval_or_a_retry() {
        let mut schedule = Schedule::new(&config(300, 43_200, 1800), 1_000_000);
        let never = Subscription::new("http://a.i2p/hosts.txt");
        // Never fetched: as soon as the first delay has passed.
        assert_eq!(schedule.next(&never), 1_000_300);
        // Fetched long ago (saved state): also not before the first delay.
        let long_ago = Subscription {
            fetched: 10,
            ..never.clone()
        };
        assert_eq!(schedule.next(&long_ago), 1_000_300);
        // Fetched recently: the interval after that fetch.
        let recent = Subscription {
            fetched: 990_000,
            ..never.clone()
        };
        assert_eq!(schedule.next(&recent), 990_000 + 43_200);

        // A failure: the retry delay after it, until a success clears it.
        schedule.failed(&never.url, 1_000_400);
        assert_eq!(schedule.next(&never), 1_002_200);
        assert_eq!(schedule.next(&long_ago), 1_002_200);
        assert_eq!(schedule.next(&recent), 990_000 + 43_200, "other feeds");
        schedule.succeeded(&never.url);
        assert_eq!(schedule.next(&never), 1_000_300);
        let fetched = Subscription {
            fetched: 1_002_200,
            ..never
        };
        assert_eq!(schedule.next(&fetched), 1_002_200 + 43_200);

        // A feed at fault waits the whole interval, not the retry delay.
        schedule.refused(&fetched.url, 1_002_500);
        assert_eq!(schedule.next(&fetched), 1_002_500 + 43_200);
    }

    #[test]
    fn far_future_times_saturate() {
        let schedule = Schedule::new(&config(0, 3600, 60), u64::MAX - 10);
        let late = Subscription {
            fetched: u64::MAX - 5,
            ..Subscription::new("http://a.i2p/")
        };
        assert_eq!(schedule.next(&late), u64::MAX);
    }
}
