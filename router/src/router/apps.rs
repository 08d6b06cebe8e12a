//! The application API of [`Router`]: streams and datagrams of local destinations, and
//! finding a remote destination by its hash. Everything here goes through
//! [`Clients`](crate::client::Clients); the SAM bridge and the simulator's workloads
//! use exactly these calls.

use super::{ClientError, Router};
use crate::client::streaming::{ManagerConfig, Ports, StreamId, StreamManager};
use crate::client::{AppError, Clients, DatagramKind, DestinationId, TunnelShape};
use crate::crypto::DestinationKeys;
use crate::data::{Destination, Hash};
use crate::netdb::{LookupId, NetDb};
use crate::time::Instant;
use crate::tunnel::TunnelManager;

impl From<ClientError> for AppError {
    fn from(e: ClientError) -> AppError {
        match e {
            ClientError::NoTunnels => AppError::NoTunnels,
            // Publication errors come from no call here.
            ClientError::UnknownDestination | ClientError::Publish(_) => {
                AppError::UnknownDestination
            }
        }
    }
}

impl Router {
    /// Runs `f` on the clients of local destination `id`, which must exist, then
    /// collects what it produced.
    pub(super) fn with_clients<T>(
        &mut self,
        now: Instant,
        id: DestinationId,
        f: impl FnOnce(&mut Clients, &mut NetDb, &mut TunnelManager) -> T,
    ) -> Result<T, ClientError> {
        let tunnels = self.tunnels.as_mut().ok_or(ClientError::NoTunnels)?;
        if self.clients.hash(id).is_none() {
            return Err(ClientError::UnknownDestination);
        }
        let out = f(&mut self.clients, &mut self.netdb, tunnels);
        self.collect(now);
        Ok(out)
    }

    /// Adds a local destination whose tunnels have `shape` (an application's choice)
    /// rather than the configured client tunnels.
    pub fn add_shaped_destination(
        &mut self,
        now: Instant,
        keys: DestinationKeys,
        shape: TunnelShape,
    ) -> Result<DestinationId, ClientError> {
        self.add_client(now, |clients, tunnels| {
            clients.add_shaped(now, keys, shape, tunnels)
        })
    }

    /// Stops local destination `id` (see [`Clients::remove`]).
    pub fn remove_destination(
        &mut self,
        now: Instant,
        id: DestinationId,
    ) -> Result<(), ClientError> {
        let tunnels = self.tunnels.as_mut().ok_or(ClientError::NoTunnels)?;
        if !self.clients.remove(id, tunnels) {
            return Err(ClientError::UnknownDestination);
        }
        self.collect(now);
        Ok(())
    }

    /// The destination whose hash is `hash`, if we hold a LeaseSet of it that lives.
    pub fn known_destination(&self, now: Instant, hash: &Hash) -> Option<Destination> {
        let ls = self.netdb.lease_sets().get(hash, now)?;
        Some(ls.destination().clone())
    }

    /// Looks up the LeaseSet of the destination `hash` (a b32 address): the result is
    /// [`NetDbEvent::LookupFinished`](crate::netdb::NetDbEvent::LookupFinished) with
    /// the returned id, then [`Router::known_destination`].
    pub fn lookup_lease_set(&mut self, now: Instant, hash: Hash) -> LookupId {
        let id = self.netdb.lookup_lease_set(now, hash);
        self.collect(now);
        id
    }

    /// Local destination `id`'s streams from now on use `config` (its application's
    /// `i2p.streaming.*` options over [`ClientConfig::streaming`](crate::client::ClientConfig)).
    pub fn set_stream_config(&mut self, now: Instant, id: DestinationId, config: ManagerConfig) {
        let _ = self.with_clients(now, id, |c, _, _| c.set_stream_config(id, config));
    }

    /// Whether local destination `id` accepts incoming streams (off by default).
    pub fn stream_listen(&mut self, now: Instant, id: DestinationId, listen: bool) {
        let _ = self.with_clients(now, id, |c, _, _| c.stream_listen(id, listen));
    }

    /// Opens a stream from `id` to `to` with I2CP `ports` (ours first).
    pub fn stream_connect(
        &mut self,
        now: Instant,
        id: DestinationId,
        to: Destination,
        ports: Ports,
    ) -> Result<StreamId, AppError> {
        self.with_clients(now, id, |c, netdb, tunnels| {
            c.stream_connect(now, id, to, ports, netdb, tunnels)
        })?
    }

    /// The oldest incoming stream of `id` not taken yet.
    pub fn stream_accept(&mut self, id: DestinationId) -> Option<StreamId> {
        self.clients.stream_accept(id)
    }

    /// Destination `id`'s streams, for their states and remote destinations.
    pub fn streams(&self, id: DestinationId) -> Option<&StreamManager> {
        self.clients.streams(id)
    }

    /// Queues `data` on a stream; returns how much it took.
    pub fn stream_write(
        &mut self,
        now: Instant,
        id: DestinationId,
        stream: StreamId,
        data: &[u8],
    ) -> usize {
        self.with_clients(now, id, |c, netdb, tunnels| {
            c.stream_write(now, id, stream, data, netdb, tunnels)
        })
        .unwrap_or(0)
    }

    /// Reads what arrived in order on a stream.
    pub fn stream_read(
        &mut self,
        now: Instant,
        id: DestinationId,
        stream: StreamId,
        buf: &mut [u8],
    ) -> usize {
        self.with_clients(now, id, |c, netdb, tunnels| {
            c.stream_read(now, id, stream, buf, netdb, tunnels)
        })
        .unwrap_or(0)
    }

    /// Closes our direction of a stream, or resets it.
    pub fn stream_close(&mut self, now: Instant, id: DestinationId, stream: StreamId, reset: bool) {
        let _ = self.with_clients(now, id, |c, netdb, tunnels| {
            c.stream_close(now, id, stream, reset, netdb, tunnels)
        });
    }

    /// Sends one datagram of `kind` from `id` to the destination `to`.
    pub fn send_datagram(
        &mut self,
        now: Instant,
        id: DestinationId,
        to: Hash,
        kind: DatagramKind,
        ports: Ports,
        payload: Vec<u8>,
    ) -> Result<(), AppError> {
        self.with_clients(now, id, |c, netdb, tunnels| {
            c.send_datagram(now, id, to, kind, ports, payload, netdb, tunnels)
        })?
    }
}
