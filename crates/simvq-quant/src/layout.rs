//! Channel-first feature maps ↔ flat token batches.
//!
//! Quantizers work on `[N, D]`. Models hand them channel-first maps (`[B, D, T]`,
//! `[B, D, H, W]`); tokens are taken in row-major order over the non-channel axes, as the
//! reference does after its permute to channels-last.

use burn::tensor::{backend::Backend, Int, Tensor};

use crate::error::{QuantError, Result};

/// Shape checks shared by every layout: channel axis 1 of size `dim`, nothing empty.
pub(crate) struct Layout;

impl Layout {
    pub(crate) fn check(shape: &[usize], dim: usize) -> Result<()> {
        if shape.len() < 2 || shape[1] != dim {
            return Err(QuantError::DimMismatch {
                expected: dim,
                got: shape.get(1).copied().unwrap_or(0),
                axis: 1,
                shape: shape.to_vec(),
            });
        }
        if shape.contains(&0) {
            return Err(QuantError::EmptyInput(shape.to_vec()));
        }
        Ok(())
    }
}

/// A channel-first map of rank `R` whose index map has rank `I = R − 1`.
pub(crate) struct ChannelFirst<const R: usize, const I: usize> {
    /// The map's shape, channel axis at 1.
    shape: [usize; R],
}

impl<const R: usize, const I: usize> ChannelFirst<R, I> {
    const RANKS_AGREE: () = assert!(I + 1 == R, "index rank must be map rank - 1");

    /// The layout of map `z`, checked against the code dimension.
    pub(crate) fn of<B: Backend>(z: &Tensor<B, R>, dim: usize) -> Result<Self> {
        let () = Self::RANKS_AGREE;
        let shape = z.dims();
        Layout::check(&shape, dim)?;
        Ok(Self { shape })
    }

    /// The layout of the map that `indices` decode to.
    pub(crate) fn of_indices<B: Backend>(indices: &Tensor<B, I, Int>, dim: usize) -> Result<Self> {
        let () = Self::RANKS_AGREE;
        let index_shape = indices.dims();
        let mut shape = [dim; R];
        shape[0] = index_shape[0];
        shape[2..].copy_from_slice(&index_shape[1..]);
        if index_shape.contains(&0) {
            return Err(QuantError::EmptyInput(index_shape.to_vec()));
        }
        Ok(Self { shape })
    }

    /// `[B, D, ...]` → `[B·…, D]`.
    pub(crate) fn flatten<B: Backend>(&self, z: Tensor<B, R>) -> Tensor<B, 2> {
        let dim = self.shape[1];
        let tokens = self.shape.iter().product::<usize>() / dim;
        z.movedim(1, R - 1).reshape([tokens, dim])
    }

    /// `[B·…, D]` → `[B, D, ...]`.
    pub(crate) fn unflatten<B: Backend>(&self, flat: Tensor<B, 2>) -> Tensor<B, R> {
        let mut channels_last = self.shape;
        channels_last[1..].rotate_left(1);
        flat.reshape(channels_last).movedim(R - 1, 1)
    }

    /// `[B·…, Q]` → `[B, ..., Q]`: per-level indices keep the level as their last axis.
    pub(crate) fn index_map_with_levels<B: Backend>(
        &self,
        indices: Tensor<B, 2, Int>,
    ) -> Tensor<B, R, Int> {
        let mut shape = [0; R];
        shape[0] = self.shape[0];
        shape[1..R - 1].copy_from_slice(&self.shape[2..]);
        shape[R - 1] = indices.dims()[1];
        indices.reshape(shape)
    }

    /// `[B·…]` → `[B, ...]`.
    pub(crate) fn index_map<B: Backend>(&self, indices: Tensor<B, 1, Int>) -> Tensor<B, I, Int> {
        let mut shape = [0; I];
        shape[0] = self.shape[0];
        shape[1..].copy_from_slice(&self.shape[2..]);
        indices.reshape(shape)
    }
}
