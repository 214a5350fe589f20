use aws_sdk_dynamodb::types::ConsumedCapacity;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Capacity units consumed by a sequence of calls (what DynamoDB bills).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capacity {
    pub read_units: f64,
    pub write_units: f64,
    /// Units per table or index name (`table`, `GSI2`, ...).
    pub by_target: BTreeMap<String, f64>,
    /// Number of DynamoDB calls made.
    pub calls: u32,
}

impl Capacity {
    pub fn total(&self) -> f64 {
        self.read_units + self.write_units
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Read,
    Write,
}

#[derive(Debug, Default)]
pub(crate) struct Meter(Mutex<Capacity>);

impl Meter {
    pub(crate) fn record(&self, kind: Kind, consumed: &[ConsumedCapacity]) {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        c.calls += 1;
        for cc in consumed {
            let units = cc.capacity_units().unwrap_or(0.0);
            match kind {
                Kind::Read => c.read_units += units,
                Kind::Write => c.write_units += units,
            }
            if let Some(t) = cc.table() {
                *c.by_target.entry("table".into()).or_default() += t.capacity_units().unwrap_or(0.0);
            }
            for (name, cap) in cc.global_secondary_indexes().into_iter().flatten() {
                *c.by_target.entry(name.clone()).or_default() += cap.capacity_units().unwrap_or(0.0);
            }
        }
    }
    pub(crate) fn snapshot(&self) -> Capacity {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
