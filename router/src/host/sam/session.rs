//! Sessions: SESSION CREATE / ADD / REMOVE, the registry of IDs and destinations, and
//! which subsession what arrives belongs to.
//!
//! Every session is a destination ([`Session`]) with one or more subsessions ([`Sub`]): a
//! STREAM, DATAGRAM, DATAGRAM2, DATAGRAM3 or RAW session is a destination with one
//! subsession of the same ID; a PRIMARY session starts with none and gets them from
//! SESSION ADD. IDs are global: the primary's, every subsession's.

use super::backend::{Backend, BackendError, Inbound, PortPair, SessionOptions};
use super::command::{DestinationSpec, SessionParams, SignatureType, Style, Version};
use super::keys;
use super::reply::{Failure, ResultCode, SessionOk};
use super::server::Bridge;
use super::stream::Listen;
use super::{datagram, stream};
use crate::crypto::DestinationKeys;
use crate::data::Hash;
use crate::host::Network;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::debug;

/// One destination a client runs, with its subsessions.
pub(crate) struct Session<B: Backend> {
    pub(crate) handle: B::Session,
    pub(crate) keys: DestinationKeys,
    pub(crate) primary: bool,
    /// The control socket's peer: default HOST for forwarding, the only address allowed
    /// to send on the UDP port in this session's name.
    pub(crate) client: IpAddr,
    /// The version the control socket negotiated (FROM_PORT/TO_PORT from 3.2).
    pub(crate) version: Version,
    pub(crate) subs: Mutex<Vec<Arc<Sub<B>>>>,
    /// Set when the session ends: streams of the session stop with it.
    pub(crate) closed: watch::Sender<bool>,
}

/// How a datagram subsession hands over what it receives.
#[derive(Debug, Clone)]
pub(crate) enum Delivery {
    /// Streams only.
    None,
    /// To HOST:PORT over UDP, from the bridge's UDP socket.
    Udp(SocketAddr),
    /// On the control socket (`DATAGRAM RECEIVED` / `RAW RECEIVED`), the v1/v2 way.
    Control(mpsc::Sender<Vec<u8>>),
}

/// A subsession: a style, its default ports, what it listens to, where deliveries go.
pub(crate) struct Sub<B: Backend> {
    pub(crate) id: String,
    pub(crate) style: Style,
    pub(crate) session: Arc<Session<B>>,
    /// FROM_PORT and TO_PORT for what it sends.
    pub(crate) ports: PortPair,
    /// PROTOCOL for RAW sends.
    pub(crate) protocol: u8,
    /// Incoming traffic to this port (0: any).
    pub(crate) listen_port: u16,
    /// Incoming RAW protocol (0: any).
    pub(crate) listen_protocol: u8,
    /// RAW forwarded with a `FROM_PORT= TO_PORT= PROTOCOL=` line first.
    pub(crate) header: bool,
    pub(crate) delivery: Delivery,
    pub(crate) listen: Mutex<Listen<B::Stream>>,
}

impl<B: Backend> Sub<B> {
    pub(crate) fn listen(&self) -> MutexGuard<'_, Listen<B::Stream>> {
        // Nothing panics while holding it; a poisoned lock means a bug already reported.
        self.listen.lock().expect("listen lock")
    }

    /// Whether traffic of `protocol` may go to this subsession at all.
    fn takes(&self, protocol: u8) -> bool {
        use crate::client::app_payload::protocol as p;
        match self.style {
            Style::Stream => protocol == p::STREAMING,
            Style::Datagram => protocol == p::DATAGRAM,
            Style::Datagram2 => protocol == p::DATAGRAM2,
            Style::Datagram3 => protocol == p::DATAGRAM3,
            Style::Raw if self.listen_protocol == 0 => !RESERVED_PROTOCOLS.contains(&protocol),
            Style::Raw => protocol == self.listen_protocol,
            Style::Primary { .. } => false,
        }
    }
}

impl<B: Backend> Session<B> {
    pub(crate) fn subs(&self) -> MutexGuard<'_, Vec<Arc<Sub<B>>>> {
        self.subs.lock().expect("subsessions lock")
    }

    /// The subsession `protocol` traffic to `to_port` belongs to: one listening on that
    /// port before one listening on any (0), an exact RAW protocol before a wildcard.
    /// `None`: nobody takes it, and it is dropped.
    pub(crate) fn route(&self, protocol: u8, to_port: u16) -> Option<Arc<Sub<B>>> {
        self.subs()
            .iter()
            .filter(|s| s.takes(protocol) && (s.listen_port == 0 || s.listen_port == to_port))
            .max_by_key(|s| (s.listen_port != 0, s.listen_protocol != 0))
            .cloned()
    }
}

/// Protocols no RAW session may send or listen to: streaming and the three datagrams.
pub(crate) const RESERVED_PROTOCOLS: [u8; 4] = [6, 17, 19, 20];

/// Every session and ID the bridge holds.
pub(crate) struct Registry<B: Backend> {
    ids: BTreeMap<String, Entry<B>>,
    /// IDs and destinations of sessions still being created (the router builds tunnels
    /// first), so that no one else can take them meanwhile.
    pending_ids: BTreeSet<String>,
    destinations: BTreeSet<Hash>,
    per_client: BTreeMap<IpAddr, usize>,
}

/// What an ID names.
pub(crate) enum Entry<B: Backend> {
    /// A PRIMARY session's own ID: known, but nothing is sent or received on it.
    Primary,
    Sub(Arc<Sub<B>>),
}

impl<B: Backend> Default for Registry<B> {
    fn default() -> Self {
        Registry {
            ids: BTreeMap::new(),
            pending_ids: BTreeSet::new(),
            destinations: BTreeSet::new(),
            per_client: BTreeMap::new(),
        }
    }
}

impl<B: Backend> Registry<B> {
    /// The subsession with this ID, or why not (INVALID_ID, or a primary's ID used where
    /// a subsession's is needed).
    pub(crate) fn sub(&self, id: &str) -> Result<Arc<Sub<B>>, Failure> {
        match self.ids.get(id) {
            Some(Entry::Sub(sub)) => Ok(sub.clone()),
            Some(Entry::Primary) => Err(Failure::error(
                "use a subsession ID: a PRIMARY session sends and receives nothing itself",
            )),
            None => Err(Failure::new(
                ResultCode::InvalidId,
                format!("no session {id:?}"),
            )),
        }
    }

    pub(crate) fn sessions(&self) -> usize {
        self.destinations.len()
    }

    fn id_taken(&self, id: &str) -> bool {
        self.ids.contains_key(id) || self.pending_ids.contains(id)
    }
}

/// The session a control socket holds, and the task that routes its traffic.
pub(crate) struct Active<B: Backend> {
    pub(crate) session: Arc<Session<B>>,
    pub(crate) id: String,
    dispatcher: JoinHandle<()>,
    /// Ends when the router ends the destination.
    pub(crate) died: watch::Receiver<bool>,
}

/// What a control socket contributes to a SESSION CREATE.
pub(crate) struct Origin {
    pub(crate) client: IpAddr,
    pub(crate) version: Version,
    /// Where v1/v2 deliveries for this socket go.
    pub(crate) control: mpsc::Sender<Vec<u8>>,
}

/// SESSION CREATE.
pub(crate) async fn create<B: Backend, N: Network>(
    bridge: &Arc<Bridge<B, N>>,
    origin: &Origin,
    style: Style,
    id: String,
    destination: DestinationSpec,
    signature_type: Option<SignatureType>,
    mut params: SessionParams,
) -> Result<(Active<B>, SessionOk), Failure> {
    let options = SessionOptions {
        options: std::mem::take(&mut params.options),
    };
    let template = settings(style, &params, false, origin)?;
    let keys = session_keys(bridge, destination, signature_type)?;
    let hash = keys.hash();
    reserve(bridge, &id, hash, origin.client)?;
    let created = bridge.backend.create_session(keys.clone(), options).await;
    let created = match created {
        Ok(created) => created,
        Err(e) => {
            release(
                bridge,
                std::slice::from_ref(&id),
                Some(hash),
                origin.client,
                true,
            );
            return Err(match e {
                BackendError::DuplicatedDest => Failure::bare(ResultCode::DuplicatedDest),
                BackendError::InvalidKey(m) => Failure::new(ResultCode::InvalidKey, m),
                BackendError::Other(m) => Failure::error(m),
            });
        }
    };
    let private_keys = keys::private_base64(&keys);
    let session = Arc::new(Session {
        handle: created.session,
        keys,
        primary: style.is_primary(),
        client: origin.client,
        version: origin.version,
        subs: Mutex::new(Vec::new()),
        closed: watch::Sender::new(false),
    });
    let entry = if let Some(template) = template {
        let sub = Arc::new(template.into_sub(id.clone(), session.clone()));
        session.subs().push(sub.clone());
        Entry::Sub(sub)
    } else {
        Entry::Primary
    };
    {
        let mut registry = bridge.registry();
        registry.pending_ids.remove(&id);
        registry.ids.insert(id.clone(), entry);
    }
    let (died_tx, died) = watch::channel(false);
    let dispatcher = tokio::spawn(dispatch(
        bridge.clone(),
        session.clone(),
        created.inbound,
        died_tx,
    ));
    debug!(%id, destination = %hash, ?style, "SAM session created");
    let active = Active {
        session,
        id,
        dispatcher,
        died,
    };
    Ok((active, SessionOk::Created { private_keys }))
}

/// SESSION ADD, on the control socket of a PRIMARY session.
pub(crate) fn add<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    active: &Active<B>,
    origin: &Origin,
    style: Style,
    id: String,
    params: SessionParams,
) -> Result<SessionOk, Failure> {
    let session = &active.session;
    if !session.primary {
        return Err(Failure::error("SESSION ADD needs a PRIMARY session"));
    }
    let template = settings(style, &params, true, origin)?
        .ok_or_else(|| Failure::error("a subsession cannot be PRIMARY"))?;
    let mut registry = bridge.registry();
    if registry.id_taken(&id) {
        return Err(Failure::bare(ResultCode::DuplicatedId));
    }
    let mut subs = session.subs();
    if subs.len() >= bridge.config.max_subsessions {
        return Err(Failure::error("too many subsessions"));
    }
    let clash = subs.iter().any(|s| {
        s.style == style
            && s.listen_port == template.listen_port
            && s.listen_protocol == template.listen_protocol
    });
    if clash {
        return Err(Failure::error(
            "another subsession of this style listens on the same LISTEN_PORT and protocol",
        ));
    }
    let sub = Arc::new(template.into_sub(id.clone(), session.clone()));
    subs.push(sub.clone());
    registry.ids.insert(id.clone(), Entry::Sub(sub));
    Ok(SessionOk::Added {
        id,
        private_keys: keys::private_base64(&session.keys),
    })
}

/// SESSION REMOVE, on the control socket of a PRIMARY session.
pub(crate) fn remove<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    active: &Active<B>,
    id: String,
) -> Result<SessionOk, Failure> {
    let mut registry = bridge.registry();
    let sub = registry
        .sub(&id)
        .map_err(|_| Failure::new(ResultCode::InvalidId, format!("no subsession {id:?}")))?;
    if !Arc::ptr_eq(&sub.session, &active.session) || !active.session.primary {
        return Err(Failure::error(
            "not a subsession of this socket's PRIMARY session",
        ));
    }
    registry.ids.remove(&id);
    active.session.subs().retain(|s| !Arc::ptr_eq(s, &sub));
    sub.listen().close();
    Ok(SessionOk::Removed { id })
}

/// Ends the session of a control socket that closed (or whose destination died).
pub(crate) async fn close<B: Backend, N: Network>(bridge: &Bridge<B, N>, active: Active<B>) {
    let session = active.session;
    active.dispatcher.abort();
    let subs: Vec<_> = std::mem::take(&mut *session.subs());
    let mut ids: Vec<String> = subs.iter().map(|s| s.id.clone()).collect();
    if session.primary {
        ids.push(active.id.clone());
    }
    for sub in &subs {
        sub.listen().close();
    }
    release(
        bridge,
        &ids,
        Some(session.keys.hash()),
        session.client,
        false,
    );
    session.closed.send_replace(true);
    bridge.backend.remove_session(&session.handle).await;
    debug!(id = %active.id, "SAM session closed");
}

/// Checks and claims the ID and destination of a new session, and counts it.
fn reserve<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    id: &str,
    hash: Hash,
    client: IpAddr,
) -> Result<(), Failure> {
    let mut registry = bridge.registry();
    if registry.id_taken(id) {
        return Err(Failure::bare(ResultCode::DuplicatedId));
    }
    if registry.destinations.contains(&hash) {
        return Err(Failure::bare(ResultCode::DuplicatedDest));
    }
    if registry.sessions() >= bridge.config.max_sessions {
        return Err(Failure::error("too many sessions on this bridge"));
    }
    let mine = registry.per_client.entry(client).or_default();
    if *mine >= bridge.config.max_sessions_per_client {
        return Err(Failure::error("too many sessions from this client"));
    }
    *mine += 1;
    registry.pending_ids.insert(id.to_owned());
    registry.destinations.insert(hash);
    Ok(())
}

/// Gives back what [`reserve`] claimed (and the registered IDs).
fn release<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    ids: &[String],
    hash: Option<Hash>,
    client: IpAddr,
    pending: bool,
) {
    let mut registry = bridge.registry();
    for id in ids {
        if pending {
            registry.pending_ids.remove(id);
        } else {
            registry.ids.remove(id);
        }
    }
    if let Some(hash) = hash {
        registry.destinations.remove(&hash);
    }
    if let Some(count) = registry.per_client.get_mut(&client) {
        *count -= 1;
        if *count == 0 {
            registry.per_client.remove(&client);
        }
    }
}

/// The keys of a new session: fresh for TRANSIENT (Ed25519 only), or the client's.
fn session_keys<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    destination: DestinationSpec,
    signature_type: Option<SignatureType>,
) -> Result<DestinationKeys, Failure> {
    match destination {
        DestinationSpec::Transient => {
            check_signature_type(signature_type)?;
            Ok(bridge.generate_keys())
        }
        DestinationSpec::Keys(text) => keys::parse_private(&text)
            .map_err(|e| Failure::new(ResultCode::InvalidKey, e.to_string())),
    }
}

/// SIGNATURE_TYPE for new keys: 7, or refused (the default is DSA_SHA1, by the spec).
pub(crate) fn check_signature_type(signature_type: Option<SignatureType>) -> Result<(), Failure> {
    match signature_type.unwrap_or(SignatureType::DSA_SHA1) {
        SignatureType::ED25519 => Ok(()),
        SignatureType(other) => Err(Failure::error(format!(
            "signature type {other} is not supported (the default is DSA_SHA1, 0): \
             send SIGNATURE_TYPE=7 (EdDSA_SHA512_Ed25519)"
        ))),
    }
}

/// A subsession's settings, checked against what its style allows.
struct Template {
    style: Style,
    ports: PortPair,
    protocol: u8,
    listen_port: u16,
    listen_protocol: u8,
    header: bool,
    delivery: Delivery,
}

impl Template {
    fn into_sub<B: Backend>(self, id: String, session: Arc<Session<B>>) -> Sub<B> {
        Sub {
            id,
            style: self.style,
            session,
            ports: self.ports,
            protocol: self.protocol,
            listen_port: self.listen_port,
            listen_protocol: self.listen_protocol,
            header: self.header,
            delivery: self.delivery,
            listen: Mutex::new(Listen::default()),
        }
    }
}

/// Checks SESSION CREATE's or ADD's options for `style`; `None` for a PRIMARY session,
/// which has no subsession of its own. `added`: a subsession of a PRIMARY session.
fn settings(
    style: Style,
    p: &SessionParams,
    added: bool,
    origin: &Origin,
) -> Result<Option<Template>, Failure> {
    let not = |what: &str, why: &str| Err(Failure::error(format!("{what} is not allowed {why}")));
    if style.is_primary() {
        return if sets_any(p) {
            not(
                "PORT, HOST, FROM_PORT, TO_PORT, PROTOCOL, LISTEN_* or HEADER",
                "on PRIMARY",
            )
        } else {
            Ok(None)
        };
    }
    let raw = style == Style::Raw;
    if !raw && (p.protocol.is_some() || p.listen_protocol.is_some() || p.header.is_some()) {
        return not("PROTOCOL, LISTEN_PROTOCOL or HEADER", "but for STYLE=RAW");
    }
    let ports = PortPair {
        from: p.from_port.unwrap_or(0),
        to: p.to_port.unwrap_or(0),
    };
    let protocol = p
        .protocol
        .unwrap_or(crate::client::app_payload::protocol::RAW);
    let listen_protocol = p.listen_protocol.unwrap_or(protocol);
    if raw && (RESERVED_PROTOCOLS.contains(&protocol) || listen_protocol == 6) {
        return not("PROTOCOL 6, 17, 19 or 20 (LISTEN_PROTOCOL 6)", "for RAW");
    }
    // A standalone session takes everything of its style; a subsession, by default,
    // what comes to its FROM_PORT.
    let listen_port = if added {
        p.listen_port.unwrap_or(ports.from)
    } else {
        p.listen_port.unwrap_or(0)
    };
    let listen_protocol = if added || p.listen_protocol.is_some() {
        listen_protocol
    } else {
        0
    };
    let delivery = if style == Style::Stream {
        if p.port.is_some() || p.host.is_some() {
            return not("PORT or HOST", "for STYLE=STREAM");
        }
        if listen_port != 0 && listen_port != ports.from {
            return not(
                "a LISTEN_PORT other than FROM_PORT or 0",
                "for STYLE=STREAM",
            );
        }
        Delivery::None
    } else {
        match p.port {
            Some(port) => Delivery::Udp(SocketAddr::new(
                datagram::host(p.host.as_deref(), origin.client)?,
                port,
            )),
            None if added => {
                return Err(Failure::error("PORT is required for datagram subsessions"))
            }
            None => Delivery::Control(origin.control.clone()),
        }
    };
    Ok(Some(Template {
        style,
        ports,
        protocol,
        listen_port,
        listen_protocol: if raw { listen_protocol } else { 0 },
        header: p.header.unwrap_or(false),
        delivery,
    }))
}

/// Whether any of the options a PRIMARY session must not have is set.
fn sets_any(p: &SessionParams) -> bool {
    p.port.is_some()
        || p.host.is_some()
        || p.from_port.is_some()
        || p.to_port.is_some()
        || p.protocol.is_some()
        || p.listen_port.is_some()
        || p.listen_protocol.is_some()
        || p.header.is_some()
}

/// Routes what the router delivers for `session` until its channel closes (the
/// destination died), then tells the control socket.
async fn dispatch<B: Backend, N: Network>(
    bridge: Arc<Bridge<B, N>>,
    session: Arc<Session<B>>,
    mut inbound: mpsc::Receiver<Inbound<B::Stream>>,
    died: watch::Sender<bool>,
) {
    while let Some(item) = inbound.recv().await {
        match item {
            Inbound::Stream(incoming) => {
                match session.route(
                    crate::client::app_payload::protocol::STREAMING,
                    incoming.ports.to,
                ) {
                    Some(sub) => stream::route(&bridge, &sub, incoming),
                    None => debug!("incoming stream for no STREAM subsession dropped"),
                }
            }
            Inbound::Datagram(d) => match session.route(d.kind.protocol(), d.ports.to) {
                Some(sub) => datagram::deliver(&bridge, &sub, d).await,
                None => debug!(
                    protocol = d.kind.protocol(),
                    "datagram for no subsession dropped"
                ),
            },
        }
    }
    died.send_replace(true);
}
