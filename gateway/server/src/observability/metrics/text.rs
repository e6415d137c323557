//! The Prometheus text exposition format, version 0.0.4, of what the SDK collected: an encoder
//! over `ResourceMetrics`, not an instrument library. Every metric of `families::ALL` is
//! listed (`# HELP`, `# TYPE`) whether or not it has samples yet, a metric without labels
//! shows zero until counted, samples are in the order of their label values, and the SDK's
//! overflow series (`otel.metric.overflow`, past `MAX_SERIES`) shows as label value `other`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};

use super::families::{ALL, BUCKETS, Family, Kind};

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The attribute the SDK gives the one series past a metric's cardinality limit.
const OVERFLOW: &str = "otel.metric.overflow";

/// The value every label of the overflow series shows.
const OTHER: &str = "other";

/// One histogram series: per-bucket (not cumulative) counts, the last above every bound.
#[derive(Debug)]
struct Buckets {
    bounds: Vec<f64>,
    counts: Vec<u64>,
    sum: f64,
}

impl Buckets {
    fn empty() -> Buckets {
        Buckets {
            bounds: BUCKETS.to_vec(),
            counts: vec![0; BUCKETS.len() + 1],
            sum: 0.0,
        }
    }
}

/// `collected` in the text format.
pub(super) fn encode(collected: &ResourceMetrics) -> String {
    let mut out = String::new();
    for family in ALL {
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind.as_str());
        let metric = collected
            .scope_metrics()
            .flat_map(|scope| scope.metrics())
            .find(|metric| metric.name() == family.name);
        match family.kind {
            Kind::Counter | Kind::Gauge => {
                let mut series = values(family, metric);
                if series.is_empty() && family.labels.is_empty() {
                    series.insert(Vec::new(), 0);
                }
                for (labels, value) in series {
                    sample(
                        &mut out,
                        family.name,
                        "",
                        family.labels,
                        &labels,
                        None,
                        value,
                    );
                }
            }
            Kind::Histogram => {
                let mut series = histograms(family, metric);
                if series.is_empty() && family.labels.is_empty() {
                    series.insert(Vec::new(), Buckets::empty());
                }
                for (labels, buckets) in series {
                    histogram(&mut out, family, &labels, &buckets);
                }
            }
        }
    }
    out
}

/// The label values of a sample, in the order of `family.labels`.
fn label_values<'a>(
    family: &Family,
    attributes: impl Iterator<Item = &'a KeyValue>,
) -> Vec<String> {
    let attributes: Vec<&KeyValue> = attributes.collect();
    if attributes.iter().any(|kv| kv.key.as_str() == OVERFLOW) {
        return vec![OTHER.to_owned(); family.labels.len()];
    }
    family
        .labels
        .iter()
        .map(|label| {
            attributes
                .iter()
                .find(|kv| kv.key.as_str() == *label)
                .map(|kv| kv.value.as_str().into_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// A counter's or gauge's series by label values. A counted `other` and the overflow series
/// land on the same labels: counters add up, a gauge keeps the last one read.
fn values(family: &Family, metric: Option<&Metric>) -> BTreeMap<Vec<String>, u64> {
    let mut series = BTreeMap::new();
    let Some(metric) = metric else {
        return series;
    };
    match metric.data() {
        AggregatedMetrics::U64(MetricData::Sum(sum)) => {
            for point in sum.data_points() {
                *series
                    .entry(label_values(family, point.attributes()))
                    .or_insert(0) += point.value();
            }
        }
        AggregatedMetrics::U64(MetricData::Gauge(gauge)) => {
            for point in gauge.data_points() {
                series.insert(label_values(family, point.attributes()), point.value());
            }
        }
        // Every counter and gauge of `mod.rs` is a `u64` one.
        _ => {}
    }
    series
}

/// A histogram's series by label values (the overflow series merged into a counted `other`).
fn histograms(family: &Family, metric: Option<&Metric>) -> BTreeMap<Vec<String>, Buckets> {
    let mut series: BTreeMap<Vec<String>, Buckets> = BTreeMap::new();
    let Some(AggregatedMetrics::F64(MetricData::Histogram(histogram))) = metric.map(Metric::data)
    else {
        // Every histogram of `mod.rs` is an `f64` one.
        return series;
    };
    for point in histogram.data_points() {
        let labels = label_values(family, point.attributes());
        let counts: Vec<u64> = point.bucket_counts().collect();
        match series.get_mut(&labels) {
            Some(merged) if merged.counts.len() == counts.len() => {
                merged
                    .counts
                    .iter_mut()
                    .zip(&counts)
                    .for_each(|(a, b)| *a += b);
                merged.sum += point.sum();
            }
            _ => {
                series.insert(
                    labels,
                    Buckets {
                        bounds: point.bounds().collect(),
                        counts,
                        sum: point.sum(),
                    },
                );
            }
        }
    }
    series
}

/// A histogram's `_bucket` lines (cumulative, so `+Inf` always equals `_count`), `_sum` and
/// `_count`.
fn histogram(out: &mut String, family: &Family, labels: &[String], buckets: &Buckets) {
    let mut cumulative = 0u64;
    for (i, count) in buckets.counts.iter().enumerate() {
        cumulative += count;
        let le = buckets
            .bounds
            .get(i)
            .map_or_else(|| "+Inf".to_owned(), f64::to_string);
        sample(
            out,
            family.name,
            "_bucket",
            family.labels,
            labels,
            Some(&le),
            cumulative,
        );
    }
    sample(
        out,
        family.name,
        "_sum",
        family.labels,
        labels,
        None,
        buckets.sum,
    );
    sample(
        out,
        family.name,
        "_count",
        family.labels,
        labels,
        None,
        cumulative,
    );
}

/// One sample line: `name` with `suffix`, the labels (and `le` last, for a bucket), the value.
fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    names: &[&str],
    values: &[String],
    le: Option<&str>,
    value: impl std::fmt::Display,
) {
    out.push_str(name);
    out.push_str(suffix);
    let pairs = names
        .iter()
        .copied()
        .zip(values.iter().map(String::as_str))
        .chain(le.map(|le| ("le", le)));
    let mut first = true;
    for (label, v) in pairs {
        out.push(if first { '{' } else { ',' });
        first = false;
        out.push_str(label);
        out.push_str("=\"");
        escape_label(out, v);
        out.push('"');
    }
    if !first {
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Label values escape `\`, `"` and line feeds (exposition format 0.0.4).
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}
