//! The CLI's command files stay small: each parses its arguments, calls the library and
//! hands the result to an output module. Orchestration belongs in the library crates.

use std::path::Path;

/// The most lines a file in `src/commands/` may have.
const MAX_LINES: usize = 80;

#[test]
fn command_files_stay_under_the_limit() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let mut checked = 0;
    let mut too_long = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        checked += 1;
        if lines > MAX_LINES {
            too_long.push(format!("{} ({lines} lines)", path.display()));
        }
    }
    assert!(
        checked > 10,
        "found only {checked} files in {}",
        dir.display()
    );
    assert!(
        too_long.is_empty(),
        "command files over {MAX_LINES} lines (move printing to src/output/, logic to the \
         library): {}",
        too_long.join(", ")
    );
}
