//! The soak's numbers and what they must be (issue 19, "Done when"): no ordinary request
//! fails, load-shed 503s stay under 1% (counted apart), resident memory is flat (the last
//! minute's peak within 10% of the first minute's).

use std::time::Duration;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Soak {
    pub ordinary_ok: u64,
    /// Ordinary requests that failed (not 503): status, GraphQL errors, time-out, transport.
    pub ordinary_failed: u64,
    /// The first few failures' descriptions.
    pub failure_samples: Vec<String>,
    /// Ordinary requests refused with 503 (load shedding).
    pub shed: u64,
    pub attacks_sent: u64,
    /// Attack requests by attack id.
    pub attacks_by_id: std::collections::BTreeMap<&'static str, u64>,
    /// Ordinary latencies (successful ones), in microseconds.
    pub latencies_us: Vec<u64>,
    /// Peak RSS (KiB) in the first and in the last window.
    pub rss_first_kib: u64,
    pub rss_last_kib: u64,
    /// Each window's median and peak RSS (KiB), in order.
    pub rss_profile: Vec<(u64, u64)>,
    pub alive: bool,
}

/// The `q` quantile (0..=1) of `sorted` (nearest rank); `None` when empty.
pub fn quantile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// p50 and p99 of `latencies_us`.
pub fn p50_p99(latencies_us: &[u64]) -> (Option<Duration>, Option<Duration>) {
    let mut sorted = latencies_us.to_vec();
    sorted.sort_unstable();
    let d = |q| quantile(&sorted, q).map(Duration::from_micros);
    (d(0.5), d(0.99))
}

/// The windows RSS is compared over: a minute, or a quarter of a shorter run.
pub fn rss_window(run: Duration) -> Duration {
    Duration::from_secs(60).min(run / 4)
}

/// The peak of the samples `(seconds since start, KiB)` in the first and the last `window`.
pub fn first_and_last_peaks(samples: &[(f64, u64)], run: Duration, window: Duration) -> (u64, u64) {
    let w = window.as_secs_f64();
    let end = run.as_secs_f64();
    let peak = |keep: &dyn Fn(f64) -> bool| {
        samples
            .iter()
            .filter(|(t, _)| keep(*t))
            .map(|(_, k)| *k)
            .max()
            .unwrap_or(0)
    };
    (peak(&|t| t <= w), peak(&|t| t >= end - w))
}

/// Each `window` of the run in turn: its median and its peak sample (KiB). A peak depends on
/// how many heavy requests happened to overlap; the medians show the trend under it.
pub fn window_profile(samples: &[(f64, u64)], window: Duration) -> Vec<(u64, u64)> {
    let w = window.as_secs_f64().max(1.0);
    let mut windows: Vec<Vec<u64>> = Vec::new();
    for &(t, kib) in samples {
        let i = (t / w) as usize;
        if windows.len() <= i {
            windows.resize_with(i + 1, Vec::new);
        }
        windows[i].push(kib);
    }
    windows
        .into_iter()
        .filter(|v| !v.is_empty())
        .map(|mut v| {
            v.sort_unstable();
            (v[(v.len() - 1) / 2], v[v.len() - 1])
        })
        .collect()
}

/// Why the soak fails; empty when it passes.
pub fn judge(s: &Soak) -> Vec<String> {
    let mut failures = Vec::new();
    if s.ordinary_failed > 0 {
        failures.push(format!("{} ordinary requests failed", s.ordinary_failed));
    }
    let ordinary = s.ordinary_ok + s.ordinary_failed + s.shed;
    if ordinary == 0 {
        failures.push("no ordinary request was sent".into());
    } else if s.shed as f64 >= 0.01 * ordinary as f64 {
        failures.push(format!(
            "{} of {ordinary} ordinary requests shed (503), 1% or more",
            s.shed
        ));
    }
    if s.rss_first_kib == 0 || s.rss_last_kib as f64 > 1.10 * s.rss_first_kib as f64 {
        failures.push(format!(
            "RSS grew from {:.0} to {:.0} MiB, over 10%",
            s.rss_first_kib as f64 / 1024.0,
            s.rss_last_kib as f64 / 1024.0
        ));
    }
    if !s.alive {
        failures.push("gateway not alive after".into());
    }
    failures
}

/// The concurrency to soak at: the first of `steps` (concurrency, p99) whose p99 is at least
/// twice `unloaded`, else the last one tried.
pub fn knee(unloaded: Duration, steps: &[(usize, Duration)]) -> Option<usize> {
    steps
        .iter()
        .find(|(_, p99)| *p99 >= unloaded * 2)
        .or(steps.last())
        .map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_gives_each_window_its_median_and_peak() {
        let samples = [(0.5, 10), (1.0, 30), (1.5, 20), (2.5, 7), (3.0, 9)];
        assert_eq!(
            window_profile(&samples, Duration::from_secs(2)),
            vec![(20, 30), (7, 9)]
        );
        assert!(window_profile(&[], Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), Some(50));
        assert_eq!(quantile(&v, 0.99), Some(99));
        assert_eq!(quantile(&v, 1.0), Some(100));
        assert_eq!(quantile(&[7], 0.99), Some(7));
        assert_eq!(quantile(&[], 0.5), None);
        let (p50, p99) = p50_p99(&[3000, 1000, 2000]);
        assert_eq!(p50, Some(Duration::from_millis(2)));
        assert_eq!(p99, Some(Duration::from_millis(3)));
    }

    #[test]
    fn rss_is_compared_between_the_first_and_last_window() {
        let run = Duration::from_secs(600);
        let window = rss_window(run);
        assert_eq!(window, Duration::from_secs(60));
        assert_eq!(rss_window(Duration::from_secs(60)), Duration::from_secs(15));
        let samples = [
            (1.0, 100),
            (59.0, 120),
            (300.0, 500),
            (541.0, 130),
            (599.0, 125),
        ];
        assert_eq!(first_and_last_peaks(&samples, run, window), (120, 130));
    }

    fn passing() -> Soak {
        Soak {
            ordinary_ok: 10_000,
            shed: 50,
            rss_first_kib: 100_000,
            rss_last_kib: 109_000,
            alive: true,
            ..Soak::default()
        }
    }

    #[test]
    fn a_clean_soak_passes_and_each_breach_is_named() {
        assert!(judge(&passing()).is_empty());
        let mut s = passing();
        s.ordinary_failed = 1;
        assert_eq!(judge(&s), ["1 ordinary requests failed"]);
        let mut s = passing();
        s.shed = 103;
        assert_eq!(
            judge(&s),
            ["103 of 10103 ordinary requests shed (503), 1% or more"]
        );
        let mut s = passing();
        s.rss_last_kib = 111_000;
        assert_eq!(judge(&s).len(), 1);
        let mut s = passing();
        s.alive = false;
        assert_eq!(judge(&s), ["gateway not alive after"]);
        assert_eq!(
            judge(&Soak {
                alive: true,
                rss_first_kib: 1,
                rss_last_kib: 1,
                ..Soak::default()
            }),
            ["no ordinary request was sent"]
        );
    }

    #[test]
    fn the_knee_is_where_p99_doubles() {
        let ms = Duration::from_millis;
        let steps = [
            (1, ms(10)),
            (2, ms(12)),
            (4, ms(19)),
            (8, ms(25)),
            (16, ms(60)),
        ];
        assert_eq!(knee(ms(10), &steps), Some(8));
        assert_eq!(
            knee(ms(100), &steps),
            Some(16),
            "never doubled: the last tried"
        );
        assert_eq!(knee(ms(1), &[]), None);
    }
}
