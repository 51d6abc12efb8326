//! Pushes the items of a push-items file as target settings say, like
//! `ferry push --target SETTINGS ITEMS`:
//! `cargo run -p ferry --example push_from_file -- SETTINGS ITEMS [--dry-run]`.
//!
//! Prints one line per destination and per item; exits 1 unless every item was pushed,
//! 2 on bad input.

use ferry::{PublishOptions, SourceUrl, TargetSettings, publish};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dry_run = args.iter().any(|a| a == "--dry-run");
    let files: Vec<&String> = args.iter().filter(|a| *a != "--dry-run").collect();
    let [settings, items] = files.as_slice() else {
        eprintln!("usage: push_from_file SETTINGS ITEMS [--dry-run]");
        std::process::exit(2);
    };
    let settings = match TargetSettings::load(settings.as_ref()) {
        Ok(s) => s,
        Err(e) => fail(2, &e),
    };
    let sources = match SourceUrl::parse(&format!("file:{items}")) {
        Ok(s) => vec![s],
        Err(e) => fail(2, &e),
    };
    let options = PublishOptions {
        dry_run,
        ..PublishOptions::default()
    };
    let report = match publish(&settings, &sources, &options).await {
        Ok(r) => r,
        Err(e) => fail(if e.is_usage() { 2 } else { 1 }, &e),
    };
    for d in &report.destinations {
        println!("{:?} {} {:?}", d.action, d.destination, d.error);
    }
    for i in &report.items {
        println!("{} {} {:?}", i.state, i.name, i.reason);
    }
    if !report.success() {
        std::process::exit(1);
    }
}

fn fail(code: i32, e: &dyn std::fmt::Display) -> ! {
    eprintln!("push_from_file: {e}");
    std::process::exit(code)
}
