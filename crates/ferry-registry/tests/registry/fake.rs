//! A tiny fake HTTP (or not-HTTP) server: answers each connection with canned bytes.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A handler from the request path (empty when the request was not HTTP) to raw answer
/// bytes.
pub type Handler = Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

/// Serves on an ephemeral loopback port; returns `127.0.0.1:PORT`.
pub async fn serve(handler: Handler) -> String {
    serve_head(Arc::new(move |head: &str| {
        let path = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .filter(|p| p.starts_with('/'))
            .unwrap_or("");
        handler(path)
    }))
    .await
}

/// Like [`serve`], the handler seeing the whole request head (request line and headers).
pub async fn serve_head(handler: Handler) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let answer = handler(&head);
                let _ = sock.write_all(&answer).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    addr.to_string()
}

/// An HTTP/1.1 answer with `Connection: close`.
pub fn http(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}
