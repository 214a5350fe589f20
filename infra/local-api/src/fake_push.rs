//! A local stand-in for Expo's push service (`make dev`): logs each push it
//! would send (title and body, the token masked) and answers with Expo's
//! documented JSON, an `ok` ticket per message and `ok` receipts.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpListener;

fn mask(token: &str) -> String {
    let inner = token.split('[').nth(1).unwrap_or("").trim_end_matches(']');
    let tail: String = inner.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("ExponentPushToken[****{tail}]")
}

fn answer(path: &str, body: &[u8]) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if path.ends_with("/push/getReceipts") {
        let ids = json["ids"].as_array().cloned().unwrap_or_default();
        let data: serde_json::Map<String, serde_json::Value> =
            ids.iter().filter_map(|i| i.as_str()).map(|i| (i.to_string(), serde_json::json!({ "status": "ok" }))).collect();
        return serde_json::json!({ "data": data });
    }
    let messages = match json {
        serde_json::Value::Array(a) => a,
        one => vec![one],
    };
    let tickets: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            tracing::info!(
                target: "fake_push",
                to = %mask(m["to"].as_str().unwrap_or_default()),
                title = m["title"].as_str().unwrap_or_default(),
                body = m["body"].as_str().unwrap_or_default(),
                data = %m["data"],
                priority = m["priority"].as_str().unwrap_or_default(),
                "push (local fake of Expo's push service)"
            );
            serde_json::json!({ "status": "ok", "id": uuid::Uuid::new_v4().to_string() })
        })
        .collect();
    serde_json::json!({ "data": tickets })
}

/// Serves on `addr` (port 0: any free one) until the process ends; its base URL.
pub async fn start(addr: SocketAddr) -> std::io::Result<String> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    let path = req.uri().path().to_string();
                    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                    let mut r = hyper::Response::new(Full::new(Bytes::from(answer(&path, &body).to_string())));
                    r.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
                    Ok::<_, std::convert::Infallible>(r)
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    Ok(format!("http://{addr}"))
}
