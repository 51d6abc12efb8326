//! Input from outside ferry, read and shown safely: local files read with a size bound,
//! a cheap nesting check before a YAML or JSON parser sees a text, and text from outside
//! (registry messages, item names, labels) escaped before it reaches a terminal.

use std::io::Read;
use std::path::Path;

/// The largest push-items file ferry reads (64 MiB).
pub const MAX_ITEMS_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// The largest settings or auth file ferry reads (1 MiB).
pub const MAX_SETTINGS_FILE_SIZE: u64 = 1024 * 1024;

/// The deepest bracket nesting [`check_nesting`] lets through: well above what the YAML and
/// JSON parsers accept (128), so it only cuts short a text they would refuse anyway.
pub const MAX_TEXT_NESTING: usize = 1000;

/// Reads at most `limit` bytes of the file at `path`; a longer file (or an endless one, such
/// as `/dev/zero`) is an [`std::io::ErrorKind::InvalidData`] error that gives the limit.
/// The caller names the file.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the limit of {}", human_size(limit)),
        ));
    }
    Ok(bytes)
}

/// [`read_bounded`] for a UTF-8 text: a leading byte order mark is dropped.
pub fn read_bounded_text(path: &Path, limit: u64) -> std::io::Result<String> {
    let bytes = read_bounded(path, limit)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        )
    })?;
    Ok(strip_bom(&text).to_string())
}

/// `text` without a leading UTF-8 byte order mark.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// Refuses a YAML or JSON text whose brackets (`[`, `{`) nest deeper than `max`, counted in
/// one pass without parsing: a parser would spend time quadratic in that depth before its
/// own recursion limit refuses the text. Brackets inside strings count too, so `max` must
/// stay far above any real document's depth (see [`MAX_TEXT_NESTING`]).
pub fn check_nesting(text: &str, max: usize) -> Result<(), String> {
    let mut depth = 0usize;
    for (line, content) in text.lines().enumerate() {
        for b in content.bytes() {
            match b {
                b'[' | b'{' => {
                    depth += 1;
                    if depth > max {
                        return Err(format!(
                            "line {}: brackets nested deeper than {max}",
                            line + 1
                        ));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

/// `text` with its control characters (escape, carriage return, backspace, C1 controls,
/// bidirectional overrides...) written as visible escapes (`\u{1b}`), so that text from
/// outside cannot move the cursor, recolour or rewrite a terminal. Newlines and tabs are
/// kept; everything else is unchanged.
pub fn sanitize_for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_read_refuses_an_endless_file() {
        let e = read_bounded(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("limit of 1024 bytes"), "{e}");
        let e = read_bounded(Path::new("/dev/zero"), MAX_SETTINGS_FILE_SIZE).unwrap_err();
        assert!(e.to_string().contains("limit of 1 MiB"), "{e}");
    }

    #[test]
    fn bounded_read_keeps_a_file_at_the_limit_and_drops_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "\u{feff}abc").unwrap();
        assert_eq!(read_bounded(&path, 6).unwrap().len(), 6);
        assert!(read_bounded(&path, 5).is_err());
        assert_eq!(read_bounded_text(&path, 6).unwrap(), "abc");
    }

    #[test]
    fn nesting_is_counted_without_parsing() {
        assert!(check_nesting("a: [1, {b: [2]}]\nc: d\n", 3).is_ok());
        let e = check_nesting("a: [1, {b: [2]}]\n", 2).unwrap_err();
        assert!(e.contains("line 1") && e.contains("deeper than 2"), "{e}");
        let deep = "[".repeat(MAX_TEXT_NESTING + 1);
        assert!(check_nesting(&deep, MAX_TEXT_NESTING).is_err());
    }

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(sanitize_for_terminal("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            sanitize_for_terminal("\x1b[31mred\r\u{202e}"),
            "\\u{1b}[31mred\\u{d}\\u{202e}"
        );
    }
}
