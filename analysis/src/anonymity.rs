//! Anonymity measures over an adversary's belief about who did something.
//!
//! An attack study ends with weights over suspects: how often each router was seen next to a
//! tunnel's endpoint, a score per candidate sender, a posterior. These functions turn such
//! weights into the usual measures:
//!
//! - the normalised probability distribution ([`probabilities`]);
//! - Shannon entropy in bits, `H = -Σ p log2 p` ([`entropy_bits`]);
//! - the effective anonymity-set size `2^H` ([`effective_set_size`]): the number of equally
//!   likely suspects that would give the same entropy;
//! - the normalised degree of anonymity `H / log2 N` (Díaz et al., "Towards measuring
//!   anonymity", 2002) ([`degree_of_anonymity`]), where `N` is the whole population of possible
//!   suspects, given explicitly because suspects the adversary gave no weight still count;
//! - the rank of the true suspect, 1 being the adversary's top guess ([`rank_of`]).
//!
//! [`measure`] computes all of them at once. Suspects are any ordered key (router index,
//! hash, name); weights need not sum to 1. For attack success over simulated time, see
//! [`crate::stats::success_bins`], which also takes `(time_s, succeeded)` pairs.
//!
//! ```
//! use ramsons_analysis::anonymity::measure;
//! // The adversary saw router 7 twice as often as routers 3 and 9; 100 routers could be it.
//! let a = measure([(7_u32, 2.0), (3, 1.0), (9, 1.0)], 100, Some(&3)).unwrap();
//! assert!((a.entropy_bits - 1.5).abs() < 1e-12);
//! assert!((a.effective_set_size - 2f64.powf(1.5)).abs() < 1e-12);
//! assert_eq!(a.true_rank, Some(3)); // tied with 9: ties count against the adversary's luck
//! ```

use std::collections::BTreeMap;

/// Inputs that do not describe a belief over a population.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnonymityError {
    /// A weight is negative, infinite or NaN.
    #[error("weight #{index} is {weight}: weights must be finite and not negative")]
    InvalidWeight { index: usize, weight: f64 },
    /// More distinct suspects have a weight than the population holds.
    #[error("{suspects} distinct suspects have a positive weight but the population is only {population}")]
    PopulationTooSmall { suspects: usize, population: u64 },
    /// A population of no one has no anonymity to measure.
    #[error("the population of possible suspects is empty")]
    EmptyPopulation,
}

/// Normalises weights into probabilities summing to 1.
///
/// Weights of the same suspect listed more than once are added (so raw observation counts can
/// be passed as they come). Suspects with zero weight are left out: they are the same as
/// suspects not listed. When every weight is zero (the adversary has no evidence) the result is
/// empty; [`measure`] then treats the whole population as equally likely.
pub fn probabilities<K: Ord>(
    weights: impl IntoIterator<Item = (K, f64)>,
) -> Result<BTreeMap<K, f64>, AnonymityError> {
    let mut summed: BTreeMap<K, f64> = BTreeMap::new();
    for (index, (suspect, weight)) in weights.into_iter().enumerate() {
        if !weight.is_finite() || weight < 0.0 {
            return Err(AnonymityError::InvalidWeight { index, weight });
        }
        if weight > 0.0 {
            *summed.entry(suspect).or_insert(0.0) += weight;
        }
    }
    let total: f64 = summed.values().sum();
    // Finite weights can still add up to infinity.
    if !total.is_finite() {
        return Err(AnonymityError::InvalidWeight {
            index: 0,
            weight: total,
        });
    }
    for p in summed.values_mut() {
        *p /= total;
    }
    Ok(summed)
}

/// Shannon entropy in bits of a probability distribution (values summing to 1).
///
/// Zero (and negative or NaN) probabilities contribute nothing, as `p log p -> 0`.
pub fn entropy_bits(probabilities: impl IntoIterator<Item = f64>) -> f64 {
    let h: f64 = probabilities
        .into_iter()
        .filter(|&p| p > 0.0)
        .map(|p| -p * p.log2())
        .sum();
    // Rounding can leave -0.0 or a hair below 0 for a certain guess.
    h.max(0.0)
}

/// Effective anonymity-set size `2^H`: with `H` bits of entropy the adversary is as unsure as
/// with `2^H` equally likely suspects.
pub fn effective_set_size(entropy_bits: f64) -> f64 {
    entropy_bits.exp2()
}

/// Normalised degree of anonymity `H / log2 N` in `[0, 1]`: 1 when all `population` suspects
/// are equally likely, 0 when the adversary is certain. Defined as 0 for `population <= 1`,
/// where there is no one to hide among.
pub fn degree_of_anonymity(entropy_bits: f64, population: u64) -> f64 {
    if population <= 1 {
        return 0.0;
    }
    (entropy_bits / (population as f64).log2()).clamp(0.0, 1.0)
}

/// Rank of the true suspect in the adversary's belief: 1 is its most likely suspect.
///
/// Ties are counted pessimistically for the user (optimistically for nobody): the truth ranks
/// after every suspect at least as likely as it. A true suspect absent from `probabilities`
/// (zero weight) ties with every other unweighted suspect of the `population`, so it ranks
/// `population`. The result is at least 1 and, for a population no smaller than the suspects
/// listed, at most `population`.
pub fn rank_of<K: Ord>(probabilities: &BTreeMap<K, f64>, truth: &K, population: u64) -> u64 {
    match probabilities.get(truth) {
        Some(&p) if p > 0.0 => {
            let others_as_likely = probabilities
                .iter()
                .filter(|&(k, &q)| k != truth && q >= p)
                .count() as u64;
            others_as_likely + 1
        }
        _ => population.max(probabilities.len() as u64 + 1),
    }
}

/// All measures of one belief; see [`measure`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anonymity {
    /// N: everyone who could be the true suspect.
    pub population: u64,
    /// Suspects with a positive weight.
    pub suspects: u64,
    /// Shannon entropy H in bits.
    pub entropy_bits: f64,
    /// 2^H.
    pub effective_set_size: f64,
    /// H / log2 N, 0 when N <= 1.
    pub degree: f64,
    /// Rank of the true suspect (1 = most likely, ties pessimistic), when it was given.
    pub true_rank: Option<u64>,
    /// The probability the adversary gives the true suspect, when it was given.
    pub true_probability: Option<f64>,
}

impl Anonymity {
    /// The measures as named scalars `<prefix>_entropy_bits`, `<prefix>_effective_set_size`,
    /// `<prefix>_degree` and, with a true suspect, `<prefix>_true_rank` and
    /// `<prefix>_true_probability`: ready for `Collector::add_summary` in the simulator.
    pub fn scalars(&self, prefix: &str) -> Vec<(String, f64)> {
        let mut out = vec![
            (format!("{prefix}_entropy_bits"), self.entropy_bits),
            (
                format!("{prefix}_effective_set_size"),
                self.effective_set_size,
            ),
            (format!("{prefix}_degree"), self.degree),
        ];
        if let Some(rank) = self.true_rank {
            out.push((format!("{prefix}_true_rank"), rank as f64));
        }
        if let Some(p) = self.true_probability {
            out.push((format!("{prefix}_true_probability"), p));
        }
        out
    }
}

/// Every measure of the belief `weights` over a `population` of possible suspects, and the
/// rank of `truth` when given.
///
/// Weights are normalised as [`probabilities`] does. With no evidence at all (every weight
/// zero, or none) the belief is uniform over the population: `H = log2 N`, degree 1, and the
/// true suspect ties with everyone (rank `N`, probability `1/N`).
pub fn measure<K: Ord>(
    weights: impl IntoIterator<Item = (K, f64)>,
    population: u64,
    truth: Option<&K>,
) -> Result<Anonymity, AnonymityError> {
    if population == 0 {
        return Err(AnonymityError::EmptyPopulation);
    }
    let probs = probabilities(weights)?;
    if probs.len() as u64 > population {
        return Err(AnonymityError::PopulationTooSmall {
            suspects: probs.len(),
            population,
        });
    }
    let no_evidence = probs.is_empty();
    let entropy = if no_evidence {
        (population as f64).log2()
    } else {
        entropy_bits(probs.values().copied())
    };
    let true_probability = truth.map(|t| {
        if no_evidence {
            1.0 / population as f64
        } else {
            probs.get(t).copied().unwrap_or(0.0)
        }
    });
    Ok(Anonymity {
        population,
        suspects: probs.len() as u64,
        entropy_bits: entropy,
        effective_set_size: effective_set_size(entropy),
        degree: degree_of_anonymity(entropy, population),
        true_rank: truth.map(|t| rank_of(&probs, t, population)),
        true_probability,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn normalises_and_merges_duplicates() {
        let p = probabilities([("a", 1.0), ("b", 2.0), ("a", 1.0), ("c", 0.0)]).expect("valid");
        assert_eq!(p.len(), 2, "zero weights are left out");
        assert!(close(p["a"], 0.5) && close(p["b"], 0.5));
        assert!(probabilities::<u32>([]).expect("valid").is_empty());
        assert!(probabilities([(1_u32, 0.0)]).expect("valid").is_empty());
    }

    #[test]
    fn rejects_bad_weights() {
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let err = probabilities([(1_u32, 1.0), (2, bad)]).expect_err("invalid");
            assert!(
                matches!(err, AnonymityError::InvalidWeight { index: 1, .. }),
                "{err}"
            );
        }
        let err = probabilities([(1_u32, f64::MAX), (2, f64::MAX)]).expect_err("overflow");
        assert!(matches!(err, AnonymityError::InvalidWeight { .. }), "{err}");
        assert_eq!(
            measure([(1_u32, 1.0), (2, 1.0), (3, 1.0)], 2, None),
            Err(AnonymityError::PopulationTooSmall {
                suspects: 3,
                population: 2
            })
        );
        assert_eq!(
            measure::<u32>([], 0, None),
            Err(AnonymityError::EmptyPopulation)
        );
    }

    #[test]
    fn known_values() {
        assert_eq!(entropy_bits([1.0]), 0.0);
        assert!(close(entropy_bits([0.5, 0.5]), 1.0));
        assert!(close(entropy_bits([0.25; 4]), 2.0));
        assert!(close(entropy_bits([0.5, 0.25, 0.25, 0.0]), 1.5));
        assert!(close(effective_set_size(3.0), 8.0));
        assert!(close(degree_of_anonymity(2.0, 16), 0.5));
        assert_eq!(degree_of_anonymity(0.0, 1), 0.0);
        assert_eq!(degree_of_anonymity(5.0, 0), 0.0);
    }

    #[test]
    fn certain_adversary() {
        let a = measure([(42_u32, 3.0)], 1000, Some(&42)).expect("valid");
        assert_eq!(a.entropy_bits, 0.0);
        assert_eq!(a.effective_set_size, 1.0);
        assert_eq!(a.degree, 0.0);
        assert_eq!(a.true_rank, Some(1));
        assert_eq!(a.true_probability, Some(1.0));
        // Certain and wrong: the truth is among the 999 unweighted routers, tied last.
        let wrong = measure([(42_u32, 3.0)], 1000, Some(&7)).expect("valid");
        assert_eq!(wrong.true_rank, Some(1000));
        assert_eq!(wrong.true_probability, Some(0.0));
    }

    #[test]
    fn no_evidence_is_uniform_over_the_population() {
        let a = measure([(1_u32, 0.0)], 64, Some(&1)).expect("valid");
        assert!(close(a.entropy_bits, 6.0));
        assert!(close(a.effective_set_size, 64.0));
        assert!(close(a.degree, 1.0));
        assert_eq!(a.suspects, 0);
        assert_eq!(a.true_rank, Some(64));
        assert_eq!(a.true_probability, Some(1.0 / 64.0));
        let alone = measure::<u32>([], 1, Some(&0)).expect("valid");
        assert_eq!((alone.entropy_bits, alone.degree), (0.0, 0.0));
        assert_eq!(alone.true_rank, Some(1));
    }

    #[test]
    fn ranks_count_ties_pessimistically() {
        let p = probabilities([(1_u32, 5.0), (2, 3.0), (3, 3.0), (4, 1.0)]).expect("valid");
        assert_eq!(rank_of(&p, &1, 10), 1);
        assert_eq!(rank_of(&p, &2, 10), 3);
        assert_eq!(rank_of(&p, &3, 10), 3);
        assert_eq!(rank_of(&p, &4, 10), 4);
        assert_eq!(rank_of(&p, &99, 10), 10);
    }

    #[test]
    fn scalars_are_named_by_prefix() {
        let a = measure([("x", 1.0), ("y", 1.0)], 4, Some(&"x")).expect("valid");
        let names: Vec<String> = a.scalars("sender").into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "sender_entropy_bits",
                "sender_effective_set_size",
                "sender_degree",
                "sender_true_rank",
                "sender_true_probability"
            ]
        );
        assert_eq!(
            measure([("x", 1.0)], 4, None)
                .expect("valid")
                .scalars("s")
                .len(),
            3
        );
    }

    /// Weights over up to 40 suspects (ids 0..60, duplicates allowed), some zero.
    fn weights() -> impl Strategy<Value = Vec<(u32, f64)>> {
        prop::collection::vec(
            (0_u32..60, prop_oneof![Just(0.0), 0.001_f64..1000.0]),
            0..40,
        )
    }

    proptest! {
        #[test]
        fn measures_stay_in_range(w in weights(), extra in 0_u64..100, truth in 0_u32..80) {
            let probs = probabilities(w.clone()).expect("valid");
            // The truth is one of the population: if unweighted, the population has room.
            let population = probs.len() as u64 + extra + u64::from(!probs.contains_key(&truth));
            let a = measure(w, population, Some(&truth)).expect("valid");
            prop_assert!(a.entropy_bits >= 0.0);
            prop_assert!(a.entropy_bits <= (population as f64).log2() + 1e-9);
            prop_assert!(a.effective_set_size >= 1.0 - 1e-9);
            prop_assert!(a.effective_set_size <= population as f64 * (1.0 + 1e-9));
            prop_assert!((0.0..=1.0).contains(&a.degree));
            let rank = a.true_rank.expect("truth given");
            prop_assert!(rank >= 1 && rank <= population);
            let p = a.true_probability.expect("truth given");
            prop_assert!((0.0..=1.0 + 1e-12).contains(&p));
        }

        #[test]
        fn normalised_probabilities_sum_to_one(w in weights()) {
            let p = probabilities(w).expect("valid");
            if !p.is_empty() {
                prop_assert!((p.values().sum::<f64>() - 1.0).abs() < 1e-9);
                prop_assert!(p.values().all(|&q| q > 0.0));
            }
        }

        #[test]
        fn scaling_and_order_do_not_matter(w in weights(), scale in 0.01_f64..100.0) {
            let population = 100;
            let a = measure(w.clone(), population, None).expect("valid");
            let scaled = w.iter().rev().map(|&(k, x)| (k, x * scale));
            let b = measure(scaled, population, None).expect("valid");
            prop_assert!((a.entropy_bits - b.entropy_bits).abs() < 1e-9);
            prop_assert!((a.degree - b.degree).abs() < 1e-9);
        }

        #[test]
        fn uniform_over_everyone_is_full_anonymity(n in 2_u32..500) {
            let a = measure((0..n).map(|i| (i, 1.0)), u64::from(n), Some(&0)).expect("valid");
            prop_assert!((a.degree - 1.0).abs() < 1e-9);
            prop_assert!((a.effective_set_size - f64::from(n)).abs() < 1e-6 * f64::from(n));
            prop_assert_eq!(a.true_rank, Some(u64::from(n)));
        }

        #[test]
        fn top_suspect_ranks_first(w in weights()) {
            let p = probabilities(w).expect("valid");
            if let Some((top, &pmax)) = p.iter().max_by(|a, b| a.1.total_cmp(b.1)) {
                let unique = p.values().filter(|&&q| q == pmax).count() == 1;
                if unique {
                    prop_assert_eq!(rank_of(&p, top, 100), 1);
                }
            }
        }
    }
}
