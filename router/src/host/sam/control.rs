//! One client socket: the HELLO handshake, then commands until the socket closes or turns
//! into a stream (STREAM CONNECT / ACCEPT / FORWARD hand it to [`super::stream`]).
//!
//! A socket holds at most one session (a PRIMARY one holds its subsessions); the session
//! ends when the socket closes, and the socket closes when the router ends the session.
//! Timeouts: the HELLO must come within `hello_timeout`; while the socket holds no
//! session, each next command within `command_timeout` (a control socket with a session
//! may stay quiet for as long as the session lives).

use super::backend::{Backend, PortPair};
use super::command::{AuthCommand, Command, Version};
use super::reader::{LineReader, Read};
use super::reply::{Failure, Reply, ResultCode};
use super::server::{Bridge, Socket};
use super::session::{self, Active, Origin};
use super::{datagram, names, stream};
use crate::host::Network;
use crate::units::Span;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tracing::debug;

/// The versions we speak.
const MIN_VERSION: (u8, u8) = (3, 0);
const MAX_VERSION: (u8, u8) = (3, 3);
/// Deliveries (v1/v2 datagrams) queued for a control socket.
const DELIVERY_QUEUE: usize = 64;

/// The highest version within the client's MIN and MAX (`3` is `3.0` as a minimum and
/// any `3.x` as a maximum) and ours; `None`: NOVERSION.
pub fn negotiate(min: Option<Version>, max: Option<Version>) -> Option<Version> {
    let low = min.map_or(MIN_VERSION, |v| (v.major, v.minor.unwrap_or(0)));
    let high = max.map_or(MAX_VERSION, |v| (v.major, v.minor.unwrap_or(u8::MAX)));
    let chosen = high.min(MAX_VERSION);
    (chosen >= low.max(MIN_VERSION)).then_some(Version::new(chosen.0, chosen.1))
}

/// Serves one client socket to its end.
pub(crate) async fn serve<B: Backend, N: Network>(
    bridge: Arc<Bridge<B, N>>,
    stream: N::Stream,
    peer: SocketAddr,
) {
    let mut socket = BufReader::new(stream);
    let mut lines = LineReader::new(bridge.config.max_line);
    let Some(version) = handshake(&bridge, &mut socket, &mut lines).await else {
        let _ = socket.shutdown().await;
        return;
    };
    let (control, deliveries) = mpsc::channel(DELIVERY_QUEUE);
    let mut conn = Control {
        bridge: bridge.clone(),
        peer,
        origin: Origin {
            client: peer.ip(),
            version,
            control,
        },
        active: None,
        lines,
        deliveries,
    };
    let result = conn.run(socket).await;
    if let Err(e) = result {
        debug!(%peer, "SAM socket ended: {e}");
    }
    if let Some(active) = conn.active.take() {
        session::close(&bridge, active).await;
    }
}

async fn write<W: tokio::io::AsyncWrite + Unpin>(socket: &mut W, reply: &Reply) -> io::Result<()> {
    socket.write_all(reply.line().as_bytes()).await
}

/// Reads the HELLO and answers it; `None` if the socket must close.
async fn handshake<B: Backend, N: Network>(
    bridge: &Bridge<B, N>,
    socket: &mut Socket<N>,
    lines: &mut LineReader,
) -> Option<Version> {
    let timeout = bridge.config.hello_timeout.0;
    let result = match tokio::time::timeout(timeout, lines.read(socket)).await {
        Err(_) => Err(Failure::error(format!("no HELLO within {}", Span(timeout)))),
        Ok(Err(_)) | Ok(Ok(Read::Closed)) => return None,
        Ok(Ok(Read::TooLong)) => Err(Failure::error("line too long")),
        Ok(Ok(Read::NotUtf8)) => Err(Failure::error("not UTF-8")),
        Ok(Ok(Read::Line(line))) => hello(bridge, &line),
    };
    let ok = result.as_ref().ok().copied();
    write(socket, &Reply::Hello(result)).await.ok()?;
    ok
}

fn hello<B: Backend, N: Network>(bridge: &Bridge<B, N>, line: &str) -> Result<Version, Failure> {
    match Command::parse(line) {
        Ok(Command::Hello {
            min,
            max,
            user,
            password,
        }) => {
            let version = negotiate(min, max).ok_or(Failure::bare(ResultCode::NoVersion))?;
            let auth = bridge.auth.lock().expect("auth lock");
            if !auth.admits(user.as_deref(), password.as_deref()) {
                return Err(Failure::error("authorization failed"));
            }
            Ok(version)
        }
        Ok(_) => Err(Failure::error("HELLO VERSION first")),
        Err(e) => Err(Failure::error(e.to_string())),
    }
}

/// A socket after its HELLO.
struct Control<B: Backend, N: Network> {
    bridge: Arc<Bridge<B, N>>,
    peer: SocketAddr,
    origin: Origin,
    active: Option<Active<B>>,
    lines: LineReader,
    deliveries: mpsc::Receiver<Vec<u8>>,
}

/// What woke the command loop.
enum Event {
    Read(Option<io::Result<Read>>),
    Deliver(Vec<u8>),
    SessionDied,
}

impl<B: Backend, N: Network> Control<B, N> {
    async fn next_event(&mut self, socket: &mut Socket<N>) -> Event {
        let idle = self
            .active
            .is_none()
            .then_some(self.bridge.config.command_timeout.0);
        let lines = &mut self.lines;
        let read = async {
            match idle {
                Some(limit) => tokio::time::timeout(limit, lines.read(socket)).await.ok(),
                None => Some(lines.read(socket).await),
            }
        };
        let active = &mut self.active;
        let died = async {
            match active {
                Some(a) => {
                    let _ = a.died.wait_for(|d| *d).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = read => Event::Read(read),
            Some(bytes) = self.deliveries.recv() => Event::Deliver(bytes),
            () = died => Event::SessionDied,
        }
    }

    async fn run(&mut self, mut socket: Socket<N>) -> io::Result<()> {
        loop {
            let line = match self.next_event(&mut socket).await {
                Event::Deliver(bytes) => {
                    socket.write_all(&bytes).await?;
                    continue;
                }
                Event::SessionDied => {
                    let reply = Reply::Session(Err(Failure::error("the session ended")));
                    return write(&mut socket, &reply).await;
                }
                Event::Read(None) => {
                    let why = format!("no command within {}", self.bridge.config.command_timeout);
                    return write(&mut socket, &Reply::Session(Err(Failure::error(why)))).await;
                }
                Event::Read(Some(read)) => match read? {
                    Read::Line(line) => line,
                    Read::Closed => return Ok(()),
                    Read::TooLong => {
                        let reply = Reply::Session(Err(Failure::error("line too long")));
                        return write(&mut socket, &reply).await;
                    }
                    Read::NotUtf8 => {
                        let reply = Reply::Session(Err(Failure::error("not UTF-8")));
                        return write(&mut socket, &reply).await;
                    }
                },
            };
            let command = match Command::parse(&line) {
                Ok(command) => command,
                Err(e) => {
                    write(
                        &mut socket,
                        &error_reply(&line, Failure::error(e.to_string())),
                    )
                    .await?;
                    continue;
                }
            };
            if is_stream(&command) {
                return self.stream(socket, command).await;
            }
            match self.command(&mut socket, command).await? {
                Step::Reply(reply) => write(&mut socket, &reply).await?,
                Step::Quiet => {}
                Step::Quit => return Ok(()),
            }
        }
    }

    /// Hands the socket to a STREAM command (on a socket without a session).
    async fn stream(&mut self, mut socket: Socket<N>, command: Command) -> io::Result<()> {
        if self.active.is_some() {
            let failure = Failure::error("streams need a socket of their own, not the session's");
            return write(&mut socket, &Reply::Stream(Err(failure))).await;
        }
        let bridge = &self.bridge;
        let version = self.origin.version;
        match command {
            Command::StreamConnect {
                id,
                destination,
                silent,
                from_port,
                to_port,
            } => stream::connect(bridge, socket, id, destination, silent, from_port, to_port).await,
            Command::StreamAccept { id, silent } => {
                stream::accept(bridge, socket, id, silent, version).await
            }
            Command::StreamForward {
                id,
                port,
                host,
                silent,
                ssl,
            } => {
                let peer = self.peer;
                stream::forward(bridge, socket, peer, id, port, host, silent, ssl, version).await
            }
            _ => Ok(()),
        }
    }

    /// Every command but HELLO and the STREAM ones.
    async fn command(&mut self, socket: &mut Socket<N>, command: Command) -> io::Result<Step> {
        let bridge = &self.bridge;
        let session = self.active.as_ref().map(|a| &*a.session);
        let reply = match command {
            Command::Hello { .. } => Reply::Hello(Err(Failure::error("HELLO was already said"))),
            Command::SessionCreate {
                style,
                id,
                destination,
                signature_type,
                params,
            } => {
                if self.active.is_some() {
                    let failure = Failure::error("this socket already holds a session");
                    return Ok(Step::Reply(Reply::Session(Err(failure))));
                }
                let created = session::create(
                    bridge,
                    &self.origin,
                    style,
                    id,
                    destination,
                    signature_type,
                    params,
                )
                .await;
                Reply::Session(created.map(|(active, ok)| {
                    self.active = Some(active);
                    ok
                }))
            }
            Command::SessionAdd { style, id, params } => Reply::Session(match &self.active {
                Some(active) => session::add(bridge, active, &self.origin, style, id, params),
                None => Err(Failure::error(
                    "SESSION ADD needs a PRIMARY session on this socket",
                )),
            }),
            Command::SessionRemove { id } => Reply::Session(match &self.active {
                Some(active) => session::remove(bridge, active, id),
                None => Err(Failure::error(
                    "SESSION REMOVE needs a PRIMARY session on this socket",
                )),
            }),
            Command::DatagramSend {
                raw,
                destination,
                size,
                from_port,
                to_port,
                protocol,
            } => {
                let mut payload = vec![0u8; size];
                let limit = bridge.config.command_timeout.0;
                match tokio::time::timeout(limit, socket.read_exact(&mut payload)).await {
                    Ok(read) => read?,
                    Err(_) => return Err(io::ErrorKind::TimedOut.into()),
                };
                let sent =
                    self.send_datagram(raw, &destination, from_port, to_port, protocol, payload);
                match sent.await {
                    Ok(()) => return Ok(Step::Quiet),
                    Err(failure) => Reply::Session(Err(failure)),
                }
            }
            Command::NamingLookup { name, options } => {
                names::lookup(bridge, session, name, options).await
            }
            Command::DestGenerate { signature_type } => names::generate(bridge, signature_type),
            Command::Ping(text) => Reply::Pong(text),
            // An answer to a PING we never send: nothing to do.
            Command::Pong(_) => return Ok(Step::Quiet),
            Command::Quit => return Ok(Step::Quit),
            Command::Help => Reply::Session(Err(Failure::error("HELP is not implemented"))),
            Command::Auth(auth) => Reply::Auth(self.auth(auth)),
            Command::StreamConnect { .. }
            | Command::StreamAccept { .. }
            | Command::StreamForward { .. } => return Ok(Step::Quiet),
        };
        Ok(Step::Reply(reply))
    }

    /// DATAGRAM SEND / RAW SEND: from this socket's session, which must be of that style.
    async fn send_datagram(
        &self,
        raw: bool,
        destination: &str,
        from_port: Option<u16>,
        to_port: Option<u16>,
        protocol: Option<u8>,
        payload: Vec<u8>,
    ) -> Result<(), Failure> {
        use super::command::Style;
        let wanted = if raw { Style::Raw } else { Style::Datagram };
        let sub = self
            .active
            .as_ref()
            .and_then(|a| a.session.subs().iter().find(|s| s.style == wanted).cloned())
            .filter(|_| self.active.as_ref().is_some_and(|a| !a.session.primary))
            .ok_or_else(|| {
                Failure::error(format!(
                    "{} SEND needs a {wanted:?} session on this socket (not PRIMARY)",
                    if raw { "RAW" } else { "DATAGRAM" }
                ))
            })?;
        let ports = PortPair {
            from: from_port.unwrap_or(sub.ports.from),
            to: to_port.unwrap_or(sub.ports.to),
        };
        datagram::send(&self.bridge, &sub, destination, ports, protocol, payload).await
    }

    /// AUTH: changes who may connect from now on (in memory; not saved).
    fn auth(&self, command: AuthCommand) -> Result<(), Failure> {
        let mut auth = self.bridge.auth.lock().expect("auth lock");
        match command {
            AuthCommand::Enable if auth.users.is_empty() => {
                Err(Failure::error("add a user before enabling authorization"))
            }
            AuthCommand::Enable => {
                auth.enabled = true;
                Ok(())
            }
            AuthCommand::Disable => {
                auth.enabled = false;
                Ok(())
            }
            AuthCommand::Add { user, password } => {
                if auth.users.contains_key(&user) {
                    return Err(Failure::error(format!("user {user:?} exists")));
                }
                auth.users.insert(user, password);
                Ok(())
            }
            AuthCommand::Remove { user } => match auth.users.remove(&user) {
                Some(_) => Ok(()),
                None => Err(Failure::error(format!("no user {user:?}"))),
            },
        }
    }
}

/// What a command asks of the socket.
enum Step {
    Reply(Reply),
    /// No answer (DATAGRAM SEND that went out, PONG).
    Quiet,
    Quit,
}

/// STREAM commands turn the socket into a stream.
fn is_stream(command: &Command) -> bool {
    matches!(
        command,
        Command::StreamConnect { .. }
            | Command::StreamAccept { .. }
            | Command::StreamForward { .. }
    )
}

/// An error answered in the family of the line's command (SESSION STATUS for lines
/// that name none we know).
fn error_reply(line: &str, failure: Failure) -> Reply {
    let verb = line
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    match verb.as_str() {
        "HELLO" => Reply::Hello(Err(failure)),
        "STREAM" => Reply::Stream(Err(failure)),
        "NAMING" => Reply::Naming {
            name: String::new(),
            result: Err(failure),
        },
        "DEST" => Reply::Dest(Err(failure)),
        "AUTH" => Reply::Auth(Err(failure)),
        _ => Reply::Session(Err(failure)),
    }
}
