//! A trained tokenizer as one self-describing safetensors file: the weights under our own
//! module paths, and in the header's metadata the model's kind, its full config (so the file
//! alone rebuilds the network) and a fingerprint of its weights (so token files can name the
//! model that made them).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{backend::Backend, Tensor};
use burn_store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};
use simvq_audio::{AudioCodec, AudioCodecConfig};
use simvq_image::{ImageTokenizer, ImageTokenizerConfig};

use crate::error::{CliError, Result};

/// The `format` metadata value of a simvq model file.
pub const MODEL_FORMAT: &str = "simvq-model";
/// The version of the model file layout written here.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// Which tokenizer a model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Images → a grid of tokens.
    Image,
    /// 24 kHz mono audio → a sequence of tokens.
    Audio,
}

/// A tokenizer's architecture.
#[derive(Debug, Clone)]
pub enum ModelConfig {
    /// The image tokenizer.
    Image(ImageTokenizerConfig),
    /// The audio codec.
    Audio(AudioCodecConfig),
}

impl ModelConfig {
    /// Which tokenizer this is.
    pub fn kind(&self) -> ModelKind {
        match self {
            Self::Image(_) => ModelKind::Image,
            Self::Audio(_) => ModelKind::Audio,
        }
    }

    /// Number of codes K.
    pub fn codebook_size(&self) -> usize {
        match self {
            Self::Image(c) => c.quantizer.codebook_size,
            Self::Audio(c) => c.quantizer.codebook_size,
        }
    }

    fn to_json(&self) -> String {
        match self {
            Self::Image(c) => serde_json::to_string(c),
            Self::Audio(c) => serde_json::to_string(c),
        }
        .expect("configs serialise")
    }

    fn from_json(kind: ModelKind, json: &str) -> serde_json::Result<Self> {
        Ok(match kind {
            ModelKind::Image => Self::Image(serde_json::from_str(json)?),
            ModelKind::Audio => Self::Audio(serde_json::from_str(json)?),
        })
    }

    /// Builds the network with random weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<Tokenizer<B>> {
        Ok(match self {
            Self::Image(c) => Tokenizer::Image(c.init(device)?),
            Self::Audio(c) => Tokenizer::Audio(c.init(device)?),
        })
    }
}

/// A tokenizer of either kind.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // a handful per process: boxing would buy nothing
pub enum Tokenizer<B: Backend> {
    /// The image tokenizer.
    Image(ImageTokenizer<B>),
    /// The audio codec.
    Audio(AudioCodec<B>),
}

/// What a model file says about itself.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// Architecture.
    pub config: ModelConfig,
    /// 16 hex digits identifying the weights (and config).
    pub fingerprint: String,
    /// Where the weights came from (a run checkpoint, an imported `.ckpt`).
    pub source: String,
}

/// Folds every float parameter's bytes, in visiting order, into a 64-bit FNV-1a hash.
struct Fingerprint(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Fingerprint {
    fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }
}

impl<B: Backend> ModuleVisitor<B> for Fingerprint {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let values: Vec<f32> = param
            .val()
            .into_data()
            .convert::<f32>()
            .to_vec()
            .expect("f32 data");
        for v in values {
            self.add(&v.to_le_bytes());
        }
    }
}

/// The fingerprint of a tokenizer's config and weights.
pub fn fingerprint<B: Backend>(config: &ModelConfig, tokenizer: &Tokenizer<B>) -> String {
    let mut hash = Fingerprint(FNV_OFFSET);
    hash.add(config.to_json().as_bytes());
    match tokenizer {
        Tokenizer::Image(m) => m.visit(&mut hash),
        Tokenizer::Audio(m) => m.visit(&mut hash),
    }
    format!("{:016x}", hash.0)
}

/// Writes `tokenizer` to `path` (via a temporary file renamed into place) and returns what the
/// file says about itself.
pub fn save_model<B: Backend>(
    tokenizer: &Tokenizer<B>,
    config: &ModelConfig,
    source: &str,
    path: &Path,
) -> Result<ModelInfo> {
    let info = ModelInfo {
        config: config.clone(),
        fingerprint: fingerprint(config, tokenizer),
        source: source.to_string(),
    };
    let partial = path.with_extension("safetensors.partial");
    let kind = serde_json::to_string(&config.kind()).expect("kind serialises");
    let mut store = SafetensorsStore::from_file(&partial)
        .metadata("simvq.format", MODEL_FORMAT)
        .metadata("simvq.version", MODEL_FORMAT_VERSION.to_string())
        .metadata("simvq.kind", kind.trim_matches('"'))
        .metadata("simvq.config", config.to_json())
        .metadata("simvq.fingerprint", &info.fingerprint)
        .metadata("simvq.source", source);
    let saved = match tokenizer {
        Tokenizer::Image(m) => m.save_into(&mut store),
        Tokenizer::Audio(m) => m.save_into(&mut store),
    };
    saved.map_err(|e| CliError::ModelFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::rename(&partial, path).map_err(|source| CliError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(info)
}

/// Reads the metadata of a model file without loading its weights.
pub fn read_model_info(path: &Path) -> Result<ModelInfo> {
    let fail = |message: String| CliError::ModelFile {
        path: path.to_path_buf(),
        message,
    };
    let metadata = safetensors_metadata(path).map_err(fail)?;
    let get = |key: &str| {
        metadata.get(key).ok_or_else(|| {
            fail(format!(
                "no `{key}` in its metadata: not a simvq model file (write one with \
                 `simvq export` or `simvq import`)"
            ))
        })
    };
    if get("simvq.format")? != MODEL_FORMAT {
        return Err(fail("not a simvq model file".into()));
    }
    let version: u32 = get("simvq.version")?.parse().unwrap_or(u32::MAX);
    if version > MODEL_FORMAT_VERSION {
        return Err(fail(format!(
            "model file version {version} is newer than this simvq reads \
             ({MODEL_FORMAT_VERSION}); upgrade simvq"
        )));
    }
    let kind: ModelKind = serde_json::from_str(&format!("\"{}\"", get("simvq.kind")?))
        .map_err(|e| fail(format!("unknown model kind: {e}")))?;
    let config = ModelConfig::from_json(kind, get("simvq.config")?)
        .map_err(|e| fail(format!("unreadable config: {e}")))?;
    Ok(ModelInfo {
        config,
        fingerprint: get("simvq.fingerprint")?.clone(),
        source: metadata.get("simvq.source").cloned().unwrap_or_default(),
    })
}

/// Loads a model file: rebuilds the network from its config and loads every tensor, which must
/// all be present with their shapes; the weights must hash to the recorded fingerprint.
pub fn load_model<B: Backend>(
    path: &Path,
    device: &B::Device,
) -> Result<(ModelInfo, Tokenizer<B>)> {
    let info = read_model_info(path)?;
    let mut tokenizer = info.config.init::<B>(device)?;
    let fail = |message: String| CliError::ModelFile {
        path: path.to_path_buf(),
        message,
    };
    let mut store = SafetensorsStore::from_file(path).validate(true);
    let result = match &mut tokenizer {
        Tokenizer::Image(m) => m.load_from(&mut store),
        Tokenizer::Audio(m) => m.load_from(&mut store),
    }
    .map_err(|e| fail(e.to_string()))?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        return Err(fail(format!(
            "{} tensors missing, {} errors; the file is damaged or was edited",
            result.missing.len(),
            result.errors.len()
        )));
    }
    let actual = fingerprint(&info.config, &tokenizer);
    if actual != info.fingerprint {
        return Err(fail(format!(
            "its weights hash to {actual}, the file records {}: the file is damaged or was edited",
            info.fingerprint
        )));
    }
    Ok((info, tokenizer))
}

/// The `__metadata__` map of a safetensors file's JSON header.
fn safetensors_metadata(path: &Path) -> std::result::Result<HashMap<String, String>, String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .map_err(|_| "too short for a safetensors file".to_string())?;
    let len = u64::from_le_bytes(len);
    if len > 100_000_000 {
        return Err("not a safetensors file (implausible header length)".into());
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header)
        .map_err(|_| "truncated safetensors header".to_string())?;
    #[derive(Deserialize)]
    struct Header {
        #[serde(rename = "__metadata__", default)]
        metadata: HashMap<String, String>,
    }
    let header: Header = serde_json::from_slice(&header)
        .map_err(|e| format!("not a safetensors file (header: {e})"))?;
    Ok(header.metadata)
}
