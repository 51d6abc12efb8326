//! A tiny command-line parser: `--key value`, `--key=value`, boolean `--flag`, positionals.

/// Parsed arguments of one subcommand.
#[derive(Debug, Default)]
pub struct Args {
    opts: Vec<(String, String)>,
    flags: Vec<String>,
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `argv` (without the program and subcommand names). `options` take a value,
    /// `flags` do not; anything else starting with `--` is an error.
    pub fn parse(argv: &[String], options: &[&str], flags: &[&str]) -> Result<Args, String> {
        let mut out = Args::default();
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            if arg == "--" {
                out.positional.extend(it.by_ref().cloned());
                break;
            }
            let Some(body) = arg.strip_prefix("--") else {
                out.positional.push(arg.clone());
                continue;
            };
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            if options.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| format!("--{name} needs a value"))?,
                };
                out.opts.push((name.to_string(), value));
            } else if flags.contains(&name) {
                if inline.is_some() {
                    return Err(format!("--{name} takes no value"));
                }
                out.flags.push(name.to_string());
            } else {
                return Err(format!("unknown option --{name}"));
            }
        }
        Ok(out)
    }

    /// The last value given for `--name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.opts
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `--name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.opts
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value of `--name`, or an error saying it is required.
    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required"))
    }

    /// True when the boolean `--name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    /// `--name` parsed as a number, or `default` when absent.
    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => parse_number(v).ok_or_else(|| format!("--{name}: not a number: {v}")),
        }
    }
}

/// Parses a number, accepting `_` separators and the suffixes `K`, `M`, `G` (binary, for
/// sizes: `4M` = 4194304) when the target type can hold the result.
pub fn parse_number<T: std::str::FromStr>(s: &str) -> Option<T> {
    let s = s.trim().replace('_', "");
    let (digits, mult): (&str, u64) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (&s, 1),
    };
    if mult == 1 {
        return digits.parse().ok();
    }
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(mult)?.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_options_flags_and_positionals() {
        let a = Args::parse(
            &v(&["--name", "a", "x", "--name=b", "--single", "--", "--y"]),
            &["name"],
            &["single"],
        )
        .unwrap();
        assert_eq!(a.all("name"), vec!["a", "b"]);
        assert_eq!(a.get("name"), Some("b"));
        assert!(a.has("single"));
        assert_eq!(a.positional, v(&["x", "--y"]));
        assert!(Args::parse(&v(&["--nope"]), &[], &[]).is_err());
        assert!(Args::parse(&v(&["--name"]), &["name"], &[]).is_err());
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_number::<usize>("4M"), Some(4 << 20));
        assert_eq!(parse_number::<usize>("512k"), Some(512 << 10));
        assert_eq!(parse_number::<usize>("1_000"), Some(1000));
        assert_eq!(parse_number::<u8>("1K"), None);
    }
}
