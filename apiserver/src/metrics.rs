//! Request metrics under upstream's names (`apiserver_request_total`,
//! `apiserver_request_duration_seconds`), so existing dashboards and alerts read them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upstream's duration buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
    10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
];

/// What a request was, as the metric labels name it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequestLabels {
    /// `GET`, `LIST`, `WATCH`, `POST`, `PUT`, `PATCH`, `DELETE`.
    pub verb: &'static str,
    /// `All` for dry runs, else empty.
    pub dry_run: &'static str,
    /// API group.
    pub group: String,
    /// API version.
    pub version: String,
    /// Resource plural.
    pub resource: String,
    /// Subresource.
    pub subresource: String,
    /// `resource` (one object), `namespace` or `cluster`.
    pub scope: &'static str,
}

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    totals: BTreeMap<(RequestLabels, u16), u64>,
    durations: BTreeMap<RequestLabels, Histogram>,
}

/// The server's request metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, labels: RequestLabels, code: u16, elapsed: Duration) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *inner.totals.entry((labels.clone(), code)).or_default() += 1;
        if labels.verb == "WATCH" {
            // Long-running: its duration is the watch's life, not the server's latency.
            return;
        }
        let seconds = elapsed.as_secs_f64();
        let histogram = inner.durations.entry(labels).or_default();
        if histogram.counts.is_empty() {
            histogram.counts = vec![0; BUCKETS.len()];
        }
        for (bucket, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bucket {
                *count += 1;
            }
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = String::new();
        out.push_str("# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.\n");
        out.push_str("# TYPE apiserver_request_total counter\n");
        for ((labels, code), total) in &inner.totals {
            let _ = writeln!(
                out,
                "apiserver_request_total{{code=\"{code}\",{}}} {total}",
                label_text(labels)
            );
        }
        out.push_str("# HELP apiserver_request_duration_seconds [STABLE] Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.\n");
        out.push_str("# TYPE apiserver_request_duration_seconds histogram\n");
        for (labels, histogram) in &inner.durations {
            let text = label_text(labels);
            for (bucket, count) in BUCKETS.iter().zip(&histogram.counts) {
                let _ = writeln!(
                    out,
                    "apiserver_request_duration_seconds_bucket{{{text},le=\"{bucket}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "apiserver_request_duration_seconds_bucket{{{text},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "apiserver_request_duration_seconds_sum{{{text}}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "apiserver_request_duration_seconds_count{{{text}}} {}",
                histogram.count
            );
        }
        out
    }
}

fn label_text(labels: &RequestLabels) -> String {
    format!(
        "component=\"apiserver\",dry_run=\"{}\",group=\"{}\",resource=\"{}\",scope=\"{}\",subresource=\"{}\",verb=\"{}\",version=\"{}\"",
        labels.dry_run,
        escape(&labels.group),
        escape(&labels.resource),
        labels.scope,
        escape(&labels.subresource),
        labels.verb,
        escape(&labels.version)
    )
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Metrics, RequestLabels};

    #[test]
    fn renders_counters_and_histograms() {
        let metrics = Metrics::default();
        let labels = RequestLabels {
            verb: "LIST",
            resource: "pods".into(),
            version: "v1".into(),
            scope: "namespace",
            ..RequestLabels::default()
        };
        metrics.observe(labels.clone(), 200, Duration::from_millis(30));
        metrics.observe(labels, 200, Duration::from_millis(3));
        let text = metrics.render();
        assert!(text.contains("apiserver_request_total{code=\"200\",component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"pods\",scope=\"namespace\",subresource=\"\",verb=\"LIST\",version=\"v1\"} 2"), "{text}");
        assert!(text.contains("le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("le=\"0.05\"} 2"), "{text}");
        assert!(text.contains("apiserver_request_duration_seconds_count{"));
    }
}
