//! Metric collection: turns router events and periodic samples into the records of
//! `ramsons_analysis::records`, and writes them as CSV.
//!
//! Metrics only read the world; nothing here draws from a generator the routers or the
//! network use, so recording more or fewer metrics never changes the trace.

use crate::app::AppMessage;
use crate::scenario::Metric;
use ramsons_analysis::records::{
    CollusionRecord, CoverageRecord, CsvWriter, DeliveryRecord, FloodfillLoadRecord, IslandsRecord,
    LookupRecord, StoreRecord, StreamRecord, SummaryRecord, TunnelBuildRecord, TunnelSampleRecord,
};
use ramsons_analysis::stats::percentile;
use ramsons_router::netdb::{LookupAnswer, NetDbEvent, Purpose};
use ramsons_router::profile::selection::Direction;
use ramsons_router::time::Instant;
use ramsons_router::tunnel::{BuildOutcome, TunnelEvent};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Per-floodfill totals after warmup.
#[derive(Debug, Default, Clone, Copy)]
struct FloodfillLoad {
    stores_received: u64,
    floods_received: u64,
    lookups_received: u64,
    replies_found: u64,
    replies_search: u64,
    floods_sent: u64,
    bytes_received: u64,
}

/// Counters of the current sample interval.
#[derive(Debug, Default, Clone, Copy)]
struct Interval {
    stores_received: u64,
    floods_received: u64,
    floods_sent: u64,
    publishes: u64,
    publishes_verified: u64,
    publishes_failed: u64,
}

/// One online router's tunnel layer at a sample.
#[derive(Debug, Clone, Copy)]
pub struct TunnelRouterSample {
    pub inbound: u64,
    pub outbound: u64,
    pub participating: u64,
    /// Fast, high capacity, not failing, failing.
    pub tiers: [u64; 4],
}

/// What one sample of a role's netDbs looked like.
#[derive(Debug)]
pub struct CoverageSample {
    pub role: &'static str,
    pub online_routers: u64,
    /// RouterInfos known by each online router of the role.
    pub known: Vec<u64>,
    /// For a subset of them: the fraction of online routers they know.
    pub coverage: Vec<f64>,
}

#[derive(Debug)]
pub struct Collector {
    record: Vec<Metric>,
    start: Instant,
    warmup_end: Instant,
    lookups: Vec<LookupRecord>,
    stores: Vec<StoreRecord>,
    interval: Interval,
    load: Vec<FloodfillLoad>,
    coverage: Vec<CoverageRecord>,
    tunnel_builds: Vec<TunnelBuildRecord>,
    tunnel_samples: Vec<TunnelSampleRecord>,
    tests: (u64, u64),
    transit_at_last_sample: u64,
    collusion: CollusionRecord,
    /// Application messages sent after warmup and not yet delivered, by number.
    /// Application messages sent after warmup, by number, with their send time. The
    /// record's outcome stays `lost` until something else happens to the message.
    messages: BTreeMap<u64, (Instant, DeliveryRecord)>,
    /// Scalars added by study code with [`Collector::add_summary`], in the order added.
    added_summary: Vec<SummaryRecord>,
    islands: Vec<IslandsRecord>,
    /// When the first mass withdrawal happened, for the recovery scalars.
    withdrawal: Option<Instant>,
    /// The stream fetches, with `[streams]`.
    streams: Option<Vec<StreamRecord>>,
}

impl Collector {
    pub fn new(record: Vec<Metric>, start: Instant, warmup: Duration) -> Self {
        Self {
            record,
            start,
            warmup_end: start + warmup,
            lookups: Vec::new(),
            stores: Vec::new(),
            interval: Interval::default(),
            load: Vec::new(),
            coverage: Vec::new(),
            tunnel_builds: Vec::new(),
            tunnel_samples: Vec::new(),
            tests: (0, 0),
            transit_at_last_sample: 0,
            collusion: CollusionRecord::default(),
            messages: BTreeMap::new(),
            added_summary: Vec::new(),
            islands: Vec::new(),
            withdrawal: None,
            streams: None,
        }
    }

    fn seconds(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.start).as_secs_f64()
    }

    fn counting(&self, now: Instant) -> bool {
        now >= self.warmup_end
    }

    fn load_of(&mut self, router: u32) -> &mut FloodfillLoad {
        let i = router as usize;
        if self.load.len() <= i {
            self.load.resize(i + 1, FloodfillLoad::default());
        }
        &mut self.load[i]
    }

    /// A message of `bytes` reached `router`.
    pub fn on_delivery(&mut self, now: Instant, router: u32, floodfill: bool, bytes: usize) {
        if floodfill && self.counting(now) {
            self.load_of(router).bytes_received += bytes as u64;
        }
    }

    /// Router `router` (a floodfill when `floodfill`) reported `event`.
    pub fn on_event(&mut self, now: Instant, router: u32, floodfill: bool, event: &NetDbEvent) {
        if !self.counting(now) {
            return;
        }
        match event {
            NetDbEvent::LookupFinished {
                key,
                purpose: Purpose::Client,
                found,
                started,
                peers_queried,
                timeouts,
                ..
            } if *started >= self.warmup_end => {
                self.lookups.push(LookupRecord {
                    time_s: self.seconds(*started),
                    router,
                    target: key.to_base64().chars().take(8).collect(),
                    outcome: if *found { "found" } else { "not_found" }.to_owned(),
                    latency_ms: now.saturating_duration_since(*started).as_secs_f64() * 1e3,
                    peers_queried: *peers_queried,
                    timeouts: *timeouts,
                });
            }
            NetDbEvent::LookupFinished { .. } => {}
            NetDbEvent::PublishFinished { failure, .. } => {
                self.interval.publishes += 1;
                if failure.is_none() {
                    self.interval.publishes_verified += 1;
                } else {
                    self.interval.publishes_failed += 1;
                }
            }
            NetDbEvent::StoreReceived { flooded, .. } => {
                if *flooded {
                    self.interval.floods_received += 1;
                } else {
                    self.interval.stores_received += 1;
                }
                if floodfill {
                    let load = self.load_of(router);
                    if *flooded {
                        load.floods_received += 1;
                    } else {
                        load.stores_received += 1;
                    }
                }
            }
            NetDbEvent::LookupReceived { answer, .. } => {
                if floodfill {
                    let load = self.load_of(router);
                    load.lookups_received += 1;
                    match answer {
                        LookupAnswer::Found => load.replies_found += 1,
                        LookupAnswer::SearchReply => load.replies_search += 1,
                        LookupAnswer::Ignored => {}
                    }
                }
            }
            // Profile observations stay inside the router.
            NetDbEvent::PeerAnswered { .. } | NetDbEvent::PeerTimedOut { .. } => {}
            NetDbEvent::Flooded { peers, .. } => {
                self.interval.floods_sent += u64::from(*peers);
                if floodfill {
                    self.load_of(router).floods_sent += u64::from(*peers);
                }
            }
        }
    }

    /// Router `router` reported a tunnel event.
    pub fn on_tunnel_event(&mut self, now: Instant, router: u32, event: &TunnelEvent) {
        if !self.counting(now) {
            return;
        }
        match event {
            TunnelEvent::BuildFinished {
                direction,
                hops,
                outcome,
                started,
                ..
            } if *started >= self.warmup_end => {
                self.tunnel_builds.push(TunnelBuildRecord {
                    time_s: self.seconds(*started),
                    router,
                    direction: match direction {
                        Direction::Inbound => "inbound",
                        Direction::Outbound => "outbound",
                    }
                    .to_owned(),
                    hops: hops.len() as u32,
                    outcome: match outcome {
                        BuildOutcome::Built => TunnelBuildRecord::BUILT,
                        BuildOutcome::Rejected { .. } => TunnelBuildRecord::REJECTED,
                        BuildOutcome::TimedOut => TunnelBuildRecord::TIMED_OUT,
                    }
                    .to_owned(),
                    latency_ms: now.saturating_duration_since(*started).as_secs_f64() * 1e3,
                });
            }
            TunnelEvent::TestFinished { passed, .. } => {
                if *passed {
                    self.tests.0 += 1;
                } else {
                    self.tests.1 += 1;
                }
            }
            TunnelEvent::BuildFinished { .. }
            | TunnelEvent::BuildRequestHandled { .. }
            | TunnelEvent::Joined { .. } => {}
        }
    }

    /// A tunnel built by someone, started at `started`; `both_ends` when colluders held
    /// its first and last hop.
    pub fn on_tunnel_built(&mut self, started: Instant, both_ends: bool) {
        if started >= self.warmup_end {
            self.collusion.tunnels_built += 1;
            self.collusion.both_ends_colluding += u64::from(both_ends);
        }
    }

    /// A colluding router joined a tunnel (and saw its neighbours).
    pub fn on_observation(&mut self, now: Instant) {
        if self.counting(now) {
            self.collusion.observations += 1;
        }
    }

    /// Destination `from` sent application message `number` to `to`.
    pub fn on_message_sent(&mut self, now: Instant, number: u64, from: u32, to: u32, kind: u8) {
        if !self.counting(now) {
            return;
        }
        let kind = if kind == AppMessage::REPLY {
            "reply"
        } else {
            "request"
        };
        let record = DeliveryRecord {
            time_s: self.seconds(now),
            from,
            to,
            kind: kind.to_owned(),
            outcome: DeliveryRecord::LOST.to_owned(),
            latency_ms: None,
            confirmed_ms: None,
        };
        self.messages.insert(number, (now, record));
    }

    /// The router could not send message `number`, for the reason `outcome` names.
    pub fn on_message_failed(&mut self, number: u64, outcome: &str) {
        if let Some((_, record)) = self.messages.get_mut(&number) {
            record.outcome = outcome.to_owned();
        }
    }

    /// Message `number` reached its destination.
    pub fn on_message_delivered(&mut self, now: Instant, number: u64) {
        if let Some((sent, record)) = self.messages.get_mut(&number) {
            record.outcome = DeliveryRecord::DELIVERED.to_owned();
            record.latency_ms = Some(millis(now.saturating_duration_since(*sent)));
        }
    }

    /// The sender learned that message `number` arrived, `after` sending it.
    pub fn on_message_confirmed(&mut self, number: u64, after: Duration) {
        if let Some((_, record)) = self.messages.get_mut(&number) {
            record.confirmed_ms = Some(millis(after));
        }
    }

    /// Every application message of the run, those never delivered as lost, in the
    /// order they were sent.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.messages.values().map(|(_, r)| r.clone()).collect()
    }

    /// The run's routers and colluders, for the collusion summary.
    pub fn set_population(&mut self, routers: u64, colluders: u64) {
        let c = &mut self.collusion;
        c.routers = routers;
        c.colluders = colluders;
        c.fraction = if c.tunnels_built == 0 {
            0.0
        } else {
            c.both_ends_colluding as f64 / c.tunnels_built as f64
        };
        let (n, k) = (routers as f64, colluders as f64);
        c.expected_uniform = if n > 2.0 {
            (k / (n - 1.0)) * ((k - 1.0).max(0.0) / (n - 2.0))
        } else {
            0.0
        };
    }

    /// The collusion summary, when there are colluders.
    pub fn collusion(&self) -> Option<&CollusionRecord> {
        (self.collusion.colluders > 0).then_some(&self.collusion)
    }

    /// A sample of the tunnel layer: per-router figures and the transit messages
    /// forwarded by all routers so far.
    pub fn add_tunnel_sample(
        &mut self,
        now: Instant,
        transit_total: u64,
        routers: Vec<TunnelRouterSample>,
    ) {
        let transit = transit_total.saturating_sub(self.transit_at_last_sample);
        self.transit_at_last_sample = transit_total;
        let (passed, failed) = std::mem::take(&mut self.tests);
        if routers.is_empty() {
            return;
        }
        let median = |f: &dyn Fn(&TunnelRouterSample) -> u64| {
            let mut v: Vec<u64> = routers.iter().map(f).collect();
            v.sort_unstable();
            v[v.len() / 2]
        };
        self.tunnel_samples.push(TunnelSampleRecord {
            time_s: self.seconds(now),
            routers: routers.len() as u64,
            inbound_tunnels: routers.iter().map(|r| r.inbound).sum(),
            outbound_tunnels: routers.iter().map(|r| r.outbound).sum(),
            participating_mean: routers.iter().map(|r| r.participating).sum::<u64>() as f64
                / routers.len() as f64,
            participating_max: routers.iter().map(|r| r.participating).max().unwrap_or(0),
            transit_messages: transit,
            tests_passed: passed,
            tests_failed: failed,
            fast_tier_median: median(&|r| r.tiers[0]),
            high_capacity_median: median(&|r| r.tiers[1]),
            not_failing_median: median(&|r| r.tiers[2]),
            failing_median: median(&|r| r.tiers[3]),
        });
    }

    /// Closes the current sample interval at `now`.
    pub fn end_interval(&mut self, now: Instant) {
        let i = std::mem::take(&mut self.interval);
        self.stores.push(StoreRecord {
            time_s: self.seconds(now),
            stores_received: i.stores_received,
            floods_received: i.floods_received,
            floods_sent: i.floods_sent,
            publishes: i.publishes,
            publishes_verified: i.publishes_verified,
            publishes_failed: i.publishes_failed,
        });
    }

    pub fn add_coverage(&mut self, now: Instant, mut sample: CoverageSample) {
        if sample.known.is_empty() {
            return;
        }
        sample.known.sort_unstable();
        let known = &sample.known;
        let pct = |p: f64| known[((known.len() - 1) as f64 * p).round() as usize];
        let mean = known.iter().sum::<u64>() as f64 / known.len() as f64;
        let coverage = if sample.coverage.is_empty() {
            0.0
        } else {
            sample.coverage.iter().sum::<f64>() / sample.coverage.len() as f64
        };
        self.coverage.push(CoverageRecord {
            time_s: self.seconds(now),
            role: sample.role.to_owned(),
            online_routers: sample.online_routers,
            routers: known.len() as u64,
            min_known: known[0],
            p10_known: pct(0.1),
            median_known: pct(0.5),
            mean_known: mean,
            p90_known: pct(0.9),
            max_known: known[known.len() - 1],
            mean_coverage: coverage,
        });
    }

    /// Adds a scalar to the run's `summary.csv`, e.g. an attack's success rate, so sweeps
    /// average it over seeds and reports show it. Adding a name again replaces its value; a
    /// name of a standard scalar (see [`summary`](Self::summary)) replaces that. Non-finite
    /// values are written as they are and left out of sweep averages.
    pub fn add_summary(&mut self, metric: impl Into<String>, value: f64) {
        let metric = metric.into();
        match self.added_summary.iter_mut().find(|r| r.metric == metric) {
            Some(record) => record.value = value,
            None => self.added_summary.push(SummaryRecord { metric, value }),
        }
    }

    /// One sample of the islands of online routers.
    pub fn add_islands(&mut self, now: Instant, islands: crate::islands::Islands) {
        if !self.counting(now) {
            return;
        }
        self.islands.push(IslandsRecord {
            time_s: self.seconds(now),
            online: islands.online,
            components: islands.components,
            largest_fraction: islands.largest_fraction,
            isolated: islands.isolated,
            without_floodfill: islands.without_floodfill,
        });
    }

    /// A mass withdrawal happened: the summary then says how success recovered from it
    /// (only the first counts).
    pub fn note_withdrawal(&mut self, now: Instant) {
        self.withdrawal.get_or_insert(now);
    }

    /// The run's scalars, as written to `summary.csv`: the standard ones whose data the run
    /// recorded, then those added with [`add_summary`](Self::add_summary).
    ///
    /// Standard scalars (times in seconds, fractions in 0..=1; a fraction or median is left
    /// out when nothing was counted):
    /// - with `lookup`: `lookups`, `lookup_success` (found / finished),
    ///   `lookup_latency_median_s` (of lookups that found the entry);
    /// - with `store`: `publishes`, `store_success` (publishes verified / finished);
    /// - with `tunnel_build`: `tunnel_builds`, `tunnel_build_success` (built / finished),
    ///   `tunnel_build_latency_median_s` (of built tunnels);
    /// - with `netdb_coverage`: `netdb_coverage_end`, the mean fraction of online routers
    ///   known by non-floodfill routers at the last sample;
    /// - with destinations: `messages`, `delivery_success`, `delivery_latency_median_s`;
    /// - with colluders: `collusion_fraction` and `collusion_expected_uniform`.
    pub fn summary(&self) -> Vec<SummaryRecord> {
        let mut out = Vec::new();
        let mut put = |metric: &str, value: f64| {
            out.push(SummaryRecord {
                metric: metric.to_owned(),
                value,
            })
        };
        let records = |m: Metric| self.record.contains(&m);
        if records(Metric::Lookup) {
            put("lookups", self.lookups.len() as f64);
            if let Some(f) = fraction(
                self.lookups.iter().filter(|l| l.is_found()).count(),
                self.lookups.len(),
            ) {
                put("lookup_success", f);
            }
            let found = self.lookups.iter().filter(|l| l.is_found());
            if let Some(m) = median_s(found.map(|l| l.latency_ms)) {
                put("lookup_latency_median_s", m);
            }
        }
        if records(Metric::Store) {
            let publishes: u64 = self.stores.iter().map(|s| s.publishes).sum();
            let verified: u64 = self.stores.iter().map(|s| s.publishes_verified).sum();
            put("publishes", publishes as f64);
            if let Some(f) = fraction(verified as usize, publishes as usize) {
                put("store_success", f);
            }
        }
        if records(Metric::TunnelBuild) {
            let builds = &self.tunnel_builds;
            put("tunnel_builds", builds.len() as f64);
            if let Some(f) = fraction(builds.iter().filter(|b| b.is_built()).count(), builds.len())
            {
                put("tunnel_build_success", f);
            }
            let built = builds.iter().filter(|b| b.is_built());
            if let Some(m) = median_s(built.map(|b| b.latency_ms)) {
                put("tunnel_build_latency_median_s", m);
            }
        }
        if records(Metric::NetdbCoverage) {
            let last = self
                .coverage
                .iter()
                .rev()
                .find(|c| c.role == CoverageRecord::ROUTER);
            if let Some(c) = last {
                put("netdb_coverage_end", c.mean_coverage);
            }
        }
        if !self.messages.is_empty() {
            let records = self.messages.values().map(|(_, r)| r);
            put("messages", self.messages.len() as f64);
            if let Some(f) = fraction(
                records.clone().filter(|r| r.is_delivered()).count(),
                self.messages.len(),
            ) {
                put("delivery_success", f);
            }
            if let Some(m) = median_s(records.filter_map(|r| r.latency_ms)) {
                put("delivery_latency_median_s", m);
            }
        }
        if let Some(c) = self.collusion() {
            put("collusion_fraction", c.fraction);
            put("collusion_expected_uniform", c.expected_uniform);
        }
        if let Some(at) = self.withdrawal {
            let at_s = self.seconds(at);
            if records(Metric::Lookup) {
                let events: Vec<(f64, bool)> = self
                    .lookups
                    .iter()
                    .map(|l| (l.time_s, l.is_found()))
                    .collect();
                for (name, value) in recovery("lookup", &events, at_s) {
                    put(&name, value);
                }
            }
            if records(Metric::TunnelBuild) {
                let events: Vec<(f64, bool)> = self
                    .tunnel_builds
                    .iter()
                    .map(|b| (b.time_s, b.is_built()))
                    .collect();
                for (name, value) in recovery("tunnel_build", &events, at_s) {
                    put(&name, value);
                }
            }
        }
        for added in &self.added_summary {
            match out.iter_mut().find(|r| r.metric == added.metric) {
                Some(standard) => standard.value = added.value,
                None => out.push(added.clone()),
            }
        }
        out
    }

    /// Writes the recorded metrics and `summary.csv` into `dir`; returns the file names
    /// written. `floodfills` lists the router indices that are floodfills.
    pub fn write(&self, dir: &Path, floodfills: &[u32]) -> Result<Vec<String>, csv::Error> {
        let mut written = Vec::new();
        if let Some(collusion) = self.collusion() {
            written.push(write_all(dir, std::slice::from_ref(collusion))?.to_owned());
        }
        let deliveries = self.deliveries();
        if !deliveries.is_empty() {
            written.push(write_all(dir, &deliveries)?.to_owned());
        }
        if let Some(streams) = &self.streams {
            written.push(write_all(dir, streams)?.to_owned());
        }
        for metric in &self.record {
            let name = match metric {
                Metric::Lookup => write_all(dir, &self.lookups)?,
                Metric::Store => write_all(dir, &self.stores)?,
                Metric::NetdbCoverage => write_all(dir, &self.coverage)?,
                Metric::TunnelBuild => write_all(dir, &self.tunnel_builds)?,
                Metric::Tunnels => write_all(dir, &self.tunnel_samples)?,
                Metric::Islands => write_all(dir, &self.islands)?,
                Metric::FloodfillLoad => {
                    let rows: Vec<FloodfillLoadRecord> = floodfills
                        .iter()
                        .map(|&router| {
                            let l = self.load.get(router as usize).copied().unwrap_or_default();
                            FloodfillLoadRecord {
                                router,
                                stores_received: l.stores_received,
                                floods_received: l.floods_received,
                                lookups_received: l.lookups_received,
                                replies_found: l.replies_found,
                                replies_search: l.replies_search,
                                floods_sent: l.floods_sent,
                                bytes_received: l.bytes_received,
                            }
                        })
                        .collect();
                    write_all(dir, &rows)?
                }
            };
            written.push(name.to_owned());
        }
        written.push(write_all(dir, &self.summary())?.to_owned());
        Ok(written)
    }

    /// The stream fetches of a run with `[streams]` (`streams.csv`, even if empty).
    pub fn set_streams(&mut self, records: Vec<StreamRecord>) {
        self.streams = Some(records);
    }

    pub fn streams(&self) -> Option<&[StreamRecord]> {
        self.streams.as_deref()
    }

    /// Lookups recorded so far (for summaries printed at the end of a run).
    pub fn lookups(&self) -> &[LookupRecord] {
        &self.lookups
    }

    pub fn stores(&self) -> &[StoreRecord] {
        &self.stores
    }

    pub fn islands(&self) -> &[IslandsRecord] {
        &self.islands
    }

    pub fn tunnel_builds(&self) -> &[TunnelBuildRecord] {
        &self.tunnel_builds
    }

    pub fn tunnel_samples(&self) -> &[TunnelSampleRecord] {
        &self.tunnel_samples
    }

    pub fn coverage(&self) -> &[CoverageRecord] {
        &self.coverage
    }
}

/// Width of the bins in which recovery from a withdrawal is judged.
const RECOVERY_BIN_S: f64 = 60.0;

/// How success of `(start time, succeeded)` events fared around a withdrawal at `at_s`:
/// `<name>_success_before_withdrawal`, `<name>_success_worst_after` (the worst minute
/// after it) and `<name>_recovery_s`: from the withdrawal to the end of the first minute,
/// at or after the worst, whose success is back to 95% of what it was before (absent if
/// it never is).
fn recovery(name: &str, events: &[(f64, bool)], at_s: f64) -> Vec<(String, f64)> {
    let (before, after): (Vec<_>, Vec<_>) = events.iter().partition(|(t, _)| *t < at_s);
    let Some(baseline) = fraction(before.iter().filter(|(_, ok)| *ok).count(), before.len()) else {
        return Vec::new();
    };
    let mut bins: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
    for (t, ok) in after {
        let bin = bins
            .entry(((t - at_s) / RECOVERY_BIN_S) as u64)
            .or_default();
        bin.0 += usize::from(ok);
        bin.1 += 1;
    }
    let success: Vec<(u64, f64)> = bins
        .into_iter()
        .map(|(bin, (ok, all))| (bin, ok as f64 / all as f64))
        .collect();
    let mut out = vec![(format!("{name}_success_before_withdrawal"), baseline)];
    let Some(&(worst_bin, worst)) = success.iter().min_by(|a, b| a.1.total_cmp(&b.1)) else {
        return out;
    };
    out.push((format!("{name}_success_worst_after"), worst));
    if let Some((bin, _)) = success
        .iter()
        .find(|(bin, s)| *bin >= worst_bin && *s >= 0.95 * baseline)
    {
        out.push((
            format!("{name}_recovery_s"),
            (*bin + 1) as f64 * RECOVERY_BIN_S,
        ));
    }
    out
}

pub(crate) fn write_all<T: ramsons_analysis::records::Metric>(
    dir: &Path,
    rows: &[T],
) -> Result<&'static str, csv::Error> {
    let mut writer = CsvWriter::<T>::create(dir)?;
    for row in rows {
        writer.write(row)?;
    }
    writer.finish()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `part / whole`, `None` when nothing was counted.
fn fraction(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Median (nearest rank) of latencies in milliseconds, in seconds; `None` when empty.
fn median_s(ms: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = ms.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0).map(|m| m / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(found: bool, latency_ms: f64) -> LookupRecord {
        LookupRecord {
            time_s: 100.0,
            router: 1,
            target: "AAAAAAAA".into(),
            outcome: if found { "found" } else { "not_found" }.into(),
            latency_ms,
            peers_queried: 1,
            timeouts: 0,
        }
    }

    fn value(summary: &[SummaryRecord], metric: &str) -> Option<f64> {
        summary.iter().find(|r| r.metric == metric).map(|r| r.value)
    }

    #[test]
    fn recovery_finds_the_dip_and_the_way_back() {
        // 100% before 600 s; after it, a minute at 0%, a minute at 50%, then 100%.
        let mut events: Vec<(f64, bool)> = (0..10).map(|i| (i as f64 * 60.0, true)).collect();
        events.extend([
            (610.0, false),
            (650.0, false),
            (670.0, true),
            (690.0, false),
        ]);
        events.extend([(730.0, true), (760.0, true)]);
        let out: BTreeMap<String, f64> = recovery("lookup", &events, 600.0).into_iter().collect();
        assert_eq!(out["lookup_success_before_withdrawal"], 1.0);
        assert_eq!(out["lookup_success_worst_after"], 0.0);
        assert_eq!(out["lookup_recovery_s"], 180.0);
        // Never back: no recovery time.
        let out = recovery("lookup", &events[..14], 600.0);
        assert!(out.iter().all(|(name, _)| name != "lookup_recovery_s"));
    }

    #[test]
    fn summary_has_only_scalars_with_data() {
        let start = Instant::from_secs(0);
        let mut c = Collector::new(
            vec![Metric::Lookup, Metric::TunnelBuild],
            start,
            Duration::ZERO,
        );
        c.lookups = vec![
            lookup(true, 200.0),
            lookup(true, 400.0),
            lookup(false, 9000.0),
            lookup(true, 300.0),
        ];
        let s = c.summary();
        assert_eq!(value(&s, "lookups"), Some(4.0));
        assert_eq!(value(&s, "lookup_success"), Some(0.75));
        assert_eq!(value(&s, "lookup_latency_median_s"), Some(0.3));
        // Recorded, nothing built: a count but no fraction or median.
        assert_eq!(value(&s, "tunnel_builds"), Some(0.0));
        assert_eq!(value(&s, "tunnel_build_success"), None);
        assert_eq!(value(&s, "tunnel_build_latency_median_s"), None);
        // Not recorded at all.
        assert_eq!(value(&s, "publishes"), None);
        assert_eq!(value(&s, "messages"), None);
        assert_eq!(value(&s, "collusion_fraction"), None);
    }

    #[test]
    fn added_scalars_come_last_and_replace() {
        let mut c = Collector::new(vec![Metric::Lookup], Instant::from_secs(0), Duration::ZERO);
        c.add_summary("attack_success", 0.25);
        c.add_summary("attack_success", 0.5);
        c.add_summary(String::from("lookups"), 99.0);
        let s = c.summary();
        let names: Vec<&str> = s.iter().map(|r| r.metric.as_str()).collect();
        assert_eq!(names, ["lookups", "attack_success"]);
        assert_eq!(value(&s, "attack_success"), Some(0.5));
        assert_eq!(value(&s, "lookups"), Some(99.0));

        let dir = tempfile::tempdir().expect("tempdir");
        let written = c.write(dir.path(), &[]).expect("writes");
        assert_eq!(written, ["lookup.csv", "summary.csv"]);
        let text = std::fs::read_to_string(dir.path().join("summary.csv")).expect("summary");
        assert_eq!(text, "metric,value\nlookups,99.0\nattack_success,0.5\n");
    }
}
