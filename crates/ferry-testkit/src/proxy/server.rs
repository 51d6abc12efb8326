//! The proxy's hyper service: rules first, then streaming forwarding.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::body::{BoxError, ChannelBody};
use super::{Answer, AnswerBody, State};
use crate::registry::LoggedRequest;

type ProxyBody = BoxBody<Bytes, BoxError>;

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "host",
];

pub(super) fn run(
    state: Arc<State>,
    listener: std::net::TcpListener,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("proxy runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(pem) = &state.ca_pem {
            b = b.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("CA"));
        }
        let client = b.build().expect("proxy client");
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let state = Arc::clone(&state);
                    let client = client.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| {
                            handle(Arc::clone(&state), client.clone(), req)
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            }
        }
    });
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<ProxyBody> {
    let mut r = Response::new(Full::new(body.into()).map_err(|e| match e {}).boxed());
    *r.status_mut() = status;
    r
}

fn error_body(code: &str, message: &str) -> Bytes {
    serde_json::to_vec(&serde_json::json!({"errors": [{"code": code, "message": message}]}))
        .expect("json")
        .into()
}

async fn handle(
    state: Arc<State>,
    client: reqwest::Client,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, BoxError> {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let user_agent = req
        .headers()
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let log = |status: u16| {
        state.log.lock().expect("log").push(LoggedRequest {
            method: method.clone(),
            path: path.clone(),
            status,
            user_agent: user_agent.clone(),
        });
    };

    if let Some(a) = req.headers().get(hyper::header::AUTHORIZATION) {
        let value = String::from_utf8_lossy(a.as_bytes()).into_owned();
        state
            .authorizations
            .lock()
            .expect("authorizations")
            .push((path.clone(), value));
    }
    let (fault, answer, max_body, page, corrupt, truncate, slow, hold) = {
        let mut rules = state.rules.lock().expect("rules");
        let hold = rules.take_hold(&method, &path);
        let fault = rules.take_fault(&method, &path);
        let answer = if fault.is_none() {
            rules.take_answer(&method, &path)
        } else {
            None
        };
        (
            fault,
            answer,
            rules.max_body,
            rules.page_tags,
            rules.corrupt_blobs,
            rules.truncate_blobs || rules.take_truncation(&method, &path),
            rules.slow_blobs,
            hold,
        )
    };
    if let Some(f) = fault {
        let Some(status) = f.status else {
            log(0);
            return Err("ferry-testkit proxy: injected connection reset".into());
        };
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = full(
            code,
            error_body(
                "INJECTED",
                f.message
                    .as_deref()
                    .unwrap_or("fault injected by ferry-testkit"),
            ),
        );
        resp.headers_mut()
            .insert("content-type", "application/json".parse().expect("hv"));
        if let Some(ra) = f.retry_after {
            resp.headers_mut()
                .insert("retry-after", ra.to_string().parse().expect("hv"));
        }
        log(status);
        return Ok(resp);
    }
    if let Some(a) = answer {
        log(a.status);
        return Ok(canned(a));
    }
    let content_length: Option<u64> = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    if let (Some(max), Some(len)) = (max_body, content_length)
        && len > max
    {
        log(413);
        return Ok(full(
            StatusCode::PAYLOAD_TOO_LARGE,
            error_body(
                "SIZE_INVALID",
                "request body too large (ferry-testkit limit)",
            ),
        ));
    }
    if let Some(n) = page
        && method == "GET"
        && let Some(name) = tags_list_name(req.uri().path())
    {
        let resp = page_tags(&state, &client, &req, &name, n).await;
        log(resp.status().as_u16());
        return Ok(resp);
    }

    // Forward, streaming the request body.
    let url = format!("{}{}", state.upstream, path);
    let mut rb = client.request(req.method().clone(), &url);
    for (name, value) in req.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            rb = rb.header(name, value);
        }
    }
    let has_body =
        content_length.is_some_and(|l| l > 0) || req.headers().contains_key("transfer-encoding");
    if has_body {
        let (tx, body) = ChannelBody::new();
        let mut incoming = req.into_body();
        tokio::spawn(async move {
            while let Some(frame) = incoming.frame().await {
                match frame {
                    Ok(f) => {
                        if let Ok(data) = f.into_data()
                            && tx.send(Ok(data)).await.is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(std::io::Error::other(e))).await;
                        return;
                    }
                }
            }
        });
        rb = rb.body(reqwest::Body::wrap(body));
    }
    let upstream = match rb.send().await {
        Ok(r) => r,
        Err(e) => {
            log(502);
            return Ok(full(
                StatusCode::BAD_GATEWAY,
                error_body("UPSTREAM", &format!("ferry-testkit proxy: {e}")),
            ));
        }
    };
    if let Some(pause) = hold {
        tokio::time::sleep(pause).await;
    }
    let status = upstream.status();
    let mut resp = Response::builder().status(status.as_u16());
    for (name, value) in upstream.headers() {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        if name == "location"
            && let Ok(loc) = value.to_str()
            && let Some(rest) = loc.strip_prefix(&state.upstream)
        {
            resp = resp.header(name, format!("http://127.0.0.1:{}{rest}", state.port));
            continue;
        }
        resp = resp.header(name, value);
    }
    let is_blob_get = method == "GET" && path.contains("/blobs/sha256:") && status.is_success();
    let declared = upstream.content_length();
    let (tx, body) = ChannelBody::new();
    let mut upstream = upstream;
    tokio::spawn(async move {
        let mut sent: u64 = 0;
        let mut flipped = false;
        let limit = if is_blob_get && truncate {
            Some(declared.map_or(1, |l| l / 2))
        } else {
            None
        };
        loop {
            match upstream.chunk().await {
                Ok(Some(chunk)) => {
                    let mut chunk = chunk;
                    if is_blob_get && corrupt && !flipped && !chunk.is_empty() {
                        let mut v = chunk.to_vec();
                        v[0] ^= 0xFF;
                        chunk = Bytes::from(v);
                        flipped = true;
                    }
                    if let Some(limit) = limit
                        && sent + chunk.len() as u64 >= limit
                    {
                        let keep = (limit - sent) as usize;
                        let _ = tx.send(Ok(chunk.slice(..keep))).await;
                        let _ = tx
                            .send(Err(std::io::Error::other("ferry-testkit: truncated blob")))
                            .await;
                        return;
                    }
                    sent += chunk.len() as u64;
                    if let Some((piece, pause)) = slow.filter(|_| is_blob_get) {
                        let mut rest = chunk;
                        while !rest.is_empty() {
                            let part = rest.split_to(piece.min(rest.len()));
                            tokio::time::sleep(pause).await;
                            if tx.send(Ok(part)).await.is_err() {
                                return;
                            }
                        }
                        continue;
                    }
                    if tx.send(Ok(chunk)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    return;
                }
            }
        }
    });
    log(status.as_u16());
    Ok(resp.body(body.boxed()).map_err(Box::new)?)
}

/// The response of a canned [`Answer`]; a generated body is produced while it is sent.
fn canned(a: Answer) -> Response<ProxyBody> {
    let code = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match a.body {
        AnswerBody::Bytes(b) => full(code, b),
        AnswerBody::Generated { len, chunks } => {
            let (tx, body) = ChannelBody::new();
            tokio::spawn(async move {
                for chunk in chunks() {
                    if tx.send(Ok(chunk)).await.is_err() {
                        return;
                    }
                }
            });
            let mut r = Response::new(body.boxed());
            *r.status_mut() = code;
            if let Some(len) = len {
                r.headers_mut()
                    .insert("content-length", len.to_string().parse().expect("hv"));
            }
            r
        }
    };
    for (k, v) in &a.headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}

/// `<name>` of a `/v2/<name>/tags/list` path.
fn tags_list_name(path: &str) -> Option<String> {
    let name = path.strip_prefix("/v2/")?.strip_suffix("/tags/list")?;
    (!name.is_empty()).then(|| name.to_string())
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| crate::token::percent_decode(v))
}

async fn page_tags(
    state: &State,
    client: &reqwest::Client,
    req: &Request<Incoming>,
    name: &str,
    page: usize,
) -> Response<ProxyBody> {
    let query = req.uri().query().unwrap_or("");
    let n = query_param(query, "n")
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(page, |n| n.min(page))
        .max(1);
    let last = query_param(query, "last");
    let mut rb = client.get(format!("{}/v2/{name}/tags/list", state.upstream));
    if let Some(a) = req.headers().get("authorization") {
        rb = rb.header("authorization", a);
    }
    let upstream = match rb.send().await {
        Ok(r) => r,
        Err(e) => {
            return full(
                StatusCode::BAD_GATEWAY,
                error_body("UPSTREAM", &e.to_string()),
            );
        }
    };
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let bytes = upstream.bytes().await.unwrap_or_default();
    if status != StatusCode::OK {
        let mut r = full(
            StatusCode::from_u16(status.as_u16()).expect("status"),
            bytes,
        );
        for (k, v) in &headers {
            if !HOP_BY_HOP.contains(&k.as_str()) && k != "content-length" {
                r.headers_mut().append(k, v.clone());
            }
        }
        return r;
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let mut tags: Vec<String> = v["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    let remaining: Vec<String> = tags
        .into_iter()
        .filter(|t| last.as_ref().is_none_or(|l| t > l))
        .collect();
    let this_page: Vec<String> = remaining.iter().take(n).cloned().collect();
    let body =
        serde_json::to_vec(&serde_json::json!({"name": name, "tags": this_page})).expect("json");
    let mut r = full(StatusCode::OK, body);
    r.headers_mut()
        .insert("content-type", "application/json".parse().expect("hv"));
    if remaining.len() > n
        && let Some(last) = this_page.last()
    {
        let link = format!("</v2/{name}/tags/list?last={last}&n={n}>; rel=\"next\"");
        r.headers_mut().insert("link", link.parse().expect("hv"));
    }
    r
}
