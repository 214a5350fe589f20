//! Routes and Cognito definitions read from template.yaml.

use serde_yaml::Value;
use std::path::Path;

/// One HttpApi route of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The function's resource name (`GetProfileFunction`).
    pub function: String,
    pub method: String,
    /// `/transactions/{id}`
    pub path: String,
    /// False when the event sets `Auth: Authorizer: NONE`.
    pub authorized: bool,
}

impl Route {
    pub fn route_key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// How many path segments are literal (not `{param}`): of two routes
    /// matching a path, API Gateway picks the one with more.
    pub fn literal_segments(&self) -> usize {
        self.path.trim_matches('/').split('/').filter(|s| !s.starts_with('{')).count()
    }

    /// Path parameters when `path` matches this route.
    pub fn matches(&self, method: &str, path: &str) -> Option<Vec<(String, String)>> {
        if !self.method.eq_ignore_ascii_case(method) {
            return None;
        }
        let want: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        let got: Vec<&str> = path.trim_matches('/').split('/').collect();
        if want.len() != got.len() {
            return None;
        }
        let mut params = Vec::new();
        for (w, g) in want.iter().zip(&got) {
            if let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                if g.is_empty() {
                    return None;
                }
                params.push((name.to_string(), g.to_string()));
            } else if w != g {
                return None;
            }
        }
        Some(params)
    }
}

pub fn load(path: &Path) -> anyhow::Result<Value> {
    Ok(serde_yaml::from_str(&std::fs::read_to_string(path)?)?)
}

/// Every HttpApi event of every function.
pub fn routes(template: &Value) -> Vec<Route> {
    let mut routes = Vec::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_mapping) else { return routes };
    for (name, res) in resources {
        if res.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let events = res.get("Properties").and_then(|p| p.get("Events")).and_then(Value::as_mapping);
        for ev in events.into_iter().flat_map(|m| m.values()) {
            if ev.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                continue;
            }
            let props = ev.get("Properties");
            let get = |k: &str| props.and_then(|p| p.get(k)).and_then(Value::as_str).map(str::to_string);
            let (Some(path), Some(method)) = (get("Path"), get("Method")) else { continue };
            let authorized = props.and_then(|p| p.get("Auth")).and_then(|a| a.get("Authorizer")).and_then(Value::as_str) != Some("NONE");
            routes.push(Route {
                function: name.as_str().unwrap_or_default().to_string(),
                method: method.to_ascii_uppercase(),
                path,
                authorized,
            });
        }
    }
    routes
}

/// A resource's `Properties` as JSON, leaving out values built with
/// intrinsic functions (`!Ref`, `!Sub`...), which only CloudFormation resolves.
pub fn plain_properties(template: &Value, resource: &str) -> serde_json::Value {
    fn convert(v: &Value) -> Option<serde_json::Value> {
        Some(match v {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::to_value(n).ok()?,
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Sequence(s) => serde_json::Value::Array(s.iter().filter_map(convert).collect()),
            Value::Mapping(m) => {
                serde_json::Value::Object(m.iter().filter_map(|(k, v)| Some((k.as_str()?.to_string(), convert(v)?))).collect())
            }
            Value::Tagged(_) => return None,
        })
    }
    template.get("Resources").and_then(|r| r.get(resource)).and_then(|r| r.get("Properties")).and_then(convert).unwrap_or_default()
}
