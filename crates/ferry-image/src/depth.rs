//! How deep indexes may nest. An index of indexes is legal; a long chain of indexes is
//! not an image anyone builds, and walking one without a bound exhausts the stack or the
//! registry's patience. Every walk over manifests counts levels with [`check_depth`].

use crate::{Digest, ImageError};

/// The deepest level a manifest may sit at: the top manifest is level 1, the children
/// of an index at level `n` are at level `n + 1`.
pub const MAX_MANIFEST_DEPTH: usize = 8;

/// Checks that the manifest `digest`, found at `level` (the top is 1), is not nested
/// deeper than [`MAX_MANIFEST_DEPTH`].
pub fn check_depth(level: usize, digest: &Digest) -> Result<(), ImageError> {
    if level > MAX_MANIFEST_DEPTH {
        return Err(ImageError::TooDeep {
            digest: digest.to_string(),
            max: MAX_MANIFEST_DEPTH,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_bounded() {
        let d = Digest::sha256(b"x");
        assert!(check_depth(1, &d).is_ok());
        assert!(check_depth(MAX_MANIFEST_DEPTH, &d).is_ok());
        let e = check_depth(MAX_MANIFEST_DEPTH + 1, &d).unwrap_err();
        assert!(
            e.to_string().contains("nested deeper than 8") && e.to_string().contains(d.as_str()),
            "{e}"
        );
    }
}
