//! A fault-injecting HTTP proxy in front of a registry.
//!
//! Runs a hyper server on an ephemeral 127.0.0.1 port in its own thread and tokio runtime,
//! streams every request to the upstream registry and back, and applies rules that tests
//! may change at any time: injected statuses (with `Retry-After`), connection resets,
//! corrupted, truncated or trickled blob bodies, tag-list paging, a maximum request body,
//! and canned answers of a hostile registry ([`Answer`]: redirect loops, a lying or endless
//! manifest, a huge index, a token realm on another host).

mod answer;
mod body;
mod server;

pub use answer::{Answer, AnswerBody, ChunkMaker, huge_index, huge_manifest};

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::Registry;
pub use crate::registry::LoggedRequest;

#[derive(Debug, Clone)]
pub(crate) struct FailRule {
    pub method: String,
    pub path_contains: String,
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    /// The error message of an injected answer; `None`: a fixed one.
    pub message: Option<String>,
    pub times: usize,
}

impl FailRule {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && path.contains(&self.path_contains)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AnswerRule {
    pub method: String,
    pub path_contains: String,
    pub answer: Answer,
    pub times: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Rules {
    /// Canned answers, first match wins (after `faults`).
    pub answers: Vec<AnswerRule>,
    /// Injected answers (`status: Some`) and resets (`status: None`), first match wins.
    pub faults: Vec<FailRule>,
    pub corrupt_blobs: bool,
    pub truncate_blobs: bool,
    /// Blob reads still to cut short (on top of `truncate_blobs`).
    pub truncate_next: usize,
    /// Blob bodies trickled: (bytes per piece, pause before each piece).
    pub slow_blobs: Option<(usize, std::time::Duration)>,
    pub page_tags: Option<usize>,
    pub max_body: Option<u64>,
    /// Answers held back after the upstream gave them: (method, path part, pause, times).
    pub holds: Vec<(String, String, std::time::Duration, usize)>,
}

impl Rules {
    /// Consumes one use of the first matching fault rule.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<FailRule> {
        let rule = self.faults.iter_mut().find(|r| r.matches(method, path))?;
        rule.times -= 1;
        Some(rule.clone())
    }

    /// Consumes one use of the first matching canned answer.
    pub fn take_answer(&mut self, method: &str, path: &str) -> Option<Answer> {
        let rule = self.answers.iter_mut().find(|r| {
            r.times > 0
                && (r.method == "*" || r.method.eq_ignore_ascii_case(method))
                && path.contains(&r.path_contains)
        })?;
        rule.times -= 1;
        Some(rule.answer.clone())
    }

    /// Consumes one use of the first matching hold: how long to hold the answer back.
    pub fn take_hold(&mut self, method: &str, path: &str) -> Option<std::time::Duration> {
        let hold = self.holds.iter_mut().find(|(m, p, _, times)| {
            *times > 0 && (m == "*" || m.eq_ignore_ascii_case(method)) && path.contains(p.as_str())
        })?;
        hold.3 -= 1;
        Some(hold.2)
    }

    /// Consumes one of [`Rules::truncate_next`] when this is a blob read.
    pub fn take_truncation(&mut self, method: &str, path: &str) -> bool {
        let blob_read = method == "GET" && path.contains("/blobs/sha256:");
        if blob_read && self.truncate_next > 0 {
            self.truncate_next -= 1;
            return true;
        }
        false
    }
}

pub(crate) struct State {
    pub upstream: String,
    pub ca_pem: Option<String>,
    pub port: u16,
    pub rules: Mutex<Rules>,
    pub log: Mutex<Vec<LoggedRequest>>,
    /// `(path, Authorization value)` of every request that carried one.
    pub authorizations: Mutex<Vec<(String, String)>>,
}

/// A running fault proxy; stopped on drop.
pub struct FaultProxy {
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("base_url", &self.base_url())
            .field("upstream", &self.state.upstream)
            .finish_non_exhaustive()
    }
}

impl FaultProxy {
    /// A proxy forwarding to `reg` (trusting its CA when it serves TLS). The proxy itself
    /// serves plain HTTP.
    pub fn new(reg: &Registry) -> FaultProxy {
        FaultProxy::to_url(&reg.base_url(), reg.ca_pem())
    }

    /// A proxy forwarding to `upstream` (`http(s)://host:port`), trusting `ca_pem` if given.
    pub fn to_url(upstream: &str, ca_pem: Option<&str>) -> FaultProxy {
        FaultProxy::to_url_on(0, upstream, ca_pem)
    }

    /// Like [`FaultProxy::to_url`], listening on `port` (e.g. one from
    /// [`crate::reserve_port`] that a registry was told about before the proxy existed);
    /// 0 picks a fresh port.
    ///
    /// # Panics
    /// When the port cannot be bound.
    pub fn to_url_on(port: u16, upstream: &str, ca_pem: Option<&str>) -> FaultProxy {
        FaultProxy::try_to_url_on(port, upstream, ca_pem).expect("bind proxy")
    }

    /// Like [`FaultProxy::to_url_on`], with the bind error returned (a reserved port that
    /// another process took meanwhile) so the caller can pick another port.
    pub fn try_to_url_on(
        port: u16,
        upstream: &str,
        ca_pem: Option<&str>,
    ) -> std::io::Result<FaultProxy> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("proxy addr").port();
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            ca_pem: ca_pem.map(str::to_string),
            port,
            rules: Mutex::new(Rules::default()),
            log: Mutex::new(Vec::new()),
            authorizations: Mutex::new(Vec::new()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        let s = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("ferry-fault-proxy".into())
            .spawn(move || server::run(s, listener, rx))
            .expect("spawn proxy thread");
        Ok(FaultProxy {
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.state.port)
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.state.port
    }

    fn rules(&self) -> std::sync::MutexGuard<'_, Rules> {
        self.state.rules.lock().expect("rules lock")
    }

    fn add_fault(&self, method: &str, path: &str, status: Option<u16>, ra: Option<u64>, n: usize) {
        self.rules().faults.push(FailRule {
            method: method.to_string(),
            path_contains: path.to_string(),
            status,
            retry_after: ra,
            message: None,
            times: n,
        });
    }

    /// Answers the next `times` requests matching `method` (`*` = any) and `path_contains`
    /// with `status` (and a distribution-style JSON error) instead of forwarding them.
    pub fn fail_next(&self, method: &str, path_contains: &str, status: u16, times: usize) {
        self.add_fault(method, path_contains, Some(status), None, times);
    }

    /// Like [`FaultProxy::fail_next`] with a `Retry-After: SECONDS` header (e.g. for 429).
    pub fn fail_next_retry_after(
        &self,
        method: &str,
        path_contains: &str,
        status: u16,
        retry_after_secs: u64,
        times: usize,
    ) {
        self.add_fault(
            method,
            path_contains,
            Some(status),
            Some(retry_after_secs),
            times,
        );
    }

    /// Like [`FaultProxy::fail_next`], the JSON error carrying `message` (hostile text
    /// such as terminal escapes, to test how clients show it).
    pub fn fail_next_with_message(
        &self,
        method: &str,
        path_contains: &str,
        status: u16,
        message: &str,
        times: usize,
    ) {
        self.add_fault(method, path_contains, Some(status), None, times);
        if let Some(rule) = self.rules().faults.last_mut() {
            rule.message = Some(message.to_string());
        }
    }

    /// Closes the connection without an answer for the next `times` matching requests.
    pub fn reset_next(&self, method: &str, path_contains: &str, times: usize) {
        self.add_fault(method, path_contains, None, None, times);
    }

    /// Flips one byte (same length) in the bodies of `GET .../blobs/sha256:...` answers.
    pub fn corrupt_blobs(&self, on: bool) {
        self.rules().corrupt_blobs = on;
    }

    /// Cuts `GET .../blobs/sha256:...` bodies short (about half the declared length), then
    /// aborts the connection.
    pub fn truncate_blobs(&self, on: bool) {
        self.rules().truncate_blobs = on;
    }

    /// Cuts the next `times` `GET .../blobs/sha256:...` bodies short like
    /// [`FaultProxy::truncate_blobs`] (the connection aborted mid-body), then serves whole ones.
    pub fn truncate_next(&self, times: usize) {
        self.rules().truncate_next = times;
    }

    /// Trickles `GET .../blobs/sha256:...` bodies (a slow-loris server): `bytes` at a time,
    /// each after `pause`; `None` turns it off.
    pub fn slow_blobs(&self, trickle: Option<(usize, std::time::Duration)>) {
        self.rules().slow_blobs = trickle.map(|(b, p)| (b.max(1), p));
    }

    /// Serves `GET /v2/<name>/tags/list` itself in pages of `n` (or the client's smaller
    /// `n`), with `Link: <...?last=X&n=N>; rel="next"`; `None` turns paging off.
    pub fn page_tags(&self, n: Option<usize>) {
        self.rules().page_tags = n;
    }

    /// Answers 413 to requests whose `Content-Length` exceeds `bytes`; `None` turns it off.
    pub fn max_body(&self, bytes: Option<u64>) {
        self.rules().max_body = bytes;
    }

    /// Forwards the next `times` requests matching `method` (`*` = any) and `path_contains`
    /// as usual, but holds the upstream's answer back for `pause` before passing it on (the
    /// registry has acted; the client does not know yet).
    pub fn hold_answers(
        &self,
        method: &str,
        path_contains: &str,
        pause: std::time::Duration,
        times: usize,
    ) {
        self.state.rules.lock().expect("rules").holds.push((
            method.to_string(),
            path_contains.to_string(),
            pause,
            times,
        ));
    }

    /// Answers the next `times` requests matching `method` (`*` = any) and `path_contains`
    /// with `answer` instead of forwarding them (`usize::MAX`: always). Checked after the
    /// injected faults, first matching rule first.
    pub fn answer_next(&self, method: &str, path_contains: &str, answer: Answer, times: usize) {
        self.rules().answers.push(AnswerRule {
            method: method.to_string(),
            path_contains: path_contains.to_string(),
            answer,
            times,
        });
    }

    /// `(path, value)` of the `Authorization` header of every request that carried one,
    /// in order (to check where credentials went).
    pub fn authorizations(&self) -> Vec<(String, String)> {
        self.state
            .authorizations
            .lock()
            .expect("authorizations lock")
            .clone()
    }

    /// Removes every rule (faults, answers, corruption, truncation, trickling, paging, body
    /// limit).
    pub fn clear_rules(&self) {
        *self.rules() = Rules::default();
    }

    /// Every request seen, in order, with the status answered: 0 for an injected reset,
    /// 502 when the upstream could not be reached.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.log.lock().expect("log lock").clone()
    }

    /// Requests whose method is `method` (`*` = any) and whose path contains `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.matches(method, path_contains))
            .count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
