//! Metrics in CloudWatch's Embedded Metric Format (EMF): one JSON line on
//! stdout per event, which CloudWatch Logs turns into metrics as it ingests
//! the function's log (no API call on the request path, no agent). The
//! template's alarms and dashboard read these metrics.
//!
//! Lines are written only where `METRICS_NAMESPACE` is set (template.yaml sets
//! it for every function); locally and in tests only [`line`] runs, as pure code.

use serde_json::{json, Map, Value};

/// The units the metrics here use (EMF's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Milliseconds,
    Count,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Milliseconds => "Milliseconds",
            Unit::Count => "Count",
        }
    }
}

/// One event: its dimension values, its metric values and other properties
/// (searchable in the log, not metrics).
#[derive(Debug, Default)]
pub struct Event<'a> {
    /// Each metric is recorded once per dimension here (e.g. per route) and
    /// once with no dimension at all (the whole deployment, what alarms read).
    pub dimensions: Vec<(&'a str, String)>,
    pub metrics: Vec<(&'a str, Unit, f64)>,
    pub properties: Vec<(&'a str, Value)>,
}

/// The EMF document for `event` at `timestamp_ms` (Unix milliseconds).
pub fn line(namespace: &str, timestamp_ms: i64, event: &Event) -> Value {
    let mut sets: Vec<Vec<&str>> = event.dimensions.iter().map(|(name, _)| vec![*name]).collect();
    sets.push(Vec::new());
    let definitions: Vec<Value> = event.metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit.name()})).collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": sets, "Metrics": definitions}],
        }),
    );
    for (name, value) in &event.dimensions {
        doc.insert((*name).into(), Value::String(value.clone()));
    }
    for (name, _, value) in &event.metrics {
        doc.insert((*name).into(), json!(value));
    }
    for (name, value) in &event.properties {
        doc.entry(*name).or_insert_with(|| value.clone());
    }
    Value::Object(doc)
}

/// Writes `event` as one EMF line on stdout, where `METRICS_NAMESPACE` is set.
pub fn emit(event: &Event) {
    use std::io::Write;
    let Ok(namespace) = std::env::var("METRICS_NAMESPACE") else {
        return;
    };
    let doc = line(&namespace, chrono::Utc::now().timestamp_millis(), event);
    // One write of a whole line, so it never interleaves with a log line.
    let _ = std::io::stdout().lock().write_all(format!("{doc}\n").as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_an_emf_document() {
        let e = Event {
            dimensions: vec![("Route", "GET /profile".into())],
            metrics: vec![("Latency", Unit::Milliseconds, 12.0), ("Status5xx", Unit::Count, 0.0)],
            properties: vec![("RequestId", json!("r-1")), ("Route", json!("not a dimension"))],
        };
        let doc = line("Expenzez/dev", 1_700_000_000_000, &e);
        let aws = &doc["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_000i64);
        let m = &aws["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "Expenzez/dev");
        // Per route and for the whole deployment (the empty set).
        assert_eq!(m["Dimensions"], json!([["Route"], []]));
        assert_eq!(m["Metrics"], json!([{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Status5xx", "Unit": "Count"}]));
        // Every dimension and metric named in `_aws` is a member of the document.
        assert_eq!(
            (doc["Route"].as_str(), doc["Latency"].as_f64(), doc["Status5xx"].as_f64()),
            (Some("GET /profile"), Some(12.0), Some(0.0))
        );
        assert_eq!(doc["RequestId"], "r-1");
    }

    #[test]
    fn without_dimensions_only_the_whole_deployment() {
        let e = Event { metrics: vec![("KmsErrors", Unit::Count, 1.0)], ..Event::default() };
        let doc = line("N", 0, &e);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]));
        assert_eq!(doc["KmsErrors"], 1.0);
    }
}
