//! The quantizer objective's terms and their weights.

use burn::tensor::{backend::Backend, Tensor};

/// The terms of the quantizer objective, kept apart so they can be logged separately.
#[derive(Debug, Clone)]
pub struct QuantLoss<B: Backend> {
    /// Encoder commitment, `w_e · mean((sg(z_q) − z)²)`: pulls the encoder output towards its code.
    pub commitment: Tensor<B, 1>,
    /// Codebook term, `w_c · mean((z_q − sg(z))²)`: pulls the codes (for SimVQ: `W`, `b`)
    /// towards the encoder output.
    pub codebook: Tensor<B, 1>,
    /// Entropy penalty (LFQ/BSQ): confident per token, diverse over the batch. Zero for the
    /// other quantizers.
    pub entropy: Tensor<B, 1>,
}

impl<B: Backend> QuantLoss<B> {
    /// The commitment and codebook terms, with no entropy penalty.
    pub fn without_entropy(commitment: Tensor<B, 1>, codebook: Tensor<B, 1>) -> Self {
        let entropy = Tensor::zeros([1], &commitment.device());
        Self {
            commitment,
            codebook,
            entropy,
        }
    }

    /// The summed loss to add to the training objective.
    pub fn total(&self) -> Tensor<B, 1> {
        self.commitment.clone() + self.codebook.clone() + self.entropy.clone()
    }
}

/// Weights of the two loss terms.
///
/// The reference (taming's `VectorQuantizer2`, `legacy: false`) puts `β` on the encoder
/// commitment and 1 on the codebook term; its `legacy: true` swaps them (taming issue #57).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    /// Weight of `mean((sg(z_q) − z)²)`.
    pub commitment: f64,
    /// Weight of `mean((z_q − sg(z))²)`.
    pub codebook: f64,
}

impl LossWeights {
    /// The weights the reference uses for a given `beta` and `legacy` flag.
    pub fn from_beta(beta: f64, legacy: bool) -> Self {
        if legacy {
            Self {
                commitment: 1.0,
                codebook: beta,
            }
        } else {
            Self {
                commitment: beta,
                codebook: 1.0,
            }
        }
    }
}
