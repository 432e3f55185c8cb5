//! What a quantizer returns.

use burn::tensor::{backend::Backend, Int, Tensor};

use crate::quant_loss::QuantLoss;

/// What a quantizer returns for an input of rank `R`: quantized values of the same shape,
/// indices of rank `I = R − 1` (the input's shape without its channel axis), and the loss.
#[derive(Debug, Clone)]
pub struct QuantizerOutput<B: Backend, const R: usize, const I: usize> {
    /// Quantized values, same shape and layout as the input. Their forward value is exactly
    /// the selected code; their gradient with respect to the input is the identity
    /// (straight-through estimator).
    pub quantized: Tensor<B, R>,
    /// Code index of every token, shaped like the input without the channel axis.
    pub indices: Tensor<B, I, Int>,
    /// The VQ loss terms.
    pub loss: QuantLoss<B>,
}
