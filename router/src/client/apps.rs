//! Applications on a destination: streams and datagrams, carried as I2CP payloads
//! (a gzip header with ports and protocol, [`AppPayload`]) in the Data messages that
//! [`Clients::send`] wraps in garlic.
//!
//! Each destination gets a [`StreamManager`] the first time it streams (a listener, a
//! connect, or a packet for it), so that destinations which never stream cost nothing
//! and draw nothing from the generator (the simulator's traces stay as they were for
//! them). A packet the manager wants sent leaves through [`Clients::send`] like any
//! message, without a DeliveryStatus clove: the stream's own acknowledgements tell
//! whether it arrived, and a confirmation per packet would double the traffic.
//!
//! What arrives is dispatched by protocol: 6 to the stream manager, 17, 19 and 20 parsed
//! and verified as [`Datagram`]s, any other number as a raw datagram. Payloads that are
//! not I2CP's gzip at all — the simulator's workloads and `/ping` — are reported as
//! [`ClientEvent::Received`], as before streaming existed.

use super::app_payload::{compress_by_default, protocol, AppPayload};
use super::datagram::{Datagram, DatagramError};
use super::streaming::{ManagerConfig, Ports, StreamId, StreamManager, StreamingError};
use super::{ClientEvent, Clients, DestinationId, Outgoing};
use crate::data::{Destination, Hash};
use crate::netdb::NetDb;
use crate::time::Instant;
use crate::tunnel::TunnelManager;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// References of messages the client layer sends for itself (stream packets); a
/// caller's references stay below it, so their failures are told apart.
pub(super) const INTERNAL_REFERENCE: u64 = 1 << 63;

/// Why a stream or datagram call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("no such local destination")]
    UnknownDestination,
    #[error("destinations need tunnels: this router was configured without them")]
    NoTunnels,
    #[error(transparent)]
    Streaming(#[from] StreamingError),
    #[error(transparent)]
    Datagram(#[from] DatagramError),
}

/// A datagram an application sends: its kind decides how it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatagramKind {
    /// Protocol 17 (Datagram1): signed, repliable.
    Repliable,
    /// Protocol 19: signed over the recipient's hash too (replay-protected).
    Datagram2,
    /// Protocol 20: repliable, unsigned.
    Datagram3,
    /// Raw, with its protocol number (18 unless the application chose another).
    Raw(u8),
}

impl DatagramKind {
    /// The I2CP protocol number it travels with.
    pub fn protocol(self) -> u8 {
        match self {
            DatagramKind::Repliable => protocol::DATAGRAM,
            DatagramKind::Datagram2 => protocol::DATAGRAM2,
            DatagramKind::Datagram3 => protocol::DATAGRAM3,
            DatagramKind::Raw(number) => number,
        }
    }
}

impl Clients {
    /// Destination `id`'s stream manager, made on first use.
    fn streams_mut(&mut self, id: DestinationId) -> Option<&mut StreamManager> {
        let config = self.config.streaming.clone();
        let rng = &mut self.rng;
        let local = self.locals.get_mut(&id)?;
        Some(local.streams.get_or_insert_with(|| {
            let rng = ChaCha20Rng::from_rng(&mut *rng).expect("ChaCha20Rng never fails");
            StreamManager::new(local.keys.clone(), config, rng)
        }))
    }

    /// Destination `id`'s stream manager, if it ever streamed: stream states, remote
    /// destinations, statistics.
    pub fn streams(&self, id: DestinationId) -> Option<&StreamManager> {
        self.locals.get(&id)?.streams.as_ref()
    }

    /// Destination `id`'s streams from now on use `config` instead of the router's
    /// (an application's `i2p.streaming.*` options; see
    /// [`ManagerConfig::with_options`]).
    pub fn set_stream_config(&mut self, id: DestinationId, config: ManagerConfig) {
        if let Some(streams) = self.streams_mut(id) {
            streams.set_config(config);
        }
    }

    /// Whether destination `id` accepts incoming streams.
    pub fn stream_listen(&mut self, id: DestinationId, listen: bool) {
        if let Some(streams) = self.streams_mut(id) {
            streams.set_listening(listen);
        }
    }

    /// Opens a stream from destination `id` to `to`; the SYN leaves at once (with what
    /// is written before the next flush). [`ClientEvent::Stream`] tells how it goes.
    pub fn stream_connect(
        &mut self,
        now: Instant,
        id: DestinationId,
        to: Destination,
        ports: Ports,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) -> Result<StreamId, AppError> {
        let streams = self.streams_mut(id).ok_or(AppError::UnknownDestination)?;
        let stream = streams.connect(now, to, ports)?;
        self.flush_streams(now, id, netdb, tunnels);
        Ok(stream)
    }

    /// The next incoming stream of destination `id` that has not been taken yet.
    pub fn stream_accept(&mut self, id: DestinationId) -> Option<StreamId> {
        self.streams_mut(id)?.accept()
    }

    /// Queues `data` on a stream; returns how much was taken (the rest when
    /// [`StreamEvent::Writable`](super::streaming::StreamEvent::Writable) comes).
    pub fn stream_write(
        &mut self,
        now: Instant,
        id: DestinationId,
        stream: StreamId,
        data: &[u8],
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) -> usize {
        let Some(streams) = self.streams_mut(id) else {
            return 0;
        };
        let taken = streams.write(stream, data);
        self.flush_streams(now, id, netdb, tunnels);
        taken
    }

    /// Reads what arrived in order on a stream. Reading opens the receive window, so
    /// the acknowledgement that says so may leave at once.
    pub fn stream_read(
        &mut self,
        now: Instant,
        id: DestinationId,
        stream: StreamId,
        buf: &mut [u8],
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) -> usize {
        let Some(streams) = self.streams_mut(id) else {
            return 0;
        };
        let read = streams.read(stream, buf);
        if read > 0 {
            self.flush_streams(now, id, netdb, tunnels);
        }
        read
    }

    /// Closes our direction of a stream (the peer may go on sending), or resets it.
    pub fn stream_close(
        &mut self,
        now: Instant,
        id: DestinationId,
        stream: StreamId,
        reset: bool,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        let Some(streams) = self.streams_mut(id) else {
            return;
        };
        if reset {
            streams.reset(stream);
        } else {
            streams.close(stream);
        }
        self.flush_streams(now, id, netdb, tunnels);
    }

    /// Sends one datagram from destination `id` to `to`, signed as `kind` requires.
    #[allow(clippy::too_many_arguments)] // a send names who, to whom, what and how
    pub fn send_datagram(
        &mut self,
        now: Instant,
        id: DestinationId,
        to: Hash,
        kind: DatagramKind,
        ports: Ports,
        payload: Vec<u8>,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) -> Result<(), AppError> {
        let local = self.locals.get(&id).ok_or(AppError::UnknownDestination)?;
        let from = local.keys.destination().clone();
        let protocol = kind.protocol();
        let datagram = match kind {
            DatagramKind::Repliable => Datagram::Repliable { from, payload },
            DatagramKind::Datagram2 => Datagram::Datagram2 {
                from,
                options: Default::default(),
                offline: None,
                payload,
            },
            DatagramKind::Datagram3 => Datagram::Datagram3 {
                from_hash: from.hash(),
                options: Default::default(),
                payload,
            },
            DatagramKind::Raw(_) => Datagram::Raw(payload),
        };
        let data = datagram.emit(&local.keys, &to)?;
        let app = AppPayload {
            protocol,
            from_port: ports.from,
            to_port: ports.to,
            data,
        };
        let message = Outgoing {
            reference: INTERNAL_REFERENCE,
            payload: app.encode(compress_by_default(protocol)),
            confirm: false,
        };
        self.send(now, id, to, message, netdb, tunnels);
        Ok(())
    }

    /// A Data payload for destination `id`: streaming and datagrams are taken here;
    /// a payload that is not I2CP's is given back for [`ClientEvent::Received`].
    pub(super) fn deliver_app(
        &mut self,
        now: Instant,
        id: DestinationId,
        payload: Vec<u8>,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) -> Option<Vec<u8>> {
        let Ok(app) = AppPayload::decode(&payload, AppPayload::MAX_DECODED_LEN) else {
            return Some(payload);
        };
        // The ports as the sender wrote them: its port first.
        let ports = Ports {
            from: app.from_port,
            to: app.to_port,
        };
        match app.protocol {
            protocol::STREAMING => {
                let streams = self.streams_mut(id)?;
                // Not bound to a session's sender yet: every SYN, CLOSE and RESET is
                // verified against the FROM it carries.
                let _dropped = streams.handle_packet(now, None, ports, &app.data);
                self.flush_streams(now, id, netdb, tunnels);
                None
            }
            number => {
                let me = self.locals.get(&id)?.keys.hash();
                // Any protocol but streaming's and the three datagram formats is raw
                // (SAM's RAW sessions choose their own number).
                let parsed = match number {
                    protocol::DATAGRAM | protocol::DATAGRAM2 | protocol::DATAGRAM3 => {
                        Datagram::parse(now, number, &app.data, &me)
                    }
                    _ => Ok(Datagram::Raw(app.data)),
                };
                // A datagram that fails its signature is dropped, as I2CP does.
                if let Ok(datagram) = parsed {
                    self.events.push_back(ClientEvent::Datagram {
                        destination: id,
                        protocol: number,
                        ports,
                        datagram: Box::new(datagram),
                    });
                }
                None
            }
        }
    }

    /// Sends what destination `id`'s stream manager has to send, and reports what it
    /// has to say.
    pub(super) fn flush_streams(
        &mut self,
        now: Instant,
        id: DestinationId,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        loop {
            let Some(streams) = self.locals.get_mut(&id).and_then(|l| l.streams.as_mut()) else {
                return;
            };
            while let Some(event) = streams.poll_event() {
                self.events.push_back(ClientEvent::Stream {
                    destination: id,
                    event,
                });
            }
            let Some(transmit) = streams.poll_transmit(now) else {
                return;
            };
            let app = AppPayload {
                protocol: protocol::STREAMING,
                from_port: transmit.ports.from,
                to_port: transmit.ports.to,
                data: transmit.payload,
            };
            if transmit.path_suspect {
                self.suspect_path(id, transmit.to);
            }
            let message = Outgoing {
                reference: INTERNAL_REFERENCE,
                payload: app.encode(compress_by_default(protocol::STREAMING)),
                // A packet on a suspect path asks for a DeliveryStatus: left
                // unconfirmed, it marks the path stale (a fresh LeaseSet lookup, a new
                // session).
                confirm: transmit.path_suspect,
            };
            self.send(now, id, transmit.to, message, netdb, tunnels);
        }
    }

    /// A stream to `to` lost packets one way or the other: its packets carry no
    /// DeliveryStatus, so nothing else would notice a dead lease or a lost first
    /// message. The next one leaves the lease kept for `to` (avoided while another is
    /// usable) and carries our LeaseSet again (the peer may never have got it, and
    /// cannot answer without it).
    fn suspect_path(&mut self, id: DestinationId, to: Hash) {
        if let Some(local) = self.locals.get_mut(&id) {
            if let Some(lease) = local.routes.remove(&to) {
                local.avoided.entry(to).or_default().push(lease);
            }
            local.informed.remove(&to);
        }
    }

    /// When the earliest stream of any destination has a timer due.
    pub(super) fn streams_timeout(&self) -> Option<Instant> {
        self.locals
            .values()
            .filter_map(|l| l.streams.as_ref()?.poll_timeout())
            .min()
    }

    /// Runs the stream timers that are due (resends, delayed ACKs, timeouts).
    pub(super) fn streams_handle_timeout(
        &mut self,
        now: Instant,
        netdb: &mut NetDb,
        tunnels: &mut TunnelManager,
    ) {
        let due: Vec<DestinationId> = self
            .locals
            .iter()
            .filter(|(_, l)| {
                l.streams
                    .as_ref()
                    .and_then(StreamManager::poll_timeout)
                    .is_some_and(|at| at <= now)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(streams) = self.locals.get_mut(&id).and_then(|l| l.streams.as_mut()) {
                streams.handle_timeout(now);
            }
            self.flush_streams(now, id, netdb, tunnels);
        }
    }
}
