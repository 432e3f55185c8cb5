//! Importing the reference's released PyTorch Lightning checkpoints (`epoch=…-step=….ckpt`),
//! image and audio.
//!
//! Every tensor of our model is looked up under the name the reference gives it (see
//! `../shared/reference/simvq-spec.md` §5): EMA weights by default, stored as
//! `model_ema.<name without dots>`, and the frozen codebook `C` always from
//! `quantize.embedding.weight` (the EMA tracks only trainable parameters). A tensor that is
//! missing or has another shape is an error naming it; nothing is left at its random init.
//! Training-only keys (discriminators, LPIPS, loss buffers) are counted and ignored; the image
//! PatchGAN can be imported on its own ([`import_discriminator`]). Weight-norm
//! convs keep `weight_g`/`weight_v` (ours are weight-normed too), PyTorch `Linear` weights are
//! transposed, LSTM matrices are split into burn's four gates.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::module::ParamId;
use burn::tensor::{backend::Backend, Tensor, TensorData};
use burn_store::pytorch::PytorchReader;
use burn_store::{ModuleSnapshot, TensorSnapshot};

use crate::error::{CliError, Result};
use simvq_audio::AudioCodecConfig;
use simvq_image::{PatchDiscriminator, PatchDiscriminatorConfig};

use crate::model_file::{ModelConfig, Tokenizer};

/// The reference's name of the frozen codebook `C`.
const FROZEN_CODEBOOK: &str = "quantize.embedding.weight";

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Checkpoint tensors loaded into the model (an LSTM matrix, split into our four gates,
    /// counts once).
    pub loaded: usize,
    /// Whether the EMA weights were taken.
    pub ema: bool,
    /// Checkpoint tensors not used (training-only state, the other weight set).
    pub ignored: usize,
}

/// The tensors of a Lightning checkpoint's `state_dict` (or of a bare state dict), read once
/// (tensor data stays on disk until used).
pub struct Checkpoint {
    path: PathBuf,
    tensors: HashMap<String, TensorSnapshot>,
}

impl Checkpoint {
    /// Reads the checkpoint's tensor index.
    pub fn read(path: &Path) -> Result<Self> {
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
        Ok(Self {
            path: path.to_path_buf(),
            tensors: reader.into_tensors(),
        })
    }

    /// The number of codes K (rows of the frozen codebook).
    pub fn codebook_size(&self) -> Result<usize> {
        self.tensors
            .get(FROZEN_CODEBOOK)
            .and_then(|t| t.shape.first().copied())
            .ok_or_else(|| self.error(format!("no {FROZEN_CODEBOOK}: not a SimVQ checkpoint")))
    }

    /// The checkpoint's tensors by key, to rename or repair before importing (for example a
    /// state dict saved under another prefix).
    pub fn tensors_mut(&mut self) -> &mut HashMap<String, TensorSnapshot> {
        &mut self.tensors
    }

    fn error(&self, message: String) -> CliError {
        CliError::ModelFile {
            path: self.path.clone(),
            message,
        }
    }
}

/// Where the reference keeps one of our tensors: a checkpoint name, and for LSTM gates the
/// gate's block of rows (PyTorch stacks the gates `[i; f; g; o]` in one matrix).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    name: String,
    gate: Option<usize>,
}

impl Reference {
    fn plain(name: String) -> Self {
        Self { name, gate: None }
    }
}

/// The quantizer's tensors, named alike in both tokenizers.
fn quantizer_reference(path: &str) -> Option<String> {
    if path == "quantizer.frozen_codebook" {
        return Some(FROZEN_CODEBOOK.into());
    }
    path.strip_prefix("quantizer.projection.")
        .map(|rest| format!("quantize.embedding_proj.{rest}"))
}

/// The reference's name for one of our image tokenizer's tensors: our encoder and decoder use
/// the reference's module names.
fn image_reference(path: &str) -> Reference {
    Reference::plain(quantizer_reference(path).unwrap_or_else(|| path.to_string()))
}

/// The reference's name for one of our audio codec's tensors: the quantizer's as in both
/// tokenizers, the rest as the codec names them after EnCodec and WavTokenizer.
fn audio_reference(path: &str, config: &AudioCodecConfig) -> Reference {
    if let Some(name) = quantizer_reference(path) {
        return Reference::plain(name);
    }
    let reference = config.reference_name(path);
    Reference {
        name: reference.name,
        gate: reference.lstm_gate,
    }
}

/// burn's norm layers call their affine parameters gamma and beta; PyTorch's weight and bias.
/// (Only for norm layers: ConvNeXt's layer scale is called `gamma` on both sides.)
fn norm_parameter_names(name: String, container: &str) -> String {
    let is_norm = ["GroupNorm", "LayerNorm", "BatchNorm"]
        .iter()
        .any(|n| container.ends_with(n));
    if !is_norm {
        return name;
    }
    if let Some(stem) = name.strip_suffix(".gamma") {
        format!("{stem}.weight")
    } else if let Some(stem) = name.strip_suffix(".beta") {
        format!("{stem}.bias")
    } else {
        name
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

/// Gate `gate` (0 i, 1 f, 2 g, 3 o) of a PyTorch LSTM matrix `[4H, in]` or bias `[4H]`.
fn gate_rows(data: TensorData, gate: usize) -> TensorData {
    let rows = data.shape[0] / 4;
    match data.shape.len() {
        2 => host_tensor::<2>(data)
            .narrow(0, gate * rows, rows)
            .into_data(),
        _ => host_tensor::<1>(data)
            .narrow(0, gate * rows, rows)
            .into_data(),
    }
}

/// `[out, in]` (PyTorch `Linear`) → `[in, out]` (burn `Linear`).
fn transpose(data: TensorData) -> TensorData {
    host_tensor::<2>(data).transpose().into_data()
}

/// `data` as a CPU tensor of its own dtype (not the device's default one), to rearrange.
fn host_tensor<const D: usize>(data: TensorData) -> Tensor<Flex, D> {
    let dtype = data.dtype;
    Tensor::from_data(data, (&Default::default(), dtype))
}

/// The shape the checkpoint must hold for a target of `target` shape: PyTorch `Linear`
/// weights are stored `[out, in]`, and an LSTM gate is one quarter of its stacked matrix.
/// Checked before any transform, so a tensor of another rank is reported, not a panic.
fn stored_shape(target: &[usize], transposed: bool, gated: bool) -> Vec<usize> {
    let mut shape = target.to_vec();
    if transposed {
        shape.reverse();
    }
    if gated {
        shape[0] *= 4;
    }
    shape
}

/// The tensors a checkpoint lacks or holds in another shape, each key once (the four gates of
/// an LSTM matrix share one key).
#[derive(Default)]
struct Misfits {
    missing: Vec<String>,
    mismatched: Vec<(String, String)>,
}

impl Misfits {
    fn missing(&mut self, key: &str) {
        if !self.missing.iter().any(|k| k == key) {
            self.missing.push(key.to_string());
        }
    }

    fn mismatched(&mut self, key: &str, detail: String) {
        if !self.mismatched.iter().any(|(k, _)| k == key) {
            self.mismatched.push((key.to_string(), detail));
        }
    }

    fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.mismatched.is_empty()
    }

    /// How many keys of each kind an error lists (a checkpoint of another model misses them all).
    const LISTED: usize = 20;

    /// One line per key, at most [`Self::LISTED`] of each kind.
    fn describe(&self) -> String {
        let list = |lines: Vec<String>| {
            let more = lines.len().saturating_sub(Self::LISTED);
            let mut text: Vec<String> = lines.into_iter().take(Self::LISTED).collect();
            if more > 0 {
                text.push(format!("… and {more} more"));
            }
            text.iter().map(|l| format!("\n  {l}")).collect::<String>()
        };
        let mismatched = self
            .mismatched
            .iter()
            .map(|(key, detail)| format!("{key}: {detail}"))
            .collect();
        format!(
            "{} tensors missing:{}\n{} of another shape:{}",
            self.missing.len(),
            list(self.missing.clone()),
            self.mismatched.len(),
            list(mismatched)
        )
    }
}

/// Refuses an EMA import from a checkpoint without EMA weights, saying how to take the raw
/// ones instead.
fn require_ema(checkpoint: &Checkpoint) -> Result<()> {
    if checkpoint
        .tensors
        .keys()
        .any(|k| k.starts_with("model_ema."))
    {
        return Ok(());
    }
    Err(checkpoint.error(
        "holds no EMA weights (no model_ema.* tensors; the run was trained without EMA). \
         Import its raw weights with --no-ema."
            .into(),
    ))
}

/// Loads a reference checkpoint into a new tokenizer of `config`.
pub fn import_checkpoint<B: Backend>(
    checkpoint: &Checkpoint,
    config: &ModelConfig,
    ema: bool,
    device: &B::Device,
) -> Result<(Tokenizer<B>, ImportReport)> {
    if ema {
        require_ema(checkpoint)?;
    }
    let mut tokenizer = config.init::<B>(device)?;
    let reference = |path: &str| match config {
        ModelConfig::Image(_) => image_reference(path),
        ModelConfig::Audio(c) => audio_reference(path, c),
    };
    let misfit = |misfits: &Misfits| {
        format!(
            "does not fit this {:?} model (K = {}). Is --kind right, and does --config describe \
             the checkpoint's architecture? {}",
            config.kind(),
            config.codebook_size(),
            misfits.describe(),
        )
    };
    let loaded = match &mut tokenizer {
        Tokenizer::Image(m) => load_tensors(checkpoint, m, reference, ema, misfit)?,
        Tokenizer::Audio(m) => load_tensors(checkpoint, m, reference, ema, misfit)?,
    };
    Ok((
        tokenizer,
        ImportReport {
            loaded,
            ema,
            ignored: checkpoint.tensors.len() - loaded,
        },
    ))
}

/// The reference's name of one of our PatchGAN's tensors: taming's `NLayerDiscriminator` is
/// one `main` list of conv, LeakyReLU, then (conv, BatchNorm, LeakyReLU) per layer, then the
/// output conv; the image loss holds it as `loss.discriminator`.
fn discriminator_reference(path: &str, layers: usize) -> Reference {
    let index = |i: usize, rest: &str| format!("loss.discriminator.main.{i}.{rest}");
    let name = if let Some(rest) = path.strip_prefix("input.") {
        index(0, rest)
    } else if let Some(rest) = path.strip_prefix("output.") {
        index(2 + 3 * layers, rest)
    } else if let Some(rest) = path.strip_prefix("blocks.") {
        let (block, rest) = rest.split_once('.').unwrap_or((rest, ""));
        let block: usize = block.parse().unwrap_or(usize::MAX);
        match rest.split_once('.') {
            Some(("conv", param)) => index(2 + 3 * block, param),
            Some(("norm", param)) => index(3 + 3 * block, param),
            _ => path.to_string(),
        }
    } else {
        path.to_string()
    };
    Reference::plain(name)
}

/// Loads the PatchGAN of a reference image checkpoint (its raw weights, with BatchNorm's
/// running statistics) into a new discriminator of `config`: to fine-tune from a released
/// run, or to compare training steps.
pub fn import_discriminator<B: Backend>(
    checkpoint: &Checkpoint,
    config: &PatchDiscriminatorConfig,
    device: &B::Device,
) -> Result<PatchDiscriminator<B>> {
    let mut discriminator = config.init::<B>(device);
    let reference = |path: &str| discriminator_reference(path, config.layers);
    let misfit = |misfits: &Misfits| {
        format!(
            "holds no PatchGAN of this shape (ndf {}, {} layers): {}",
            config.base_channels,
            config.layers,
            misfits.describe()
        )
    };
    load_tensors(checkpoint, &mut discriminator, reference, false, misfit)?;
    Ok(discriminator)
}

/// Sets every tensor of `module` from the checkpoint tensor the reference calls
/// `reference(path)` (its EMA copy when `ema`), checking every shape before anything is set;
/// `misfit` words the error when some are missing or of another shape. Returns how many
/// checkpoint tensors were read (fewer than `module` has when LSTM gates share one).
fn load_tensors<B: Backend, M: ModuleSnapshot<B>>(
    checkpoint: &Checkpoint,
    module: &mut M,
    reference: impl Fn(&str) -> Reference,
    ema: bool,
    misfit: impl Fn(&Misfits) -> String,
) -> Result<usize> {
    let fail = |message: String| checkpoint.error(message);
    let targets = module.collect(None, None, false);
    let mut snapshots = Vec::with_capacity(targets.len());
    let mut misfits = Misfits::default();
    let mut read = HashSet::new();
    for target in &targets {
        let ours = target.full_path();
        let reference = reference(&ours);
        let container = target.container_type();
        let key = checkpoint_key(&norm_parameter_names(reference.name, &container), ema);
        let Some(source) = checkpoint.tensors.get(&key) else {
            misfits.missing(&key);
            continue;
        };
        let transposed = container.ends_with("Linear") && ours.ends_with(".weight");
        let expected = stored_shape(&target.shape, transposed, reference.gate.is_some());
        if source.shape[..] != expected[..] {
            misfits.mismatched(
                &key,
                format!(
                    "checkpoint {:?}, model expects {:?} ({ours})",
                    &source.shape[..],
                    expected
                ),
            );
            continue;
        }
        read.insert(key.clone());
        let mut data = source
            .to_data()
            .map_err(|e| fail(format!("{key}: {e}")))?
            // The model's own dtype (f32 unless its device defaults to another): a module
            // whose tensors mix dtypes fails inside burn's kernels.
            .convert_dtype(target.dtype);
        if let Some(gate) = reference.gate {
            data = gate_rows(data, gate);
        }
        if transposed {
            data = transpose(data);
        }
        snapshots.push(TensorSnapshot::from_data(
            data,
            target.path_stack.clone().unwrap_or_default(),
            target.container_stack.clone().unwrap_or_default(),
            target.tensor_id.unwrap_or_else(ParamId::new),
        ));
    }
    if !misfits.is_empty() {
        return Err(fail(misfit(&misfits)));
    }
    let set = snapshots.len();
    let result = module.apply(snapshots, None, None, false);
    if !result.errors.is_empty() || !result.missing.is_empty() || result.applied.len() != set {
        return Err(fail(format!(
            "{} of {set} tensors applied ({} errors, {} missing)",
            result.applied.len(),
            result.errors.len(),
            result.missing.len()
        )));
    }
    Ok(read.len())
}
