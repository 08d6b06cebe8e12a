//! An in-memory [`Backend`]: destinations in one process reach each other directly.
//!
//! A stream is a `tokio::io::duplex` pair, one end returned by `connect`, the other
//! delivered to the peer's inbound channel; a datagram is handed to the peer's inbound
//! channel as it was sent (with the sender filled in as its kind says). Host names come
//! from [`MockBackend::add_host`]; b32 names resolve to the running destinations. Tests
//! can make connects fail ([`MockBackend::fail_connects_to`]) and kill a destination as
//! the router would ([`MockBackend::kill`]). It is the bridge's test double, and what
//! `examples/sam_mock.rs` serves to try real SAM clients against.

use super::backend::{
    Backend, BackendError, ConnectError, Created, Inbound, IncomingStream, LookupError, LookupName,
    OutgoingDatagram, PortPair, ReceivedDatagram, Sender, SessionOptions, Target,
};
use crate::crypto::DestinationKeys;
use crate::data::{Destination, Hash};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::DuplexStream;
use tokio::sync::mpsc;

/// Bytes a mock stream buffers each way.
const STREAM_BUFFER: usize = 64 * 1024;
/// Inbound items queued per destination.
const INBOUND_QUEUE: usize = 64;

#[derive(Debug, Clone, Default)]
pub struct MockBackend {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    running: BTreeMap<Hash, Running>,
    hosts: BTreeMap<String, Destination>,
    failures: BTreeMap<Hash, ConnectError>,
    /// Options of every session created, in order, for tests to look at.
    created: Vec<(Hash, SessionOptions)>,
}

#[derive(Debug)]
struct Running {
    destination: Destination,
    inbound: mpsc::Sender<Inbound<DuplexStream>>,
}

/// The mock's handle on a destination.
#[derive(Debug, Clone)]
pub struct MockSession {
    destination: Destination,
}

impl MockBackend {
    pub fn new() -> MockBackend {
        MockBackend::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already.
        self.state.lock().expect("mock backend lock")
    }

    /// Makes `name` resolve to `destination`.
    pub fn add_host(&self, name: &str, destination: Destination) {
        self.state().hosts.insert(name.to_owned(), destination);
    }

    /// Makes every connect to `to` fail with `error`.
    pub fn fail_connects_to(&self, to: Hash, error: ConnectError) {
        self.state().failures.insert(to, error);
    }

    /// Ends a destination as a router would (its inbound channel closes).
    pub fn kill(&self, hash: Hash) {
        self.state().running.remove(&hash);
    }

    /// Destinations now running.
    pub fn running(&self) -> Vec<Hash> {
        self.state().running.keys().copied().collect()
    }

    /// Every session created so far, with its options.
    pub fn created(&self) -> Vec<(Hash, SessionOptions)> {
        self.state().created.clone()
    }

    fn inbound_of(&self, to: &Target) -> Option<mpsc::Sender<Inbound<DuplexStream>>> {
        self.state()
            .running
            .get(&to.hash())
            .map(|r| r.inbound.clone())
    }
}

impl Backend for MockBackend {
    type Stream = DuplexStream;
    type Session = MockSession;

    async fn create_session(
        &self,
        keys: DestinationKeys,
        options: SessionOptions,
    ) -> Result<Created<MockSession, DuplexStream>, BackendError> {
        let mut state = self.state();
        let hash = keys.hash();
        if state.running.contains_key(&hash) {
            return Err(BackendError::DuplicatedDest);
        }
        let (tx, rx) = mpsc::channel(INBOUND_QUEUE);
        let destination = keys.destination().clone();
        state.running.insert(
            hash,
            Running {
                destination: destination.clone(),
                inbound: tx,
            },
        );
        state.created.push((hash, options));
        Ok(Created {
            session: MockSession { destination },
            inbound: rx,
        })
    }

    async fn remove_session(&self, session: &MockSession) {
        self.state().running.remove(&session.destination.hash());
    }

    async fn connect(
        &self,
        session: &MockSession,
        to: Target,
        ports: PortPair,
    ) -> Result<DuplexStream, ConnectError> {
        if let Some(error) = self.state().failures.get(&to.hash()) {
            return Err(error.clone());
        }
        let inbound = self.inbound_of(&to).ok_or(ConnectError::PeerNotFound)?;
        let (ours, theirs) = tokio::io::duplex(STREAM_BUFFER);
        let incoming = IncomingStream {
            stream: theirs,
            peer: Box::new(session.destination.clone()),
            ports,
        };
        inbound
            .try_send(Inbound::Stream(incoming))
            .map_err(|_| ConnectError::CantReachPeer("the peer is not accepting".into()))?;
        Ok(ours)
    }

    async fn send_datagram(
        &self,
        session: &MockSession,
        datagram: OutgoingDatagram,
    ) -> Result<(), BackendError> {
        use super::backend::DatagramKind;
        let Some(inbound) = self.inbound_of(&datagram.to) else {
            // Datagrams to nowhere vanish, as they would in I2P.
            return Ok(());
        };
        let from = match datagram.kind {
            DatagramKind::Raw(_) => Sender::Anonymous,
            DatagramKind::Datagram3 => Sender::Hash(session.destination.hash()),
            DatagramKind::Repliable | DatagramKind::Datagram2 => {
                Sender::Destination(Box::new(session.destination.clone()))
            }
        };
        // A full queue drops the datagram, as a congested router would.
        let _ = inbound.try_send(Inbound::Datagram(ReceivedDatagram {
            kind: datagram.kind,
            from,
            ports: datagram.ports,
            payload: datagram.payload,
        }));
        Ok(())
    }

    async fn lookup(
        &self,
        _session: Option<&MockSession>,
        name: LookupName,
    ) -> Result<Destination, LookupError> {
        let state = self.state();
        let found = match &name {
            LookupName::Hash(hash) => state.running.get(hash).map(|r| r.destination.clone()),
            LookupName::Host(host) => state.hosts.get(host).cloned(),
        };
        found.ok_or(LookupError::NotFound)
    }
}
