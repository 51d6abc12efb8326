//! The command-line surface: each command takes only the flags it uses (any other is a usage
//! error, exit 2), every `--help` has examples, and the completion scripts and manual pages
//! cover every command. No registry is needed: nothing here gets past argument parsing.

mod common;

use common::Ferry;

/// Every command, with arguments it accepts, and the registry/transfer flags it takes.
const COMMANDS: &[(&str, &[&str], &[&str])] = &[
    ("copy", &["r.io/a:1", "r.io/b:1"], TWO),
    ("sync", &["r.io/a", "r.io/b"], TWO),
    ("inspect", &["r.io/a:1"], ONE),
    ("digest", &["r.io/a:1"], ONE),
    ("tags", &["r.io/a"], ONE),
    ("catalog", &["r.io"], ONE),
    ("check", &["r.io/a:1"], ONE),
    ("delete", &["r.io/a:1"], ONE),
    ("login", &["r.io", "-u", "me"], LOGIN),
    ("logout", &["r.io"], &["--authfile"]),
    ("merge", &["r.io/a:1", "r.io/b:1"], TWO),
    ("tag", &["r.io/a:1", "r.io/b:1"], TWO),
    ("untag", &["r.io/a:1"], ONE),
    ("items", &["file:items.yaml"], ONE),
    ("push", &["--target", "t.yaml", "items.yaml"], PUSH),
    ("report", &["merge", "r.json"], &[]),
    ("sign", &["--key", "k.asc", "r.io/a:1"], ONE),
    ("verify", &["--key", "k.pub", "r.io/a:1"], ONE),
    ("completion", &["bash"], &[]),
    ("man", &[], &[]),
];

const ONE: &[&str] = &[
    "--authfile",
    "--cert-dir",
    "--tls-verify",
    "--timeout",
    "--creds",
];
const LOGIN: &[&str] = &[
    "--authfile",
    "--cert-dir",
    "--tls-verify",
    "--timeout",
    "--creds",
];
const TWO: &[&str] = &[
    "--authfile",
    "--cert-dir",
    "--tls-verify",
    "--src-tls-verify",
    "--dest-tls-verify",
    "--timeout",
    "--creds",
    "--src-creds",
    "--dest-creds",
    "--jobs",
    "--jobs-per-registry",
];
const PUSH: &[&str] = &[
    "--authfile",
    "--cert-dir",
    "--tls-verify",
    "--timeout",
    "--creds",
    "--src-creds",
    "--dest-creds",
    "--jobs-per-registry",
];

/// Every per-command flag, with a well-formed value.
const FLAGS: &[(&str, &str)] = &[
    ("--authfile", "auth.json"),
    ("--cert-dir", "certs"),
    ("--tls-verify", "false"),
    ("--src-tls-verify", "false"),
    ("--dest-tls-verify", "false"),
    ("--timeout", "30s"),
    ("--creds", "u:p"),
    ("--src-creds", "u:p"),
    ("--dest-creds", "u:p"),
    ("--jobs", "2"),
    ("--jobs-per-registry", "2"),
];

fn names() -> Vec<&'static str> {
    COMMANDS.iter().map(|(n, _, _)| *n).collect()
}

#[test]
fn the_table_lists_every_command() {
    let f = Ferry::new(&[]);
    let help = f.run_bare(&["--help"]);
    assert_eq!(help.code, 0, "{}", help.stderr);
    let section = help
        .stdout
        .split("Commands:")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap_or_else(|| panic!("no command list in:\n{}", help.stdout));
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .collect();
    assert_eq!(listed, names(), "ferry --help lists other commands");
}

#[test]
fn a_flag_a_command_does_not_use_is_refused() {
    let f = Ferry::new(&[]);
    for (cmd, args, takes) in COMMANDS {
        for (flag, value) in FLAGS.iter().filter(|(fl, _)| !takes.contains(fl)) {
            let mut argv = vec![*cmd, *flag, *value];
            argv.extend_from_slice(args);
            let r = f.run_bare(&argv);
            assert_eq!(r.code, 2, "ferry {argv:?} was not refused:\n{}", r.stderr);
            assert!(
                r.stderr.contains(&format!("unexpected argument '{flag}'")),
                "ferry {argv:?}: unclear message:\n{}",
                r.stderr
            );
            assert!(
                r.stderr
                    .contains("is not an option of this command; these take it:"),
                "ferry {argv:?}: no note on which commands take {flag}:\n{}",
                r.stderr
            );
            assert!(r.stdout.is_empty(), "ferry {argv:?} printed {}", r.stdout);
        }
    }
}

#[test]
fn the_old_global_position_is_refused_too() {
    // Before a command, a per-command flag is not an option of ferry itself.
    let f = Ferry::new(&[]);
    let r = f.run_bare(&["--creds", "u:p", "digest", "r.io/a:1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("'--creds'"), "{}", r.stderr);
}

#[test]
fn help_shows_exactly_the_flags_a_command_takes() {
    let f = Ferry::new(&[]);
    for (cmd, _, takes) in COMMANDS {
        let r = f.run_bare(&[cmd, "--help"]);
        assert_eq!(r.code, 0, "ferry {cmd} --help: {}", r.stderr);
        for (flag, _) in FLAGS {
            // `--creds` is a prefix of nothing else; match whole flags.
            let shown = r.stdout.contains(&format!("{flag} <"))
                || r.stdout.contains(&format!("{flag}[="))
                || r.stdout.contains(&format!("{flag}\n"));
            assert_eq!(
                shown,
                takes.contains(flag),
                "ferry {cmd} --help: {flag} shown={shown}:\n{}",
                r.stdout
            );
        }
        for global in ["--output", "--quiet", "--verbose"] {
            assert!(
                r.stdout.contains(global),
                "ferry {cmd} --help lacks {global}"
            );
        }
    }
}

#[test]
fn every_help_has_examples() {
    let f = Ferry::new(&[]);
    for cmd in names() {
        let r = f.run_bare(&[cmd, "--help"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let examples = r
            .stdout
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("ferry {cmd} --help has no Examples:\n{}", r.stdout));
        let lines = examples
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .filter(|l| l.contains(&format!("ferry {cmd}")))
            .count();
        assert!(
            (2..=4).contains(&lines),
            "ferry {cmd} --help: {lines} example(s), want 2 to 4:\n{examples}"
        );
    }
}

#[test]
fn completion_scripts_name_every_command() {
    let f = Ferry::new(&[]);
    for shell in ["bash", "zsh", "fish"] {
        let r = f.run_bare(&["completion", shell]);
        assert_eq!(r.code, 0, "completion {shell}: {}", r.stderr);
        assert!(!r.stdout.trim().is_empty(), "completion {shell}: empty");
        for cmd in names() {
            assert!(
                r.stdout.contains(cmd),
                "completion {shell} does not name {cmd}"
            );
        }
    }
    // bash completes each command's own flags: copy's --src-creds, not digest's.
    let bash = f.run_bare(&["completion", "bash"]).stdout;
    assert!(
        bash.contains("--src-creds"),
        "bash completion lacks --src-creds"
    );
    let r = f.run_bare(&["completion", "tcsh"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn man_pages_cover_every_command() {
    let f = Ferry::new(&[]);
    let r = f.run_bare(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(".ie") || r.stdout.contains(".TH"),
        "not roff:\n{}",
        r.stdout
    );
    for cmd in names() {
        assert!(r.stdout.contains(cmd), "ferry(1) does not mention {cmd}");
        let page = f.run_bare(&["man", cmd]);
        assert_eq!(page.code, 0, "man {cmd}: {}", page.stderr);
        assert!(page.stdout.contains(".TH"), "man {cmd}: not roff");
        assert!(
            page.stdout.contains(&format!("ferry\\-{cmd}")),
            "man {cmd}: not titled ferry-{cmd}:\n{}",
            page.stdout
        );
        assert!(page.stdout.contains("Examples"), "man {cmd}: no examples");
    }
    let copy = f.run_bare(&["man", "copy"]).stdout;
    assert!(copy.contains("platform"), "ferry-copy(1) lacks --platform");
    let bad = f.run_bare(&["man", "nosuch"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("man nosuch: no such command"),
        "{}",
        bad.stderr
    );
    assert!(bad.stdout.is_empty());
}
