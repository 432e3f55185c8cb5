//! The interface every quantizer implements.

use burn::tensor::{backend::Backend, Int, Tensor};

use crate::codebook::Codebook;
use crate::error::{QuantError, Result};
use crate::estimator::GradientEstimator;
use crate::layout::{ChannelFirst, Layout};
use crate::quant_loss::LossWeights;
use crate::quantizer_output::QuantizerOutput;

/// Per-quantizer settings that are not parameters: loss weights and the search budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodebookSettings {
    /// Weights of the two loss terms.
    pub loss_weights: LossWeights,
    /// Most bytes the nearest-code search may spend on distance scores at once.
    pub search_budget_bytes: usize,
    /// How gradients cross the code selection.
    pub estimator: GradientEstimator,
}

/// A vector quantizer: maps `D`-dimensional vectors to one of `K` codes.
///
/// Implementors provide the flat case (`[N, D]`); the channel-first feature-map cases
/// (`[B, D, T]` for audio, `[B, D, H, W]` for images) come for free.
pub trait Quantizer<B: Backend> {
    /// Number of codes `K`.
    fn codebook_size(&self) -> usize;

    /// Code dimension `D`.
    fn dim(&self) -> usize;

    /// Quantizes a flat batch of vectors `[N, D]`; indices are `[N]`.
    fn forward(&self, z: Tensor<B, 2>) -> Result<QuantizerOutput<B, 2, 1>>;

    /// The codes `[N, D]` of the indices `[N]`.
    fn decode_indices(&self, indices: Tensor<B, 1, Int>) -> Result<Tensor<B, 2>>;

    /// Tokens only: the indices `[N]` of `[N, D]`, with no loss or straight-through output
    /// (codebook quantizers run the nearest-code search alone).
    fn encode(&self, z: Tensor<B, 2>) -> Result<Tensor<B, 1, Int>> {
        Ok(self.forward(z)?.indices)
    }

    /// Tokens `[B, T]` of a sequence map `[B, D, T]`.
    fn encode_1d(&self, z: Tensor<B, 3>) -> Result<Tensor<B, 2, Int>> {
        encode_channel_first(self, z)
    }

    /// Tokens `[B, H, W]` of an image map `[B, D, H, W]`.
    fn encode_2d(&self, z: Tensor<B, 4>) -> Result<Tensor<B, 3, Int>> {
        encode_channel_first(self, z)
    }

    /// Quantizes a sequence map `[B, D, T]`; indices are `[B, T]`.
    fn forward_1d(&self, z: Tensor<B, 3>) -> Result<QuantizerOutput<B, 3, 2>> {
        forward_channel_first(self, z)
    }

    /// Quantizes an image map `[B, D, H, W]`; indices are `[B, H, W]`.
    fn forward_2d(&self, z: Tensor<B, 4>) -> Result<QuantizerOutput<B, 4, 3>> {
        forward_channel_first(self, z)
    }

    /// The code map `[B, D, T]` of indices `[B, T]`.
    fn decode_indices_1d(&self, indices: Tensor<B, 2, Int>) -> Result<Tensor<B, 3>> {
        decode_channel_first(self, indices)
    }

    /// The code map `[B, D, H, W]` of indices `[B, H, W]`.
    fn decode_indices_2d(&self, indices: Tensor<B, 3, Int>) -> Result<Tensor<B, 4>> {
        decode_channel_first(self, indices)
    }
}

/// A quantizer defined by an explicit codebook of `K` vectors (SimVQ, plain VQ, EMA VQ).
///
/// Nearest-code search, the estimator output and the two-term loss are the same for all of
/// them; only how the codebook is made differs. `K` and `D` are [`Quantizer`]'s.
pub trait CodebookQuantizer<B: Backend>: Quantizer<B> {
    /// The effective codebook now (with its autodiff graph while training).
    fn codebook(&self) -> Codebook<B>;

    /// Loss weights, search budget, gradient estimator.
    fn settings(&self) -> CodebookSettings;

    /// Features `[N, D]` → the codebook's space (a projection, a normalisation), where the
    /// search and the loss happen. Identity unless the quantizer says otherwise.
    fn project_to_codebook(&self, z: Tensor<B, 2>) -> Tensor<B, 2> {
        z
    }

    /// The codebook's space → features `[N, D]`. Identity unless the quantizer says otherwise.
    fn project_from_codebook(&self, codes: Tensor<B, 2>) -> Tensor<B, 2> {
        codes
    }
}

/// Implements [`Quantizer`] for a [`CodebookQuantizer`] type: search, straight-through output
/// and loss are the same for every codebook quantizer. (A blanket impl would forbid
/// implementing `Quantizer` directly for quantizers without a codebook, such as FSQ.)
/// `K` and `D` are given as expressions of `$q`, the quantizer.
macro_rules! impl_quantizer_for_codebook {
    ($type:ident, |$q:ident| codebook_size: $k:expr, dim: $d:expr) => {
        impl<B: Backend> $crate::quantizer::Quantizer<B> for $type<B> {
            fn codebook_size(&self) -> usize {
                let $q = self;
                $k
            }

            fn dim(&self) -> usize {
                let $q = self;
                $d
            }

            fn encode(
                &self,
                z: Tensor<B, 2>,
            ) -> $crate::error::Result<Tensor<B, 1, burn::tensor::Int>> {
                $crate::quantizer::codebook_encode(self, z)
            }

            fn forward(
                &self,
                z: Tensor<B, 2>,
            ) -> $crate::error::Result<$crate::quantizer_output::QuantizerOutput<B, 2, 1>> {
                $crate::quantizer::codebook_forward(self, z)
            }

            fn decode_indices(
                &self,
                indices: Tensor<B, 1, burn::tensor::Int>,
            ) -> $crate::error::Result<Tensor<B, 2>> {
                $crate::quantizer::codebook_decode(self, indices)
            }
        }
    };
}
pub(crate) use impl_quantizer_for_codebook;

pub(crate) fn codebook_forward<B: Backend, Q: CodebookQuantizer<B>>(
    quantizer: &Q,
    z: Tensor<B, 2>,
) -> Result<QuantizerOutput<B, 2, 1>> {
    Layout::check(&z.dims(), quantizer.dim())?;
    let settings = quantizer.settings();
    let mut out = quantizer.codebook().quantize(
        quantizer.project_to_codebook(z),
        settings.loss_weights,
        settings.estimator,
    );
    out.quantized = quantizer.project_from_codebook(out.quantized);
    Ok(out)
}

pub(crate) fn codebook_decode<B: Backend, Q: CodebookQuantizer<B>>(
    quantizer: &Q,
    indices: Tensor<B, 1, Int>,
) -> Result<Tensor<B, 2>> {
    check_indices(&indices, quantizer.codebook_size())?;
    Ok(quantizer.project_from_codebook(quantizer.codebook().lookup(indices)))
}

/// The nearest-code search alone, in the codebook's space.
pub(crate) fn codebook_encode<B: Backend, Q: CodebookQuantizer<B>>(
    quantizer: &Q,
    z: Tensor<B, 2>,
) -> Result<Tensor<B, 1, Int>> {
    Layout::check(&z.dims(), quantizer.dim())?;
    Ok(quantizer
        .codebook()
        .nearest(quantizer.project_to_codebook(z)))
}

fn encode_channel_first<B, Q, const R: usize, const I: usize>(
    quantizer: &Q,
    z: Tensor<B, R>,
) -> Result<Tensor<B, I, Int>>
where
    B: Backend,
    Q: Quantizer<B> + ?Sized,
{
    let layout = ChannelFirst::<R, I>::of(&z, quantizer.dim())?;
    Ok(layout.index_map(quantizer.encode(layout.flatten(z))?))
}

fn forward_channel_first<B, Q, const R: usize, const I: usize>(
    quantizer: &Q,
    z: Tensor<B, R>,
) -> Result<QuantizerOutput<B, R, I>>
where
    B: Backend,
    Q: Quantizer<B> + ?Sized,
{
    let layout = ChannelFirst::<R, I>::of(&z, quantizer.dim())?;
    let out = quantizer.forward(layout.flatten(z))?;
    Ok(QuantizerOutput {
        quantized: layout.unflatten(out.quantized),
        indices: layout.index_map(out.indices),
        loss: out.loss,
    })
}

fn decode_channel_first<B, Q, const R: usize, const I: usize>(
    quantizer: &Q,
    indices: Tensor<B, I, Int>,
) -> Result<Tensor<B, R>>
where
    B: Backend,
    Q: Quantizer<B> + ?Sized,
{
    let layout = ChannelFirst::<R, I>::of_indices(&indices, quantizer.dim())?;
    let codes = quantizer.decode_indices(indices.flatten(0, I - 1))?;
    Ok(layout.unflatten(codes))
}

/// Checks that every index is inside `0..codebook_size` (one small read-back from the device;
/// an out-of-range index would otherwise be a panic or garbage deep in the backend).
pub(crate) fn check_indices<B: Backend>(
    indices: &Tensor<B, 1, Int>,
    codebook_size: usize,
) -> Result<()> {
    if indices.dims()[0] == 0 {
        return Ok(());
    }
    let range = Tensor::cat(vec![indices.clone().min(), indices.clone().max()], 0);
    for index in range.into_data().iter::<i64>() {
        if index < 0 || index >= codebook_size as i64 {
            return Err(QuantError::IndexOutOfRange {
                index,
                codebook_size,
            });
        }
    }
    Ok(())
}
