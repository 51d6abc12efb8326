//! The fault matrix: each writing command of the real `ferry` binary under each fault,
//! against real registries behind the test kit's fault proxy. Invariants checked in every
//! cell: no tag dangles, no image is corrupted, a re-run without the fault completes and
//! uploads no blob the destination already holds.
//!
//! A fast subset runs here; `make fault-matrix` runs all 48 cells (`fault_matrix`, ignored
//! by default) and writes the table into docs/reliability.md.

#[path = "faults/audit.rs"]
mod audit;
#[path = "faults/cell.rs"]
mod cell;
#[path = "faults/table.rs"]
mod table;

use cell::{Fault, Op, run_cell};

#[test]
fn copy_through_a_5xx_storm() {
    run_cell(Fault::Storm5xx, Op::Copy).assert_sound();
}

#[test]
fn copy_through_connection_resets() {
    let c = run_cell(Fault::Reset, Op::Copy);
    c.assert_sound();
    assert_eq!(c.code, 0, "a few broken connections are retried: {c:#?}");
    assert!(c.retries >= 4, "every broken connection is retried: {c:#?}");
}

#[test]
fn copy_from_a_source_truncating_blobs() {
    let c = run_cell(Fault::Truncate, Op::Copy);
    c.assert_sound();
    assert_eq!(
        c.code, 1,
        "every blob read is cut short: the copy must fail"
    );
}

#[test]
fn copy_from_a_source_serving_wrong_bytes() {
    let c = run_cell(Fault::Corrupt, Op::Copy);
    c.assert_sound();
    assert_eq!(
        c.code, 1,
        "every blob read is corrupted: the copy must fail"
    );
}

#[test]
fn push_while_the_registry_is_killed_and_restarted() {
    let c = run_cell(Fault::KillRestart, Op::Push);
    c.assert_sound();
    assert_eq!(
        c.killed_mid_run,
        Some(true),
        "the kill must land during the push"
    );
}

#[test]
#[ignore = "48 cells, minutes: run by `make fault-matrix`"]
fn fault_matrix() {
    let jobs = std::env::var("FERRY_FAULT_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let cells = table::run_all(jobs);
    let body = table::render(&cells);
    let doc = std::env::var("FERRY_FAULT_MATRIX_DOC")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| cell::repo_root().join("docs/reliability.md"));
    table::write_doc(&doc, &body).expect("write the fault matrix table");
    println!("{body}");
    let bad: Vec<_> = cells.iter().filter(|c| !c.sound()).collect();
    assert!(bad.is_empty(), "{} unsound cell(s): {bad:#?}", bad.len());
}

/// The audit is what makes the matrix able to fail: a layer missing from the repository
/// makes its tag dangle, bytes that do not hash to their digest make the image corrupted.
#[test]
fn the_audit_sees_dangling_and_corrupted_tags() {
    use ferry_testkit::Registry;
    use ferry_testkit::images::{self, Format, ImageSpec};
    let reg = Registry::plain();
    let a = images::image(&ImageSpec::new("amd64", 71), Format::Oci);
    let b = images::image(&ImageSpec::new("arm64", 72), Format::Oci);
    images::push_image(&reg, "org/app", Some("a"), &a);
    images::push_image(&reg, "org/app", Some("b"), &b);
    let clean = audit::audit(&reg, "org/app");
    assert_eq!(
        (clean.tags.len(), clean.dangling, clean.corrupted),
        (2, 0, 0)
    );
    assert!(clean.blobs.contains(&a.layers[0].digest));

    let v2 = reg.data_dir().join("docker/registry/v2");
    let hex = |d: &str| d.trim_start_matches("sha256:").to_string();
    let link = v2
        .join("repositories/org/app/_layers/sha256")
        .join(hex(&a.layers[0].digest));
    std::fs::remove_dir_all(link).unwrap();
    let h = hex(&b.config.digest);
    let data = v2.join("blobs/sha256").join(&h[..2]).join(&h).join("data");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[0] ^= 0xFF;
    std::fs::write(&data, bytes).unwrap();
    let broken = audit::audit(&reg, "org/app");
    assert_eq!(
        (broken.dangling, broken.corrupted),
        (1, 1),
        "{:?}",
        broken.problems
    );
}
