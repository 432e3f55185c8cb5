//! Convolutions for the SimVQ models that are fast on burn's CPU backend (burn-flex): one
//! im2col and one gemm over the whole batch, forward and backward, registered as a
//! burn-autodiff op; burn's own convolution on every other backend, so the models stay
//! generic over `B: Backend`. The image tokenizer, the PatchGAN, the audio codec's SEANet
//! encoder and its discriminators all run their convolutions through here.
//!
//! ```
//! use burn::backend::Flex;
//! use burn::tensor::{ops::ConvOptions, Distribution, Tensor};
//!
//! let device = Default::default();
//! let x = Tensor::<Flex, 3>::random([2, 4, 50], Distribution::Normal(0.0, 1.0), &device);
//! let w = Tensor::<Flex, 3>::random([8, 4, 7], Distribution::Normal(0.0, 1.0), &device);
//! let y = simvq_conv::conv1d(x, w, None, ConvOptions::new([2], [3], [1], 1));
//! assert_eq!(y.dims(), [2, 8, 25]);
//! ```

mod fast_conv;
mod im2col;

pub use fast_conv::{conv1d, conv1d_forward, conv2d, conv2d_forward};
