//! The token file (`.svqt`): what `simvq encode` writes and `simvq decode` reads. Small (tokens
//! bit-packed at ⌈log₂ K⌉ bits), versioned, and tied to the model that made it. The layout is
//! documented in `docs/token-format.md`.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{CliError, Result};
use crate::model_file::ModelKind;

/// The first eight bytes of every token file.
pub const TOKEN_MAGIC: &[u8; 8] = b"SIMVQTOK";
/// The version of the layout written here.
pub const TOKEN_FORMAT_VERSION: u16 = 1;
/// File extension.
pub const TOKEN_EXTENSION: &str = "svqt";

/// What the tokens were made from, to restore it on decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Source {
    /// An image of this size in pixels (after the encoder's resize and crop).
    Image {
        /// Width.
        width: usize,
        /// Height.
        height: usize,
    },
    /// Audio: the number of samples before padding to whole tokens, and the rate.
    Audio {
        /// Samples.
        samples: usize,
        /// Sample rate in Hz.
        sample_rate: u32,
    },
}

/// The JSON header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenHeader {
    /// Image or audio.
    pub kind: ModelKind,
    /// Number of codes K of the model.
    pub codebook_size: usize,
    /// Token grid: `[height, width]` for images, `[frames]` for audio.
    pub shape: Vec<usize>,
    /// Fingerprint of the model that encoded (see `simvq info`).
    pub model: String,
    /// Bits per token in the payload.
    pub bits: u32,
    /// What was encoded.
    pub source: Source,
}

/// Tokens and what they belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenFile {
    /// The header.
    pub header: TokenHeader,
    /// Row-major tokens, each `< codebook_size`.
    pub tokens: Vec<u32>,
}

/// Bits per token for `codebook_size` codes.
pub fn bits_per_token(codebook_size: usize) -> u32 {
    usize::BITS - (codebook_size.max(2) - 1).leading_zeros()
}

impl TokenFile {
    /// Tokens of a model with `codebook_size` codes and fingerprint `model`.
    pub fn new(
        kind: ModelKind,
        codebook_size: usize,
        model: &str,
        shape: Vec<usize>,
        source: Source,
        tokens: Vec<u32>,
    ) -> Self {
        Self {
            header: TokenHeader {
                kind,
                codebook_size,
                shape,
                model: model.to_string(),
                bits: bits_per_token(codebook_size),
                source,
            },
            tokens,
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("header serialises");
        let mut out = Vec::with_capacity(14 + header.len() + self.tokens.len() * 4);
        out.extend_from_slice(TOKEN_MAGIC);
        out.extend_from_slice(&TOKEN_FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend(pack(&self.tokens, self.header.bits));
        out
    }

    /// Parses and checks a token file's bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let fail = |message: String| CliError::TokenFile {
            path: path.to_path_buf(),
            message,
        };
        if bytes.len() < 14 || &bytes[..8] != TOKEN_MAGIC {
            return Err(fail("not a simvq token file (no SIMVQTOK magic)".into()));
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version > TOKEN_FORMAT_VERSION {
            return Err(fail(format!(
                "token format version {version} is newer than this simvq reads \
                 ({TOKEN_FORMAT_VERSION}); upgrade simvq"
            )));
        }
        let header_len = u32::from_le_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]) as usize;
        let payload_start = 14usize
            .checked_add(header_len)
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| fail("truncated header".into()))?;
        let header: TokenHeader = serde_json::from_slice(&bytes[14..payload_start])
            .map_err(|e| fail(format!("unreadable header: {e}")))?;
        if header.bits != bits_per_token(header.codebook_size) {
            return Err(fail(format!(
                "{} bits per token do not fit K = {}",
                header.bits, header.codebook_size
            )));
        }
        let count: usize = header.shape.iter().product();
        let needed = (count * header.bits as usize).div_ceil(8);
        let payload = &bytes[payload_start..];
        if payload.len() != needed {
            return Err(fail(format!(
                "{} payload bytes, {needed} expected for {count} tokens of {} bits: truncated \
                 or damaged",
                payload.len(),
                header.bits
            )));
        }
        let tokens = unpack(payload, count, header.bits);
        if let Some(bad) = tokens.iter().find(|&&t| t as usize >= header.codebook_size) {
            return Err(fail(format!(
                "token {bad} is out of range for K = {}: damaged",
                header.codebook_size
            )));
        }
        Ok(Self { header, tokens })
    }

    /// Writes the file (via a temporary file renamed into place).
    pub fn write(&self, path: &Path) -> Result<()> {
        let io = |source| CliError::Io {
            path: path.to_path_buf(),
            source,
        };
        let partial = path.with_extension("svqt.partial");
        let mut file = std::fs::File::create(&partial).map_err(io)?;
        file.write_all(&self.to_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&partial, path).map_err(io)
    }

    /// Reads and checks a token file.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| CliError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }
}

/// Tokens as a little-endian bit stream, `bits` per token, least significant bit first.
fn pack(tokens: &[u32], bits: u32) -> Vec<u8> {
    let mut out = vec![0u8; (tokens.len() * bits as usize).div_ceil(8)];
    let mut position = 0usize;
    for &token in tokens {
        for bit in 0..bits {
            if token >> bit & 1 == 1 {
                out[position / 8] |= 1 << (position % 8);
            }
            position += 1;
        }
    }
    out
}

/// The inverse of [`pack`].
fn unpack(bytes: &[u8], count: usize, bits: u32) -> Vec<u32> {
    let mut position = 0usize;
    (0..count)
        .map(|_| {
            let mut token = 0u32;
            for bit in 0..bits {
                if bytes[position / 8] >> (position % 8) & 1 == 1 {
                    token |= 1 << bit;
                }
                position += 1;
            }
            token
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_cover_every_code() {
        assert_eq!(bits_per_token(1_024), 10);
        assert_eq!(bits_per_token(1_000), 10);
        assert_eq!(bits_per_token(65_536), 16);
        assert_eq!(bits_per_token(262_144), 18);
        assert_eq!(bits_per_token(1), 1);
    }

    #[test]
    fn packing_round_trips_at_odd_widths() {
        let tokens: Vec<u32> = (0..37).map(|i| (i * 7_919) % 262_144).collect();
        for bits in [18, 13, 1 + 17] {
            let masked: Vec<u32> = tokens.iter().map(|t| t & ((1 << bits) - 1)).collect();
            assert_eq!(unpack(&pack(&masked, bits), masked.len(), bits), masked);
        }
    }
}
