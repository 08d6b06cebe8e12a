//! The router task's side of applications: sessions, the streams joined to their
//! copying tasks, and the requests that wait for the network.

use super::bridge::CHUNK;
use super::options::tunnel_shape;
use super::{AppRequest, I2pStream, StreamKey};
use crate::client::datagram::Datagram;
use crate::client::streaming::{ManagerEvent, Ports, StreamEvent};
use crate::client::{ClientEvent, DatagramKind, DestinationId, TunnelShape};
use crate::crypto::DestinationKeys;
use crate::data::{Destination, Hash};
use crate::host::sam::backend::{
    BackendError, ConnectError, Created, Inbound, IncomingStream, LookupError, OutgoingDatagram,
    PortPair, ReceivedDatagram, Sender, SessionOptions, Target,
};
use crate::time::Instant;
use crate::Router;
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use tracing::debug;

/// What arrives for one session and waits for the bridge, at most: beyond it datagrams
/// are dropped and streams refused, as a busy application would.
const INBOUND_QUEUE: usize = 64;

/// A session as the SAM bridge holds it: the destination the router runs for it.
#[derive(Debug)]
pub struct RouterSession {
    id: DestinationId,
}

impl RouterSession {
    pub(crate) fn id(&self) -> DestinationId {
        self.id
    }
}

type CreateReply = oneshot::Sender<Result<Created<RouterSession, I2pStream>, BackendError>>;
type ConnectReply = oneshot::Sender<Result<I2pStream, ConnectError>>;

#[derive(Debug)]
struct Session {
    /// What the console calls it: `inbound.nickname`, as SAM clients and tunnels set.
    label: String,
    inbound: mpsc::Sender<Inbound<I2pStream>>,
    /// The bridge's answer, until the destination's LeaseSet is first published.
    created: Option<(CreateReply, mpsc::Receiver<Inbound<I2pStream>>)>,
}

/// A stream joined to its copying task.
#[derive(Debug, Default)]
struct Joined {
    /// A read request waiting for data.
    read: Option<oneshot::Sender<Option<Vec<u8>>>>,
    /// Data the stream has not taken yet, and who waits for it to be.
    write: Option<(Vec<u8>, oneshot::Sender<()>)>,
}

/// What waits for a LeaseSet lookup.
#[derive(Debug)]
enum Waiting {
    Connect {
        id: DestinationId,
        ports: Ports,
        reply: ConnectReply,
    },
    Lookup(oneshot::Sender<Result<Destination, LookupError>>),
}

/// The router task's application state.
#[derive(Debug)]
pub(crate) struct Apps {
    requests: mpsc::Sender<AppRequest>,
    sessions: HashMap<DestinationId, Session>,
    streams: HashMap<StreamKey, Joined>,
    connecting: HashMap<StreamKey, ConnectReply>,
    lookups: HashMap<Hash, Vec<Waiting>>,
    /// Where stream reads land before the bytes read are copied out (one buffer, not
    /// one of [`CHUNK`] bytes per read).
    scratch: Vec<u8>,
}

impl Apps {
    /// `requests` is what the copying tasks of new streams send on.
    pub(crate) fn new(requests: mpsc::Sender<AppRequest>) -> Apps {
        Apps {
            requests,
            sessions: HashMap::new(),
            streams: HashMap::new(),
            connecting: HashMap::new(),
            lookups: HashMap::new(),
            scratch: vec![0u8; CHUNK],
        }
    }

    /// The sessions, for the console: id, label, and whether the LeaseSet is out yet.
    pub(crate) fn sessions(&self) -> impl Iterator<Item = (DestinationId, &str, bool)> {
        self.sessions
            .iter()
            .map(|(id, s)| (*id, s.label.as_str(), s.created.is_none()))
    }

    pub(crate) fn on_request(&mut self, router: &mut Router, now: Instant, request: AppRequest) {
        match request {
            AppRequest::CreateSession {
                keys,
                options,
                reply,
            } => self.create(router, now, *keys, &options, reply),
            AppRequest::RemoveSession { id } => self.remove(router, now, id),
            AppRequest::Connect {
                id,
                to,
                ports,
                reply,
            } => match to {
                Target::Destination(d) => self.connect(router, now, id, *d, ports, reply),
                Target::Hash(hash) => match router.known_destination(now, &hash) {
                    Some(d) => self.connect(router, now, id, d, ports, reply),
                    None => self.look_up(router, now, hash, Waiting::Connect { id, ports, reply }),
                },
            },
            AppRequest::SendDatagram {
                id,
                datagram,
                reply,
            } => {
                let _ = reply.send(send_datagram(router, now, id, datagram));
            }
            AppRequest::Lookup { hash, reply } => match router.known_destination(now, &hash) {
                Some(d) => {
                    let _ = reply.send(Ok(d));
                }
                None => self.look_up(router, now, hash, Waiting::Lookup(reply)),
            },
            AppRequest::Write { key, data, done } => {
                self.streams.entry(key).or_default().write = Some((data, done));
                self.pump_write(router, now, key);
            }
            AppRequest::Read { key, reply } => {
                self.streams.entry(key).or_default().read = Some(reply);
                self.pump_read(router, now, key);
            }
            AppRequest::Shutdown { key } => router.stream_close(now, key.0, key.1, false),
            AppRequest::Dropped { key } => {
                self.streams.remove(&key);
                router.stream_close(now, key.0, key.1, false);
            }
        }
    }

    fn create(
        &mut self,
        router: &mut Router,
        now: Instant,
        keys: DestinationKeys,
        options: &SessionOptions,
        reply: CreateReply,
    ) {
        let hash = keys.hash();
        let running = self
            .sessions
            .keys()
            .any(|id| router.clients().hash(*id) == Some(hash));
        if running {
            let _ = reply.send(Err(BackendError::DuplicatedDest));
            return;
        }
        let config = &router.config().clients;
        let default = TunnelShape {
            hops: config.hops,
            tunnels: config.tunnels,
        };
        let pairs = options
            .options
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let streaming = config
            .streaming
            .with_options(pairs)
            .map_err(|e| e.to_string());
        let (shape, (streaming, ignored)) =
            match tunnel_shape(options, default).and_then(|shape| Ok((shape, streaming?))) {
                Ok(chosen) => chosen,
                Err(e) => {
                    let _ = reply.send(Err(BackendError::Other(e)));
                    return;
                }
            };
        if !ignored.is_empty() {
            debug!(?ignored, "streaming options without effect here");
        }
        debug!(destination = %hash.to_base32(), ?shape, "SAM session");
        match router.add_shaped_destination(now, keys, shape) {
            Ok(id) => {
                router.set_stream_config(now, id, streaming);
                router.stream_listen(now, id, true);
                let (inbound, rx) = mpsc::channel(INBOUND_QUEUE);
                let created = Some((reply, rx));
                let label = options
                    .options
                    .get("inbound.nickname")
                    .cloned()
                    .unwrap_or_else(|| "SAM session".into());
                let session = Session {
                    label,
                    inbound,
                    created,
                };
                self.sessions.insert(id, session);
            }
            Err(e) => {
                let _ = reply.send(Err(BackendError::Other(e.to_string())));
            }
        }
    }

    fn remove(&mut self, router: &mut Router, now: Instant, id: DestinationId) {
        self.sessions.remove(&id);
        router.stream_listen(now, id, false);
        let open: Vec<StreamKey> = self.streams.keys().filter(|k| k.0 == id).copied().collect();
        for key in open {
            self.streams.remove(&key);
            router.stream_close(now, id, key.1, true);
        }
        let _ = router.remove_destination(now, id);
    }

    fn connect(
        &mut self,
        router: &mut Router,
        now: Instant,
        id: DestinationId,
        to: Destination,
        ports: Ports,
        reply: ConnectReply,
    ) {
        match router.stream_connect(now, id, to, ports) {
            Ok(stream) => {
                self.connecting.insert((id, stream), reply);
            }
            Err(e) => {
                let _ = reply.send(Err(ConnectError::CantReachPeer(e.to_string())));
            }
        }
    }

    fn look_up(&mut self, router: &mut Router, now: Instant, hash: Hash, waiting: Waiting) {
        let queue = self.lookups.entry(hash).or_default();
        queue.push(waiting);
        if queue.len() == 1 {
            router.lookup_lease_set(now, hash);
        }
    }

    /// A LeaseSet lookup ended: what waited for it goes on, or fails.
    pub(crate) fn on_lookup_finished(&mut self, router: &mut Router, now: Instant, key: Hash) {
        let Some(waiting) = self.lookups.remove(&key) else {
            return;
        };
        let found = router.known_destination(now, &key);
        for w in waiting {
            match (w, &found) {
                (Waiting::Lookup(reply), found) => {
                    let _ = reply.send(found.clone().ok_or(LookupError::NotFound));
                }
                (Waiting::Connect { id, ports, reply }, Some(d)) => {
                    self.connect(router, now, id, d.clone(), ports, reply)
                }
                (Waiting::Connect { reply, .. }, None) => {
                    let _ = reply.send(Err(ConnectError::PeerNotFound));
                }
            }
        }
    }

    /// What the router's destinations report that a session waits for.
    pub(crate) fn on_client_event(
        &mut self,
        router: &mut Router,
        now: Instant,
        event: &ClientEvent,
    ) {
        match event {
            ClientEvent::LeaseSetPublished { destination, .. } => {
                let created = self.sessions.get_mut(destination);
                let Some((reply, inbound)) = created.and_then(|s| s.created.take()) else {
                    return;
                };
                let session = RouterSession { id: *destination };
                if reply.send(Ok(Created { session, inbound })).is_err() {
                    // Whoever asked gave up waiting (a SAM client that hung up, a
                    // fetcher's timeout): nobody holds the session to use or remove it.
                    self.remove(router, now, *destination);
                }
            }
            ClientEvent::Datagram {
                destination,
                protocol,
                ports,
                datagram,
            } => {
                if let Some(session) = self.sessions.get(destination) {
                    let received = Inbound::Datagram(received(datagram, *protocol, *ports));
                    // Full: dropped, as UDP would.
                    let _ = session.inbound.try_send(received);
                }
            }
            ClientEvent::Stream { destination, event } => {
                self.on_stream_event(router, now, *destination, event)
            }
            _ => {}
        }
    }

    fn on_stream_event(
        &mut self,
        router: &mut Router,
        now: Instant,
        id: DestinationId,
        event: &ManagerEvent,
    ) {
        match event {
            ManagerEvent::Incoming { .. } => self.accept(router, now, id),
            ManagerEvent::Stream { id: stream, event } => {
                let key = (id, *stream);
                match event {
                    StreamEvent::Connected => {
                        if let Some(reply) = self.connecting.remove(&key) {
                            let io = I2pStream::spawn(key, self.requests.clone());
                            let _ = reply.send(Ok(io));
                        }
                    }
                    StreamEvent::Writable => self.pump_write(router, now, key),
                    StreamEvent::Reset { .. } | StreamEvent::TimedOut(_) => {
                        if let Some(reply) = self.connecting.remove(&key) {
                            let error = match event {
                                StreamEvent::TimedOut(_) => ConnectError::Timeout,
                                _ => ConnectError::CantReachPeer("reset by the peer".into()),
                            };
                            let _ = reply.send(Err(error));
                        }
                        // Pending writes fail (their `done` is dropped); reads end.
                        if let Some(joined) = self.streams.get_mut(&key) {
                            joined.write = None;
                        }
                        self.pump_read(router, now, key);
                    }
                    StreamEvent::PeerClosed => {
                        // The stream's counters, while it still exists: what an operator
                        // (or a developer chasing a slow transfer) asks first.
                        if let Some(stats) =
                            router.streams(id).and_then(|s| s.stream_stats(*stream))
                        {
                            debug!(?id, ?stream, ?stats, "stream: the peer closed");
                        }
                        self.pump_read(router, now, key)
                    }
                    StreamEvent::Readable | StreamEvent::Closed => self.pump_read(router, now, key),
                }
            }
            ManagerEvent::Refused { .. } => {}
        }
    }

    /// Takes the incoming streams of `id` and hands them to its session.
    fn accept(&mut self, router: &mut Router, now: Instant, id: DestinationId) {
        while let Some(stream) = router.stream_accept(id) {
            let key = (id, stream);
            let peer = router.streams(id).and_then(|s| {
                Some((
                    s.remote_destination(stream)?.clone(),
                    s.connection(stream)?.ports(),
                ))
            });
            let (Some(session), Some((peer, ports))) = (self.sessions.get(&id), peer) else {
                router.stream_close(now, id, stream, true);
                continue;
            };
            let Ok(permit) = session.inbound.try_reserve() else {
                router.stream_close(now, id, stream, true);
                continue;
            };
            let io = I2pStream::spawn(key, self.requests.clone());
            permit.send(Inbound::Stream(IncomingStream {
                stream: io,
                peer: Box::new(peer),
                // The connection's ports are ours first; the bridge wants the peer's view.
                ports: PortPair {
                    from: ports.to,
                    to: ports.from,
                },
            }));
        }
    }

    /// Answers a waiting read with what the stream has, or its end.
    fn pump_read(&mut self, router: &mut Router, now: Instant, key: StreamKey) {
        let Some(joined) = self.streams.get_mut(&key) else {
            return;
        };
        let Some(reply) = joined.read.take() else {
            return;
        };
        let n = router.stream_read(now, key.0, key.1, &mut self.scratch);
        if n > 0 {
            let _ = reply.send(Some(self.scratch[..n].to_vec()));
        } else if stream_finished(router, key) {
            let _ = reply.send(None);
        } else {
            joined.read = Some(reply);
        }
    }

    /// Hands a waiting write to the stream, as much as it takes.
    fn pump_write(&mut self, router: &mut Router, now: Instant, key: StreamKey) {
        let Some(joined) = self.streams.get_mut(&key) else {
            return;
        };
        let Some((mut data, done)) = joined.write.take() else {
            return;
        };
        let taken = router.stream_write(now, key.0, key.1, &data);
        data.drain(..taken);
        if data.is_empty() {
            let _ = done.send(());
        } else if !stream_finished(router, key) {
            joined.write = Some((data, done));
        }
    }
}

/// Whether nothing more will be read from a stream: it is gone, failed, or the peer
/// closed and everything before the close was read.
fn stream_finished(router: &Router, (id, stream): StreamKey) -> bool {
    router
        .streams(id)
        .and_then(|s| s.connection(stream))
        .is_none_or(|c| c.is_read_finished())
}

fn send_datagram(
    router: &mut Router,
    now: Instant,
    id: DestinationId,
    datagram: OutgoingDatagram,
) -> Result<(), BackendError> {
    let kind = datagram.kind;
    let ports = Ports {
        from: datagram.ports.from,
        to: datagram.ports.to,
    };
    let to = datagram.to.hash();
    router
        .send_datagram(now, id, to, kind, ports, datagram.payload)
        .map_err(|e| BackendError::Other(e.to_string()))
}

/// A datagram the router verified, as the bridge describes it.
fn received(datagram: &Datagram, protocol: u8, ports: Ports) -> ReceivedDatagram {
    let (kind, from) = match datagram {
        Datagram::Raw(_) => (DatagramKind::Raw(protocol), Sender::Anonymous),
        Datagram::Repliable { from, .. } => (
            DatagramKind::Repliable,
            Sender::Destination(Box::new(from.clone())),
        ),
        Datagram::Datagram2 { from, .. } => (
            DatagramKind::Datagram2,
            Sender::Destination(Box::new(from.clone())),
        ),
        Datagram::Datagram3 { from_hash, .. } => {
            (DatagramKind::Datagram3, Sender::Hash(*from_hash))
        }
    };
    ReceivedDatagram {
        kind,
        from,
        ports: PortPair {
            from: ports.from,
            to: ports.to,
        },
        payload: datagram.payload().to_vec(),
    }
}
