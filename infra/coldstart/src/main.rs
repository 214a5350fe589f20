//! Cold-start bench (not a test; `make coldstart`). Each round execs a release
//! binary as Lambda would: a fresh process whose `AWS_LAMBDA_RUNTIME_API`
//! points at a local stub of the Runtime API (`/2018-06-01/runtime/...`),
//! which hands it one event and times it from exec to its first response.
//! Three binaries, interleaved round by round on the same machine and the same
//! DynamoDB Local (`$AWS_ENDPOINT_URL_DYNAMODB`, from `infra/stack.sh`):
//!
//! - `get-profile`: a project function with `events/get-profile.json` (API
//!   Gateway v2 event, JWT claims), reading a real profile (200 checked);
//! - `cold-bare-sdk`: the SDK's configuration, a DynamoDB client, one GetItem;
//! - `cold-minimal`: lambda_runtime answering `{}` (the floor of any Rust Lambda).
//!
//! Prints per binary the median and p90 of exec → ready (its first
//! `/invocation/next`) and exec → first response, the ratios of the medians,
//! and the size of every function binary built in the release target
//! directory (stripped, and deflate-compressed, which is what a zip of it holds).
//!
//! `coldstart <release-dir> [rounds]`

use anyhow::{bail, Context};
use expenzez_domain::cursor::CursorKey;
use expenzez_domain::{SystemClock, Timestamp};
use expenzez_store::schema::{template_path, TableDef};
use expenzez_store::{Condition, Table, TableConfig};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The `sub` of every sample event in `events/`.
const SUB: &str = "11111111-2222-4333-8444-555555555555";
const CURSOR_SECRET: &str = "coldstart-bench-cursor-secret-0123456789abcdef";

/// What the stub saw of one process: when it first asked for an event, and its response.
enum Seen {
    Next(Instant),
    Response(Instant, Bytes),
}

/// A Runtime API stub on a free loopback port serving `event` once; its address.
async fn runtime_api(event: Arc<String>, seen: mpsc::UnboundedSender<Seen>) -> anyhow::Result<String> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?.to_string();
    let served = Arc::new(Mutex::new(false));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (event, seen, served) = (event.clone(), seen.clone(), served.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (event, seen, served) = (event.clone(), seen.clone(), served.clone());
                    async move {
                        let path = req.uri().path().to_string();
                        if path.ends_with("/invocation/next") {
                            let _ = seen.send(Seen::Next(Instant::now()));
                            let first = !std::mem::replace(&mut *served.lock().expect("not poisoned"), true);
                            if !first {
                                // The process is killed before it gets a second event.
                                std::future::pending::<()>().await;
                            }
                            let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
                                + Duration::from_secs(30);
                            let r = hyper::Response::builder()
                                .header("content-type", "application/json")
                                .header("lambda-runtime-aws-request-id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd")
                                .header("lambda-runtime-deadline-ms", deadline.as_millis().to_string())
                                .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:eu-west-2:123456789012:function:coldstart")
                                .header(
                                    "lambda-runtime-trace-id",
                                    "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
                                )
                                .body(Full::new(Bytes::from(event.as_str().to_owned())))
                                .expect("a valid response");
                            return Ok::<_, std::convert::Infallible>(r);
                        }
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        if path.ends_with("/response") {
                            let _ = seen.send(Seen::Response(Instant::now(), body));
                        } else {
                            // An init or invocation error: the run fails with its text.
                            let _ = seen.send(Seen::Response(
                                Instant::now(),
                                Bytes::from(format!("error at {path}: {}", String::from_utf8_lossy(&body))),
                            ));
                        }
                        Ok(hyper::Response::builder().status(202).body(Full::new(Bytes::new())).expect("a valid response"))
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    Ok(addr)
}

/// One cold start of `binary` with `event`: (exec → ready, exec → response, the response).
async fn cold_start(binary: &Path, event: Arc<String>, table: &str) -> anyhow::Result<(Duration, Duration, String)> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let api = runtime_api(event, tx).await?;
    let name = binary.file_name().and_then(|n| n.to_str()).unwrap_or("function").to_string();
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "coldstart")
        .env("TABLE_NAME", table)
        .env("CURSOR_SECRET", CURSOR_SECRET)
        .env("RUST_LOG", "info")
        .env("METRICS_NAMESPACE", "Expenzez/coldstart")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("exec {}", binary.display()))?;
    let mut ready = None;
    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(s) = rx.recv().await {
            match s {
                Seen::Next(at) => {
                    ready.get_or_insert(at - started);
                }
                Seen::Response(at, body) => return Some((at - started, String::from_utf8_lossy(&body).into_owned())),
            }
        }
        None
    })
    .await;
    let _ = child.kill().await;
    match outcome {
        Ok(Some((first, body))) => Ok((ready.unwrap_or(first), first, body)),
        _ => bail!("{name}: no response within 30 s"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Every function binary of template.yaml (its `Binary:` names).
fn function_binaries() -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(template_path())?;
    let mut names: Vec<String> = text.lines().filter_map(|l| l.trim().strip_prefix("Binary: ")).map(|b| b.trim().to_string()).collect();
    names.sort();
    names.dedup();
    Ok(names)
}

fn deflated(bytes: &[u8]) -> anyhow::Result<usize> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let release = PathBuf::from(args.get(1).context("usage: coldstart <release-dir> [rounds]")?);
    let rounds: usize = args.get(2).map(|r| r.parse()).transpose()?.unwrap_or(20);

    // The table and the sample event's user, as `make dev` has them.
    let client = aws_sdk_dynamodb::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await);
    let name = format!("coldstart-{}", std::process::id());
    TableDef::from_template(&template_path())?.create(&client, &name).await?;
    let table = Table::new(
        client.clone(),
        TableConfig::new(name.clone(), CursorKey::new(vec![0u8; 32]).context("32 bytes")?),
        Arc::new(SystemClock),
    );
    let demo = expenzez_devtool::generate_for(SUB, "jane@example.com", 7, Timestamp::parse("2026-11-30T12:00:00Z")?)?;
    table.put(&demo.profile, Condition::None).await?;

    let events = template_path().parent().context("the repository")?.join("events");
    let profile_event = Arc::new(std::fs::read_to_string(events.join("get-profile.json"))?);
    let runs: Vec<(&str, PathBuf)> = vec![
        ("get-profile", release.join("get-profile")),
        ("cold-bare-sdk", release.join("cold-bare-sdk")),
        ("cold-minimal", release.join("cold-minimal")),
    ];
    for (label, path) in &runs {
        if !path.exists() {
            bail!("{label}: {} is not built (cargo build --release -p get-profile -p expenzez-coldstart)", path.display());
        }
    }
    let mut ready: Vec<Vec<Duration>> = vec![Vec::new(); runs.len()];
    let mut first: Vec<Vec<Duration>> = vec![Vec::new(); runs.len()];
    // One unmeasured round warms the page cache and DynamoDB Local.
    for round in 0..=rounds {
        for (i, (label, path)) in runs.iter().enumerate() {
            let (r, f, body) = cold_start(path, profile_event.clone(), &name).await?;
            let v: serde_json::Value = serde_json::from_str(&body).with_context(|| format!("{label}: {body}"))?;
            if v["statusCode"] != 200 && *label != "cold-minimal" {
                bail!("{label} answered {body}");
            }
            if round > 0 {
                ready[i].push(r);
                first[i].push(f);
            }
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "cold start, {rounds} interleaved rounds, release builds, loopback DynamoDB Local (ms)")?;
    writeln!(out, "{:<14} {:>12} {:>12} {:>15} {:>15}", "binary", "ready p50", "ready p90", "response p50", "response p90")?;
    let mut medians = Vec::new();
    for (i, (label, _)) in runs.iter().enumerate() {
        ready[i].sort();
        first[i].sort();
        let (r50, r90, f50, f90) =
            (percentile(&ready[i], 0.5), percentile(&ready[i], 0.9), percentile(&first[i], 0.5), percentile(&first[i], 0.9));
        medians.push(f50);
        writeln!(out, "{label:<14} {:>12.1} {:>12.1} {:>15.1} {:>15.1}", ms(r50), ms(r90), ms(f50), ms(f90))?;
    }
    writeln!(
        out,
        "ratios of median exec → first response: get-profile / bare SDK = {:.2}, get-profile / minimal = {:.2}, bare SDK / minimal = {:.2}",
        ms(medians[0]) / ms(medians[1]),
        ms(medians[0]) / ms(medians[2]),
        ms(medians[1]) / ms(medians[2])
    )?;

    // Sizes of the function binaries built (host target; `make build` builds arm64 for deploying).
    let functions = function_binaries()?;
    let built: Vec<&String> = functions.iter().filter(|f| release.join(f).exists()).collect();
    writeln!(out, "\nrelease binaries ({} of {} functions built in {}):", built.len(), functions.len(), release.display())?;
    writeln!(out, "{:<34} {:>10} {:>12}", "function", "stripped", "deflated (≈ zip)")?;
    for f in &built {
        let bytes = std::fs::read(release.join(f))?;
        writeln!(out, "{f:<34} {:>8.1} MB {:>10.1} MB", bytes.len() as f64 / 1e6, deflated(&bytes)? as f64 / 1e6)?;
    }
    for label in ["cold-bare-sdk", "cold-minimal"] {
        let bytes = std::fs::read(release.join(label))?;
        writeln!(out, "{label:<34} {:>8.1} MB {:>10.1} MB", bytes.len() as f64 / 1e6, deflated(&bytes)? as f64 / 1e6)?;
    }
    client.delete_table().table_name(&name).send().await?;
    Ok(())
}
