//! A stream as tokio sees it: [`I2pStream`], one end of an in-memory duplex pipe whose
//! other end a small task copies to and from the router task.
//!
//! The router task must never wait on an application, so the copying task asks: it
//! sends a read request and waits for the answer (data, or end of stream) before it
//! writes that data into the pipe and asks again, and it hands written data over one
//! chunk at a time, waiting until the stream has taken all of it. An application that
//! stops reading fills the pipe, the task stops asking, the stream's receive buffer
//! fills and the peer is choked; a stream whose window is full holds the task's write,
//! which fills the pipe and blocks the application's `write`. Nothing grows without
//! bound on either side.

use super::{AppRequest, StreamKey};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::sync::{mpsc, oneshot};

/// Bytes buffered in the pipe each way.
const PIPE_BUFFER: usize = 64 * 1024;
/// The most handed over in one request (about eight streaming packets).
pub(super) const CHUNK: usize = 16 * 1024;

/// A stream of a local destination: bytes in order both ways until either side shuts
/// down. `shutdown` closes our direction (a CLOSE goes out once what was written
/// before is acknowledged); dropping it closes both. A reset reads as end of stream.
#[derive(Debug)]
pub struct I2pStream {
    pipe: DuplexStream,
}

impl I2pStream {
    /// Starts the task that joins a new stream to the router task.
    pub(super) fn spawn(key: StreamKey, requests: mpsc::Sender<AppRequest>) -> I2pStream {
        let (app, ours) = tokio::io::duplex(PIPE_BUFFER);
        tokio::spawn(copy(key, ours, requests));
        I2pStream { pipe: app }
    }
}

impl AsyncRead for I2pStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_read(cx, buf)
    }
}

impl AsyncWrite for I2pStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.pipe).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_shutdown(cx)
    }
}

/// Copies between the pipe and the router task until both directions are done, then
/// tells the router task the application is gone.
async fn copy(key: StreamKey, pipe: DuplexStream, requests: mpsc::Sender<AppRequest>) {
    let (mut from_app, mut to_app) = tokio::io::split(pipe);
    let upstream = async {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match from_app.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let (done, taken) = oneshot::channel();
            let data = buf[..n].to_vec();
            let sent = requests.send(AppRequest::Write { key, data, done }).await;
            // No answer: the stream is gone, nothing more can be sent.
            if sent.is_err() || taken.await.is_err() {
                return;
            }
        }
        let _ = requests.send(AppRequest::Shutdown { key }).await;
    };
    let downstream = async {
        loop {
            let (reply, answer) = oneshot::channel();
            if requests
                .send(AppRequest::Read { key, reply })
                .await
                .is_err()
            {
                break;
            }
            match answer.await {
                Ok(Some(data)) => {
                    if to_app.write_all(&data).await.is_err() {
                        break;
                    }
                }
                // The end of the stream (or of the router).
                Ok(None) | Err(_) => break,
            }
        }
        let _ = to_app.shutdown().await;
    };
    tokio::join!(upstream, downstream);
    let _ = requests.send(AppRequest::Dropped { key }).await;
}
