//! Small statistics used by the charts and sweeps: empirical CDFs, percentiles, time bins, and
//! means with confidence intervals over seeds.

use std::collections::BTreeMap;

use crate::records::{DeliveryRecord, LookupRecord, TunnelBuildRecord};

/// Empirical CDF of the finite values: points `(x, fraction of values <= x)`, sorted by `x`.
///
/// With more than `max_points` values, keeps `max_points` points evenly spaced in rank (plus the
/// minimum), which draws the same curve at chart resolution. Non-finite values are dropped.
pub fn ecdf(values: impl IntoIterator<Item = f64>, max_points: usize) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    let m = max_points.max(2);
    if n <= m {
        return sorted
            .iter()
            .enumerate()
            .map(|(i, &x)| (x, (i + 1) as f64 / n as f64))
            .collect();
    }
    let mut points = Vec::with_capacity(m + 1);
    points.push((sorted[0], 1.0 / n as f64));
    for k in 1..=m {
        // rank r in 1..=n, evenly spaced; r = ceil(k * n / m)
        let r = (k * n).div_ceil(m);
        points.push((sorted[r - 1], r as f64 / n as f64));
    }
    points.dedup();
    points
}

/// Turns CDF points into a staircase (right-continuous step function) starting at y = 0, so
/// a few values draw as steps rather than slopes.
pub fn staircase(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    let mut prev_y = 0.0;
    for &(x, y) in points {
        out.push((x, prev_y));
        out.push((x, y));
        prev_y = y;
    }
    out
}

/// Nearest-rank percentile (`p` in 0..=100) of sorted values; `None` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = ((p.clamp(0.0, 100.0) / 100.0) * n as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Something attempted at a point in simulated time that succeeded or not: a lookup, a tunnel
/// build. What [`success_bins`] counts.
pub trait Attempt {
    /// When the attempt started, simulated seconds since start.
    fn started_s(&self) -> f64;
    /// Whether it succeeded.
    fn succeeded(&self) -> bool;
}

impl Attempt for LookupRecord {
    fn started_s(&self) -> f64 {
        self.time_s
    }

    /// The lookup found the entry.
    fn succeeded(&self) -> bool {
        self.is_found()
    }
}

impl Attempt for DeliveryRecord {
    fn started_s(&self) -> f64 {
        self.time_s
    }

    /// The message reached its destination.
    fn succeeded(&self) -> bool {
        self.is_delivered()
    }
}

impl Attempt for TunnelBuildRecord {
    fn started_s(&self) -> f64 {
        self.time_s
    }

    /// The tunnel was built.
    fn succeeded(&self) -> bool {
        self.is_built()
    }
}

/// `(time_s, succeeded)`: any event that succeeded or not at a point in simulated time, such
/// as an attack that identified its target or not. Lets [`success_bins`] draw "success over
/// time" for data that has no record type of its own.
impl Attempt for (f64, bool) {
    fn started_s(&self) -> f64 {
        self.0
    }

    fn succeeded(&self) -> bool {
        self.1
    }
}

/// Attempts started in `[start_s, end_s)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuccessBin {
    pub start_s: f64,
    pub end_s: f64,
    pub succeeded: u64,
    pub total: u64,
}

impl SuccessBin {
    /// Fraction of attempts that succeeded; `None` for a bin without attempts.
    pub fn fraction(&self) -> Option<f64> {
        (self.total > 0).then(|| self.succeeded as f64 / self.total as f64)
    }
}

/// Bins attempts by start time into bins of `bin_s` seconds aligned to simulated time 0.
/// Returns only bins holding at least one attempt, in time order. Attempts with a negative or
/// non-finite start time are ignored. `bin_s` must be positive and finite, otherwise no bins
/// are returned.
pub fn success_bins<'a, A: Attempt + 'a>(
    attempts: impl IntoIterator<Item = &'a A>,
    bin_s: f64,
) -> Vec<SuccessBin> {
    if !(bin_s.is_finite() && bin_s > 0.0) {
        return Vec::new();
    }
    let mut bins: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for a in attempts {
        let t = a.started_s();
        if !(t.is_finite() && t >= 0.0) {
            continue;
        }
        let (succeeded, total) = bins.entry((t / bin_s).floor() as u64).or_default();
        *total += 1;
        if a.succeeded() {
            *succeeded += 1;
        }
    }
    bins.into_iter()
        .map(|(i, (succeeded, total))| SuccessBin {
            start_s: i as f64 * bin_s,
            end_s: (i + 1) as f64 * bin_s,
            succeeded,
            total,
        })
        .collect()
}

/// Mean of values over seeds with a 95% confidence interval for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanCi {
    pub n: u64,
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator); `None` for a single value.
    pub std_dev: Option<f64>,
    /// Half-width of the 95% confidence interval of the mean, Student t with n - 1 degrees of
    /// freedom (seeds are few); `None` for a single value.
    pub ci95: Option<f64>,
}

impl MeanCi {
    /// `(low, high)` of the 95% confidence interval, when there is one.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.ci95.map(|h| (self.mean - h, self.mean + h))
    }
}

/// Mean, standard deviation and 95% confidence interval of the finite values (others are
/// ignored); `None` when there are none.
pub fn mean_ci(values: impl IntoIterator<Item = f64>) -> Option<MeanCi> {
    let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let (std_dev, ci95) = if n > 1 {
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        (Some(sd), Some(t_975(n as u64 - 1) * sd / (n as f64).sqrt()))
    } else {
        (None, None)
    };
    Some(MeanCi {
        n: n as u64,
        mean,
        std_dev,
        ci95,
    })
}

/// The 97.5th percentile of Student's t distribution with `df` degrees of freedom (the factor
/// of a two-sided 95% interval). Exact to 3 decimals: a table up to 30, then the
/// Cornish-Fisher expansion around the normal quantile, which is within 0.001 there and
/// better beyond.
pub fn t_975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let z = 1.959_963_984_540_054_f64;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(time_s: f64, found: bool) -> LookupRecord {
        LookupRecord {
            time_s,
            router: 0,
            target: "AAAAAAAA".into(),
            outcome: if found { "found" } else { "not_found" }.into(),
            latency_ms: 100.0,
            peers_queried: 1,
            timeouts: 0,
        }
    }

    fn build(time_s: f64, direction: &str, outcome: &str) -> TunnelBuildRecord {
        TunnelBuildRecord {
            time_s,
            router: 0,
            direction: direction.into(),
            hops: 2,
            outcome: outcome.into(),
            latency_ms: 400.0,
        }
    }

    #[test]
    fn ecdf_small_is_exact() {
        let cdf = ecdf([3.0, 1.0, 2.0, 2.0, f64::NAN], 100);
        assert_eq!(cdf, vec![(1.0, 0.25), (2.0, 0.5), (2.0, 0.75), (3.0, 1.0)]);
    }

    #[test]
    fn ecdf_empty() {
        assert!(ecdf(std::iter::empty(), 10).is_empty());
        assert!(ecdf([f64::INFINITY], 10).is_empty());
    }

    #[test]
    fn ecdf_downsamples_keeping_ends() {
        let values: Vec<f64> = (1..=10_000).map(f64::from).collect();
        let cdf = ecdf(values, 100);
        assert!(cdf.len() <= 101, "{} points", cdf.len());
        assert_eq!(cdf.first(), Some(&(1.0, 1.0 / 10_000.0)));
        assert_eq!(cdf.last(), Some(&(10_000.0, 1.0)));
        // every kept point is exact: value r has fraction r / n
        for &(x, y) in &cdf {
            assert!((x / 10_000.0 - y).abs() < 1e-12, "({x}, {y})");
        }
        assert!(cdf.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1));
    }

    #[test]
    fn staircase_steps() {
        let steps = staircase(&[(1.0, 0.5), (2.0, 1.0)]);
        assert_eq!(steps, vec![(1.0, 0.0), (1.0, 0.5), (2.0, 0.5), (2.0, 1.0)]);
    }

    #[test]
    fn percentile_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 10.0), Some(1.0));
        assert_eq!(percentile(&v, 50.0), Some(5.0));
        assert_eq!(percentile(&v, 90.0), Some(9.0));
        assert_eq!(percentile(&v, 100.0), Some(10.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn bins_aligned_to_zero() {
        let lookups = [
            lookup(61.0, true),
            lookup(119.9, false),
            lookup(120.0, true),
            lookup(250.0, true),
            lookup(-1.0, true),
            lookup(f64::NAN, true),
        ];
        let bins = success_bins(&lookups, 60.0);
        assert_eq!(bins.len(), 3); // [60,120) [120,180) [240,300)
        assert_eq!((bins[0].start_s, bins[0].end_s), (60.0, 120.0));
        assert_eq!((bins[0].succeeded, bins[0].total), (1, 2));
        assert_eq!(bins[0].fraction(), Some(0.5));
        assert_eq!((bins[1].succeeded, bins[1].total), (1, 1));
        assert_eq!(
            (bins[2].start_s, bins[2].succeeded, bins[2].total),
            (240.0, 1, 1)
        );
        let empty = SuccessBin {
            start_s: 0.0,
            end_s: 1.0,
            succeeded: 0,
            total: 0,
        };
        assert_eq!(empty.fraction(), None);
    }

    #[test]
    fn bins_degenerate_inputs() {
        assert!(success_bins::<LookupRecord>(&[], 60.0).is_empty());
        assert!(success_bins(&[lookup(1.0, true)], 0.0).is_empty());
        assert!(success_bins(&[lookup(1.0, true)], f64::NAN).is_empty());
    }

    #[test]
    fn bins_count_tunnel_builds_like_lookups() {
        use TunnelBuildRecord as T;
        let builds = [
            build(600.0, "inbound", T::BUILT),
            build(610.0, "outbound", T::REJECTED),
            build(659.9, "inbound", T::TIMED_OUT),
            build(660.0, "outbound", T::BUILT),
            build(700.0, "inbound", T::BUILT),
            build(-5.0, "inbound", T::BUILT),
        ];
        let bins = success_bins(&builds, 60.0);
        let counts: Vec<_> = bins
            .iter()
            .map(|b| (b.start_s, b.end_s, b.succeeded, b.total))
            .collect();
        assert_eq!(counts, vec![(600.0, 660.0, 1, 3), (660.0, 720.0, 2, 2)]);
        assert_eq!(bins[0].fraction(), Some(1.0 / 3.0));

        // Any iterator of references: here one direction's builds.
        let inbound = success_bins(builds.iter().filter(|b| b.direction == "inbound"), 60.0);
        let counts: Vec<_> = inbound.iter().map(|b| (b.succeeded, b.total)).collect();
        assert_eq!(counts, vec![(1, 2), (1, 1)]);

        // The same times and outcomes as lookups bin the same way: the binning only sees
        // `Attempt`.
        let lookups: Vec<LookupRecord> = builds
            .iter()
            .map(|b| lookup(b.time_s, b.is_built()))
            .collect();
        assert_eq!(success_bins(&lookups, 60.0), bins);
    }

    #[test]
    fn bins_of_plain_time_success_pairs() {
        let events = [(10.0, true), (20.0, false), (70.0, true), (-1.0, true)];
        let bins = success_bins(&events, 60.0);
        let counts: Vec<_> = bins
            .iter()
            .map(|b| (b.start_s, b.succeeded, b.total))
            .collect();
        assert_eq!(counts, vec![(0.0, 1, 2), (60.0, 1, 1)]);
    }

    #[test]
    fn mean_with_confidence_interval() {
        assert_eq!(mean_ci([]), None);
        assert_eq!(mean_ci([f64::NAN]), None);
        let one = mean_ci([3.0]).expect("a value");
        assert_eq!(
            (one.n, one.mean, one.std_dev, one.ci95),
            (1, 3.0, None, None)
        );
        assert_eq!(one.interval(), None);
        // 2, 4, 6: mean 4, sd 2, half-width t(2) * 2 / sqrt(3).
        let m = mean_ci([2.0, 4.0, 6.0, f64::INFINITY]).expect("values");
        assert_eq!((m.n, m.mean, m.std_dev), (3, 4.0, Some(2.0)));
        let h = m.ci95.expect("ci");
        assert!((h - 4.303 * 2.0 / 3f64.sqrt()).abs() < 1e-12, "{h}");
        let (lo, hi) = m.interval().expect("ci");
        assert!((lo - (4.0 - h)).abs() < 1e-12 && (hi - (4.0 + h)).abs() < 1e-12);
    }

    #[test]
    fn t_quantiles() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(30), 2.042);
        // Published values: df 40 2.021, 60 2.000, 120 1.980; and the normal limit.
        for (df, t) in [(31, 2.040), (40, 2.021), (60, 2.000), (120, 1.980)] {
            assert!((t_975(df) - t).abs() < 0.0015, "df {df}: {}", t_975(df));
        }
        assert!((t_975(1_000_000) - 1.96).abs() < 0.001);
        assert!(t_975(0).is_infinite());
        // The table and the expansion meet smoothly.
        assert!(t_975(31) < t_975(30) && t_975(30) - t_975(31) < 0.005);
    }
}
