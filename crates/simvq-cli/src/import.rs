//! Importing the reference's released PyTorch Lightning checkpoints (`epoch=…-step=….ckpt`).
//!
//! Every tensor of our model is looked up under the name the reference gives it (see
//! `../shared/reference/simvq-spec.md` §5): EMA weights by default, stored as
//! `model_ema.<name without dots>`, and the frozen codebook `C` always from
//! `quantize.embedding.weight` (the EMA tracks only trainable parameters). A tensor that is
//! missing or has another shape is an error naming it; nothing is left at its random init.
//! Training-only keys (discriminators, LPIPS, loss buffers) are counted and ignored.

use std::collections::HashMap;
use std::path::Path;

use burn::backend::Flex;
use burn::module::ParamId;
use burn::tensor::{backend::Backend, Tensor, TensorData};
use burn_store::pytorch::PytorchReader;
use burn_store::{ModuleSnapshot, TensorSnapshot};

use crate::error::{CliError, Result};
use crate::model_file::{ModelConfig, ModelKind, Tokenizer};

/// The reference's name of the frozen codebook `C`.
const FROZEN_CODEBOOK: &str = "quantize.embedding.weight";

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Tensors loaded into the model.
    pub loaded: usize,
    /// Whether the EMA weights were taken.
    pub ema: bool,
    /// Checkpoint tensors not used (training-only state, the other weight set).
    pub ignored: usize,
}

/// Reads the `state_dict` of a Lightning checkpoint (or a bare state dict).
pub fn read_state_dict(path: &Path) -> Result<HashMap<String, TensorSnapshot>> {
    let fail = |message: String| CliError::ModelFile {
        path: path.to_path_buf(),
        message,
    };
    if !path.is_file() {
        return Err(fail("not found".into()));
    }
    let reader = PytorchReader::with_top_level_key(path, "state_dict")
        .or_else(|_| PytorchReader::new(path))
        .map_err(|e| fail(format!("not a readable PyTorch checkpoint: {e}")))?;
    Ok(reader.into_tensors())
}

/// The number of codes K of a reference checkpoint (rows of its frozen codebook).
pub fn checkpoint_codebook_size(
    state: &HashMap<String, TensorSnapshot>,
    path: &Path,
) -> Result<usize> {
    state
        .get(FROZEN_CODEBOOK)
        .and_then(|t| t.shape.first().copied())
        .ok_or_else(|| CliError::ModelFile {
            path: path.to_path_buf(),
            message: format!("no {FROZEN_CODEBOOK}: not a SimVQ checkpoint"),
        })
}

/// The reference's name for one of our image tokenizer's tensors.
fn image_reference_name(path: &str) -> String {
    if path == "quantizer.frozen_codebook" {
        return FROZEN_CODEBOOK.into();
    }
    let path = match path.strip_prefix("quantizer.projection.") {
        Some(rest) => format!("quantize.embedding_proj.{rest}"),
        None => path.to_string(),
    };
    // burn's GroupNorm calls its affine parameters gamma and beta.
    if let Some(stem) = path.strip_suffix(".gamma") {
        format!("{stem}.weight")
    } else if let Some(stem) = path.strip_suffix(".beta") {
        format!("{stem}.bias")
    } else {
        path
    }
}

/// The checkpoint key holding a tensor the reference calls `name`.
fn checkpoint_key(name: &str, ema: bool) -> String {
    if ema && name != FROZEN_CODEBOOK {
        format!("model_ema.{}", name.replace('.', ""))
    } else {
        name.to_string()
    }
}

/// `[out, in]` (PyTorch `Linear`) → `[in, out]` (burn `Linear`).
fn transpose(data: TensorData) -> TensorData {
    Tensor::<Flex, 2>::from_data(data, &Default::default())
        .transpose()
        .into_data()
}

/// Loads a reference checkpoint into a new tokenizer of `config`.
pub fn import_checkpoint<B: Backend>(
    path: &Path,
    config: &ModelConfig,
    ema: bool,
    device: &B::Device,
) -> Result<(Tokenizer<B>, ImportReport)> {
    let fail = |message: String| CliError::ModelFile {
        path: path.to_path_buf(),
        message,
    };
    let state = read_state_dict(path)?;
    let mut tokenizer = config.init::<B>(device)?;
    let targets = match &tokenizer {
        Tokenizer::Image(m) => m.collect(None, None, false),
        Tokenizer::Audio(m) => m.collect(None, None, false),
    };
    let mut snapshots = Vec::with_capacity(targets.len());
    let (mut missing, mut mismatched) = (Vec::new(), Vec::new());
    for target in &targets {
        let ours = target.full_path();
        let name = match config.kind() {
            ModelKind::Image => image_reference_name(&ours),
            ModelKind::Audio => {
                return Err(fail(
                    "importing audio checkpoints is not supported yet".into(),
                ))
            }
        };
        let key = checkpoint_key(&name, ema);
        let Some(source) = state.get(&key) else {
            missing.push(key);
            continue;
        };
        let mut data = source
            .to_data()
            .map_err(|e| fail(format!("{key}: {e}")))?
            .convert::<f32>();
        if target.container_type().ends_with("Linear") && ours.ends_with(".weight") {
            data = transpose(data);
        }
        if data.shape != target.shape {
            mismatched.push(format!(
                "{key}: checkpoint {:?}, model {:?} ({ours})",
                &data.shape[..],
                &target.shape[..]
            ));
            continue;
        }
        snapshots.push(TensorSnapshot::from_data(
            data,
            target.path_stack.clone().unwrap_or_default(),
            target.container_stack.clone().unwrap_or_default(),
            target.tensor_id.unwrap_or_else(ParamId::new),
        ));
    }
    if !missing.is_empty() || !mismatched.is_empty() {
        return Err(fail(format!(
            "does not fit this {:?} model (K = {}): {} tensors missing ({}), {} of another shape \
             ({}). Is --kind right, and does --config describe the checkpoint's architecture?",
            config.kind(),
            config.codebook_size(),
            missing.len(),
            missing
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            mismatched.len(),
            mismatched
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
        )));
    }
    let loaded = snapshots.len();
    let result = match &mut tokenizer {
        Tokenizer::Image(m) => m.apply(snapshots, None, None, false),
        Tokenizer::Audio(m) => m.apply(snapshots, None, None, false),
    };
    if !result.errors.is_empty() || !result.missing.is_empty() || result.applied.len() != loaded {
        return Err(fail(format!(
            "{} of {loaded} tensors applied ({} errors, {} missing)",
            result.applied.len(),
            result.errors.len(),
            result.missing.len()
        )));
    }
    Ok((
        tokenizer,
        ImportReport {
            loaded,
            ema,
            ignored: state.len() - loaded,
        },
    ))
}
