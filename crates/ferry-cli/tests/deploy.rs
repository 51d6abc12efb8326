//! The manifests in deploy/ (a Kubernetes Indexed Job and a Tekton matrix) are valid and
//! run `ferry push --shard` the way docs/scale.md says: structure checked here, the
//! Kubernetes objects also against the Kubernetes schemas (kubernetes-validate, installed
//! from PyPI into a venv under target/ when missing), and the items and settings they carry
//! read by the real binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn documents(rel: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo_root().join(rel)).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) => &v[i],
        Err(_) => &v[k],
    })
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_sequence()
        .unwrap_or_else(|| panic!("not a list: {v:?}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn arg_after(args: &[String], flag: &str) -> String {
    let i = args.iter().position(|a| a == flag).unwrap_or_else(|| {
        panic!("{flag} missing from {args:?}");
    });
    args[i + 1].clone()
}

/// No credential ever appears on a command line.
fn assert_no_secret_args(args: &[String]) {
    for a in args {
        for bad in [
            "--creds",
            "--src-creds",
            "--dest-creds",
            "password",
            "PASSWORD",
        ] {
            assert!(!a.contains(bad), "secret-looking argument {a:?}");
        }
    }
}

#[test]
fn kubernetes_job_is_an_indexed_job_running_one_shard_per_index() {
    let docs = documents("deploy/kubernetes/push-job.yaml");
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ConfigMap", "Job"]);
    let (config, job) = (&docs[0], &docs[1]);
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(n));

    let pod = get(spec, "template.spec");
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let c = get(pod, "containers.0");
    assert_eq!(str_list(&c["command"]), ["ferry"]);
    let args = str_list(&c["args"]);
    assert_eq!(args[0], "push");
    assert_eq!(
        arg_after(&args, "--shard"),
        format!("$(JOB_COMPLETION_INDEX)/{n}")
    );
    assert_no_secret_args(&args);
    // $(JOB_COMPLETION_INDEX) expands because the variable is declared from the annotation.
    let env = c["env"].as_sequence().unwrap();
    let index = env
        .iter()
        .find(|e| e["name"].as_str() == Some("JOB_COMPLETION_INDEX"))
        .expect("JOB_COMPLETION_INDEX declared");
    assert_eq!(
        get(index, "valueFrom.fieldRef.fieldPath").as_str(),
        Some("metadata.annotations['batch.kubernetes.io/job-completion-index']")
    );

    // Settings and items from the ConfigMap, the auth file from a Secret, both read-only.
    let mounts = c["volumeMounts"].as_sequence().unwrap();
    let volumes = pod["volumes"].as_sequence().unwrap();
    let mount_of = |path_prefix: &str| {
        let m = mounts
            .iter()
            .find(|m| path_prefix.starts_with(m["mountPath"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("nothing mounted for {path_prefix}"));
        assert_eq!(m["readOnly"].as_bool(), Some(true));
        let name = m["name"].as_str().unwrap();
        volumes
            .iter()
            .find(|v| v["name"].as_str() == Some(name))
            .unwrap()
            .clone()
    };
    let target = arg_after(&args, "--target");
    let cm = mount_of(&target);
    assert_eq!(
        get(&cm, "configMap.name").as_str(),
        config["metadata"]["name"].as_str()
    );
    let auth = mount_of(&arg_after(&args, "--authfile"));
    assert!(auth["secret"]["secretName"].as_str().is_some());
    let items_path = args.last().unwrap();
    assert!(items_path.starts_with("/etc/ferry/"));

    // The ConfigMap's files are what ferry reads: items parse, settings keys are ferry's.
    let data = &config["data"];
    let file = |p: &str| data[Path::new(p).file_name().unwrap().to_str().unwrap()].clone();
    let items = file(items_path);
    let target_yaml = file(&target);
    let dir = tempfile::tempdir().unwrap();
    let items_file = dir.path().join("items.yaml");
    std::fs::write(&items_file, items.as_str().unwrap()).unwrap();
    let f = common::Ferry::new(&[]);
    let run = f.run(&["items", "-o", "json", items_file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let settings: Value = serde_norway::from_str(target_yaml.as_str().unwrap()).unwrap();
    assert!(settings["registry"].as_str().is_some());
}

#[test]
fn tekton_pipeline_fans_out_over_shard_indexes_and_merges_reports() {
    let pipeline = &documents("deploy/tekton/push-pipeline.yaml")[0];
    let tasks = documents("deploy/tekton/push-task.yaml");
    assert_eq!(pipeline["apiVersion"].as_str(), Some("tekton.dev/v1"));
    assert_eq!(pipeline["kind"].as_str(), Some("Pipeline"));
    let task_names: Vec<&str> = tasks
        .iter()
        .map(|t| {
            assert_eq!(t["kind"].as_str(), Some("Task"));
            assert_eq!(t["apiVersion"].as_str(), Some("tekton.dev/v1"));
            t["metadata"]["name"].as_str().unwrap()
        })
        .collect();
    let ptasks = pipeline["spec"]["tasks"].as_sequence().unwrap();
    for t in ptasks {
        let r = get(t, "taskRef.name").as_str().unwrap();
        assert!(task_names.contains(&r), "taskRef {r} is defined");
    }
    let push = &ptasks[0];
    let matrix = get(push, "matrix.params.0");
    assert_eq!(matrix["name"].as_str(), Some("index"));
    let indexes = str_list(get(&pipeline["spec"]["params"], "1.default"));
    let count: usize = get(&pipeline["spec"]["params"], "0.default")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        indexes,
        (0..count).map(|i| i.to_string()).collect::<Vec<_>>()
    );
    let step = get(&tasks[0], "spec.steps.0");
    let args = str_list(&step["args"]);
    assert_eq!(
        arg_after(&args, "--shard"),
        "$(params.index)/$(params.count)"
    );
    assert_no_secret_args(&args);
    let report = &ptasks[1];
    assert_eq!(str_list(&report["runAfter"]), ["push"]);
    let script = get(&tasks[1], "spec.steps.0.script").as_str().unwrap();
    assert!(script.contains("ferry report merge --shards \"$(params.count)\""));
}

/// A venv under target/ with kubernetes-validate (the Kubernetes OpenAPI schemas).
fn kubernetes_validate() -> PathBuf {
    let venv = repo_root().join("target/deploy-venv");
    let bin = venv.join("bin/kubernetes-validate");
    if !bin.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap()
            .success();
        assert!(ok, "python3 -m venv failed: python3-venv is needed");
        let out = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "kubernetes-validate==1.37.0"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install kubernetes-validate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    bin
}

#[test]
fn kubernetes_objects_validate_against_the_kubernetes_schemas() {
    let bin = kubernetes_validate();
    // Through the venv's python: a venv that was moved keeps a stale shebang.
    let python = bin.parent().unwrap().join("python3");
    let out = Command::new(&python)
        .arg(&bin)
        .arg("--strict")
        .arg(repo_root().join("deploy/kubernetes/push-job.yaml"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    // Two objects, each reported valid.
    assert_eq!(text.matches("INFO").count(), 2, "{text}");
    // The validator does reject what Kubernetes would: a misspelt field.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(repo_root().join("deploy/kubernetes/push-job.yaml"))
        .unwrap()
        .replace("completionMode: Indexed", "completionMod: Indexed");
    std::fs::write(&bad, text).unwrap();
    let out = Command::new(&python)
        .arg(&bin)
        .arg("--strict")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a misspelt field must fail validation"
    );
}
