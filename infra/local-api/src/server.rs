//! The HTTP server: route, authorize, build the payload-2.0 event, run the handler.

use crate::authorizer::Authorizer;
use crate::template::Route;
use expenzez_api::event::HttpEvent;
use expenzez_store::Table;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// API Gateway's own limit on a request body.
const MAX_BODY: usize = 10 * 1024 * 1024;

pub struct LocalApi {
    pub routes: Vec<Route>,
    pub authorizer: Authorizer,
    pub table: Table,
    /// The auth routes' identity provider (the local Cognito, triggers emulated).
    pub auth: expenzez_auth::Auth<crate::triggers::LocalCognito>,
    /// The banking routes (the deterministic demo bank, or TrueLayer's API at a configured URL).
    pub banking: expenzez_banking::Banking<expenzez_banking::lambda::AnyProvider>,
    /// The assistant and bills routes.
    pub assistant: expenzez_assistant::Assistant,
    /// The notification routes (`POST /notifications/send` pushes through `notify.expo`).
    pub notify: expenzez_notify::Notify,
    /// The statement routes (the statements bucket in the local S3).
    pub statements: expenzez_statements::Statements,
}

/// A server running in the background; stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Serves until the task is aborted.
    pub async fn wait(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

/// API Gateway's answer when no route matches or the authorizer refuses.
fn gateway(status: u16, message: &str) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(serde_json::json!({ "message": message }).to_string())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    r
}

impl LocalApi {
    pub async fn start(self, addr: SocketAddr) -> std::io::Result<Running> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let api = Arc::new(self);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let api = api.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let api = api.clone();
                        async move { Ok::<_, std::convert::Infallible>(api.handle(req).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Ok(Running { addr, task })
    }

    pub async fn handle(&self, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        // As API Gateway: the most specific route wins (`/transactions/similar` over `/transactions/{id}`).
        let matched = self.routes.iter().filter_map(|r| r.matches(parts.method.as_str(), &path).map(|p| (r, p)));
        let Some((route, params)) = matched.max_by_key(|(r, _)| r.literal_segments()) else {
            return gateway(404, "Not Found");
        };
        let claims = if route.authorized {
            let auth = parts.headers.get("authorization").and_then(|v| v.to_str().ok());
            match self.authorizer.verify(auth).await {
                Ok(c) => Some(c),
                Err(_) => return gateway(401, "Unauthorized"),
            }
        } else {
            None
        };
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return gateway(413, "Request Entity Too Large"),
        };
        let mut headers = BTreeMap::new();
        // As API Gateway does: every header reaches the function, bytes beyond
        // ASCII included, so a handler can refuse them instead of never seeing them.
        for (k, v) in &parts.headers {
            let v = String::from_utf8_lossy(v.as_bytes());
            headers.entry(k.as_str().to_string()).and_modify(|e: &mut String| *e = format!("{e},{v}")).or_insert_with(|| v.to_string());
        }
        let event = HttpEvent {
            method: parts.method.to_string(),
            path,
            route_key: route.route_key(),
            path_parameters: params.into_iter().collect(),
            raw_query: parts.uri.query().unwrap_or("").to_string(),
            headers,
            body: (!body.is_empty()).then(|| body.to_vec()),
            claims,
            request_id: uuid::Uuid::new_v4().to_string(),
        };
        let Ok(request) = event.into_request() else {
            return gateway(400, "Bad Request");
        };
        let response = if expenzez_auth::routes::ROUTES.iter().any(|r| r.0 == route.function) {
            expenzez_auth::routes::dispatch(&route.function, &self.auth, request).await
        } else if expenzez_banking::routes::reads::ROUTES.iter().any(|r| r.0 == route.function) {
            expenzez_banking::routes::reads::dispatch(&route.function, &self.banking.table, request).await
        } else if expenzez_banking::routes::provider::ROUTES.iter().any(|r| r.0 == route.function) {
            expenzez_banking::routes::provider::dispatch(&route.function, &self.banking, request).await
        } else if expenzez_security::routes::ROUTES.iter().any(|r| r.0 == route.function) {
            expenzez_security::routes::dispatch(&route.function, &self.table, request).await
        } else if expenzez_budgets::routes::ROUTES.iter().any(|r| r.0 == route.function) {
            expenzez_budgets::routes::dispatch(&route.function, &self.table, request).await
        } else if expenzez_assistant::routes::ROUTES.iter().any(|r| r.0 == route.function) {
            expenzez_assistant::routes::dispatch(&route.function, &self.assistant, request).await
        } else if expenzez_notify::ROUTES.iter().any(|r| r.0 == route.function) {
            expenzez_notify::dispatch(&route.function, &self.notify, request).await
        } else if expenzez_statements::routes::ROUTES.iter().any(|r| r.0 == route.function) {
            expenzez_statements::routes::dispatch(&route.function, &self.statements, request).await
        } else {
            expenzez_api::routes::dispatch(&route.function, &self.table, request).await
        };
        let Some(response) = response else {
            return gateway(502, "Internal Server Error");
        };
        let (parts, body) = response.into_parts();
        let bytes = match body {
            lambda_http::Body::Text(t) => Bytes::from(t),
            lambda_http::Body::Binary(b) => Bytes::from(b),
            _ => Bytes::new(),
        };
        hyper::Response::from_parts(parts, Full::new(bytes))
    }
}
