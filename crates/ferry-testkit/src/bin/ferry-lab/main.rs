//! ferry-lab: local registries and deterministic test images from the shell, with the
//! test kit's own code (the demo and the benchmark use it; no Docker needed).
//!
//! Run `ferry-lab --help` for the commands.

mod build;
mod serve;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use ferry_testkit::images::{self, Endpoint, Format, TestImage, TestIndex};
use ferry_testkit::registry::log;
use serde_json::{Value, json};

use build::Plan;

/// ferry-lab: local docker-registry processes and deterministic test images (ferry-testkit).
/// Sizes accept K/M/G suffixes (binary: 4M = 4194304) and `_` separators.
#[derive(Parser, Debug)]
#[command(name = "ferry-lab", max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Start plain-HTTP registries until SIGTERM, SIGINT or SIGHUP (or stdin EOF)
    ///
    /// Starts one plain-HTTP registry per --name (default: src and dst). DIR/NAME is a
    /// symlink to its directory: DIR/NAME/stdout.log is the access log, DIR/NAME/data the
    /// storage. Writes DIR/registries.json (atomically, once every registry answers; use it
    /// as the readiness signal) and prints it:
    ///   {"NAME": {"host": "127.0.0.1:PORT", "url": ..., "log": ..., "stderr": ...,
    ///             "data": ..., "root": ...}}
    /// Runs until SIGTERM, SIGINT or SIGHUP, or until stdin reaches EOF when stdin is a pipe
    /// (not with --no-stdin); then kills the registries and removes their directories.
    #[command(
        after_help = "Example:\n  ferry-lab serve --dir /tmp/lab --name src --name dst:5001 --no-stdin &"
    )]
    Serve(serve::ServeArgs),
    /// Push multi-arch test indexes (or single images) and print their digests
    ///
    /// Pushes a multi-arch index (a single image with --single and one arch) to each
    /// REPO:TAG and prints its digest ("REPO:TAG DIGEST" lines for several). Build k
    /// (0-based) of the command line uses seed N+k. --shared-base N: the first --layers size
    /// becomes a base layer shared by every build of an architecture (seeded by N and the
    /// arch); the other layers and the configs stay per build.
    #[command(
        after_help = "Example:\n  ferry-lab seed --registry 127.0.0.1:5000 --archs amd64,arm64 --layers 4M,512K --shared-base 2 app:b1 app:b2"
    )]
    Seed(SeedArgs),
    /// Write a one-layer image of a given size into an OCI layout (and push it)
    ///
    /// Writes a linux/amd64 image with one layer of BYTES (file size before tar + gzip)
    /// into the OCI layout DIR under TAG, optionally pushes it as REPO:TAG, and prints JSON:
    ///   {"digest": ..., "layer": {"digest": ..., "size": N, "path": FILE}, ...}
    BlobLayout(BlobLayoutArgs),
    /// Count the requests in a registry access log
    ///
    /// Counts the requests after the log's first N lines (waits for the log to stop growing
    /// first). Prints "total N" and one "METHOD N" line per method, just the number with
    /// --method (* = any), or JSON with --json.
    Count(CountArgs),
    /// Print an access log's line count (for count --since-line)
    ///
    /// Waits for the access log to stop growing and prints its line count.
    Mark(MarkArgs),
}

/// Manifest formats.
#[derive(ValueEnum, Clone, Copy, Debug)]
enum FormatArg {
    /// OCI image manifests and index
    Oci,
    /// Docker schema 2 manifests and manifest list
    #[value(alias = "v2s2")]
    Docker,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Oci => Format::Oci,
            FormatArg::Docker => Format::Docker,
        }
    }
}

#[derive(Args, Debug)]
struct SeedArgs {
    /// The registry: HOST:PORT (plain http) or an http(s):// URL
    #[arg(long, value_name = "HOST")]
    registry: String,
    /// References to push
    #[arg(required = true, value_name = "REPO:TAG", value_parser = parse_ref)]
    refs: Vec<(String, String)>,
    /// Architectures, one image each
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "amd64,arm64,ppc64le,s390x"
    )]
    archs: Vec<String>,
    /// Manifest format
    #[arg(long, value_enum, default_value = "oci")]
    format: FormatArg,
    /// Layer sizes (bytes of the file in each layer)
    #[arg(long, value_delimiter = ',', default_value = "65536,16384", value_parser = parse_size)]
    layers: Vec<usize>,
    /// Seed of the first build
    #[arg(long, default_value_t = 1, value_parser = parse_number::<u64>)]
    seed: u64,
    /// Make the first --layers size a base layer shared per architecture, seeded by N
    #[arg(long, value_name = "N", value_parser = parse_number::<u64>)]
    shared_base: Option<u64>,
    /// A config label (repeatable)
    #[arg(long, value_name = "K=V", value_parser = parse_label)]
    label: Vec<(String, String)>,
    /// Configs without Labels (the source-image shape)
    #[arg(long)]
    source_image: bool,
    /// Push a single image, not an index (needs exactly one --archs entry)
    #[arg(long)]
    single: bool,
    /// Also write an OCI layout here (tag = TAG; with --format docker the entries keep
    /// Docker media types, which skopeo 1.9's oci: transport does not list)
    #[arg(long, value_name = "DIR")]
    layout: Option<PathBuf>,
    /// References pushed at once
    #[arg(long, default_value_t = 4, value_parser = parse_number::<usize>)]
    jobs: usize,
    /// Print every reference, digest, platform and blob as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct BlobLayoutArgs {
    /// The OCI layout directory
    #[arg(long)]
    dir: PathBuf,
    /// Size of the file in the layer
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    size: usize,
    /// The tag in the layout (and the registry)
    #[arg(long)]
    tag: String,
    /// Content seed
    #[arg(long, default_value_t = 4, value_parser = parse_number::<u64>)]
    seed: u64,
    /// Manifest format
    #[arg(long, value_enum, default_value = "oci")]
    format: FormatArg,
    /// Also push to this registry (HOST:PORT or URL), as --repo
    #[arg(long, value_name = "HOST", requires = "repo")]
    registry: Option<String>,
    /// The repository to push to
    #[arg(long, requires = "registry")]
    repo: Option<String>,
}

#[derive(Args, Debug)]
struct CountArgs {
    /// The registry's access log
    #[arg(long, value_name = "FILE")]
    log: PathBuf,
    /// Skip the log's first N lines (from `ferry-lab mark`)
    #[arg(long, value_name = "N", default_value_t = 0)]
    since_line: usize,
    /// Print only the number of requests of this method (* = any)
    #[arg(long, value_name = "M")]
    method: Option<String>,
    /// Count only requests whose path contains this
    #[arg(long, value_name = "SUBSTR", default_value = "")]
    path: String,
    /// Print {"total", "methods", "statuses"} as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct MarkArgs {
    /// The registry's access log
    #[arg(long, value_name = "FILE")]
    log: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    let (name, result) = match cli.command {
        Cmd::Serve(a) => {
            strip_registry_env();
            ("serve", serve::run(a))
        }
        Cmd::Seed(a) => ("seed", seed(a)),
        Cmd::BlobLayout(a) => ("blob-layout", blob_layout(a)),
        Cmd::Count(a) => ("count", count(a)),
        Cmd::Mark(a) => ("mark", mark(a)),
    };
    if let Err(e) = result {
        eprintln!("ferry-lab {name}: {e}");
        std::process::exit(1);
    }
}

/// A usage error found after parsing: clap's message, exit 2.
fn usage_error(message: impl std::fmt::Display) -> ! {
    Cli::command()
        .error(clap::error::ErrorKind::ValueValidation, message)
        .exit()
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
            // SAFETY: called before any other thread exists (argument parsing spawns none).
            unsafe { std::env::remove_var(&k) };
        }
    }
}

/// Parses a number, accepting `_` separators and the suffixes `K`, `M`, `G` (binary, for
/// sizes: `4M` = 4194304) when the target type can hold the result.
fn parse_number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    let t = s.trim().replace('_', "");
    let (digits, mult): (&str, u64) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        _ => (&t, 1),
    };
    let bad = || format!("not a number: {s:?}");
    if mult == 1 {
        return digits.parse().map_err(|_| bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(mult)
        .ok_or_else(bad)?
        .to_string()
        .parse()
        .map_err(|_| bad())
}

fn parse_size(s: &str) -> Result<usize, String> {
    parse_number(s)
}

fn parse_label(kv: &str) -> Result<(String, String), String> {
    kv.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{kv:?}: expected K=V"))
}

fn parse_ref(r: &str) -> Result<(String, String), String> {
    split_ref(r).map(|(repo, tag)| (repo.to_string(), tag.to_string()))
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

fn seed(a: SeedArgs) -> Result<(), String> {
    let archs: Vec<String> = a
        .archs
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if archs.is_empty() {
        usage_error("--archs: no architecture");
    }
    if a.single && archs.len() != 1 {
        usage_error("--single needs exactly one --archs entry");
    }
    if a.shared_base.is_some() && a.layers.is_empty() {
        usage_error("--shared-base needs at least one --layers size");
    }
    let plan = Plan {
        archs,
        format: a.format.into(),
        layers: a.layers,
        shared_base: a.shared_base,
        labels: a.label,
        source_image: a.source_image,
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let refs = &a.refs;

    // Build every (build, arch) image in parallel, then assemble and push per reference.
    let cells: Vec<(usize, usize)> = (0..refs.len())
        .flat_map(|b| (0..plan.archs.len()).map(move |i| (b, i)))
        .collect();
    let mut imgs =
        build::par_map(&cells, threads, |&(b, i)| plan.image(i, a.seed + b as u64)).into_iter();
    let built: Vec<Built> = (0..refs.len())
        .map(|_| {
            let mut per: Vec<TestImage> = imgs.by_ref().take(plan.archs.len()).collect();
            match (a.single, per.pop()) {
                (true, Some(img)) => Built::Image(img),
                (_, last) => {
                    per.extend(last);
                    Built::Index(images::index_of(per, plan.format))
                }
            }
        })
        .collect();

    let endpoint = Endpoint::at(&a.registry)?.skip_existing();
    let work: Vec<usize> = (0..refs.len()).collect();
    let results = build::par_map(&work, a.jobs, |&k| {
        let (repo, tag) = &refs[k];
        match &built[k] {
            Built::Image(img) => images::try_push_to(&endpoint, repo, Some(tag), img),
            Built::Index(idx) => images::try_push_to(&endpoint, repo, Some(tag), idx),
        }
        .map_err(|e| format!("{repo}:{tag}: {e}"))
    });
    for r in results {
        r?;
    }

    if let Some(dir) = &a.layout {
        for (k, (_, tag)) in refs.iter().enumerate() {
            match &built[k] {
                Built::Image(img) => images::write_oci_layout(dir, tag, img),
                Built::Index(idx) => images::write_oci_layout(dir, tag, idx),
            }
        }
    }

    let names: Vec<String> = refs.iter().map(|(r, t)| format!("{r}:{t}")).collect();
    if a.json {
        let all: Vec<Value> = built
            .iter()
            .zip(&names)
            .map(|(b, r)| b.describe(r))
            .collect();
        println!("{}", serde_json::to_string_pretty(&all).expect("json"));
    } else if let [one] = built.as_slice() {
        println!("{}", one.digest());
    } else {
        for (b, r) in built.iter().zip(&names) {
            println!("{r} {}", b.digest());
        }
    }
    Ok(())
}

fn blob_layout(a: BlobLayoutArgs) -> Result<(), String> {
    let img = images::image(
        &images::ImageSpec::new("amd64", a.seed).layers(&[a.size]),
        a.format.into(),
    );
    let tag = a.tag.as_str();
    images::write_oci_layout(&a.dir, tag, &img);
    if let (Some(host), Some(repo)) = (&a.registry, &a.repo) {
        let endpoint = Endpoint::at(host)?.skip_existing();
        images::try_push_to(&endpoint, repo, Some(tag), &img)?;
    }
    let dir = &a.dir;
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
fn read_log(path: &Path) -> Result<String, String> {
    log::wait_quiet(path, Duration::from_millis(100), Duration::from_secs(5));
    std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))
}

fn count(a: CountArgs) -> Result<(), String> {
    let text = read_log(&a.log)?;
    let tail: String = text
        .split_inclusive('\n')
        .skip(a.since_line)
        .collect::<Vec<_>>()
        .concat();
    let reqs: Vec<_> = log::parse_log(&tail)
        .into_iter()
        .filter(|r| r.matches("*", &a.path))
        .collect();
    if let Some(m) = &a.method {
        println!("{}", reqs.iter().filter(|r| r.matches(m, "")).count());
        return Ok(());
    }
    let mut by_method: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for r in &reqs {
        *by_method.entry(r.method.clone()).or_default() += 1;
        *by_status.entry(r.status.to_string()).or_default() += 1;
    }
    if a.json {
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

fn mark(a: MarkArgs) -> Result<(), String> {
    let text = if a.log.exists() {
        read_log(&a.log)?
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
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_number::<usize>("4M"), Ok(4 << 20));
        assert_eq!(parse_number::<usize>("512k"), Ok(512 << 10));
        assert_eq!(parse_number::<usize>("1_000"), Ok(1000));
        assert!(parse_number::<u8>("1K").is_err());
        assert!(parse_number::<usize>("x").is_err());
    }

    #[test]
    fn parses_the_bench_and_demo_invocations() {
        let cli = Cli::try_parse_from([
            "ferry-lab",
            "seed",
            "--registry",
            "127.0.0.1:1",
            "--archs",
            "amd64,arm64",
            "--layers",
            "4M,512K",
            "--shared-base",
            "2",
            "--seed",
            "100",
            "s2/app:b01",
            "s2/app:b02",
        ])
        .unwrap();
        let Cmd::Seed(a) = cli.command else {
            panic!("not seed")
        };
        assert_eq!(a.layers, vec![4 << 20, 512 << 10]);
        assert_eq!(a.refs[1], ("s2/app".to_string(), "b02".to_string()));
        assert_eq!(a.shared_base, Some(2));
        assert!(Cli::try_parse_from(["ferry-lab", "seed", "--registry", "h", "norepo"]).is_err());
        assert!(
            Cli::try_parse_from([
                "ferry-lab",
                "blob-layout",
                "--dir",
                "d",
                "--size",
                "1K",
                "--tag",
                "v1",
                "--repo",
                "r"
            ])
            .is_err(),
            "--repo without --registry"
        );
        assert!(
            Cli::try_parse_from([
                "ferry-lab",
                "serve",
                "--dir",
                "d",
                "--name",
                "a",
                "--name",
                "b:5001",
                "--no-stdin"
            ])
            .is_ok()
        );
    }

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
