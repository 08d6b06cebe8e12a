//! The stream workload (`[streams]`): page fetches between destinations over the
//! routers' streaming library, through the application API any program uses
//! (`Router::stream_connect`, `stream_write`, `stream_read`, `stream_close`).
//!
//! Each client destination fetches, as a Poisson process, from a server destination
//! drawn at random: it opens a stream, writes the request, reads the response and, with
//! the last byte read, closes. The request's first bytes ([`Request`]) say how much to
//! send back; the server listens, accepts, reads the whole request, writes the response
//! and closes. Each fetch becomes a `streams.csv` row ([`StreamRecord`]).
//!
//! The workload holds no router: its plug-in ([`crate::workload::streams`]) hands it the
//! router a call concerns, on its timers ([`Timer`]) and with the routers' stream events. Its
//! random choices come from a generator of its own, so adding it shifts no other draw,
//! and scenarios without `[streams]` never create it.

use crate::scenario::Streams;
use ramsons_analysis::records::StreamRecord;
use ramsons_analysis::stats::percentile;
use ramsons_router::client::streaming::{
    ConnectionStats, ManagerEvent, Ports, StreamEvent, StreamId, TimeoutKind,
};
use ramsons_router::client::DestinationId;
use ramsons_router::data::Destination;
use ramsons_router::time::Instant;
use ramsons_router::Router;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::time::Duration;

/// The ports of every fetch: servers listen on 80.
const PORTS: Ports = Ports { from: 0, to: 80 };

/// Bytes moved per read or write call.
const CHUNK: usize = 16 * 1024;

/// What a response is made of (the streaming library does not compress, so the content
/// does not change what goes on the wire).
static ZEROS: [u8; CHUNK] = [0; CHUNK];

/// What the first bytes of a request say; the rest is zero padding up to its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The fetch's number, for the records: a real server would not know it.
    pub fetch: u64,
    /// The whole request, header included.
    pub length: u32,
    /// Bytes the server is to send back.
    pub response: u32,
}

impl Request {
    pub const LEN: usize = 16;

    /// The request padded to its length (at least [`Request::LEN`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity((self.length as usize).max(Self::LEN));
        out.extend_from_slice(&self.fetch.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
        out.extend_from_slice(&self.response.to_be_bytes());
        out.resize((self.length as usize).max(Self::LEN), 0);
        out
    }

    /// The header in the first [`Request::LEN`] bytes; `None` if short or inconsistent.
    pub fn decode(head: &[u8]) -> Option<Request> {
        let head = head.get(..Self::LEN)?;
        let fetch = u64::from_be_bytes(head[..8].try_into().ok()?);
        let length = u32::from_be_bytes(head[8..12].try_into().ok()?);
        let response = u32::from_be_bytes(head[12..16].try_into().ok()?);
        (length as usize >= Self::LEN).then_some(Request {
            fetch,
            length,
            response,
        })
    }
}

/// What the workload asks the world to wake it for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Client destination `client` starts its next fetch (if its router's `epoch`
    /// still matches: it has not gone down since).
    Fetch { client: u32, epoch: u32 },
    /// Fetch `fetch` is out of time.
    Deadline { fetch: u64 },
}

/// One end of a stream: the router (index), the destination on it, the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    pub router: u32,
    pub id: DestinationId,
    pub stream: StreamId,
}

impl End {
    /// The stream's counters, while the router still holds it.
    pub fn stats(&self, router: &Router) -> Option<ConnectionStats> {
        router.streams(self.id)?.stream_stats(self.stream)
    }
}

#[derive(Debug)]
struct Fetch {
    started: Instant,
    client: u32,
    server: u32,
    /// The client's end; the stream is dropped when the fetch ends or the router restarts.
    router: u32,
    id: DestinationId,
    stream: Option<StreamId>,
    /// Request bytes the stream has not taken yet.
    unsent: Vec<u8>,
    request_bytes: u64,
    response_bytes: u64,
    connected: Option<Instant>,
    first_byte: Option<Instant>,
    finished: Option<(Instant, &'static str)>,
    received: u64,
    /// The last counters seen of each end (a stream's counters go with it).
    client_stats: ConnectionStats,
    server_stats: ConnectionStats,
    /// The server's end, once it read the request.
    server_end: Option<End>,
}

impl Fetch {
    fn client_end(&self) -> Option<End> {
        Some(End {
            router: self.router,
            id: self.id,
            stream: self.stream?,
        })
    }
}

/// A stream a server accepted.
#[derive(Debug)]
struct Serving {
    id: DestinationId,
    /// The request's header, as it arrives.
    head: Vec<u8>,
    read: u64,
    request: Option<Request>,
    /// Response bytes not written yet (set once the whole request is read).
    unsent: Option<u64>,
    closed: bool,
}

#[derive(Debug)]
pub struct StreamWorkload {
    /// Mean time between a client's fetches; `None`: clients do not fetch.
    interval: Option<Duration>,
    request_bytes: u64,
    /// Response sizes with their cumulative weights, for drawing.
    responses: Vec<(u64, f64)>,
    timeout: Duration,
    /// The serving destinations, by index (destinations `0..servers.len()`).
    servers: Vec<Destination>,
    rng: ChaCha20Rng,
    warmup_end: Instant,
    /// No fetch starts after this: it could not end before the run does.
    last_start: Instant,
    /// Every fetch, by number.
    fetches: Vec<Fetch>,
    /// Open client streams: (router, stream) to the fetch.
    clients: BTreeMap<(u32, StreamId), u64>,
    serving: BTreeMap<(u32, StreamId), Serving>,
    buf: Vec<u8>,
}

impl StreamWorkload {
    /// The workload of `spec`, with `servers` the destinations of its servers in order.
    pub fn new(
        spec: &Streams,
        servers: Vec<Destination>,
        rng: ChaCha20Rng,
        warmup_end: Instant,
        stop: Instant,
    ) -> Self {
        let rate = spec.fetches_per_client_hour;
        let mut total = 0.0;
        let responses = spec
            .responses()
            .into_iter()
            .map(|(size, weight)| {
                total += weight;
                (size, total)
            })
            .collect();
        Self {
            interval: (rate > 0.0).then(|| Duration::from_secs_f64(3600.0 / rate)),
            request_bytes: spec.request_size.0,
            responses,
            timeout: spec.timeout.0,
            servers,
            rng,
            warmup_end,
            last_start: stop - spec.timeout.0,
            fetches: Vec::new(),
            clients: BTreeMap::new(),
            serving: BTreeMap::new(),
            buf: vec![0; CHUNK],
        }
    }

    /// Whether destination `d` serves (the others fetch).
    pub fn serves(&self, d: u32) -> bool {
        (d as usize) < self.servers.len()
    }

    /// How long until a client's next fetch (exponential); `None` if clients do not fetch.
    pub fn next_fetch_in(&mut self) -> Option<Duration> {
        let mean = self.interval?;
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        Some(mean.mul_f64(-u.ln()))
    }

    /// Client destination `client` (`id` on router `router_index`) starts a fetch from a
    /// server drawn at random; returns its deadline for the world to schedule.
    pub fn start(
        &mut self,
        now: Instant,
        client: u32,
        router_index: u32,
        router: &mut Router,
        id: DestinationId,
    ) -> Option<(Instant, Timer)> {
        if now > self.last_start || self.servers.is_empty() {
            return None;
        }
        let server = self.rng.gen_range(0..self.servers.len());
        let response_bytes = self.draw_response();
        let number = self.fetches.len() as u64;
        let request = Request {
            fetch: number,
            length: self.request_bytes as u32,
            response: response_bytes as u32,
        };
        let stream = router
            .stream_connect(now, id, self.servers[server].clone(), PORTS)
            .ok();
        self.fetches.push(Fetch {
            started: now,
            client,
            server: server as u32,
            router: router_index,
            id,
            stream,
            unsent: request.encode(),
            request_bytes: self.request_bytes,
            response_bytes,
            connected: None,
            first_byte: None,
            finished: None,
            received: 0,
            client_stats: ConnectionStats::default(),
            server_stats: ConnectionStats::default(),
            server_end: None,
        });
        let Some(stream) = stream else {
            self.fetches[number as usize].finished = Some((now, StreamRecord::CONNECT_FAILED));
            return None;
        };
        self.clients.insert((router_index, stream), number);
        self.write_request(now, number, router);
        Some((now + self.timeout, Timer::Deadline { fetch: number }))
    }

    fn draw_response(&mut self) -> u64 {
        let Some(&(_, total)) = self.responses.last() else {
            return 0;
        };
        if self.responses.len() == 1 {
            return self.responses[0].0;
        }
        let x = self.rng.gen_range(0.0..total);
        self.responses
            .iter()
            .find(|(_, upto)| x < *upto)
            .map_or(self.responses[0].0, |(size, _)| *size)
    }

    /// A stream event of destination `id` on router `router_index`. Returns the fetch it
    /// ended, if it ended one: the world then reads the server's counters.
    pub fn on_event(
        &mut self,
        now: Instant,
        router_index: u32,
        router: &mut Router,
        id: DestinationId,
        event: ManagerEvent,
    ) -> Option<u64> {
        let (stream, event) = match event {
            ManagerEvent::Stream { id, event } => (id, event),
            ManagerEvent::Incoming { .. } => {
                self.accept(router_index, router, id);
                return None;
            }
            ManagerEvent::Refused { .. } => return None,
        };
        if let Some(&fetch) = self.clients.get(&(router_index, stream)) {
            return self.on_client_event(now, fetch, router, event);
        }
        self.accept(router_index, router, id);
        let end = End {
            router: router_index,
            id,
            stream,
        };
        if self.serving.contains_key(&(router_index, stream)) {
            self.on_server_event(now, end, router, event);
        }
        None
    }

    fn on_client_event(
        &mut self,
        now: Instant,
        number: u64,
        router: &mut Router,
        event: StreamEvent,
    ) -> Option<u64> {
        let f = number as usize;
        if let Some(stats) = self.fetches[f].client_end().and_then(|e| e.stats(router)) {
            self.fetches[f].client_stats = stats;
        }
        let connected = self.fetches[f].connected.is_some();
        let outcome = match event {
            StreamEvent::Connected => {
                self.fetches[f].connected.get_or_insert(now);
                self.write_request(now, number, router);
                return None;
            }
            StreamEvent::Writable => {
                self.write_request(now, number, router);
                return None;
            }
            StreamEvent::Readable => {
                self.read_response(now, number, router);
                let fetch = &self.fetches[f];
                if fetch.received < fetch.response_bytes {
                    return None;
                }
                StreamRecord::COMPLETED
            }
            // The server closed before sending everything.
            StreamEvent::PeerClosed | StreamEvent::Closed => StreamRecord::RESET,
            StreamEvent::TimedOut(TimeoutKind::Connect) => StreamRecord::CONNECT_FAILED,
            StreamEvent::Reset { .. } | StreamEvent::TimedOut(_) if connected => {
                StreamRecord::RESET
            }
            StreamEvent::Reset { .. } | StreamEvent::TimedOut(_) => StreamRecord::CONNECT_FAILED,
        };
        let close = matches!(event, StreamEvent::Readable | StreamEvent::PeerClosed);
        self.finish(now, number, outcome, Some(router), close);
        Some(number)
    }

    /// Ends fetch `number` with `outcome`; with `router`, the client's stream is closed
    /// (`close`) or reset when it is still open.
    fn finish(
        &mut self,
        now: Instant,
        number: u64,
        outcome: &'static str,
        router: Option<&mut Router>,
        close: bool,
    ) {
        let fetch = &mut self.fetches[number as usize];
        fetch.finished = Some((now, outcome));
        let Some(end) = fetch.client_end() else {
            return;
        };
        fetch.stream = None;
        self.clients.remove(&(end.router, end.stream));
        if let Some(router) = router {
            let closed = matches!(outcome, StreamRecord::RESET | StreamRecord::CONNECT_FAILED);
            if close || !closed {
                router.stream_close(now, end.id, end.stream, !close);
            }
        }
    }

    fn write_request(&mut self, now: Instant, number: u64, router: &mut Router) {
        let fetch = &mut self.fetches[number as usize];
        let Some(end) = fetch.client_end() else {
            return;
        };
        if !fetch.unsent.is_empty() {
            let taken = router.stream_write(now, end.id, end.stream, &fetch.unsent);
            fetch.unsent.drain(..taken);
        }
    }

    fn read_response(&mut self, now: Instant, number: u64, router: &mut Router) {
        let fetch = &mut self.fetches[number as usize];
        let Some(end) = fetch.client_end() else {
            return;
        };
        loop {
            let n = router.stream_read(now, end.id, end.stream, &mut self.buf);
            if n == 0 {
                break;
            }
            fetch.first_byte.get_or_insert(now);
            fetch.received += n as u64;
        }
    }

    /// Takes every stream destination `id` has waiting (servers only).
    fn accept(&mut self, router_index: u32, router: &mut Router, id: DestinationId) {
        while let Some(stream) = router.stream_accept(id) {
            self.serving.insert(
                (router_index, stream),
                Serving {
                    id,
                    head: Vec::with_capacity(Request::LEN),
                    read: 0,
                    request: None,
                    unsent: None,
                    closed: false,
                },
            );
        }
    }

    fn on_server_event(&mut self, now: Instant, end: End, router: &mut Router, event: StreamEvent) {
        let key = (end.router, end.stream);
        match event {
            StreamEvent::Readable => self.read_request(now, end, router),
            StreamEvent::Writable => self.write_response(now, end, router),
            StreamEvent::PeerClosed => {
                let waiting = self.serving.get(&key).is_some_and(|s| s.unsent.is_none());
                if waiting {
                    // The client closed before its whole request came.
                    router.stream_close(now, end.id, end.stream, true);
                }
            }
            StreamEvent::Connected => {}
            StreamEvent::Closed | StreamEvent::Reset { .. } | StreamEvent::TimedOut(_) => {
                self.serving.remove(&key);
                return;
            }
        }
        self.note_server_stats(end, router);
    }

    fn read_request(&mut self, now: Instant, end: End, router: &mut Router) {
        let Some(serving) = self.serving.get_mut(&(end.router, end.stream)) else {
            return;
        };
        loop {
            let n = router.stream_read(now, end.id, end.stream, &mut self.buf);
            if n == 0 {
                break;
            }
            let wanted = Request::LEN.saturating_sub(serving.head.len()).min(n);
            serving.head.extend_from_slice(&self.buf[..wanted]);
            serving.read += n as u64;
        }
        if serving.request.is_none() && serving.head.len() == Request::LEN {
            serving.request = Request::decode(&serving.head);
            if serving.request.is_none() {
                router.stream_close(now, end.id, end.stream, true);
                return;
            }
        }
        let Some(request) = serving.request else {
            return;
        };
        if serving.unsent.is_none() && serving.read >= u64::from(request.length) {
            serving.unsent = Some(u64::from(request.response));
            if let Some(fetch) = self.fetches.get_mut(request.fetch as usize) {
                fetch.server_end = Some(end);
            }
            self.write_response(now, end, router);
        }
    }

    /// Writes what the stream takes of the response, and closes after the last byte.
    fn write_response(&mut self, now: Instant, end: End, router: &mut Router) {
        let Some(serving) = self.serving.get_mut(&(end.router, end.stream)) else {
            return;
        };
        let Some(unsent) = serving.unsent.as_mut() else {
            return;
        };
        while *unsent > 0 {
            let chunk = (*unsent).min(CHUNK as u64) as usize;
            let taken = router.stream_write(now, serving.id, end.stream, &ZEROS[..chunk]);
            if taken == 0 {
                break;
            }
            *unsent -= taken as u64;
        }
        if *unsent == 0 && !serving.closed {
            serving.closed = true;
            router.stream_close(now, serving.id, end.stream, false);
        }
    }

    /// Keeps the server's counters of a fetch still running.
    fn note_server_stats(&mut self, end: End, router: &Router) {
        let request = self
            .serving
            .get(&(end.router, end.stream))
            .and_then(|s| s.request);
        let (Some(request), Some(stats)) = (request, end.stats(router)) else {
            return;
        };
        if let Some(fetch) = self.fetches.get_mut(request.fetch as usize) {
            if fetch.finished.is_none() {
                fetch.server_stats = stats;
            }
        }
    }

    /// The router of fetch `number`'s client.
    pub fn client_router(&self, number: u64) -> Option<u32> {
        self.fetches.get(number as usize).map(|f| f.router)
    }

    /// The server's end of fetch `number`, once it read the request.
    pub fn server_end(&self, number: u64) -> Option<End> {
        self.fetches.get(number as usize)?.server_end
    }

    /// The server's counters of fetch `number` at its end.
    pub fn set_server_stats(&mut self, number: u64, stats: ConnectionStats) {
        if let Some(fetch) = self.fetches.get_mut(number as usize) {
            fetch.server_stats = stats;
        }
    }

    /// Fetch `number`'s deadline: if it is still running, its client resets it (`router`
    /// is the client's router, `None` when that is down). Returns whether it ended it.
    pub fn on_deadline(&mut self, now: Instant, number: u64, router: Option<&mut Router>) -> bool {
        let Some(fetch) = self.fetches.get_mut(number as usize) else {
            return false;
        };
        if fetch.finished.is_some() {
            return false;
        }
        if let (Some(end), Some(router)) = (fetch.client_end(), router.as_deref()) {
            if let Some(stats) = end.stats(router) {
                fetch.client_stats = stats;
            }
        }
        self.finish(now, number, StreamRecord::TIMED_OUT, router, false);
        true
    }

    /// Router `router_index` restarted: its streams are gone (its fetches time out).
    pub fn forget_router(&mut self, router_index: u32) {
        let gone: Vec<u64> = self
            .clients
            .iter()
            .filter(|((r, _), _)| *r == router_index)
            .map(|(_, f)| *f)
            .collect();
        for f in gone {
            self.fetches[f as usize].stream = None;
        }
        self.clients.retain(|(r, _), _| *r != router_index);
        self.serving.retain(|(r, _), _| *r != router_index);
    }

    /// The fetches started after warmup, in the order they started; those still running
    /// count as timed out.
    pub fn records(&self, start: Instant) -> Vec<StreamRecord> {
        let since = |from: Instant, at: Instant| millis(at.saturating_duration_since(from));
        self.fetches
            .iter()
            .filter(|f| f.started >= self.warmup_end)
            .map(|f| {
                let (c, s) = (&f.client_stats, &f.server_stats);
                let outcome = f.finished.map_or(StreamRecord::TIMED_OUT, |(_, o)| o);
                let completed = outcome == StreamRecord::COMPLETED;
                StreamRecord {
                    time_s: f.started.saturating_duration_since(start).as_secs_f64(),
                    client: f.client,
                    server: f.server,
                    request_bytes: f.request_bytes,
                    response_bytes: f.response_bytes,
                    outcome: outcome.to_owned(),
                    connect_ms: f.connected.map(|t| since(f.started, t)),
                    ttfb_ms: f.first_byte.map(|t| since(f.started, t)),
                    completion_ms: f
                        .finished
                        .filter(|_| completed)
                        .map(|(t, _)| since(f.started, t)),
                    bytes_received: f.received,
                    packets_sent: c.packets_sent + s.packets_sent,
                    retransmissions: c.retransmissions + s.retransmissions,
                    fast_retransmits: c.fast_retransmits + s.fast_retransmits,
                    rto_timeouts: c.timeouts + s.timeouts,
                }
            })
            .collect()
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The run's stream scalars for `summary.csv` (a median is left out when nothing was
/// measured): `stream_fetches`, `stream_completion_rate` (completed / fetches),
/// `stream_connect_median_s` (of fetches that connected), `stream_ttfb_median_s` (of
/// those that got a byte), `stream_completion_median_s` and
/// `stream_throughput_median_kib_s` (of completed fetches, response KiB per second of
/// the whole fetch: [`StreamRecord::throughput_kib_s`]), `stream_retransmissions_mean` (resends
/// per fetch, both ends).
pub fn summary(records: &[StreamRecord]) -> Vec<(String, f64)> {
    let median = |values: Vec<f64>| {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        percentile(&v, 50.0)
    };
    let seconds = |pick: fn(&StreamRecord) -> Option<f64>| {
        median(records.iter().filter_map(pick).collect()).map(|ms| ms / 1000.0)
    };
    let n = records.len();
    let mut out = vec![("stream_fetches", Some(n as f64))];
    if n > 0 {
        let completed = records.iter().filter(|r| r.is_completed()).count();
        let resends: u64 = records.iter().map(|r| r.retransmissions).sum();
        out.extend([
            ("stream_completion_rate", Some(completed as f64 / n as f64)),
            ("stream_connect_median_s", seconds(|r| r.connect_ms)),
            ("stream_ttfb_median_s", seconds(|r| r.ttfb_ms)),
            ("stream_completion_median_s", seconds(|r| r.completion_ms)),
            (
                "stream_throughput_median_kib_s",
                median(
                    records
                        .iter()
                        .filter_map(|r| r.throughput_kib_s())
                        .collect(),
                ),
            ),
            (
                "stream_retransmissions_mean",
                Some(resends as f64 / n as f64),
            ),
        ]);
    }
    out.into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_junk_is_refused() {
        let r = Request {
            fetch: 9,
            length: 256,
            response: 10_240,
        };
        let bytes = r.encode();
        assert_eq!(bytes.len(), 256);
        assert_eq!(Request::decode(&bytes), Some(r));
        assert_eq!(Request::decode(&bytes[..15]), None);
        let short = Request { length: 3, ..r }.encode();
        assert_eq!(short.len(), Request::LEN);
        assert_eq!(Request::decode(&short), None, "a length below the header");
    }

    fn record(outcome: &str, connect: f64, ttfb: f64, done: Option<f64>) -> StreamRecord {
        StreamRecord {
            time_s: 100.0,
            client: 3,
            server: 0,
            request_bytes: 256,
            response_bytes: 10_240,
            outcome: outcome.into(),
            connect_ms: Some(connect),
            ttfb_ms: Some(ttfb),
            completion_ms: done,
            bytes_received: if done.is_some() { 10_240 } else { 100 },
            packets_sent: 20,
            retransmissions: 2,
            fast_retransmits: 1,
            rto_timeouts: 0,
        }
    }

    #[test]
    fn summary_takes_medians_of_what_was_measured() {
        let records = [
            record(StreamRecord::COMPLETED, 1000.0, 2000.0, Some(3000.0)),
            record(StreamRecord::COMPLETED, 2000.0, 3000.0, Some(4000.0)),
            record(StreamRecord::TIMED_OUT, 3000.0, 4000.0, None),
            record(StreamRecord::COMPLETED, 500.0, 600.0, Some(1500.0)),
        ];
        let s: BTreeMap<String, f64> = summary(&records).into_iter().collect();
        assert_eq!(s["stream_fetches"], 4.0);
        assert_eq!(s["stream_completion_rate"], 0.75);
        assert_eq!(s["stream_connect_median_s"], 1.0);
        assert_eq!(s["stream_ttfb_median_s"], 2.0);
        assert_eq!(s["stream_completion_median_s"], 3.0);
        // 10 KiB in 3 s, 4 s and 1.5 s.
        assert_eq!(s["stream_throughput_median_kib_s"], 10.0 / 3.0);
        assert_eq!(s["stream_retransmissions_mean"], 2.0);
        let none = summary(&[]);
        assert_eq!(none, vec![("stream_fetches".to_owned(), 0.0)]);
    }
}
