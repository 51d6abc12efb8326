//! `ferry push` from an items file whose images sit in a token-auth build registry: the
//! credentials reach the hosts the items' pull specs name, from the flags, from ferry's
//! settings or from pubtools-quay's settings as pub passes them — and no password ever
//! shows in the output.

mod common;

use common::{Ferry, Run, write};
use ferry_testkit::images::{self, Format, TestImage};
use ferry_testkit::{Registry, skopeo};

const SRC_PW: &str = "bu1ld-s3cret";
const DEST_PW: &str = "qu4y-s3cret";

/// An items file with one image of `build`, for `dest`.
fn items(f: &Ferry, build: &Registry, img: &TestImage, dest: &str) -> String {
    let b = build.host();
    let path = f.path(&format!("items-{}.yaml", dest.replace(['/', ':'], "-")));
    write(
        &path,
        &format!(
            "- ContainerImagePushItem:\n    name: app\n    dest: [\"{dest}\"]\n    pull_info:\n      tag_specs: [{{registry: \"{b}\", repository: osbs/app, tag: \"1\", media_types: []}}]\n      digest_specs: [{{registry: \"{b}\", repository: osbs/app, digest: \"{}\", media_type: null}}]\n",
            img.digest
        ),
    );
    path.to_str().unwrap().to_string()
}

fn no_secret(r: &Run) {
    for pw in [SRC_PW, DEST_PW] {
        assert!(
            !r.stdout.contains(pw) && !r.stderr.contains(pw),
            "a password in the output:\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
}

/// Whether `reference` in `quay` is exactly `img` (the same manifest bytes).
fn holds(quay: &Registry, reference: &str, img: &TestImage) -> bool {
    skopeo::inspect_raw(quay, reference) == img.manifest
}

#[test]
fn push_from_a_file_into_a_token_build_registry_with_every_kind_of_credentials() {
    let build = Registry::token(&[("builder", SRC_PW)]);
    let quay = Registry::tls_htpasswd("robot", DEST_PW);
    let img = images::simple(301, Format::Oci);
    images::push_image(&build, "osbs/app", Some("1"), &img);
    let f = Ferry::new(&[&build, &quay]);
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = f.command(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        let r = Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            raw_stdout: o.stdout,
        };
        no_secret(&r);
        r
    };
    let plain_settings = f.path("plain.yaml");
    write(
        &plain_settings,
        &format!("registry: \"{}\"\nnamespace: org\n", quay.host()),
    );
    let plain = plain_settings.to_str().unwrap();

    // No credentials at all: the build registry refuses the read, nothing is pushed.
    let file = items(&f, &build, &img, "product/app:none");
    let r = run(&["push", "--target", plain, &file], &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        skopeo::try_inspect_raw(&quay, "org/product/app:none")
            .status
            .code()
            != Some(0)
    );

    // 1. Flags alone: --src-creds for the item's host, --creds serves the destination,
    //    the source password from $FERRY_SRC_PASSWORD.
    let file = items(&f, &build, &img, "product/app:flags");
    let dest = format!("robot:{DEST_PW}");
    let r = run(
        &[
            "push",
            "--target",
            plain,
            "--src-creds",
            "builder",
            "--creds",
            &dest,
            &file,
        ],
        &[("FERRY_SRC_PASSWORD", SRC_PW)],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(holds(&quay, "org/product/app:flags", &img));

    // Flags win over the settings: wrong settings credentials, right flags.
    let wrong = f.path("wrong.yaml");
    write(
        &wrong,
        &format!(
            "registry: \"{}\"\nnamespace: org\nsource_credentials: {{username: builder, password_env: NOPE}}\ndest_credentials: {{username: robot, password_env: NOPE}}\n",
            quay.host()
        ),
    );
    let file = items(&f, &build, &img, "product/app:win");
    let src = format!("builder:{SRC_PW}");
    let r = run(
        &[
            "push",
            "--target",
            wrong.to_str().unwrap(),
            "--src-creds",
            &src,
            "--dest-creds",
            &dest,
            &file,
        ],
        &[("NOPE", "n0pe")],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(holds(&quay, "org/product/app:win", &img));

    // 2. Ferry's settings alone.
    let ferry_settings = f.path("ferry.yaml");
    write(
        &ferry_settings,
        &format!(
            "registry: \"{}\"\nnamespace: org\nsource_credentials: {{username: builder, password_env: SRC_PW}}\ndest_credentials: {{username: robot, password_env: DEST_PW}}\n",
            quay.host()
        ),
    );
    let file = items(&f, &build, &img, "product/app:settings");
    let r = run(
        &["push", "--target", ferry_settings.to_str().unwrap(), &file],
        &[("SRC_PW", SRC_PW), ("DEST_PW", DEST_PW)],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(holds(&quay, "org/product/app:settings", &img));

    // 3. pubtools-quay's settings as pub passes them (JSON, inline passwords): flat
    //    layout under quay_namespace, source credentials for source_quay_host.
    let pubtools = |source_host: &str| {
        let p = f.path("target-settings.json");
        write(
            &p,
            &serde_json::json!({
                "quay_host": quay.host(),
                "quay_namespace": "org",
                "dest_quay_user": "robot",
                "dest_quay_password": DEST_PW,
                "source_quay_host": source_host,
                "source_quay_user": "builder",
                "source_quay_password": SRC_PW,
                "pyxis_server": "https://pyxis.example.com/",
            })
            .to_string(),
        );
        p.to_str().unwrap().to_string()
    };
    let file = items(&f, &build, &img, "product/app:pubtools");
    let r = run(
        &["push", "--target", &pubtools(&build.host()), &file],
        &[("FERRY_LOG", "info")],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // The keys for other services are logged once, at info level.
    assert_eq!(
        r.stderr
            .matches("keys ferry does not use: pyxis_server")
            .count(),
        1,
        "{}",
        r.stderr
    );
    assert!(holds(&quay, "org/product----app:pubtools", &img));
    // The inline passwords are warned about (by key, never by value).
    assert!(r.stderr.contains("dest_quay_password"), "{}", r.stderr);
    // source_quay_host naming another host: the build registry gets no credentials.
    let file = items(&f, &build, &img, "product/app:elsewhere");
    let r = run(
        &["push", "--target", &pubtools("quay.example.com"), &file],
        &[],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        skopeo::try_inspect_raw(&quay, "org/product----app:elsewhere")
            .status
            .code()
            != Some(0)
    );
    assert_eq!(
        skopeo::list_tags(&quay, "org/product----app"),
        vec!["pubtools".to_string()]
    );
}
