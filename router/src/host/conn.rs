//! One NTCP2 connection: a task that moves bytes between a socket and a sans-IO
//! [`Session`], and messages between the session and the router task.

use super::clock::Clock;
use super::Traffic;
use crate::data::{Hash, RouterInfo};
use crate::i2np::I2npMessage;
use crate::transport::ntcp2::{ReplayCache, Session, SessionEvent, TerminationReason};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::sleep_until;

/// Identifies a connection for its lifetime (peer hashes are only known after the
/// handshake, and a peer may have two connections for a moment).
pub(super) type ConnId = u64;

/// What the router task tells a connection.
#[derive(Debug)]
pub(super) enum ConnCommand {
    Send(I2npMessage),
    Close(TerminationReason),
}

/// What a connection tells the router task.
#[derive(Debug)]
pub(super) struct ConnEvent {
    pub id: ConnId,
    pub kind: ConnEventKind,
}

#[derive(Debug)]
pub(super) enum ConnEventKind {
    /// The handshake completed. Inbound sessions carry the peer's verified RouterInfo.
    Established {
        peer: Hash,
        info: Option<Arc<RouterInfo>>,
    },
    Message(I2npMessage),
    /// The peer sent its (verified) RouterInfo in the data phase.
    RouterInfo(Arc<RouterInfo>),
    /// The connection is gone; always the last event of a connection.
    Closed {
        reason: String,
    },
}

/// How the connection task is wired to the rest of the driver.
#[derive(Debug, Clone)]
pub(super) struct ConnContext {
    pub clock: Clock,
    pub idle_timeout: Duration,
    pub events: mpsc::Sender<ConnEvent>,
    pub traffic: Arc<Traffic>,
    /// SessionRequests seen by any inbound connection.
    pub replay: Arc<Mutex<ReplayCache>>,
}

/// Which side of the connection we are, and (inbound) the seed of the probing
/// resistance's random choices.
#[derive(Debug, Clone, Copy)]
pub(super) enum Side {
    Outbound,
    Inbound { seed: u64 },
}

/// Bytes waiting to be written above which the connection stops taking messages from
/// the router: a peer that reads slowly backs up into the command channel, whose
/// overflow the router drops like any lost message, instead of into memory.
const HIGH_WATER: usize = 256 * 1024;

/// A peer that takes no bytes for this long while we have some to write has stopped
/// reading (or its network has): the connection is closed.
const WRITE_STALL: Duration = Duration::from_secs(30);

/// How long the last bytes (a Termination) get to leave when the connection ends.
const FINAL_FLUSH: Duration = Duration::from_secs(2);

/// Runs one connection to its end. `session` is fresh (dialling or accepting); the task
/// reports `Closed` exactly once, whatever ends it. Reading, writing and the router's
/// commands are served in one `select!`, so neither a peer that stops reading nor one
/// that stops writing blocks the other direction or the timers.
pub(super) async fn run<S>(
    id: ConnId,
    side: Side,
    stream: S,
    mut session: Session,
    mut commands: mpsc::Receiver<ConnCommand>,
    ctx: ConnContext,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut buf = vec![0u8; 16 * 1024];
    let mut out: Vec<u8> = Vec::new();
    let mut idle_deadline = tokio::time::Instant::now() + ctx.idle_timeout;
    let mut write_deadline = None;
    let mut closed: Option<String> = None;
    let mut established = false;
    let mut replay_checked = matches!(side, Side::Outbound);
    loop {
        while let Some(bytes) = session.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
        if out.is_empty() {
            write_deadline = None;
        } else if write_deadline.is_none() {
            write_deadline = Some(tokio::time::Instant::now() + WRITE_STALL);
        }
        while let Some(event) = session.poll_event() {
            let kind = match event {
                SessionEvent::Established { peer, info } => {
                    established = true;
                    ConnEventKind::Established { peer, info }
                }
                SessionEvent::Message(msg) => ConnEventKind::Message(msg),
                SessionEvent::RouterInfo(info) => ConnEventKind::RouterInfo(info),
                SessionEvent::Closed { reason } => {
                    closed.get_or_insert_with(|| format!("{reason:?}"));
                    continue;
                }
            };
            report(&ctx, id, kind).await;
        }
        if closed.is_some() || session.is_closed() {
            break;
        }
        let session_deadline = session.poll_timeout().map(|at| ctx.clock.deadline(at));
        tokio::select! {
            read = reader.read(&mut buf) => {
                let now = ctx.clock.now();
                match read {
                    Ok(0) => closed = Some("peer closed the connection".into()),
                    Ok(n) => {
                        ctx.traffic.received.fetch_add(n as u64, Ordering::Relaxed);
                        idle_deadline = tokio::time::Instant::now() + ctx.idle_timeout;
                        // An error also arrives as a Closed event, with its reason.
                        let _ = session.handle_input(now, &buf[..n]);
                        if let (false, Some(key)) = (replay_checked, session.request_key()) {
                            replay_checked = true;
                            let fresh = ctx
                                .replay
                                .lock()
                                .map_or(true, |mut cache| cache.insert(now, key));
                            if !fresh {
                                // Before message 2 is written: a replay learns nothing.
                                session.close(now, TerminationReason::Message1Error);
                                closed = Some("replayed SessionRequest".into());
                            }
                        }
                    }
                    Err(e) => closed = Some(format!("read failed: {e}")),
                }
            }
            written = writer.write(&out), if !out.is_empty() => match written {
                Ok(0) => closed = Some("peer closed the connection".into()),
                Ok(n) => {
                    out.drain(..n);
                    ctx.traffic.sent.fetch_add(n as u64, Ordering::Relaxed);
                    write_deadline = None;
                }
                Err(e) => closed = Some(format!("write failed: {e}")),
            },
            command = commands.recv(), if out.len() < HIGH_WATER => match command {
                // Only what the peer sends counts against idleness: a peer that has
                // gone silent while we keep sending is gone.
                Some(ConnCommand::Send(msg)) => session.send(&msg),
                Some(ConnCommand::Close(reason)) => session.close(ctx.clock.now(), reason),
                None => session.close(ctx.clock.now(), TerminationReason::RouterShutdown),
            },
            () = sleep_until(session_deadline.unwrap_or(idle_deadline)),
                if session_deadline.is_some() => {
                session.handle_timeout(ctx.clock.now());
            }
            () = sleep_until(write_deadline.unwrap_or(idle_deadline)),
                if write_deadline.is_some() => {
                closed = Some("peer stopped reading".into());
            }
            () = sleep_until(idle_deadline) => {
                session.close(ctx.clock.now(), TerminationReason::IdleTimeout);
            }
        }
    }
    // Whatever the session still has to say (a Termination block) goes out before the
    // socket closes, if the peer takes it soon; errors no longer matter.
    while let Some(bytes) = session.poll_transmit() {
        out.extend_from_slice(&bytes);
    }
    if !out.is_empty() {
        let _ = tokio::time::timeout(FINAL_FLUSH, writer.write_all(&out)).await;
    }
    // The router frees the connection's slot now, even if probing resistance below
    // keeps the socket open a while longer.
    report(
        &ctx,
        id,
        ConnEventKind::Closed {
            reason: closed.unwrap_or_else(|| "closed".into()),
        },
    )
    .await;
    if let Side::Inbound { seed } = side {
        if !established {
            resist_probing(&mut reader, seed).await;
        }
    }
    let _ = writer.shutdown().await;
}

async fn report(ctx: &ConnContext, id: ConnId, kind: ConnEventKind) {
    // Waiting here is the backpressure that keeps a flooding peer from filling memory.
    // The router task outlives every connection, except at shutdown when nobody needs
    // the event any more.
    let _ = ctx.events.send(ConnEvent { id, kind }).await;
}

/// A failed inbound handshake does not close at once: an immediate close after a bad
/// message 1 would tell a prober that this is an NTCP2 listener whose key it got wrong.
/// The spec (NTCP2, "Probing resistance") has Bob read a random number of further bytes,
/// or wait a random time, before closing.
async fn resist_probing<S: AsyncRead + Unpin>(stream: &mut S, seed: u64) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut budget: usize = rng.gen_range(16..1024);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(rng.gen_range(500..5000));
    let mut buf = [0u8; 256];
    while budget > 0 {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => budget = budget.saturating_sub(n),
            _ => return,
        }
    }
}
