//! Errors: which are usage errors (exit 2), and how a chain of causes is printed.

/// An error in what the user asked for (a malformed reference, a bad flag value, an invalid
/// settings file): exit code 2, nothing written.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Wraps a user-input error so it exits with 2.
pub fn usage(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(UsageError(e.to_string()))
}

/// One readable line: each cause once, outermost first.
pub fn format_chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        // Many errors print their source: what an outer message already said (a whole
        // cause, or the leading ": "-separated pieces of one) is said once.
        let said = |piece: &str| parts.iter().any(|p| p.contains(piece));
        let mut rest = text.as_str();
        while !rest.is_empty() && said(rest.split(": ").next().unwrap_or(rest)) {
            rest = rest.split_once(": ").map_or("", |(_, r)| r);
        }
        if rest.is_empty() {
            continue;
        }
        // An outer piece the cause says again in full ("blob D" above "reading blob D from
        // the source ...") adds nothing: the cause stands for both.
        if parts.last().is_some_and(|p| rest.contains(p.as_str())) {
            parts.pop();
        }
        parts.push(rest.to_string());
    }
    parts.join(": ")
}

/// A publish error: a usage error when it comes from what the user gave.
pub fn publish(e: ferry_publish::PublishError) -> anyhow::Error {
    if e.is_usage() {
        usage(e)
    } else {
        anyhow::Error::new(e)
    }
}

/// A copy error: a destination that names a digest is a usage error.
pub fn copy(e: ferry_copy::CopyError) -> anyhow::Error {
    if e.is_destination_digest() {
        usage(e)
    } else {
        anyhow::Error::new(e)
    }
}

/// Key and configuration errors are usage errors (exit 2), except a wrong passphrase.
pub fn sign_input(e: ferry_sign::SignError) -> anyhow::Error {
    use ferry_sign::SignError;
    match e {
        SignError::WrongPassphrase { .. } => anyhow::Error::new(e),
        SignError::Key { .. }
        | SignError::PassphraseNeeded { .. }
        | SignError::Config { .. }
        | SignError::Io { .. }
        | SignError::Invalid(_) => usage(e),
        other => anyhow::Error::new(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a message and an optional source.
    #[derive(Debug)]
    struct Msg(&'static str, Option<Box<Msg>>);
    impl std::fmt::Display for Msg {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Msg {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn each_cause_is_said_once() {
        let inner = Msg("too many redirects", None);
        let mid = Msg(
            "too many redirects: error following redirect",
            Some(Box::new(inner)),
        );
        let outer = anyhow::Error::new(mid).context("GET host/app manifest t: too many redirects");
        assert_eq!(
            format_chain(&outer),
            "GET host/app manifest t: too many redirects: error following redirect"
        );
        let inner = Msg("reading blob sha256:1 from the source h/app: reset", None);
        let outer = anyhow::Error::new(inner).context("blob sha256:1");
        let outer = outer.context("copying h/app:t to d/app:t");
        assert_eq!(
            format_chain(&outer),
            "copying h/app:t to d/app:t: reading blob sha256:1 from the source h/app: reset"
        );
        let plain = anyhow::Error::new(Msg("a", Some(Box::new(Msg("b", None)))));
        assert_eq!(format_chain(&plain), "a: b");
    }
}
