//! Metrics reported to the employee (`{"kind": "metric", "payload": {"metric", "value"}}`),
//! kept as a short series each so triggers can see thresholds, anomalies and trends, and
//! goals can be projected to their deadline.

use super::expr::Lookup;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Points kept per metric.
pub const WINDOW: usize = 32;

/// The recent values of every metric.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    series: BTreeMap<String, VecDeque<(DateTime<Utc>, f64)>>,
}

impl Metrics {
    /// Records a value.
    pub fn record(&mut self, metric: &str, value: f64, at: DateTime<Utc>) {
        let s = self.series.entry(metric.to_string()).or_default();
        if s.len() == WINDOW {
            s.pop_front();
        }
        s.push_back((at, value));
    }

    /// Number of metrics with a series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no metric has a series.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Of the metrics `kept` does not protect, keeps the `n` reported most recently;
    /// returns the names of those forgotten.
    pub(super) fn keep_newest(&mut self, n: usize, kept: impl Fn(&str) -> bool) -> Vec<String> {
        let mut free: BTreeMap<String, VecDeque<(DateTime<Utc>, f64)>> = BTreeMap::new();
        let all = std::mem::take(&mut self.series);
        for (m, s) in all {
            if kept(&m) {
                self.series.insert(m, s);
            } else {
                free.insert(m, s);
            }
        }
        let names: Vec<String> = free.keys().cloned().collect();
        super::bounds::keep_top(&mut free, n, |_, s| s.back().map(|p| p.0));
        let gone = names
            .into_iter()
            .filter(|m| !free.contains_key(m))
            .collect();
        self.series.append(&mut free);
        gone
    }

    /// The latest value.
    pub fn latest(&self, metric: &str) -> Option<f64> {
        self.series.get(metric)?.back().map(|p| p.1)
    }

    /// The value before the latest.
    pub fn previous(&self, metric: &str) -> Option<f64> {
        let s = self.series.get(metric)?;
        s.len().checked_sub(2).map(|i| s[i].1)
    }

    /// The last `n` values, oldest first.
    pub fn last(&self, metric: &str, n: usize) -> Vec<f64> {
        self.series
            .get(metric)
            .map(|s| {
                s.iter()
                    .skip(s.len().saturating_sub(n))
                    .map(|p| p.1)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Least-squares slope per hour over the window; None with fewer than two points in
    /// time.
    pub fn slope_per_hour(&self, metric: &str) -> Option<f64> {
        self.series.get(metric).and_then(hourly_slope)
    }

    /// One metric's points, oldest first.
    pub(super) fn points(&self, metric: &str) -> Option<&VecDeque<(DateTime<Utc>, f64)>> {
        self.series.get(metric)
    }

    /// How many standard deviations the latest value lies from the mean of the `window`
    /// values before it; None with fewer than three of them or no spread.
    pub fn zscore(&self, metric: &str, window: usize) -> Option<f64> {
        let vals = self.last(metric, window + 1);
        let (latest, before) = vals.split_last()?;
        if before.len() < 3 {
            return None;
        }
        let n = before.len() as f64;
        let mean = before.iter().sum::<f64>() / n;
        let sd = (before.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        (sd > 1e-12).then(|| (latest - mean) / sd)
    }

    /// Slope per point over the last `window` values (for trends measured in reports,
    /// not hours); None with fewer than `window` values.
    pub fn trend(&self, metric: &str, window: usize) -> Option<f64> {
        let vals = self.last(metric, window);
        if vals.len() < window.max(2) {
            return None;
        }
        let pts: Vec<(f64, f64)> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| (i as f64, *v))
            .collect();
        slope(&pts)
    }
}

/// Least-squares slope per hour of a series, without collecting it.
pub(super) fn hourly_slope(s: &VecDeque<(DateTime<Utc>, f64)>) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let t0 = s.front()?.0.timestamp_millis();
    let n = s.len() as f64;
    // One pass: sums of x, y, x², xy (x in hours from the first point).
    let (sx, sy, sxx, sxy) = s.iter().fold((0.0, 0.0, 0.0, 0.0), |(a, b, c, d), (t, y)| {
        let x = (t.timestamp_millis() - t0) as f64 / 3_600_000.0;
        (a + x, b + y, c + x * x, d + x * y)
    });
    let vxx = sxx - sx * sx / n;
    (vxx > 1e-12).then(|| (sxy - sx * sy / n) / vxx)
}

fn slope(pts: &[(f64, f64)]) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 1e-12).then(|| sxy / sxx)
}

impl Lookup for Metrics {
    fn get(&self, key: &str) -> Option<cel::Value> {
        self.latest(key).map(cel::Value::Float)
    }

    fn all(&self) -> Vec<(String, cel::Value)> {
        self.series
            .keys()
            .filter_map(|k| self.latest(k).map(|v| (k.clone(), cel::Value::Float(v))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn slope_zscore_and_trend() {
        let t0 = Utc::now();
        let mut m = Metrics::default();
        for (i, v) in [10.0, 10.5, 9.5, 10.0, 10.2, 9.8].iter().enumerate() {
            m.record("x", *v, t0 + Duration::hours(i as i64));
        }
        assert!(m.zscore("x", 10).unwrap().abs() < 1.0);
        m.record("x", 20.0, t0 + Duration::hours(7));
        assert!(m.zscore("x", 10).unwrap() > 3.0);
        for i in 0..5 {
            m.record("y", 5.0 - i as f64, t0 + Duration::hours(2 * i));
        }
        assert!((m.slope_per_hour("y").unwrap() + 0.5).abs() < 1e-9);
        assert!((m.trend("y", 5).unwrap() + 1.0).abs() < 1e-9);
        assert_eq!(m.trend("y", 6), None);
        assert_eq!(m.previous("y"), Some(2.0));
    }
}
