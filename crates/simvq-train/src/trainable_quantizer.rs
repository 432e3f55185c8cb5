//! What a tokenizer's quantizer must offer the training loop: SimVQ, or any quantizer of
//! `simvq-quant` in a comparison (`cargo xtask reproduce`). The image tokenizer and the audio
//! codec are generic over it.

use burn::module::{AutodiffModule, ModuleDisplay};
use burn::tensor::backend::AutodiffBackend;
use simvq_quant::{LatentFit, Quantizer};

/// A quantizer the GAN loop can train, average, checkpoint and refit.
pub(crate) trait TrainableQuantizer<B: AutodiffBackend>:
    AutodiffModule<B, InnerModule: Quantizer<B::InnerBackend> + ModuleDisplay>
    + ModuleDisplay
    + Quantizer<B>
    + LatentFit<B>
    + Clone
    + 'static
{
}

impl<B, Q> TrainableQuantizer<B> for Q
where
    B: AutodiffBackend,
    Q: AutodiffModule<B, InnerModule: Quantizer<B::InnerBackend> + ModuleDisplay>
        + ModuleDisplay
        + Quantizer<B>
        + LatentFit<B>
        + Clone
        + 'static,
{
}
