//! The router task: one [`Driver`] owns the [`Router`], its connections, the
//! applications' requests and the status, and runs them from one loop, so the sans-IO
//! core is only ever called from here.

use super::*;

/// Event counts for the status page.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) lookups_succeeded: u64,
    pub(super) lookups_failed: u64,
    pub(super) lookups_received: u64,
    pub(super) stores_received: u64,
    pub(super) builds_succeeded: u64,
    pub(super) builds_failed: u64,
    /// Sessions established since start, by who dialled (the console's reachability).
    pub(super) inbound_sessions: u64,
    pub(super) outbound_sessions: u64,
}

#[derive(Debug)]
pub(super) struct Conn {
    pub(super) commands: mpsc::Sender<ConnCommand>,
    /// Known once the handshake is done (at once when we dialled).
    pub(super) peer: Option<Hash>,
    /// Where an inbound connection came from; `None` for ours.
    pub(super) inbound: Option<IpAddr>,
    pub(super) established: bool,
    /// When another established session to the peer took over from this one; it is
    /// closed [`duplicates::GRACE`] later.
    pub(super) superseded: Option<Instant>,
}

#[derive(Debug)]
pub(super) struct Driver<N: Network> {
    pub(super) net: N,
    pub(super) clock: Clock,
    pub(super) started: Instant,
    /// Seeds sessions' randomness (padding, ephemeral keys).
    pub(super) rng: ChaCha20Rng,
    pub(super) data: DataDir,
    pub(super) config: HostConfig,
    pub(super) router: Router,
    /// What sessions need of us; replaced when our RouterInfo is republished.
    pub(super) local: Arc<LocalRouter>,
    pub(super) ntcp2: Ntcp2Keys,
    pub(super) ctx: ConnContext,
    pub(super) events: mpsc::Receiver<ConnEvent>,
    pub(super) conns: HashMap<ConnId, Conn>,
    /// The connection used to send to each peer: the one [`duplicates::keep`] picks
    /// among the established ones, else the dial in progress.
    pub(super) by_peer: HashMap<Hash, ConnId>,
    /// Peers whose dial failed, and until when they are not dialled again.
    pub(super) unreachable: HashMap<Hash, Instant>,
    /// The netDb save running on the blocking pool, if any.
    pub(super) saving: Option<tokio::task::JoinHandle<()>>,
    pub(super) next_conn: ConnId,
    pub(super) counters: Counters,
    /// The test destination, when configured.
    pub(super) destination: Option<(DestinationId, Hash)>,
    /// Applications' sessions and streams (the SAM bridge's backend).
    pub(super) apps: apps::Apps,
    pub(super) app_requests: mpsc::Receiver<AppRequest>,
    /// Handed to the SAM bridge ([`apps::RouterBackend`]).
    pub(super) app_sender: mpsc::Sender<AppRequest>,
    pub(super) ping_requests: mpsc::Receiver<PingRequest>,
    /// Handed to the status server, which turns `/ping` requests into [`PingRequest`]s.
    pub(super) ping_sender: mpsc::Sender<PingRequest>,
    /// Pings waiting for their delivery confirmation, by message reference.
    pub(super) pings: HashMap<u64, oneshot::Sender<PingOutcome>>,
    pub(super) next_ping: u64,
    pub(super) status: watch::Sender<Status>,
    /// Traffic over time, for the status' rates and the console's chart.
    pub(super) bandwidth: console::history::Bandwidth,
}

impl<N: Network> Driver<N> {
    pub(super) async fn run(
        &mut self,
        mut accepted: mpsc::Receiver<(N::Stream, SocketAddr)>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), HostError> {
        tokio::pin!(shutdown);
        let mut status_tick = tokio::time::interval(STATUS_REFRESH);
        // Missed ticks are skipped, not caught up in a burst of refreshes.
        status_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut save_tick = tokio::time::interval(self.config.save_interval.0);
        save_tick.tick().await; // the first tick is immediate; nothing to save yet
        loop {
            let next = self.drain();
            // Connection events last: however busy the peers, timers, accepts and
            // pings get their turn.
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep_until(self.clock.deadline(next)) => {
                    self.router.handle_timeout(self.clock.now());
                    self.refresh_local();
                }
                _ = status_tick.tick() => {
                    self.refresh_status();
                    self.close_superseded();
                }
                _ = save_tick.tick() => self.save_in_background(),
                Some((stream, from)) = accepted.recv() => self.on_accept(stream, from),
                Some(ping) = self.ping_requests.recv() => self.ping(ping),
                Some(request) = self.app_requests.recv() => {
                    self.apps.on_request(&mut self.router, self.clock.now(), request);
                }
                Some(event) = self.events.recv() => self.on_conn_event(event),
            }
        }
        info!("shutting down");
        for conn in self.conns.values() {
            let _ = conn
                .commands
                .try_send(ConnCommand::Close(TerminationReason::RouterShutdown));
        }
        let grace = tokio::time::sleep(SHUTDOWN_GRACE);
        tokio::pin!(grace);
        while !self.conns.is_empty() {
            tokio::select! {
                () = &mut grace => break,
                Some(event) = self.events.recv() => self.on_conn_event(event),
            }
        }
        if let Some(saving) = self.saving.take() {
            let _ = saving.await;
        }
        self.save();
        Ok(())
    }

    /// Sends a message from the test destination; the answer waits for its confirmation.
    pub(super) fn ping(&mut self, PingRequest { to, reply }: PingRequest) {
        let Some((from, _)) = self.destination else {
            let _ = reply.send(PingOutcome::failed(
                "this router has no test destination ([client] test_destination)",
            ));
            return;
        };
        let reference = self.next_ping;
        self.next_ping += 1;
        match self
            .router
            .send(self.clock.now(), from, to, reference, b"ping".to_vec())
        {
            Ok(()) => {
                self.pings.insert(reference, reply);
            }
            Err(e) => {
                let _ = reply.send(PingOutcome::failed(e.to_string()));
            }
        }
    }

    /// Drains the router's outputs; returns when it wants its next timeout.
    pub(super) fn drain(&mut self) -> Instant {
        loop {
            match self.router.poll_output() {
                Output::Send { to, msg } => self.send(to, msg),
                Output::Event(event) => self.on_router_event(event),
                Output::Timeout(at) => return at,
            }
        }
    }

    /// Sends over the peer's session, dialling one if there is none.
    pub(super) fn send(&mut self, to: Hash, msg: I2npMessage) {
        // We may be a hop of a tunnel we send into (the inbound gateway of a peer's reply
        // tunnel, say): such messages never leave the process.
        if to == self.router.hash() {
            self.router.handle_message(self.clock.now(), to, msg);
            return;
        }
        if let Some(conn) = self.by_peer.get(&to).and_then(|id| self.conns.get(id)) {
            // A full queue (a peer reading too slowly) or a task that just ended loses
            // the message, as a congested or dying link would; a Closed event is on the
            // way in the second case and the next message dials anew.
            let _ = conn.commands.try_send(ConnCommand::Send(msg));
            return;
        }
        let now = self.clock.now();
        if self.unreachable.get(&to).is_some_and(|until| *until > now) {
            return;
        }
        if self.conns.len() >= self.config.max_connections {
            debug!(peer = %to, "connection limit reached; message dropped");
            return;
        }
        let Some(info) = self.router.netdb().get(&to).cloned() else {
            debug!(peer = %to, "no RouterInfo; message dropped");
            return;
        };
        let peer = match Ntcp2Peer::from_router_info(&info) {
            Ok(peer) => peer,
            Err(e) => {
                debug!(peer = %to, "cannot dial: {e}");
                return;
            }
        };
        let (id, commands) = self.register(Some(to), None);
        let _ = self.conns[&id].commands.try_send(ConnCommand::Send(msg));
        self.by_peer.insert(to, id);
        let net = self.net.clone();
        let ctx = self.ctx.clone();
        let local = self.local.clone();
        let mut session_rng = ChaCha20Rng::from_seed(self.rng.gen());
        tokio::spawn(async move {
            let addr = peer.socket;
            let reason = match tokio::time::timeout(CONNECT_TIMEOUT, net.connect(addr)).await {
                Ok(Ok(stream)) => {
                    // Made only now, so the handshake's timestamp and timeout start with
                    // the TCP connection rather than before it.
                    let session =
                        Session::connect(ctx.clock.now(), &local, &peer, &mut session_rng);
                    conn::run(id, conn::Side::Outbound, stream, session, commands, ctx).await;
                    return;
                }
                Ok(Err(e)) => format!("cannot connect to {addr}: {e}"),
                Err(_) => format!("connecting to {addr} timed out"),
            };
            let kind = ConnEventKind::Closed { reason };
            let _ = ctx.events.send(ConnEvent { id, kind }).await;
        });
    }

    pub(super) fn on_accept(&mut self, stream: N::Stream, from: SocketAddr) {
        // Inbound connections may take three quarters of the slots: the rest stay free
        // for our own dials, which building tunnels needs.
        let inbound_limit = self.config.max_connections - self.config.max_connections / 4;
        let inbound = self.conns.values().filter(|c| c.inbound.is_some());
        let pending = inbound.clone().filter(|c| !c.established);
        let refused = if inbound.clone().count() >= inbound_limit {
            Some("inbound connection limit reached")
        } else if pending.clone().count() >= MAX_PENDING_INBOUND {
            Some("too many handshakes in progress")
        } else if pending.filter(|c| c.inbound == Some(from.ip())).count() >= MAX_PENDING_PER_IP {
            Some("too many handshakes in progress from this address")
        } else {
            None
        };
        if let Some(why) = refused {
            debug!(%from, "inbound connection refused: {why}");
            return; // dropping the stream closes it
        }
        let session = Session::accept(self.clock.now(), &self.local, &mut self.rng);
        let (id, commands) = self.register(None, Some(from.ip()));
        debug!(%from, id, "inbound connection");
        let side = conn::Side::Inbound {
            seed: self.rng.gen(),
        };
        tokio::spawn(conn::run(
            id,
            side,
            stream,
            session,
            commands,
            self.ctx.clone(),
        ));
    }

    pub(super) fn register(
        &mut self,
        peer: Option<Hash>,
        inbound: Option<IpAddr>,
    ) -> (ConnId, mpsc::Receiver<ConnCommand>) {
        let id = self.next_conn;
        self.next_conn += 1;
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        self.conns.insert(
            id,
            Conn {
                commands: tx,
                peer,
                inbound,
                established: false,
                superseded: None,
            },
        );
        (id, rx)
    }

    pub(super) fn on_conn_event(&mut self, ConnEvent { id, kind }: ConnEvent) {
        let now = self.clock.now();
        match kind {
            ConnEventKind::Established { peer, info } => {
                let Some(conn) = self.conns.get_mut(&id) else {
                    return;
                };
                conn.peer = Some(peer);
                conn.established = true;
                let inbound = conn.inbound.is_some();
                debug!(%peer, id, inbound, "session established");
                match inbound {
                    true => self.counters.inbound_sessions += 1,
                    false => self.counters.outbound_sessions += 1,
                }
                self.unreachable.remove(&peer);
                self.settle(peer, now);
                if let Some(info) = info {
                    self.router.handle_peer_info(now, info);
                }
            }
            ConnEventKind::Message(msg) => {
                if let Some(peer) = self.conns.get(&id).and_then(|c| c.peer) {
                    self.router.handle_message(now, peer, msg);
                }
            }
            ConnEventKind::RouterInfo(info) => self.router.handle_peer_info(now, info),
            ConnEventKind::Closed { reason } => {
                if let Some(conn) = self.conns.remove(&id) {
                    debug!(peer = ?conn.peer, id, "session closed: {reason}");
                    if let Some(peer) = conn.peer {
                        if conn.inbound.is_none() && !conn.established {
                            self.unreachable.insert(peer, now + DIAL_BACKOFF);
                            self.router.handle_unreachable(now, peer);
                        }
                        if self.by_peer.get(&peer) == Some(&id) {
                            self.by_peer.remove(&peer);
                            // A superseded session still open takes over (the peer may
                            // have closed the one we kept) rather than a new dial.
                            self.settle(peer, now);
                        }
                    }
                }
            }
        }
    }

    /// Points `by_peer` at the established session to `peer` that both ends keep
    /// ([`duplicates`]) and marks the others superseded (from `now`, if not already).
    /// With no established session, a dial in progress stays where it is.
    fn settle(&mut self, peer: Hash, now: Instant) {
        let me = self.router.hash();
        let established = self
            .conns
            .iter()
            .filter(|(_, c)| c.peer == Some(peer) && c.established)
            .map(|(id, c)| duplicates::Established {
                id: *id,
                inbound: c.inbound.is_some(),
            });
        let Some(kept) = duplicates::keep(&me, &peer, established) else {
            return;
        };
        self.by_peer.insert(peer, kept);
        for (id, conn) in &mut self.conns {
            if conn.peer == Some(peer) && conn.established {
                match *id == kept {
                    true => conn.superseded = None,
                    false => {
                        conn.superseded.get_or_insert(now);
                    }
                }
            }
        }
    }

    /// Closes the sessions superseded for [`duplicates::GRACE`] (the check runs with the
    /// status refresh, once a second). Until its Closed event the close is asked again
    /// each time, which a closing connection ignores.
    pub(super) fn close_superseded(&mut self) {
        let now = self.clock.now();
        for (id, conn) in &self.conns {
            let due = conn
                .superseded
                .is_some_and(|since| now.saturating_duration_since(since) >= duplicates::GRACE);
            if due {
                debug!(peer = ?conn.peer, id, "closing a duplicate session");
                let _ = conn
                    .commands
                    .try_send(ConnCommand::Close(TerminationReason::Normal));
            }
        }
    }

    /// Our RouterInfo is republished from time to time; new sessions must send the new one.
    pub(super) fn refresh_local(&mut self) {
        let info = self.router.router_info();
        if !Arc::ptr_eq(info, &self.local.info) {
            self.local = Arc::new(LocalRouter {
                info: info.clone(),
                keys: self.ntcp2.clone(),
                net_id: self.config.net_id,
            });
            if let Err(e) = self.data.save_own_info(info) {
                warn!("cannot save router.info: {e}");
            }
        }
    }

    /// The RouterInfos we hold, as one snapshot to save.
    pub(super) fn netdb_snapshot(&self) -> Vec<Arc<RouterInfo>> {
        let netdb = self.router.netdb();
        netdb
            .store()
            .hashes()
            .filter_map(|h| netdb.get(h).cloned())
            .collect()
    }

    /// The periodic save: a snapshot written on the blocking pool, so thousands of file
    /// writes never stall the router's loop. Skipped while the previous one still runs.
    pub(super) fn save_in_background(&mut self) {
        self.unreachable
            .retain(|_, until| *until > self.clock.now());
        if self.saving.as_ref().is_some_and(|s| !s.is_finished()) {
            return;
        }
        let infos = self.netdb_snapshot();
        let profiles = self.router.profiles().clone();
        let data = self.data.clone();
        self.saving = Some(tokio::task::spawn_blocking(move || {
            save(&data, &infos, &profiles)
        }));
    }

    /// The final save, at shutdown.
    pub(super) fn save(&mut self) {
        save(&self.data, &self.netdb_snapshot(), self.router.profiles());
    }
}
