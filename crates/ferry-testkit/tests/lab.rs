//! `ferry-lab serve --tls --token` and `ferry-lab seed --creds`: the registries bench P1
//! runs on, checked with skopeo as the independent client.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LAB: &str = env!("CARGO_BIN_EXE_ferry-lab");

/// Kills `ferry-lab serve` (SIGTERM: it stops its registries) when the test ends.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

fn wait_for(path: &Path) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(path) {
            return serde_json::from_str(&text).expect("registries.json is JSON");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} did not appear", path.display());
}

#[test]
fn serve_tls_token_and_seed_with_creds() {
    ferry_testkit::ensure_tools();
    let dir = tempfile::tempdir().expect("temp dir");
    let _serve = Serve(
        Command::new(LAB)
            .args(["serve", "--dir"])
            .arg(dir.path().join("lab"))
            .args([
                "--name",
                "build",
                "--tls",
                "--token",
                "bench:s3cret",
                "--no-stdin",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ferry-lab serve"),
    );
    let info = wait_for(&dir.path().join("lab/registries.json"));
    let build = &info["build"];
    let host = build["host"].as_str().expect("host");
    assert!(build["url"].as_str().expect("url").starts_with("https://"));
    assert!(build["realm"].as_str().expect("realm").contains("/token"));
    let cert_dir = build["cert_dir"].as_str().expect("cert_dir");

    let url = format!("https://{host}");
    // Without credentials the registry refuses the push.
    let anon = Command::new(LAB)
        .args([
            "seed",
            "--registry",
            &url,
            "--archs",
            "amd64,arm64",
            "a/app:v1",
        ])
        .output()
        .expect("run seed");
    assert!(!anon.status.success(), "anonymous seed must be refused");

    let out = Command::new(LAB)
        .args(["seed", "--registry", &url, "--creds", "bench:s3cret"])
        .args(["--archs", "amd64,arm64", "a/app:v1"])
        .output()
        .expect("run seed");
    assert!(
        out.status.success(),
        "seed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let digest = String::from_utf8(out.stdout).expect("utf-8");
    let digest = digest.trim();
    assert!(digest.starts_with("sha256:"), "{digest}");

    let inspect = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--cert-dir",
            cert_dir,
            "--creds",
            "bench:s3cret",
        ])
        .arg(format!("docker://{host}/a/app:v1"))
        .output()
        .expect("run skopeo");
    assert!(
        inspect.status.success(),
        "skopeo inspect: {}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    let raw = inspect.stdout;
    let got = format!("sha256:{}", sha256_hex(&raw));
    assert_eq!(got, digest, "skopeo reads the list seed pushed");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
