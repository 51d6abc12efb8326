//! Content digests (`sha256:...`, `sha512:...`), parsed, computed and verified.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

use crate::ImageError;

/// A digest algorithm ferry can compute and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, the algorithm of nearly every registry.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in a digest string.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the hex-encoded value.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A validated content digest such as `sha256:e3b0c442...`.
///
/// Ordering and equality are over the textual form, so digests sort deterministically.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    text: String,
    algorithm: Algorithm,
}

impl Digest {
    /// Parses and validates `ALGORITHM:HEX` (lowercase hex of the algorithm's length).
    pub fn parse(input: &str) -> Result<Digest, ImageError> {
        let err = |reason: &str| ImageError::InvalidDigest {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let (alg, hex) = input
            .split_once(':')
            .ok_or_else(|| err("expected ALGORITHM:HEX, such as sha256:<64 hex digits>"))?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            "" => return Err(err("missing algorithm")),
            other => return Err(err(&format!("unsupported algorithm {other:?}"))),
        };
        if hex.len() != algorithm.hex_len() {
            return Err(err(&format!(
                "{} needs {} hex digits, found {}",
                alg,
                algorithm.hex_len(),
                hex.len()
            )));
        }
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(err("the value must be lowercase hex digits"));
        }
        Ok(Digest {
            text: input.to_string(),
            algorithm,
        })
    }

    /// The SHA-256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Digest {
        Digest::compute(Algorithm::Sha256, bytes)
    }

    /// The digest of `bytes` with `algorithm`.
    pub fn compute(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let mut v = DigestVerifier::new(algorithm);
        v.update(bytes);
        v.finish()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex-encoded value, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.text[self.algorithm.name().len() + 1..]
    }

    /// The whole digest, `ALGORITHM:HEX`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Checks that `bytes` have this digest.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), ImageError> {
        let actual = Digest::compute(self.algorithm, bytes);
        if &actual == self {
            Ok(())
        } else {
            Err(ImageError::DigestMismatch {
                expected: self.text.clone(),
                actual: actual.text,
            })
        }
    }

    /// A streaming verifier for content that should have this digest.
    pub fn verifier(&self) -> DigestVerifier {
        DigestVerifier::new(self.algorithm)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.text)
    }
}

impl FromStr for Digest {
    type Err = ImageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Computes a digest incrementally while content streams through, in one pass.
///
/// The `sha2` crate picks the CPU's SHA extensions at run time.
#[derive(Clone)]
pub struct DigestVerifier {
    state: State,
    bytes: u64,
}

#[derive(Clone)]
enum State {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl DigestVerifier {
    /// A verifier for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        let state = match algorithm {
            Algorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
        };
        DigestVerifier { state, bytes: 0 }
    }

    /// Feeds more content.
    pub fn update(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        match &mut self.state {
            State::Sha256(h) => h.update(chunk),
            State::Sha512(h) => h.update(chunk),
        }
    }

    /// How many bytes were fed.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    /// Whether nothing was fed yet.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self.state {
            State::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            State::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest {
            text: format!("{}:{}", algorithm.name(), hex),
            algorithm,
        }
    }

    /// Finishes and checks the result against `expected`.
    pub fn verify(self, expected: &Digest) -> Result<(), ImageError> {
        let actual = self.finish();
        if &actual == expected {
            Ok(())
        } else {
            Err(ImageError::DigestMismatch {
                expected: expected.to_string(),
                actual: actual.to_string(),
            })
        }
    }
}

impl fmt::Debug for DigestVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DigestVerifier({} bytes)", self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn computes_and_parses() {
        assert_eq!(Digest::sha256(b"").as_str(), EMPTY);
        let d = Digest::parse(EMPTY).unwrap();
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert_eq!(d.hex().len(), 64);
        d.verify(b"").unwrap();
        assert!(matches!(
            d.verify(b"x"),
            Err(ImageError::DigestMismatch { .. })
        ));
    }

    #[test]
    fn sha512() {
        let d = Digest::compute(Algorithm::Sha512, b"abc");
        assert!(d.as_str().starts_with("sha512:ddaf35a1"));
        assert_eq!(Digest::parse(d.as_str()).unwrap(), d);
    }

    #[test]
    fn refuses_bad_digests() {
        for bad in [
            "",
            "sha256",
            "sha256:",
            ":abc",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn streaming_matches_one_shot() {
        let data = vec![7u8; 100_000];
        let mut v = DigestVerifier::new(Algorithm::Sha256);
        for c in data.chunks(999) {
            v.update(c);
        }
        assert_eq!(v.len(), 100_000);
        assert_eq!(v.finish(), Digest::sha256(&data));
    }
}
