//! Residual SimVQ: several SimVQ levels, each quantizing what the previous ones left over
//! (SoundStream's residual VQ, arXiv 2107.03312, Algorithm 1). With quantize dropout one model
//! serves several bitrates: train on random prefixes of the levels, decode from any prefix.
//!
//! Mirrors `vector_quantize_pytorch.ResidualSimVQ`: indices carry the level as their last axis,
//! and a dropped level has index −1 and loss 0.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{backend::Backend, Int, Tensor};
use rand::RngExt;

use crate::error::QuantError;
use crate::layout::{ChannelFirst, Layout};
use crate::quant_loss::QuantLoss;
use crate::quantizer::Quantizer;
use crate::simvq::{SimVq, SimVqConfig};

/// Configuration of [`ResidualSimVq`].
#[derive(Config, Debug)]
pub struct ResidualSimVqConfig {
    /// Number of levels `Q`.
    pub num_quantizers: usize,
    /// Every level's SimVQ; level `i` is seeded with `seed + i`.
    pub quantizer: SimVqConfig,
    /// Train on random prefixes of the levels (see [`ResidualSimVq::sample_levels`]).
    #[config(default = false)]
    pub quantize_dropout: bool,
    /// With dropout, the shortest prefix used is `quantize_dropout_cutoff_index + 1` levels.
    #[config(default = 0)]
    pub quantize_dropout_cutoff_index: usize,
}

impl ResidualSimVqConfig {
    /// Builds the `Q` levels.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<ResidualSimVq<B>, QuantError> {
        if self.num_quantizers == 0 {
            return Err(QuantError::InvalidConfig(
                "num_quantizers must be at least 1".into(),
            ));
        }
        if self.quantize_dropout_cutoff_index >= self.num_quantizers {
            return Err(QuantError::InvalidConfig(format!(
                "quantize_dropout_cutoff_index {} must be below num_quantizers {}",
                self.quantize_dropout_cutoff_index, self.num_quantizers
            )));
        }
        let levels = (0..self.num_quantizers)
            .map(|i| {
                let seed = self.quantizer.seed.wrapping_add(i as u64);
                self.quantizer.clone().with_seed(seed).init(device)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ResidualSimVq {
            levels,
            quantize_dropout: self.quantize_dropout,
            min_levels: self.quantize_dropout_cutoff_index + 1,
        })
    }
}

/// What a residual quantizer returns for an input of rank `R`.
#[derive(Debug, Clone)]
pub struct ResidualOutput<B: Backend, const R: usize> {
    /// Sum of the levels' quantized values; same shape as the input.
    pub quantized: Tensor<B, R>,
    /// Codes per level: the input's shape without its channel axis, plus a last axis of `Q`
    /// levels (−1 for a dropped level).
    pub indices: Tensor<B, R, Int>,
    /// Each used level's loss terms, in order.
    pub losses: Vec<QuantLoss<B>>,
}

impl<B: Backend, const R: usize> ResidualOutput<B, R> {
    /// The summed loss of all levels (any layout: the losses do not depend on it).
    pub fn total_loss(&self) -> Tensor<B, 1> {
        self.losses
            .iter()
            .map(QuantLoss::total)
            .reduce(|a, b| a + b)
            .expect("at least one level")
    }
}

/// Residual SimVQ. Build it with [`ResidualSimVqConfig::init`].
#[derive(Module, Debug)]
pub struct ResidualSimVq<B: Backend> {
    /// The levels, coarse to fine.
    pub levels: Vec<SimVq<B>>,
    quantize_dropout: bool,
    min_levels: usize,
}

impl<B: Backend> ResidualSimVq<B> {
    /// Number of levels `Q`.
    pub fn num_quantizers(&self) -> usize {
        self.levels.len()
    }

    /// Codes per level `K`.
    pub fn codebook_size(&self) -> usize {
        self.levels[0].codebook_size()
    }

    /// Code dimension `D`.
    pub fn dim(&self) -> usize {
        self.levels[0].dim()
    }

    /// How many levels a training step should use: all of them without quantize dropout,
    /// otherwise uniform over `cutoff + 1 ..= Q`. The caller owns the generator, so runs are
    /// reproducible and several devices can share one draw.
    pub fn sample_levels(&self, rng: &mut impl RngExt) -> usize {
        if self.quantize_dropout {
            rng.random_range(self.min_levels..=self.levels.len())
        } else {
            self.levels.len()
        }
    }

    /// Quantizes `[N, D]` with the first `levels` levels (the rest are dropped: index −1,
    /// no loss). Indices are `[N, Q]`.
    pub fn forward(&self, z: Tensor<B, 2>, levels: usize) -> crate::Result<ResidualOutput<B, 2>> {
        Layout::check(&z.dims(), self.dim())?;
        if levels == 0 || levels > self.levels.len() {
            return Err(QuantError::InvalidConfig(format!(
                "asked for {levels} residual levels; this quantizer has 1..={}",
                self.levels.len()
            )));
        }
        let n = z.dims()[0];
        let device = z.device();
        let mut residual = z;
        let mut quantized: Option<Tensor<B, 2>> = None;
        let mut indices = Vec::with_capacity(self.levels.len());
        let mut losses = Vec::with_capacity(levels);
        for level in &self.levels[..levels] {
            let out = level.forward(residual.clone())?;
            residual = residual - out.quantized.clone().detach();
            quantized = Some(match quantized {
                None => out.quantized,
                Some(sum) => sum + out.quantized,
            });
            indices.push(out.indices.unsqueeze_dim(1));
            losses.push(out.loss);
        }
        let dropped = self.levels.len() - levels;
        if dropped > 0 {
            indices.push(Tensor::full([n, dropped], -1, &device));
        }
        Ok(ResidualOutput {
            quantized: quantized.expect("at least one level"),
            indices: Tensor::cat(indices, 1),
            losses,
        })
    }

    /// Quantizes a sequence map `[B, D, T]`; indices are `[B, T, Q]`.
    pub fn forward_1d(
        &self,
        z: Tensor<B, 3>,
        levels: usize,
    ) -> crate::Result<ResidualOutput<B, 3>> {
        self.forward_map::<3, 2>(z, levels)
    }

    /// Quantizes an image map `[B, D, H, W]`; indices are `[B, H, W, Q]`.
    pub fn forward_2d(
        &self,
        z: Tensor<B, 4>,
        levels: usize,
    ) -> crate::Result<ResidualOutput<B, 4>> {
        self.forward_map::<4, 3>(z, levels)
    }

    /// The summed codes `[N, D]` of indices `[N, q]`, `q ≤ Q`: any prefix of the levels
    /// decodes; −1 marks a dropped level and adds nothing.
    pub fn decode_indices(&self, indices: Tensor<B, 2, Int>) -> crate::Result<Tensor<B, 2>> {
        let [n, q] = indices.dims();
        if q == 0 || q > self.levels.len() {
            return Err(QuantError::InvalidConfig(format!(
                "indices have {q} levels; this quantizer decodes 1..={}",
                self.levels.len()
            )));
        }
        let mut sum = Tensor::zeros([n, self.dim()], &indices.device());
        for (i, level) in self.levels[..q].iter().enumerate() {
            let column = indices.clone().narrow(1, i, 1).squeeze_dim::<1>(1);
            let dropped = column.clone().equal_elem(-1);
            let codes = level.decode_indices(column.mask_fill(dropped.clone(), 0))?;
            let keep = dropped.bool_not().float().unsqueeze_dim(1);
            sum = sum + codes * keep;
        }
        Ok(sum)
    }

    /// [`ResidualSimVq::decode_indices`] for `[B, T, q]` → `[B, D, T]`.
    pub fn decode_indices_1d(&self, indices: Tensor<B, 3, Int>) -> crate::Result<Tensor<B, 3>> {
        self.decode_map::<3, 2>(indices)
    }

    /// [`ResidualSimVq::decode_indices`] for `[B, H, W, q]` → `[B, D, H, W]`.
    pub fn decode_indices_2d(&self, indices: Tensor<B, 4, Int>) -> crate::Result<Tensor<B, 4>> {
        self.decode_map::<4, 3>(indices)
    }

    fn forward_map<const R: usize, const I: usize>(
        &self,
        z: Tensor<B, R>,
        levels: usize,
    ) -> crate::Result<ResidualOutput<B, R>> {
        let layout = ChannelFirst::<R, I>::of(&z, self.dim())?;
        let out = self.forward(layout.flatten(z), levels)?;
        Ok(ResidualOutput {
            quantized: layout.unflatten(out.quantized),
            indices: layout.index_map_with_levels(out.indices),
            losses: out.losses,
        })
    }

    fn decode_map<const R: usize, const I: usize>(
        &self,
        indices: Tensor<B, R, Int>,
    ) -> crate::Result<Tensor<B, R>> {
        let dims = indices.dims();
        let q = dims[R - 1];
        let tokens: usize = dims[..R - 1].iter().product();
        let first: Tensor<B, I, Int> = indices.clone().narrow(R - 1, 0, 1).squeeze_dim(R - 1);
        let layout = ChannelFirst::<R, I>::of_indices(&first, self.dim())?;
        let codes = self.decode_indices(indices.reshape([tokens, q]))?;
        Ok(layout.unflatten(codes))
    }
}
