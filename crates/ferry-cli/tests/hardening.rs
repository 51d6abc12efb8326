//! Hardening of the command line: closed pipes, TLS and timeout flags.

mod common;

use common::Ferry;
use ferry_testkit::images::{self, Format};
use ferry_testkit::{Registry, skopeo};

/// A reader that goes away (`ferry copy A B | true`) stops the printing, not the work:
/// the copy lands, the exit code is 0 and nothing panics.
#[test]
fn closed_stdout_keeps_the_work_and_exits_zero() {
    let reg = Registry::plain();
    let img = images::simple(71, Format::Oci);
    images::push_image(&reg, "pipe/src", Some("1"), &img);
    let f = Ferry::new(&[&reg]);
    let src = format!("{}/pipe/src:1", reg.host());
    let dst = format!("{}/pipe/dst:1", reg.host());
    let (code, err) = f.run_closed_stdout(&["copy", "-q", &src, &dst]);
    assert_eq!(code, 0, "copy: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(skopeo::inspect_raw(&reg, "pipe/dst:1"), img.manifest);
    let tagged = format!("{}/pipe/dst:2", reg.host());
    for args in [
        vec!["digest", dst.as_str()],
        vec!["check", dst.as_str()],
        vec!["digest", "-o", "json", dst.as_str()],
        vec!["tag", dst.as_str(), tagged.as_str()],
    ] {
        let (code, err) = f.run_closed_stdout(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
