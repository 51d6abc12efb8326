//! `ferry login` and `ferry logout`: what they did, on stderr.

use std::path::Path;

/// After a login, unless `quiet`.
pub fn logged_in(quiet: bool, host: &str, file: &Path) {
    if !quiet {
        eprintln!(
            "Login succeeded: {host} (credentials in {})",
            file.display()
        );
    }
}

/// After a logout, unless `quiet`.
pub fn logged_out(quiet: bool, host: &str, file: &Path) {
    if !quiet {
        eprintln!(
            "Removed login credentials for {host} from {}",
            file.display()
        );
    }
}
