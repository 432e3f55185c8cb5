//! PyTorch's `Linear` and `LayerNorm` as plain tensors taken from a state dict, for
//! inference-only networks loaded by key (UTMOS): no module tree to map names onto.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::error::MetricsError;
use crate::state_dict::StateDict;

/// PyTorch's LayerNorm epsilon, which fairseq and the UTMOS head keep.
const LAYER_NORM_EPS: f64 = 1e-5;

/// `x·Wᵀ + b` over the last dimension.
pub(crate) struct Dense<B: Backend> {
    /// `Wᵀ`, `[in, out]`.
    weight: Tensor<B, 2>,
    bias: Tensor<B, 1>,
}

impl<B: Backend> Dense<B> {
    /// `{prefix}.weight` (`[out, in]`) and `{prefix}.bias`.
    pub(crate) fn load(
        state: &StateDict,
        prefix: &str,
        device: &B::Device,
    ) -> Result<Self, MetricsError> {
        Ok(Self::from_parts(
            state.tensor(&format!("{prefix}.weight"), device)?,
            state.tensor(&format!("{prefix}.bias"), device)?,
        ))
    }

    /// From PyTorch's `weight` (`[out, in]`) and `bias`.
    pub(crate) fn from_parts(weight: Tensor<B, 2>, bias: Tensor<B, 1>) -> Self {
        Self {
            weight: weight.transpose(),
            bias,
        }
    }

    /// Output width.
    pub(crate) fn outputs(&self) -> usize {
        self.weight.dims()[1]
    }

    /// Applies the layer to `[B, T, in]`.
    pub(crate) fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [b, t, n] = x.dims();
        let out = x.reshape([b * t, n]).matmul(self.weight.clone()) + self.bias.clone().unsqueeze();
        out.reshape([b, t, self.outputs()])
    }
}

/// LayerNorm over the last dimension, with affine parameters.
pub(crate) struct Norm<B: Backend> {
    weight: Tensor<B, 1>,
    bias: Tensor<B, 1>,
}

impl<B: Backend> Norm<B> {
    /// `{prefix}.weight` and `{prefix}.bias`.
    pub(crate) fn load(
        state: &StateDict,
        prefix: &str,
        device: &B::Device,
    ) -> Result<Self, MetricsError> {
        Ok(Self {
            weight: state.tensor(&format!("{prefix}.weight"), device)?,
            bias: state.tensor(&format!("{prefix}.bias"), device)?,
        })
    }

    /// Normalises `[B, T, C]` over `C` (biased variance, as PyTorch).
    pub(crate) fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let (var, mean) = x.clone().var_mean_bias(2);
        let normed = (x - mean) / (var + LAYER_NORM_EPS).sqrt();
        normed * self.weight.clone().unsqueeze() + self.bias.clone().unsqueeze()
    }
}
