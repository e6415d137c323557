//! What one planner made of one operation: a plan with its fetch counts and planning times,
//! or the stage at which it refused.

use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Planned {
    /// Fetches under the larger-branch rule (`count::Branches::Larger`).
    pub fetches: usize,
    /// Fetches with both branches of every condition counted.
    pub fetches_all_branches: usize,
    /// Fetches per subgraph (both branches): a hint for reading exceptions.
    pub by_subgraph: BTreeMap<String, usize>,
    /// Each timed repetition, in milliseconds.
    pub times_ms: Vec<f64>,
    /// The plan as the planner prints it.
    pub plan: String,
}

impl Planned {
    pub fn median_ms(&self) -> f64 {
        median(&self.times_ms)
    }
}

/// Where a planner gave up on an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The supergraph did not load.
    Supergraph,
    /// Not valid against the API schema (or not parsed).
    Validate,
    /// Valid, but not planned (normalization or planning failed).
    Plan,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Supergraph => "supergraph",
            Stage::Validate => "validation",
            Stage::Plan => "planning",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Side {
    Planned(Planned),
    Refused { stage: Stage, error: String },
}

impl Side {
    pub fn planned(&self) -> Option<&Planned> {
        match self {
            Side::Planned(p) => Some(p),
            Side::Refused { .. } => None,
        }
    }
}

/// The median of some samples (the mean of the middle two for an even count); 0 for none.
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The nearest-rank percentile `p` (0-100) of some samples; 0 for none.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_percentiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&hundred, 99.0), 99.0);
        assert_eq!(percentile(&hundred, 100.0), 100.0);
        assert_eq!(percentile(&[5.0], 99.0), 5.0);
    }
}
