//! Latency bookkeeping: per-command latency histograms (INFO latencystats,
//! LATENCY HISTOGRAM) and the latency monitor's event time series (LATENCY
//! LATEST / HISTORY / RESET / GRAPH / DOCTOR).
//!
//! # Overview
//!
//! Redis keeps an HdrHistogram per command with two significant figures
//! over 1 µs ..= 1 s, recording nanoseconds. [`Histogram`] is a compact
//! log-linear equivalent: a value keeps its top seven significant bits
//! (128 sub-buckets per power of two, better than two decimal figures), so
//! percentiles are within 1% of the exact value, as HdrHistogram's are.

use std::collections::BTreeMap;

/// Smallest value recorded, in nanoseconds (Redis `LATENCY_HISTOGRAM_MIN_VALUE`).
pub const HIST_MIN_NS: u64 = 1_000;
/// Largest value recorded, in nanoseconds (Redis `LATENCY_HISTOGRAM_MAX_VALUE`).
pub const HIST_MAX_NS: u64 = 1_000_000_000;
/// Sub-bucket bits: values keep this many significant bits.
const SUB_BITS: u32 = 7;

/// A latency histogram of nanosecond values.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// Highest value equivalent to a bucket → count.
    buckets: BTreeMap<u64, u64>,
    total: u64,
}

impl Histogram {
    /// Records one value (clamped to the histogram's range).
    pub fn record(&mut self, ns: u64) {
        let v = ns.clamp(HIST_MIN_NS, HIST_MAX_NS);
        *self.buckets.entry(highest_equivalent(v)).or_insert(0) += 1;
        self.total += 1;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The value at percentile `p` (0..=100), as HdrHistogram's
    /// `hdr_value_at_percentile` answers it: the highest value equivalent
    /// to the bucket holding the sample of that rank.
    pub fn value_at_percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let p = p.clamp(0.0, 100.0);
        let rank = ((p / 100.0) * self.total as f64 + 0.5) as u64;
        let rank = rank.max(1);
        let mut seen = 0;
        for (&v, &n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return v;
            }
        }
        self.buckets.keys().next_back().copied().unwrap_or(0)
    }

    /// Cumulative counts at power-of-two microsecond boundaries starting at
    /// 1 µs, as LATENCY HISTOGRAM reports them (HdrHistogram's log iterator
    /// with a first bucket of 1024 ns and base 2): (µs, cumulative count)
    /// for each boundary where the count grew.
    pub fn cumulative_usec(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut limit_ns: u64 = 1024;
        let mut cumulative = 0;
        let mut previous = 0;
        let mut it = self.buckets.iter().peekable();
        while cumulative < self.total {
            while let Some((&v, &n)) = it.peek() {
                if v > limit_ns {
                    break;
                }
                cumulative += n;
                it.next();
            }
            if cumulative > previous {
                out.push((limit_ns / 1000, cumulative));
            }
            previous = cumulative;
            limit_ns *= 2;
        }
        out
    }
}

/// The largest value that falls in the same bucket as `v`.
fn highest_equivalent(v: u64) -> u64 {
    let bits = 64 - v.leading_zeros();
    if bits <= SUB_BITS {
        return v;
    }
    let shift = bits - SUB_BITS;
    ((v >> shift) << shift) + (1u64 << shift) - 1
}

/// Samples a latency monitor event keeps (Redis `LATENCY_TS_LEN`).
pub const SERIES_LEN: usize = 160;

/// One latency monitor event's history: at most one sample per second,
/// the worst of that second.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// (unix time in seconds, latency in ms), oldest first.
    pub samples: std::collections::VecDeque<(i64, u64)>,
    /// Worst latency ever seen, in ms.
    pub max: u64,
}

impl Series {
    /// Adds a sample taken at `now` (seconds).
    pub fn add(&mut self, now: i64, ms: u64) {
        self.max = self.max.max(ms);
        if let Some(last) = self.samples.back_mut() {
            if last.0 == now {
                last.1 = last.1.max(ms);
                return;
            }
        }
        if self.samples.len() == SERIES_LEN {
            self.samples.pop_front();
        }
        self.samples.push_back((now, ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_seven_significant_bits() {
        assert_eq!(highest_equivalent(100), 100);
        assert_eq!(highest_equivalent(127), 127);
        assert_eq!(highest_equivalent(128), 129);
        assert_eq!(highest_equivalent(1_000_000), 1_007_615);
    }

    #[test]
    fn percentiles_and_cumulative_counts() {
        let mut h = Histogram::default();
        assert_eq!(h.value_at_percentile(50.0), 0);
        for us in [1u64, 2, 3, 50_000] {
            h.record(us * 1000);
        }
        assert_eq!(h.total(), 4);
        assert_eq!(h.value_at_percentile(50.0), highest_equivalent(2000));
        assert_eq!(h.value_at_percentile(100.0), highest_equivalent(50_000_000));
        assert_eq!(h.value_at_percentile(0.0), highest_equivalent(1000));
        // Boundaries are 1024 ns * 2^k, reported in whole µs.
        assert_eq!(
            h.cumulative_usec(),
            vec![(1, 1), (2, 2), (4, 3), (67108, 4)]
        );
    }

    #[test]
    fn series_keeps_one_sample_per_second() {
        let mut s = Series::default();
        s.add(10, 5);
        s.add(10, 3);
        s.add(10, 7);
        s.add(11, 1);
        assert_eq!(s.samples, [(10, 7), (11, 1)]);
        assert_eq!(s.max, 7);
        for t in 0..200 {
            s.add(100 + t, 1);
        }
        assert_eq!(s.samples.len(), SERIES_LEN);
    }
}
