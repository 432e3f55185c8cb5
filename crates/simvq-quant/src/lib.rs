//! Vector quantizers for burn: SimVQ and its baselines.
//!
//! [`SimVq`] (arXiv 2411.02038) keeps a frozen random codebook `C` and learns one linear map
//! `W` (with bias `b`): the codes are `E = C·Wᵀ + b`. Every gradient step moves all codes at
//! once, so codebook utilization stays near 100% where a plain learned codebook ([`Vq`])
//! collapses.
//!
//! * Exact reference math (taming's `VectorQuantizer2` with `legacy: false`): squared-L2
//!   nearest code, ties to the lowest index; loss `β·mse(sg(z_q), z) + mse(z_q, sg(z))`
//!   returned as two terms; straight-through output.
//! * Memory-bounded search: distances are walked in tiles under a byte budget
//!   ([`SimVqConfig::search_budget_bytes`], 256 MiB by default), so K = 262,144 codes need no
//!   `[N, K]` matrix.
//! * Any burn backend; layouts `[N, D]`, `[B, D, T]` (audio) and `[B, D, H, W]` (images).
//! * Decoding tokens uses the projected codebook `E`, never the raw `C`
//!   (the reference's `get_codebook_entry` gets this wrong).
//!
//! # Example
//!
//! ```
//! use burn::backend::{Autodiff, Flex};
//! use burn::tensor::{Distribution, Tensor};
//! use simvq_quant::{CodebookQuantizer, CodebookUsage, Quantizer, SimVqConfig};
//!
//! type B = Autodiff<Flex>;
//! let device = Default::default();
//!
//! // K = 1,024 codes of dimension 16, seeded.
//! let vq = SimVqConfig::new().with_codebook_size(1024).with_dim(16).with_seed(7).init::<B>(&device)?;
//!
//! // An encoder's image features, channel-first [batch, dim, height, width].
//! let z = Tensor::<B, 4>::random([2, 16, 8, 8], Distribution::Normal(0.0, 1.0), &device);
//! let out = vq.forward_2d(z)?;
//! assert_eq!(out.indices.dims(), [2, 8, 8]);
//!
//! // Add `out.loss.total()` to the training loss; gradients reach W and b, never C.
//! let _grads = out.loss.total().backward();
//!
//! // Tokens decode through the projected codebook E = C·Wᵀ + b.
//! let codes = vq.decode_indices_2d(out.indices.clone())?;
//! assert_eq!(codes.dims(), [2, 16, 8, 8]);
//!
//! // Inference: build E once, reuse it for every batch.
//! let codebook = vq.codebook();
//! let flat = Tensor::<B, 2>::random([100, 16], Distribution::Normal(0.0, 1.0), &device);
//! let tokens = codebook.nearest(flat);
//!
//! // How many codes are in use.
//! let mut usage = CodebookUsage::new(1024);
//! usage.update(&out.indices)?;
//! usage.update(&tokens)?;
//! println!("utilization {:.1}%, perplexity {:.0}", 100.0 * usage.utilization(), usage.perplexity());
//! # Ok::<(), simvq_quant::QuantError>(())
//! ```
//!
//! Shape errors are reported as [`QuantError`], before any tensor op runs:
//!
//! ```
//! # use burn::backend::Flex;
//! # use burn::tensor::Tensor;
//! # use simvq_quant::{Quantizer, QuantError, SimVqConfig};
//! let vq = SimVqConfig::new().with_codebook_size(64).with_dim(8).init::<Flex>(&Default::default())?;
//! let wrong = Tensor::<Flex, 3>::zeros([1, 4, 10], &Default::default());
//! assert!(matches!(vq.forward_1d(wrong), Err(QuantError::DimMismatch { expected: 8, got: 4, .. })));
//! # Ok::<(), simvq_quant::QuantError>(())
//! ```

/// The crate README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctest;

mod any;
mod autodiff_lock;
mod codebook;
mod data_init;
mod ema_vq;
mod error;
mod estimator;
mod fsq;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod fused_dispatch;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod fused_search;
mod init;
mod layout;
mod lfq;
mod projection;
mod quant_loss;
mod quantizer;
mod quantizer_output;
mod residual;
mod seeded_init;
mod simvq;
mod usage;
mod vq;

pub use any::{AnyQuantizer, QuantizerConfig};
pub use autodiff_lock::{autodiff_lock, AutodiffGuard};
pub use codebook::{Codebook, SearchTiling, DEFAULT_SEARCH_BUDGET_BYTES};
pub use data_init::LatentFit;
pub use ema_vq::{EmaVq, EmaVqConfig};
pub use error::{QuantError, Result};
pub use estimator::GradientEstimator;
pub use fsq::{Fsq, FsqConfig};
pub use lfq::{Lfq, LfqConfig};
pub use quant_loss::{LossWeights, QuantLoss};
pub use quantizer::{CodebookQuantizer, CodebookSettings, Quantizer};
pub use quantizer_output::QuantizerOutput;
pub use residual::{ResidualOutput, ResidualSimVq, ResidualSimVqConfig};
pub use seeded_init::SeededInit;
pub use simvq::{FrozenCodebook, SimVq, SimVqConfig};
pub use usage::CodebookUsage;
pub use vq::{Vq, VqConfig};
