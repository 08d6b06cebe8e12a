//! What XOR-distance order statistics predict for a floodfill Sybil attack.
//!
//! Model: normalise XOR distances to the target's routing key to [0, 1). The `honest`
//! floodfills' distances are independent and uniform on [0, 1) (their hashes are SHA-256
//! outputs). The adversary grinds each of its `sybils` identities until its hash shares
//! `prefix_bits` leading bits with the routing key, which makes each Sybil's distance
//! uniform on [0, d) with d = 2^-prefix_bits. The target's entry is stored on the `r`
//! floodfills closest to its routing key (the storage set).
//!
//! The adversary holds at least m of the r closest exactly when its m-th closest Sybil is
//! nearer than the (r − m + 1)-th closest honest floodfill:
//!
//! P(A ≥ m) = ∫₀ᵈ f_{S(m)}(s) · P(H(r−m+1) > s) ds,
//!
//! where S(m) is the m-th order statistic of k uniforms on [0, d) (a scaled Beta(m, k−m+1))
//! and P(H(j) > s) = Σ_{i<j} C(N, i) sⁱ (1 − s)^{N−i} is the chance that fewer than j honest
//! floodfills fall below s. The expected number held is Σ_m P(A ≥ m).

/// Simpson intervals over [0, d): the integrand is smooth and bounded, so this is far
/// finer than the plots need.
const STEPS: usize = 4096;

/// What the model predicts for one attack configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SybilPrediction {
    /// Expected share of the storage set the Sybils hold.
    pub storage_share: f64,
    /// Probability that the Sybils hold the whole storage set.
    pub hold_all: f64,
    /// Probability that the single closest floodfill is a Sybil (where a lookup goes first).
    pub closest: f64,
}

/// The prediction for `sybils` ground identities against `honest` floodfills and a
/// storage set of `r` floodfills.
pub fn predict(honest: u64, sybils: u64, prefix_bits: u32, r: u64) -> SybilPrediction {
    if r == 0 {
        return SybilPrediction {
            storage_share: 0.0,
            hold_all: 0.0,
            closest: 0.0,
        };
    }
    let at_least = |m: u64| p_at_least(honest, sybils, prefix_bits, r, m);
    let expected: f64 = (1..=r.min(sybils)).map(at_least).sum();
    SybilPrediction {
        storage_share: expected / r as f64,
        hold_all: at_least(r),
        closest: p_at_least(honest, sybils, prefix_bits, 1, 1),
    }
}

/// P(the Sybils hold at least `m` of the `r` closest places).
fn p_at_least(honest: u64, sybils: u64, prefix_bits: u32, r: u64, m: u64) -> f64 {
    if m == 0 {
        return 1.0;
    }
    if m > sybils || m > r {
        return 0.0;
    }
    let d = 0.5f64.powi(prefix_bits as i32);
    let j = r - m + 1;
    if honest < j {
        // Fewer honest floodfills than places left: the Sybils take them.
        return 1.0;
    }
    let coefficient = ln_choose(sybils - 1, m - 1) + (sybils as f64).ln();
    // Density of the m-th smallest of k uniforms on [0, d), at s = d·u.
    let density = |u: f64| {
        if u <= 0.0 || u >= 1.0 {
            return if (m == 1 && u <= 0.0) || (m == sybils && u >= 1.0) {
                sybils as f64 / d
            } else {
                0.0
            };
        }
        (coefficient + (m - 1) as f64 * u.ln() + (sybils - m) as f64 * (1.0 - u).ln()).exp() / d
    };
    let integrand = |u: f64| density(u) * fewer_than(honest, j, d * u);
    simpson(integrand, STEPS) * d
}

/// P(fewer than `j` of `n` uniforms on [0, 1) fall below `s`).
fn fewer_than(n: u64, j: u64, s: f64) -> f64 {
    if s <= 0.0 {
        return 1.0;
    }
    if s >= 1.0 {
        return 0.0;
    }
    (0..j.min(n + 1))
        .map(|i| (ln_choose(n, i) + i as f64 * s.ln() + (n - i) as f64 * (1.0 - s).ln()).exp())
        .sum::<f64>()
        .min(1.0)
}

/// ln C(n, k), exact enough for the sizes here (sums of logs, n up to millions).
fn ln_choose(n: u64, k: u64) -> f64 {
    let k = k.min(n.saturating_sub(k));
    (0..k)
        .map(|i| ((n - i) as f64).ln() - ((i + 1) as f64).ln())
        .sum()
}

/// Simpson's rule for `f` over [0, 1] with `steps` (even) intervals.
fn simpson(f: impl Fn(f64) -> f64, steps: usize) -> f64 {
    let h = 1.0 / steps as f64;
    let inner: f64 = (1..steps)
        .map(|i| {
            let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
            weight * f(i as f64 * h)
        })
        .sum();
    (f(0.0) + inner + f(1.0)) * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sybils_hold_nothing() {
        let p = predict(100, 0, 16, 4);
        assert_eq!(p.storage_share, 0.0);
        assert_eq!(p.hold_all, 0.0);
        assert_eq!(p.closest, 0.0);
    }

    #[test]
    fn ungrounded_sybils_are_just_more_floodfills() {
        // Without grinding (d = 1) every floodfill is alike: one Sybil among N + 1 is
        // the closest with probability 1 / (N + 1).
        let p = predict(99, 1, 0, 1);
        assert!((p.closest - 0.01).abs() < 1e-4, "{p:?}");
        // k of N + k: the expected share of any place is k / (N + k).
        let p = predict(90, 10, 0, 4);
        assert!((p.storage_share - 0.1).abs() < 1e-3, "{p:?}");
    }

    #[test]
    fn deep_grinding_takes_the_whole_storage_set() {
        let p = predict(300, 4, 20, 4);
        assert!(p.hold_all > 0.99, "{p:?}");
        assert!(p.storage_share > 0.99, "{p:?}");
        // Three Sybils cannot hold four places.
        assert_eq!(predict(300, 3, 20, 4).hold_all, 0.0);
    }

    #[test]
    fn more_sybils_never_hold_less() {
        for bits in [0, 4, 8] {
            let mut last = predict(200, 0, bits, 4);
            for k in 1..=16 {
                let p = predict(200, k, bits, 4);
                assert!(
                    p.storage_share >= last.storage_share - 1e-9,
                    "k={k} bits={bits}"
                );
                assert!(p.hold_all >= last.hold_all - 1e-9, "k={k} bits={bits}");
                last = p;
            }
        }
    }

    #[test]
    fn matches_a_monte_carlo_estimate() {
        // A small linear congruential generator: the test needs no rand dependency.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (n, k, bits, r) = (40u64, 3u64, 4u32, 4usize);
        let d = 0.5f64.powi(bits as i32);
        let trials = 40_000;
        let mut held = 0usize;
        for _ in 0..trials {
            let mut all: Vec<(f64, bool)> = (0..n).map(|_| (uniform(), false)).collect();
            all.extend((0..k).map(|_| (uniform() * d, true)));
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            held += all[..r].iter().filter(|(_, sybil)| *sybil).count();
        }
        let simulated = held as f64 / (trials * r) as f64;
        let p = predict(n, k, bits, r as u64);
        assert!(
            (p.storage_share - simulated).abs() < 0.01,
            "model {} vs Monte Carlo {simulated}",
            p.storage_share
        );
    }
}
