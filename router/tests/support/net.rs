//! A minimal driver around the router's sans-IO contract, for tests (like quinn-proto's
//! test pair): messages take a fixed 10 ms, timers fire exactly when asked, and any router
//! can be made unreachable.

#![allow(dead_code)] // each test crate uses a different part

use ramsons_router::client::ClientEvent;
use ramsons_router::crypto::RouterKeys;
use ramsons_router::data::{Hash, RouterInfo};
use ramsons_router::i2np::{I2npMessage, MessageBody};
use ramsons_router::netdb::{NetDbEvent, Purpose};
use ramsons_router::time::Instant;
use ramsons_router::tunnel::TunnelEvent;
use ramsons_router::{Event, Output, Router, RouterConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

pub const LINK: Duration = Duration::from_millis(10);
/// Noon UTC, far from the midnight key rotation.
pub const NOON: u64 = 1_795_262_400; // 2026-11-21T12:00:00Z

pub struct Net {
    pub routers: Vec<Router>,
    pub now: Instant,
    seq: u64,
    pub queue: BTreeMap<(Instant, u64), (usize, usize, I2npMessage)>,
    timers: Vec<Instant>,
    pub down: BTreeSet<usize>,
    /// Whether a sender learns at once that a down router is unreachable, as a refused
    /// TCP connection tells a real transport (`Router::handle_unreachable`).
    pub refuse_down: bool,
    pub events: Vec<(Instant, usize, NetDbEvent)>,
    pub tunnel_events: Vec<(Instant, usize, TunnelEvent)>,
    pub client_events: Vec<(Instant, usize, ClientEvent)>,
    /// The I2NP type of the message inside every TunnelGateway sent: what inbound
    /// gateways get to see.
    pub gateway_payloads: Vec<u8>,
}

impl Net {
    /// `floodfills` floodfills followed by `routers` plain routers, nobody knowing anyone.
    pub fn new(floodfills: usize, routers: usize, seed: u64) -> Net {
        Net::with_config(floodfills, routers, seed, |_| RouterConfig::default())
    }

    /// Like [`Net::new`], with each router's configuration from `config(index)` (its
    /// `floodfill` flag is set from the index).
    pub fn with_config(
        floodfills: usize,
        routers: usize,
        seed: u64,
        config: impl Fn(usize) -> RouterConfig,
    ) -> Net {
        Net::starting_at(Instant::from_secs(NOON), floodfills, routers, seed, config)
    }

    /// Like [`Net::with_config`], with the clock starting at `now`.
    pub fn starting_at(
        now: Instant,
        floodfills: usize,
        routers: usize,
        seed: u64,
        config: impl Fn(usize) -> RouterConfig,
    ) -> Net {
        let routers: Vec<Router> = (0..floodfills + routers)
            .map(|i| {
                let mut rng = ChaCha20Rng::seed_from_u64(seed * 1000 + i as u64);
                let keys = RouterKeys::generate(&mut rng);
                let config = RouterConfig {
                    floodfill: i < floodfills,
                    ..config(i)
                };
                Router::new(config, keys, rng, now)
            })
            .collect();
        let n = routers.len();
        let mut net = Net {
            routers,
            now,
            seq: 0,
            queue: BTreeMap::new(),
            timers: vec![Instant::MAX; n],
            down: BTreeSet::new(),
            refuse_down: false,
            events: Vec::new(),
            tunnel_events: Vec::new(),
            client_events: Vec::new(),
            gateway_payloads: Vec::new(),
        };
        for i in 0..n {
            net.drain(i);
        }
        net
    }

    pub fn hash(&self, i: usize) -> Hash {
        self.routers[i].hash()
    }

    pub fn index(&self, hash: &Hash) -> Option<usize> {
        self.routers.iter().position(|r| r.hash() == *hash)
    }

    /// Router `i` learns the RouterInfos of `others`.
    pub fn introduce(&mut self, i: usize, others: impl IntoIterator<Item = usize>) {
        let infos: Vec<Arc<RouterInfo>> = others
            .into_iter()
            .filter(|j| *j != i)
            .map(|j| self.routers[j].router_info().clone())
            .collect();
        let now = self.now;
        self.routers[i].bootstrap(now, infos);
    }

    pub fn drain(&mut self, i: usize) {
        loop {
            match self.routers[i].poll_output() {
                Output::Send { to, msg } => {
                    if let MessageBody::TunnelGateway(gateway) = &msg.body {
                        if let Ok(inner) = I2npMessage::decode(&gateway.message) {
                            self.gateway_payloads.push(inner.body.type_id());
                        }
                    }
                    if let Some(j) = self.index(&to) {
                        self.seq += 1;
                        self.queue.insert((self.now + LINK, self.seq), (i, j, msg));
                    }
                }
                Output::Event(Event::NetDb(e)) => self.events.push((self.now, i, e)),
                Output::Event(Event::Tunnel(e)) => self.tunnel_events.push((self.now, i, e)),
                Output::Event(Event::Client(e)) => self.client_events.push((self.now, i, e)),
                Output::Event(_) => {}
                Output::Timeout(at) => {
                    self.timers[i] = at;
                    return;
                }
            }
        }
    }

    /// Runs every message and timer due up to `until`.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            let next_message = self.queue.keys().next().map(|(t, _)| *t);
            let (timer_at, timer_router) = self
                .timers
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, i))
                .min()
                .unwrap_or((Instant::MAX, 0));
            // A deadline already past is due now: time never goes back.
            let next = next_message
                .unwrap_or(Instant::MAX)
                .min(timer_at)
                .max(self.now);
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            if next_message.is_some_and(|t| t <= next) {
                let Some((_, (from, to, msg))) = self.queue.pop_first() else {
                    return;
                };
                if self.down.contains(&to) || self.down.contains(&from) {
                    if self.refuse_down && !self.down.contains(&from) {
                        let to_hash = self.hash(to);
                        self.routers[from].handle_unreachable(next, to_hash);
                        self.drain(from);
                    }
                    continue;
                }
                let from_hash = self.hash(from);
                self.routers[to].handle_message(next, from_hash, msg);
                self.drain(to);
            } else {
                self.timers[timer_router] = Instant::MAX;
                self.routers[timer_router].handle_timeout(next);
                self.drain(timer_router);
            }
        }
    }

    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    pub fn lookup(&mut self, i: usize, key: Hash) {
        let now = self.now;
        self.routers[i].lookup(now, key);
        self.drain(i);
    }

    pub fn client_lookups(&self, i: usize) -> Vec<(bool, u32, u32)> {
        self.events
            .iter()
            .filter(|(_, r, _)| *r == i)
            .filter_map(|(_, _, e)| match e {
                NetDbEvent::LookupFinished {
                    purpose: Purpose::Client,
                    found,
                    peers_queried,
                    timeouts,
                    ..
                } => Some((*found, *peers_queried, *timeouts)),
                _ => None,
            })
            .collect()
    }
}
