//! Decaying counters: a sum of events in which each event's weight halves every
//! half-life, so a profile remembers recent behaviour more than old behaviour in constant
//! memory.
//!
//! The decay uses only exact halvings and one linear step, no `exp`: basic IEEE operations
//! round identically everywhere, while `exp` may differ between math libraries, and
//! profiles decide tiers, which decide tunnels, which must replay bit for bit.

use crate::time::Instant;
use std::time::Duration;

/// The half-life is the caller's (a profile keeps many counters with a few half-lives,
/// so storing it in each would double their size).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DecayingCounter {
    value: f64,
    at: Instant,
}

impl DecayingCounter {
    /// The decayed sum as of `now` (times before the last update count as the update).
    pub fn value(&self, now: Instant, half_life: Duration) -> f64 {
        decay(
            self.value,
            now.saturating_duration_since(self.at),
            half_life,
        )
    }

    pub fn add(&mut self, now: Instant, amount: f64, half_life: Duration) {
        self.value = self.value(now, half_life) + amount;
        self.at = self.at.max(now);
    }

    /// Bytes written by [`DecayingCounter::emit`].
    pub(crate) const ENCODED_LEN: usize = 16;

    /// The raw state (value as IEEE bits, then the instant), so a saved profile decays
    /// on exactly as it would have in memory.
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.value.to_bits().to_be_bytes());
        out.extend_from_slice(&self.at.as_micros().to_be_bytes());
    }

    /// The inverse of [`DecayingCounter::emit`]; `None` for a value no counter can hold
    /// (negative, infinite or NaN), so a corrupt file cannot poison tier sorting.
    pub(crate) fn from_parts(value_bits: u64, at_micros: u64) -> Option<DecayingCounter> {
        let value = f64::from_bits(value_bits);
        (value.is_finite() && value >= 0.0).then_some(DecayingCounter {
            value,
            at: Instant::from_micros(at_micros),
        })
    }
}

/// `value` after `elapsed`: halved once per whole half-life, then linearly towards the
/// next halving (a piecewise-linear exponential).
fn decay(value: f64, elapsed: Duration, half_life: Duration) -> f64 {
    let (elapsed, half_life) = (elapsed.as_micros(), half_life.as_micros().max(1));
    let halvings = elapsed / half_life;
    if halvings >= 64 {
        return 0.0;
    }
    let halved = value / (1u64 << halvings) as f64;
    let partial = (elapsed % half_life) as f64 / half_life as f64;
    halved * (1.0 - 0.5 * partial)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Instant = Instant::from_secs(1_000_000);

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn halves_every_half_life() {
        let mut c = DecayingCounter::default();
        c.add(T0, 8.0, MINUTE);
        assert_eq!(c.value(T0, MINUTE), 8.0);
        assert_eq!(c.value(T0 + Duration::from_secs(60), MINUTE), 4.0);
        assert_eq!(c.value(T0 + Duration::from_secs(120), MINUTE), 2.0);
        assert_eq!(c.value(T0 + Duration::from_secs(90), MINUTE), 3.0);
        assert_eq!(c.value(T0 + Duration::from_secs(60 * 70), MINUTE), 0.0);
    }

    #[test]
    fn adds_on_top_of_the_decayed_value() {
        let mut c = DecayingCounter::default();
        c.add(T0, 4.0, MINUTE);
        c.add(T0 + Duration::from_secs(60), 1.0, MINUTE);
        assert_eq!(c.value(T0 + Duration::from_secs(60), MINUTE), 3.0);
    }
}
