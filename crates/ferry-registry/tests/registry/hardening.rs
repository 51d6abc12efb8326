//! Hardening (issue 11): retry budget, paging loops, deadlines, realms, client
//! certificates, messages and secrets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ferry_image::Target;
use ferry_registry::{Client, ClientConfig, RetryPolicy};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format};
use ferry_testkit::proxy::FaultProxy;

use crate::config;
use crate::fake::{self, http};

/// A dead registry fails fast: all requests of a client share one retry budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_budget_is_shared_by_all_requests() {
    let reg = Registry::plain();
    let img = images::simple(111, Format::Docker);
    images::push_image(&reg, "ns/app", Some("v1"), &img);
    let proxy = FaultProxy::new(&reg);
    let c = Client::new(ClientConfig {
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            budget: 3,
        },
        ..config()
    })
    .unwrap();
    let repo = c.repository(&proxy.host(), "ns/app");
    repo.head_manifest(&Target::Tag("v1".into())).await.unwrap();
    proxy.fail_next("*", "/manifests/", 503, 1000);
    for _ in 0..5 {
        let e = repo
            .get_manifest(&Target::Tag("v1".into()))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(503), "{e}");
    }
    // 5 requests x 3 retries each without a budget; 3 in all with it.
    assert_eq!(c.stats().retries, 3);
    assert_eq!(proxy.count("GET", "/manifests/v1"), 5 + 3);
}

/// A server whose tag pages point at each other forever (A -> B -> A ...): an error that
/// says the pages loop, not memory growing without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alternating_tag_pages_are_refused() {
    let host = fake::serve(Arc::new(|path: &str| {
        let (list, key) = match path.split_once('?') {
            Some((p, _)) if p.ends_with("_catalog") => (p, "repositories"),
            Some((p, _)) => (p, "tags"),
            None => (path, "tags"),
        };
        let (last, item) = if path.contains("last=a") {
            ("b", "b")
        } else {
            ("a", "a")
        };
        let link = format!("<{list}?n=1000&last={last}>; rel=\"next\"");
        let body = format!(r#"{{"{key}":["{item}"]}}"#);
        http(
            "200 OK",
            &[("Content-Type", "application/json"), ("Link", &link)],
            body.as_bytes(),
        )
    }))
    .await;
    let c = Client::new(config()).unwrap();
    let e = c.repository(&host, "ns/app").tags().await.unwrap_err();
    eprintln!("alternating pages: {e}");
    assert!(e.to_string().contains("pages loop"), "{e}");
    let e = c.catalog(&host).await.unwrap_err();
    eprintln!("alternating catalog pages: {e}");
    assert!(e.to_string().contains("pages loop"), "{e}");
}

/// A server with ever new pages of 20,000 tags each: stopped at the entry bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_tag_pages_are_bounded() {
    let pages = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pages);
    let host = fake::serve(Arc::new(move |path: &str| {
        if !path.contains("/tags/list") {
            return http("200 OK", &[], b"{}");
        }
        let page = counter.fetch_add(1, Ordering::SeqCst);
        let tags: Vec<String> = (0..20_000).map(|i| format!("\"p{page}-{i}\"")).collect();
        let body = format!(r#"{{"name":"ns/app","tags":[{}]}}"#, tags.join(","));
        let link = format!("</v2/ns/app/tags/list?n=1000&last=p{page}>; rel=\"next\"");
        http(
            "200 OK",
            &[("Content-Type", "application/json"), ("Link", &link)],
            body.as_bytes(),
        )
    }))
    .await;
    let c = Client::new(config()).unwrap();
    let e = c.repository(&host, "ns/app").tags().await.unwrap_err();
    eprintln!("endless pages: {e}");
    assert!(e.to_string().contains("1000000 entries"), "{e}");
    assert!(pages.load(Ordering::SeqCst) <= 51);
}

/// A server that accepts connections and never answers: the overall timeout ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overall_timeout_ends_a_silent_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let c = Client::new(ClientConfig {
        timeout: Some(Duration::from_secs(2)),
        ..config()
    })
    .unwrap();
    let e = c.ping(&host).await.unwrap_err();
    eprintln!("silent server: {e}");
    assert!(
        e.to_string()
            .contains("timed out: the overall timeout of 2s"),
        "{e}"
    );
}

/// A body that trickles in (a slow loris) is cut by the low-speed limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn low_speed_limit_cuts_a_trickling_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                if buf[..n].starts_with(b"GET /v2/ ") {
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                        .await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 100000\r\n\r\n";
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..100_000 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if sock.write_all(b" ").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let c = Client::new(ClientConfig {
        low_speed: ferry_registry::LowSpeed {
            bytes: 1024,
            window: Duration::from_millis(500),
        },
        ..config()
    })
    .unwrap();
    let e = c
        .repository(&host, "ns/app")
        .get_manifest(&Target::Tag("v1".into()))
        .await
        .unwrap_err();
    eprintln!("slow loris: {e}");
    assert!(
        e.to_string().contains("timed out") && e.to_string().contains("slower than"),
        "{e}"
    );
}

/// No `Debug`/`Display` of the client, its config, credentials, errors or the debug log
/// shows a password, a Basic header or a bearer token (a JWT starts `eyJ`).
#[test]
fn secrets_never_show() {
    use std::io::Write;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    const PW: &str = "Sup3r-Secret-Pw";
    let reg = Registry::builder().token(&[("alice", PW)]).start();
    let img = images::simple(131, Format::Oci);
    images::push_image(&reg, "ns/app", Some("v1"), &img);
    let mut shown = Vec::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut credentials = std::collections::HashMap::new();
        credentials.insert(reg.host(), ferry_registry::Credentials::new("alice", PW));
        let config = ClientConfig {
            credentials,
            ..config()
        };
        let c = Client::new(config.clone()).unwrap();
        let repo = c.repository(&reg.host(), "ns/app");
        repo.get_manifest(&Target::Tag("v1".into())).await.unwrap();
        let e = repo
            .get_manifest(&Target::Tag("missing".into()))
            .await
            .unwrap_err();
        shown.push(format!("{e} {e:?}"));
        shown.push(format!("{c:?} {config:?} {:?}", config.credentials));

        let mut wrong = std::collections::HashMap::new();
        wrong.insert(
            reg.host(),
            ferry_registry::Credentials::new("alice", "Wr0ng-Pw-Secret"),
        );
        let bad = Client::new(ClientConfig {
            credentials: wrong,
            ..config
        })
        .unwrap();
        let e = bad
            .repository(&reg.host(), "ns/app")
            .get_manifest(&Target::Tag("v1".into()))
            .await
            .unwrap_err();
        shown.push(format!("{e} {e:?}"));
    });
    // A reference with user info.
    let e =
        ferry_image::Reference::parse(&format!("alice:{PW}@{}/ns/app:v1", reg.host())).unwrap_err();
    shown.push(format!("{e} {e:?}"));
    let log = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
    assert!(
        log.contains("token"),
        "the log should show the token fetch: {log}"
    );
    shown.push(log);
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("alice:{PW}"));
    for text in &shown {
        for secret in [PW, "Wr0ng-Pw-Secret", basic.as_str(), "eyJ"] {
            assert!(!text.contains(secret), "{secret:?} shows in: {text}");
        }
    }
}
