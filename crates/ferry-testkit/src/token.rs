//! A small token realm implementing distribution's token authentication.
//!
//! `GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...]`, optionally with Basic
//! credentials, answers `{"token", "access_token", "expires_in", "issued_at"}` where the token
//! is an ES256 JWT whose header carries the signing certificate as `x5c`.
//! Known users get every action they ask for; anonymous callers get empty action lists;
//! a wrong user or password gets 401 (what real token servers answer).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use crate::pki::SigningIdentity;

/// Issuer claim the realm writes and the registry is configured to expect.
pub const ISSUER: &str = "ferry-testkit-token-issuer";
/// Service name (the JWT audience) shared by the realm and the registry.
pub const SERVICE: &str = "ferry-testkit-registry";
/// Token lifetime in seconds.
pub const EXPIRES_IN: u64 = 300;

struct Shared {
    identity: SigningIdentity,
    users: HashMap<String, String>,
    requests: AtomicUsize,
    jti: AtomicUsize,
    stop: AtomicBool,
}

/// A running token realm on 127.0.0.1 (a std thread per connection), stopped on drop.
pub struct TokenServer {
    shared: Arc<Shared>,
    port: u16,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TokenServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl TokenServer {
    /// Starts a realm that knows `users` (user, password) and signs with `identity`.
    pub fn start(users: &[(String, String)], identity: SigningIdentity) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind token server");
        let port = listener.local_addr().expect("token server addr").port();
        let shared = Arc::new(Shared {
            identity,
            users: users.iter().cloned().collect(),
            requests: AtomicUsize::new(0),
            jti: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("ferry-token-realm".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if s.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let s = Arc::clone(&s);
                    std::thread::spawn(move || {
                        let _ = handle(&s, conn);
                    });
                }
            })
            .expect("spawn token server");
        TokenServer {
            shared,
            port,
            thread: Some(thread),
        }
    }

    /// The realm URL (`http://127.0.0.1:PORT/token`).
    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// PEM of the signing certificate (the registry's `rootcertbundle`).
    pub fn cert_pem(&self) -> &str {
        &self.shared.identity.cert_pem
    }

    /// Number of `/token` requests answered so far (any outcome).
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(s: &Shared, conn: TcpStream) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut authorization = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((name, value)) = h.split_once(':')
            && name.trim().eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_string());
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, body) = if method != "GET" || path != "/token" {
        (
            404,
            json!({"errors": [{"code": "NOT_FOUND", "message": "GET /token only"}]}),
        )
    } else {
        s.requests.fetch_add(1, Ordering::SeqCst);
        answer(s, query, authorization.as_deref())
    };
    let body = serde_json::to_vec(&body).expect("json");
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let mut out = conn;
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(&body)?;
    out.flush()
}

fn answer(s: &Shared, query: &str, authorization: Option<&str>) -> (u16, serde_json::Value) {
    let mut service = SERVICE.to_string();
    let mut scopes = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "service" => service = percent_decode(v),
            "scope" => scopes.extend(percent_decode(v).split(' ').map(str::to_string)),
            _ => {}
        }
    }
    let authenticated = match authorization.map(parse_basic) {
        None => false,
        Some(Some((user, pass))) if s.users.get(&user) == Some(&pass) => true,
        Some(_) => {
            return (
                401,
                json!({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}),
            );
        }
    };
    let access: Vec<serde_json::Value> = scopes
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|scope| parse_scope(scope))
        .map(|(typ, name, actions)| {
            let granted: Vec<String> = if authenticated { actions } else { Vec::new() };
            json!({"type": typ, "name": name, "actions": granted})
        })
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let jti = s.jti.fetch_add(1, Ordering::SeqCst);
    let claims = json!({
        "iss": ISSUER,
        "sub": "",
        "aud": service,
        "exp": now + EXPIRES_IN,
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": format!("ferry-{now}-{jti}"),
        "access": access,
    });
    let token = sign_jwt(&s.identity, &claims);
    (
        200,
        json!({
            "token": token,
            "access_token": token,
            "expires_in": EXPIRES_IN,
            "issued_at": rfc3339(now),
        }),
    )
}

/// Signs `claims` as an ES256 JWT whose header carries the certificate chain (`x5c`).
pub fn sign_jwt(identity: &SigningIdentity, claims: &serde_json::Value) -> String {
    let header = json!({
        "typ": "JWT",
        "alg": "ES256",
        "x5c": [STANDARD.encode(&identity.cert_der)],
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("json")),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("json"))
    );
    let sig = identity
        .key
        .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
        .expect("sign JWT");
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// Splits `type:name:actions` (the name may itself contain `:`, e.g. a port).
fn parse_scope(scope: &str) -> Option<(String, String, Vec<String>)> {
    let (typ, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions = actions
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    Some((typ.to_string(), name.to_string(), actions))
}

fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(value.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Decodes `%XX` escapes and `+` (as a space) in a query component.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Formats seconds since the epoch as RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SSZ`).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        (rem % 3_600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_decoding() {
        assert_eq!(
            percent_decode("repository%3Ans%2Frepo%3Apull%2Cpush"),
            "repository:ns/repo:pull,push"
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        let (t, n, a) = parse_scope("repository:ns/repo:pull,push").unwrap();
        assert_eq!((t.as_str(), n.as_str()), ("repository", "ns/repo"));
        assert_eq!(a, vec!["pull", "push"]);
        assert_eq!(parse_scope("registry:catalog:*").unwrap().1, "catalog");
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
