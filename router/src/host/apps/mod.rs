//! Applications on the real router: the SAM bridge's [`Backend`] over the router task.
//!
//! [`RouterBackend`] is a cheap handle holding a channel into the router task; each of
//! its calls is an [`AppRequest`] answered on a oneshot channel. [`Apps`] is the router
//! task's side: it turns requests into [`Router`] calls, and the router's stream,
//! datagram and LeaseSet events into answers, streams and datagrams for the sessions.
//! Host names resolve through the router's address book ([`SharedBook`]), b32
//! addresses through the netDb. Streams reach applications as [`I2pStream`]s (see [`bridge`] for how they are joined
//! to the router task without it ever waiting).

mod bridge;
mod options;
mod session;

pub use bridge::I2pStream;
pub use session::RouterSession;

use crate::client::streaming::StreamId;
use crate::client::DestinationId;
use crate::crypto::DestinationKeys;
use crate::data::{Destination, Hash};
use crate::host::addressbook::SharedBook;
use crate::host::sam::backend::{
    Backend, BackendError, ConnectError, Created, LookupError, LookupName, OutgoingDatagram,
    SessionOptions, Target,
};
use crate::naming::HostName;
use std::future::Future;
use tokio::sync::{mpsc, oneshot};

pub(crate) use session::Apps;

/// Requests waiting for the router task, at most; callers wait when it is full.
pub(crate) const REQUEST_QUEUE: usize = 1024;

/// A stream of a local destination, as the router task names it.
pub(crate) type StreamKey = (DestinationId, StreamId);

/// What applications ask of the router task.
#[derive(Debug)]
pub(crate) enum AppRequest {
    CreateSession {
        /// Boxed: the keys are most of the request's size.
        keys: Box<DestinationKeys>,
        options: SessionOptions,
        reply: oneshot::Sender<Result<Created<RouterSession, I2pStream>, BackendError>>,
    },
    RemoveSession {
        id: DestinationId,
    },
    Connect {
        id: DestinationId,
        to: Target,
        ports: crate::client::streaming::Ports,
        reply: oneshot::Sender<Result<I2pStream, ConnectError>>,
    },
    SendDatagram {
        id: DestinationId,
        datagram: OutgoingDatagram,
        reply: oneshot::Sender<Result<(), BackendError>>,
    },
    Lookup {
        hash: Hash,
        reply: oneshot::Sender<Result<Destination, LookupError>>,
    },
    /// From a stream's copying task: `data` to send; `done` is answered once the
    /// stream took all of it, and dropped if the stream is gone.
    Write {
        key: StreamKey,
        data: Vec<u8>,
        done: oneshot::Sender<()>,
    },
    /// The next data of a stream, or `None` at its end.
    Read {
        key: StreamKey,
        reply: oneshot::Sender<Option<Vec<u8>>>,
    },
    /// The application shut its direction down.
    Shutdown {
        key: StreamKey,
    },
    /// The application let go of the stream.
    Dropped {
        key: StreamKey,
    },
}

/// The SAM bridge's way into the router task, and to the address book.
#[derive(Debug, Clone)]
pub struct RouterBackend {
    requests: mpsc::Sender<AppRequest>,
    book: SharedBook,
}

impl RouterBackend {
    pub(crate) fn new(requests: mpsc::Sender<AppRequest>, book: SharedBook) -> RouterBackend {
        RouterBackend { requests, book }
    }

    /// A host name from the address book. Names the naming rules refuse are invalid,
    /// except `.b32.i2p` ones (b33 addresses), which are simply not found.
    fn lookup_host(&self, name: &str) -> Result<Destination, LookupError> {
        if let Some(dest) = self.book.lookup(name) {
            return dest.to_destination().map_err(|_| {
                LookupError::Invalid(format!(
                    "{name} is a destination of signature type {}, which this router cannot use",
                    dest.sig_type()
                ))
            });
        }
        match HostName::parse(name) {
            Err(why) if !name.ends_with(".b32.i2p") => Err(LookupError::Invalid(format!(
                "{name:?} is not a valid host name: {why}"
            ))),
            _ => Err(LookupError::NotFound),
        }
    }

    /// Sends a request made around a reply channel and waits for the answer; `gone` is
    /// the answer when the router task has stopped.
    async fn ask<T>(&self, request: impl FnOnce(oneshot::Sender<T>) -> AppRequest, gone: T) -> T {
        let (reply, answer) = oneshot::channel();
        if self.requests.send(request(reply)).await.is_err() {
            return gone;
        }
        answer.await.unwrap_or(gone)
    }
}

fn stopped() -> String {
    "the router is shutting down".to_string()
}

impl Backend for RouterBackend {
    type Stream = I2pStream;
    type Session = RouterSession;

    fn create_session(
        &self,
        keys: DestinationKeys,
        options: SessionOptions,
    ) -> impl Future<Output = Result<Created<RouterSession, I2pStream>, BackendError>> + Send {
        self.ask(
            |reply| AppRequest::CreateSession {
                keys: Box::new(keys),
                options,
                reply,
            },
            Err(BackendError::Other(stopped())),
        )
    }

    fn remove_session(&self, session: &RouterSession) -> impl Future<Output = ()> + Send {
        let request = AppRequest::RemoveSession { id: session.id() };
        async move {
            let _ = self.requests.send(request).await;
        }
    }

    fn connect(
        &self,
        session: &RouterSession,
        to: Target,
        ports: crate::host::sam::backend::PortPair,
    ) -> impl Future<Output = Result<I2pStream, ConnectError>> + Send {
        let id = session.id();
        let ports = crate::client::streaming::Ports {
            from: ports.from,
            to: ports.to,
        };
        self.ask(
            move |reply| AppRequest::Connect {
                id,
                to,
                ports,
                reply,
            },
            Err(ConnectError::CantReachPeer(stopped())),
        )
    }

    fn send_datagram(
        &self,
        session: &RouterSession,
        datagram: OutgoingDatagram,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let id = session.id();
        self.ask(
            move |reply| AppRequest::SendDatagram {
                id,
                datagram,
                reply,
            },
            Err(BackendError::Other(stopped())),
        )
    }

    async fn lookup(
        &self,
        _session: Option<&RouterSession>,
        name: LookupName,
    ) -> Result<Destination, LookupError> {
        match name {
            LookupName::Hash(hash) => {
                self.ask(
                    |reply| AppRequest::Lookup { hash, reply },
                    Err(LookupError::NotFound),
                )
                .await
            }
            LookupName::Host(name) => self.lookup_host(&name),
        }
    }
}

#[cfg(test)]
mod tests {
    //! NAMING LOOKUP through the SAM bridge with the router's backend and address book.

    use super::*;
    use crate::host::config::{AddressBookSection, SamSection};
    use crate::host::sam::SamServer;
    use crate::host::{DataDir, Tokio};
    use rand::SeedableRng;
    use std::net::SocketAddr;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    async fn ask(io: &mut BufReader<tokio::net::TcpStream>, line: &str) -> String {
        io.get_mut()
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write");
        let mut reply = String::new();
        let read = io.read_line(&mut reply);
        tokio::time::timeout(std::time::Duration::from_secs(5), read)
            .await
            .expect("a reply in time")
            .expect("read");
        reply.trim_end().to_owned()
    }

    #[tokio::test]
    async fn naming_lookup_resolves_through_the_address_book() {
        let keys = DestinationKeys::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(9));
        let public = keys.destination().to_base64();
        let mut dsa = vec![1u8; 384];
        dsa.extend_from_slice(&[0, 0, 0]);
        let dir = tempfile::tempdir().expect("temp dir");
        let hosts = dir.path().join("hosts.txt");
        let text = format!(
            "known.i2p={public}\nold.i2p={}\n",
            crate::data::base64_encode(&dsa)
        );
        std::fs::write(&hosts, text).expect("write hosts");
        let config = AddressBookSection {
            hosts: vec![hosts],
            ..AddressBookSection::default()
        };
        let book = SharedBook::open(&config, &DataDir::open(dir.path()).expect("data"));
        // No router task: b32 lookups find the channel closed and answer "not found".
        let (requests, _) = mpsc::channel(1);
        let sam = SamSection {
            tcp: SocketAddr::from(([127, 0, 0, 1], 0)),
            udp: None,
            ..SamSection::default()
        };
        let rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let server = SamServer::bind(sam, RouterBackend::new(requests, book), Tokio, rng)
            .await
            .expect("bind");
        let addr = server.tcp_addr();
        tokio::spawn(server.run(std::future::pending()));
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut io = BufReader::new(stream);
        assert!(ask(&mut io, "HELLO VERSION").await.contains("RESULT=OK"));

        assert_eq!(
            ask(&mut io, "NAMING LOOKUP NAME=Known.I2P").await,
            format!("NAMING REPLY RESULT=OK NAME=Known.I2P VALUE={public}")
        );
        let missing = ask(&mut io, "NAMING LOOKUP NAME=unknown.i2p").await;
        assert!(missing.contains("RESULT=KEY_NOT_FOUND"), "{missing}");
        let invalid = ask(&mut io, "NAMING LOOKUP NAME=bad--name.i2p").await;
        assert!(invalid.contains("RESULT=INVALID_KEY"), "{invalid}");
        let dsa = ask(&mut io, "NAMING LOOKUP NAME=old.i2p").await;
        assert!(
            dsa.contains("RESULT=INVALID_KEY") && dsa.contains("type 0"),
            "{dsa}"
        );
        let b32 = keys.destination().to_b32_address();
        let unknown = ask(&mut io, &format!("NAMING LOOKUP NAME={b32}")).await;
        assert!(unknown.contains("RESULT=KEY_NOT_FOUND"), "{unknown}");
    }
}
