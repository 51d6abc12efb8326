//! ferry-lab: local registries and deterministic test images from the shell, with the
//! test kit's own code (the demo and the benchmark use it; no Docker needed).
//!
//! Run `ferry-lab help` for the commands.

mod args;
mod build;
mod push;
mod serve;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry_testkit::images::{self, Format, TestImage, TestIndex};
use ferry_testkit::registry::log;
use serde_json::{Value, json};

use args::{Args, parse_number};
use build::Plan;

const USAGE: &str = "\
ferry-lab: local docker-registry processes and deterministic test images (ferry-testkit)

USAGE
  ferry-lab serve --dir DIR [--name NAME[:PORT]]... [--port-file FILE] [--keep] [--no-stdin]
                  [--tls] [--token USER:PASSWORD]
      Starts one plain-HTTP registry per --name (default: src and dst); --tls: HTTPS with a
      certificate from a fresh test CA; --token: a token realm (plain HTTP) that knows this one
      user, and the registry requires its bearer tokens. DIR/NAME is a symlink
      to its directory: DIR/NAME/stdout.log is the access log, DIR/NAME/data the storage.
      Writes DIR/registries.json (atomically, once every registry answers; use it as the
      readiness signal) and prints it:
        {\"NAME\": {\"host\": \"127.0.0.1:PORT\", \"url\": ..., \"log\": ..., \"stderr\": ...,
                  \"data\": ..., \"root\": ..., \"ca\": CA.crt, \"cert_dir\": DIR (--tls),
                  \"realm\": URL (--token)}}
      --port-file FILE gets NAME=PORT lines. Runs until SIGTERM, SIGINT or SIGHUP, or until
      stdin reaches EOF when stdin is a pipe (not with --no-stdin); then kills the registries
      and removes their directories (--keep: leaves them).

  ferry-lab seed --registry HOST REPO:TAG... [--archs amd64,arm64,ppc64le,s390x]
                 [--format oci|docker] [--layers 65536,16384] [--seed N] [--shared-base N]
                 [--label K=V]... [--source-image] [--single] [--layout DIR] [--jobs N] [--json]
                 [--creds USER:PASSWORD]
      Pushes a multi-arch index (a single image with --single and one arch) to each REPO:TAG
      and prints its digest (\"REPO:TAG DIGEST\" lines for several). Build k (0-based) of the
      command line uses seed N+k. --shared-base N: the first --layers size becomes a base
      layer shared by every build of an architecture (seeded by N and the arch); the other
      layers and the configs stay per build. --source-image: configs without Labels.
      --layout DIR also writes an OCI layout (tag = TAG; with --format docker the entries
      keep Docker media types, which skopeo 1.9's oci: transport does not list). Sizes
      accept K/M/G suffixes. HOST may be https://HOST:PORT (certificates are not verified);
      --creds answers Basic and Bearer (token realm) challenges.

  ferry-lab blob-layout --dir DIR --size BYTES --tag T [--seed N] [--format oci|docker]
                        [--registry HOST --repo REPO]
      Writes a linux/amd64 image with one layer of BYTES (file size before tar + gzip) into
      the OCI layout DIR under T, optionally pushes it as REPO:T, and prints JSON:
        {\"digest\": ..., \"layer\": {\"digest\": ..., \"size\": N, \"path\": FILE}, ...}

  ferry-lab count --log FILE [--since-line N] [--method M] [--path SUBSTR] [--json]
      Counts the requests in a registry access log after its first N lines (waits for the log
      to stop growing first). Prints \"total N\" and one \"METHOD N\" line per method, just the
      number with --method (* = any), or JSON with --json.

  ferry-lab mark --log FILE
      Waits for the access log to stop growing and prints its line count (for --since-line).
";

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprint!("{USAGE}");
        std::process::exit(2);
    };
    let result = match cmd.as_str() {
        "serve" => {
            strip_registry_env();
            serve::run(rest)
        }
        "seed" => seed(rest),
        "blob-layout" => blob_layout(rest),
        "count" => count(rest),
        "mark" => mark(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?} (try ferry-lab help)")),
    };
    if let Err(e) = result {
        eprintln!("ferry-lab {cmd}: {e}");
        std::process::exit(if e.starts_with("usage:") { 2 } else { 1 });
    }
}

/// docker-registry reads every `REGISTRY_*` variable as a configuration override (skopeo's
/// `REGISTRY_AUTH_FILE` becomes `auth.file` and breaks the config): drop them all.
fn strip_registry_env() {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("REGISTRY_") {
            eprintln!(
                "ferry-lab serve: ignoring {} (docker-registry would read it as configuration)",
                k.to_string_lossy()
            );
            // SAFETY: called first thing in main, before any other thread exists.
            unsafe { std::env::remove_var(&k) };
        }
    }
}

fn parse_format(s: Option<&str>) -> Result<Format, String> {
    match s.unwrap_or("oci") {
        "oci" => Ok(Format::Oci),
        "docker" | "v2s2" => Ok(Format::Docker),
        other => Err(format!("--format {other}: use oci or docker")),
    }
}

fn parse_sizes(s: &str) -> Result<Vec<usize>, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| parse_number(p).ok_or_else(|| format!("--layers: bad size {p:?}")))
        .collect()
}

/// `REPO:TAG` → (repo, tag); the tag is after the last ':' that follows the last '/'.
fn split_ref(r: &str) -> Result<(&str, &str), String> {
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    match r[slash..].rfind(':') {
        Some(i) if i > 0 && slash + i + 1 < r.len() => Ok((&r[..slash + i], &r[slash + i + 1..])),
        _ => Err(format!("{r:?}: expected REPO:TAG")),
    }
}

/// What one seeded reference ended up as.
enum Built {
    Image(TestImage),
    Index(TestIndex),
}

impl Built {
    fn digest(&self) -> &str {
        match self {
            Built::Image(i) => &i.digest,
            Built::Index(i) => &i.digest,
        }
    }

    fn images(&self) -> Vec<&TestImage> {
        match self {
            Built::Image(i) => vec![i],
            Built::Index(i) => i.images.iter().collect(),
        }
    }

    fn describe(&self, reference: &str) -> Value {
        let (media_type, digest) = match self {
            Built::Image(i) => (&i.media_type, &i.digest),
            Built::Index(i) => (&i.media_type, &i.digest),
        };
        json!({
            "ref": reference,
            "digest": digest,
            "mediaType": media_type,
            "images": self.images().iter().map(|img| json!({
                "digest": img.digest,
                "platform": format!("{}/{}{}", img.platform.0, img.platform.1,
                    img.platform.2.as_ref().map(|v| format!("/{v}")).unwrap_or_default()),
                "config": img.config.digest,
                "layers": img.layers.iter().map(|l| json!({"digest": l.digest, "size": l.size()}))
                    .collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}

fn seed(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(
        argv,
        &[
            "registry",
            "archs",
            "format",
            "layers",
            "seed",
            "shared-base",
            "label",
            "layout",
            "jobs",
            "creds",
        ],
        &["source-image", "single", "json"],
    )?;
    let registry = a.required("registry")?;
    if a.positional.is_empty() {
        return Err(
            "usage: ferry-lab seed --registry HOST REPO:TAG... (see ferry-lab help)".into(),
        );
    }
    let refs: Vec<(&str, &str)> = a
        .positional
        .iter()
        .map(|r| split_ref(r))
        .collect::<Result<_, _>>()?;
    let archs: Vec<String> = a
        .get("archs")
        .unwrap_or("amd64,arm64,ppc64le,s390x")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if archs.is_empty() {
        return Err("--archs: no architecture".into());
    }
    let single = a.has("single");
    if single && archs.len() != 1 {
        return Err("--single needs exactly one --archs entry".into());
    }
    let labels = a
        .all("label")
        .into_iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("--label {kv:?}: expected K=V"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let plan = Plan {
        archs,
        format: parse_format(a.get("format"))?,
        layers: parse_sizes(a.get("layers").unwrap_or("65536,16384"))?,
        shared_base: match a.get("shared-base") {
            None => None,
            Some(v) => Some(parse_number(v).ok_or_else(|| format!("--shared-base: {v:?}"))?),
        },
        labels,
        source_image: a.has("source-image"),
    };
    if plan.shared_base.is_some() && plan.layers.is_empty() {
        return Err("--shared-base needs at least one --layers size".into());
    }
    let first_seed: u64 = a.number("seed", 1)?;
    let jobs: usize = a.number("jobs", 4)?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());

    // Build every (build, arch) image in parallel, then assemble and push per reference.
    let bases = plan.bases(threads);
    let cells: Vec<(usize, usize)> = (0..refs.len())
        .flat_map(|b| (0..plan.archs.len()).map(move |i| (b, i)))
        .collect();
    let mut imgs = build::par_map(&cells, threads, |&(b, i)| {
        plan.image(i, first_seed + b as u64, bases[i].as_ref())
    })
    .into_iter();
    let built: Vec<Built> = (0..refs.len())
        .map(|_| {
            let per: Vec<TestImage> = imgs.by_ref().take(plan.archs.len()).collect();
            if single {
                Built::Image(per.into_iter().next().expect("one image"))
            } else {
                Built::Index(build::list(per, plan.format))
            }
        })
        .collect();

    let mut pusher = push::Pusher::new(registry)?;
    if let Some(c) = a.get("creds") {
        let (user, password) = c
            .split_once(':')
            .ok_or_else(|| "--creds: expected USER:PASSWORD".to_string())?;
        pusher = pusher.with_creds(user, password);
    }
    let work: Vec<usize> = (0..refs.len()).collect();
    let results = build::par_map(&work, jobs, |&k| {
        let (repo, tag) = refs[k];
        match &built[k] {
            Built::Image(img) => pusher.image(repo, tag, img),
            Built::Index(idx) => pusher.index(repo, tag, idx),
        }
        .map_err(|e| format!("{repo}:{tag}: {e}"))
    });
    for r in results {
        r?;
    }

    if let Some(dir) = a.get("layout") {
        for (k, (_, tag)) in refs.iter().enumerate() {
            match &built[k] {
                Built::Image(img) => images::write_oci_layout(Path::new(dir), tag, img),
                Built::Index(idx) => images::write_oci_layout(Path::new(dir), tag, idx),
            }
        }
    }

    if a.has("json") {
        let all: Vec<Value> = built
            .iter()
            .zip(&a.positional)
            .map(|(b, r)| b.describe(r))
            .collect();
        println!("{}", serde_json::to_string_pretty(&all).expect("json"));
    } else if built.len() == 1 {
        println!("{}", built[0].digest());
    } else {
        for (b, r) in built.iter().zip(&a.positional) {
            println!("{r} {}", b.digest());
        }
    }
    Ok(())
}

fn blob_layout(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(
        argv,
        &["dir", "size", "tag", "seed", "format", "registry", "repo"],
        &[],
    )?;
    let dir = PathBuf::from(a.required("dir")?);
    let size: usize = parse_number(a.required("size")?).ok_or("--size: not a number")?;
    let tag = a.required("tag")?;
    let format = parse_format(a.get("format"))?;
    let seed: u64 = a.number("seed", 4)?;
    let img = images::image(
        &images::ImageSpec::new("amd64", seed).layers(&[size]),
        format,
    );
    images::write_oci_layout(&dir, tag, &img);
    match (a.get("registry"), a.get("repo")) {
        (Some(host), Some(repo)) => push::Pusher::new(host)?.image(repo, tag, &img)?,
        (None, None) => {}
        _ => return Err("--registry and --repo go together".into()),
    }
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let blob_path = |d: &str| {
        dir.join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let layer = &img.layers[0];
    let out = json!({
        "digest": img.digest,
        "mediaType": img.media_type,
        "tag": tag,
        "layout": dir,
        "config": {"digest": img.config.digest, "size": img.config.size(),
                   "path": blob_path(&img.config.digest)},
        "layer": {"digest": layer.digest, "size": layer.size(), "path": blob_path(&layer.digest)},
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    Ok(())
}

/// Waits for the access log to stop growing (the registry writes a line just after
/// answering), then reads it.
fn read_log(path: &str) -> Result<String, String> {
    log::wait_quiet(
        Path::new(path),
        Duration::from_millis(100),
        Duration::from_secs(5),
    );
    std::fs::read_to_string(path).map_err(|e| format!("read {path}: {e}"))
}

fn count(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &["log", "since-line", "method", "path"], &["json"])?;
    let text = read_log(a.required("log")?)?;
    let skip: usize = a.number("since-line", 0)?;
    let tail: String = text
        .split_inclusive('\n')
        .skip(skip)
        .collect::<Vec<_>>()
        .concat();
    let path = a.get("path").unwrap_or("");
    let reqs: Vec<_> = log::parse_log(&tail)
        .into_iter()
        .filter(|r| r.matches("*", path))
        .collect();
    if let Some(m) = a.get("method") {
        println!("{}", reqs.iter().filter(|r| r.matches(m, "")).count());
        return Ok(());
    }
    let mut by_method: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for r in &reqs {
        *by_method.entry(r.method.clone()).or_default() += 1;
        *by_status.entry(r.status.to_string()).or_default() += 1;
    }
    if a.has("json") {
        let out = json!({"total": reqs.len(), "methods": by_method, "statuses": by_status});
        println!("{}", serde_json::to_string(&out).expect("json"));
    } else {
        println!("total {}", reqs.len());
        for (m, n) in by_method {
            println!("{m} {n}");
        }
    }
    Ok(())
}

fn mark(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &["log"], &[])?;
    let path = a.required("log")?;
    let text = if Path::new(path).exists() {
        read_log(path)?
    } else {
        String::new()
    };
    println!("{}", text.split_inclusive('\n').count());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        assert_eq!(split_ref("s2/app:b01").unwrap(), ("s2/app", "b01"));
        assert_eq!(
            split_ref("127.0.0.1:5000/a:t").unwrap(),
            ("127.0.0.1:5000/a", "t")
        );
        assert!(split_ref("127.0.0.1:5000/a").is_err());
        assert!(split_ref("a:").is_err());
    }
}
