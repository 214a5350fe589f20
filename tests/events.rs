//! `events/` holds one sample event for every function in template.yaml,
//! named after its binary (`cargo lambda invoke --data-file events/<binary>.json`),
//! and each parses as the typed request its trigger delivers (aws_lambda_events):
//! an HTTP API payload 2.0 request for a route (whose route key is the
//! function's), an EventBridge scheduled event, an SQS batch, a DynamoDB
//! stream batch. Cognito triggers (no typed event in the features we build)
//! are checked for the fields the triggers read. (No server needed.)

use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::Value;
use std::collections::BTreeSet;

fn events_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// (resource, binary, event types, "METHOD path" of its HttpApi events).
fn functions() -> Vec<(String, String, BTreeSet<String>, BTreeSet<String>)> {
    let doc = expenzez_local_api::template::load(&expenzez_store::schema::template_path()).unwrap();
    let mut out = Vec::new();
    for (name, r) in doc["Resources"].as_mapping().unwrap() {
        if r["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().expect("every function names its binary").to_string();
        let mut kinds = BTreeSet::new();
        let mut routes = BTreeSet::new();
        for (_, e) in r["Properties"]["Events"].as_mapping().into_iter().flatten() {
            let kind = e["Type"].as_str().unwrap().to_string();
            if kind == "HttpApi" {
                routes.insert(format!("{} {}", e["Properties"]["Method"].as_str().unwrap(), e["Properties"]["Path"].as_str().unwrap()));
            }
            kinds.insert(kind);
        }
        out.push((name.as_str().unwrap().to_string(), binary, kinds, routes));
    }
    out
}

fn sample(binary: &str) -> String {
    let path = events_dir().join(format!("{binary}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()))
}

#[test]
fn every_function_has_a_sample_event_of_its_trigger() {
    let functions = functions();
    assert_eq!(functions.len(), 88);
    for (name, binary, kinds, routes) in &functions {
        let text = sample(binary);
        let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
        match kinds[..] {
            ["HttpApi"] => {
                let req: ApiGatewayV2httpRequest =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{binary}: not an HTTP API request: {e}"));
                let key = req.route_key.clone().unwrap_or_default();
                assert!(routes.contains(&key), "{binary}: route key {key:?} is not one of {name}'s {routes:?}");
                assert_eq!(req.request_context.http.method.as_str(), key.split(' ').next().unwrap(), "{binary}");
                // And lambda_http (what the handlers are given) reads it too.
                lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{binary}: {e}"));
            }
            ["Schedule"] => {
                let e: EventBridgeEvent<Value> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{binary}: {e}"));
                assert_eq!(e.detail_type, "Scheduled Event", "{binary}");
                assert!(e.resources.iter().flatten().any(|r| r.contains(name.as_str())), "{binary}: the rule is {name}'s");
            }
            ["SQS"] => {
                let e: SqsEvent = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{binary}: {e}"));
                assert!(!e.records.is_empty() && e.records.iter().all(|r| r.body.is_some()), "{binary}");
            }
            ["DynamoDB"] => {
                let e: DynamoDbEvent = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{binary}: {e}"));
                assert!(!e.records.is_empty(), "{binary}");
            }
            [] => {
                // A Cognito trigger (wired in the user pool's LambdaConfig).
                let e: Value = serde_json::from_str(&text).unwrap();
                let source = e["triggerSource"].as_str().unwrap_or_default();
                assert!(source.starts_with("PreSignUp_") || source.starts_with("PostConfirmation_"), "{binary}: {source}");
                assert!(e["request"]["userAttributes"]["email"].is_string() && e["userPoolId"].is_string(), "{binary}");
            }
            _ => panic!("{name}: triggers {kinds:?} need a sample of each"),
        }
    }
}

#[test]
fn every_sample_event_belongs_to_a_function() {
    let binaries: BTreeSet<String> = functions().into_iter().map(|(_, b, _, _)| b).collect();
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let stem = file.strip_suffix(".json").unwrap_or_else(|| panic!("events/{file} is not JSON"));
        assert!(binaries.contains(stem), "events/{file} names no function's binary");
    }
}
