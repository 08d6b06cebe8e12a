//! Applications on the real router: the SAM bridge's [`Backend`] over the router task.
//!
//! [`RouterBackend`] is a cheap handle holding a channel into the router task; each of
//! its calls is an [`AppRequest`] answered on a oneshot channel. [`Apps`] is the router
//! task's side: it turns requests into [`Router`] calls, and the router's stream,
//! datagram and LeaseSet events into answers, streams and datagrams for the sessions.
//! Streams reach applications as [`I2pStream`]s (see [`bridge`] for how they are joined
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
use crate::host::sam::backend::{
    Backend, BackendError, ConnectError, Created, LookupError, LookupName, OutgoingDatagram,
    SessionOptions, Target,
};
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

/// The SAM bridge's way into the router task.
#[derive(Debug, Clone)]
pub struct RouterBackend {
    requests: mpsc::Sender<AppRequest>,
}

impl RouterBackend {
    pub(crate) fn new(requests: mpsc::Sender<AppRequest>) -> RouterBackend {
        RouterBackend { requests }
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
            // No address book yet (issue 16): only b32 names resolve.
            LookupName::Host(_) => Err(LookupError::NotFound),
        }
    }
}
