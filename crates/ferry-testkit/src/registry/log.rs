//! Request accounting from the registry's own access log.
//!
//! distribution 2.8 writes one Apache combined-log line per request to stdout, e.g.
//! `127.0.0.1 - - [02/Jan/2024:15:04:05 +0000] "GET /v2/ HTTP/1.1" 401 87 "" "curl/8"`.
//! The line is written just after the response is sent, so readers wait for the file to
//! stop growing before parsing it.

use std::path::Path;
use std::time::{Duration, Instant};

/// User agent of the kit's readiness probe; its requests are left out of the accounting.
pub const PROBE_AGENT: &str = "ferry-testkit-readiness-probe";

/// One request as the registry logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// HTTP method (`GET`, `PUT`, ...).
    pub method: String,
    /// Request target: path plus query string, as sent.
    pub path: String,
    /// Status code answered.
    pub status: u16,
    /// The client's `User-Agent` (the last quoted field of the line; empty when absent).
    pub user_agent: String,
}

impl LoggedRequest {
    /// True when the method equals `method` (case-insensitive, `*` matches any) and the
    /// path contains `path_contains`.
    pub fn matches(&self, method: &str, path_contains: &str) -> bool {
        (method == "*" || self.method.eq_ignore_ascii_case(method))
            && self.path.contains(path_contains)
    }
}

/// Parses one access-log line; `None` for any other line (application log, noise).
pub fn parse_line(line: &str) -> Option<LoggedRequest> {
    let open = line.find(" \"")?;
    // The timestamp in brackets precedes the request; make sure this looks like an access line.
    if !line[..open].ends_with(']') {
        return None;
    }
    let rest = &line[open + 2..];
    let close = rest.find('"')?;
    let mut request = rest[..close].split(' ');
    let method = request.next()?.to_string();
    let path = request.next()?.to_string();
    let proto = request.next()?;
    if !proto.starts_with("HTTP/") {
        return None;
    }
    let after = &rest[close + 1..];
    let status = after.split_whitespace().next()?.parse().ok()?;
    // `... STATUS SIZE "REFERER" "USER-AGENT"`: the agent is the last quoted field.
    let user_agent = after
        .trim_end()
        .strip_suffix('"')
        .and_then(|t| t.rfind('"').map(|i| t[i + 1..].to_string()))
        .unwrap_or_default();
    Some(LoggedRequest {
        method,
        path,
        status,
        user_agent,
    })
}

/// Parses every access-log line in `text`.
///
/// Lines from the kit's own readiness probe (user agent [`PROBE_AGENT`]) are skipped.
pub fn parse_log(text: &str) -> Vec<LoggedRequest> {
    let probe = format!("\"{PROBE_AGENT}\"");
    text.lines()
        .filter(|l| !l.ends_with(&probe))
        .filter_map(parse_line)
        .collect()
}

/// Waits until the file at `path` has not grown for `quiet` (at most `max` overall).
pub fn wait_quiet(path: &Path, quiet: Duration, max: Duration) {
    let start = Instant::now();
    let size = || path.metadata().map(|m| m.len()).unwrap_or(0);
    let mut last = size();
    let mut stable_since = Instant::now();
    while start.elapsed() < max {
        std::thread::sleep(Duration::from_millis(10));
        let now = size();
        if now != last {
            last = now;
            stable_since = Instant::now();
        } else if stable_since.elapsed() >= quiet {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_combined_log_lines() {
        let line = r#"127.0.0.1 - - [02/Jan/2024:15:04:05 +0000] "PUT /v2/ns/repo/blobs/uploads/abc?_state=x&digest=sha256%3A00 HTTP/1.1" 201 0 "" "reqwest""#;
        let r = parse_line(line).unwrap();
        assert_eq!(r.method, "PUT");
        assert_eq!(
            r.path,
            "/v2/ns/repo/blobs/uploads/abc?_state=x&digest=sha256%3A00"
        );
        assert_eq!(r.status, 201);
        assert_eq!(r.user_agent, "reqwest");
        assert!(r.matches("put", "/blobs/uploads/"));
        assert!(r.matches("*", "digest="));
        assert!(!r.matches("GET", "/blobs/"));
        assert_eq!(
            parse_line(
                r#"time="2024-01-02T15:04:05Z" level=info msg="listening on 127.0.0.1:5000""#
            ),
            None
        );
    }
}
