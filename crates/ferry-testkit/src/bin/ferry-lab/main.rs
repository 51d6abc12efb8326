//! ferry-lab: local registries and deterministic test images from the shell, with the
//! test kit's own code (the demo and the benchmark use it; no Docker needed).
//!
//! Run `ferry-lab --help` for the commands.

mod build;
mod cli;
mod serve;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use ferry_testkit::images::{self, Endpoint, TestImage, TestIndex};
use ferry_testkit::registry::log;
use serde_json::{Value, json};

use build::Plan;
use cli::{BlobLayoutArgs, Cli, Cmd, CountArgs, MarkArgs, SeedArgs};

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
fn usage_error(command: &str, message: impl std::fmt::Display) -> ! {
    let mut cli = Cli::command();
    cli.build();
    let kind = clap::error::ErrorKind::ValueValidation;
    match cli.find_subcommand_mut(command) {
        Some(sub) => sub.error(kind, message).exit(),
        None => cli.error(kind, message).exit(),
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
            // SAFETY: called before any other thread exists (argument parsing spawns none).
            unsafe { std::env::remove_var(&k) };
        }
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
        usage_error("seed", "--archs: no architecture");
    }
    if a.single && archs.len() != 1 {
        usage_error("seed", "--single needs exactly one --archs entry");
    }
    if a.shared_base.is_some() && a.layers.is_empty() {
        usage_error("seed", "--shared-base needs at least one --layers size");
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

    let mut endpoint = Endpoint::at(&a.registry)?.skip_existing();
    if let Some(c) = &a.creds {
        endpoint = endpoint.with_credentials(&c.user, &c.password);
    }
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
    use crate::cli::{parse_number, split_ref};

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
