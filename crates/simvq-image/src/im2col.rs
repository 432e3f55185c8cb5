//! A 2-D convolution as one matrix product on host memory: the column matrix (`im2col`), its
//! adjoint (`col2im`), and the three products of the forward and backward passes, on `f32`
//! slices. [`crate::fast_conv2d`] wires them into burn's CPU backend.
//!
//! Layouts: the input `x` is `[B, C_in, H, W]`, the weight `[C_out, C_in·kh·kw]`, the output
//! and its gradient `[B, C_out, H_out·W_out]`, all row-major. The column matrix is
//! `[C_in·kh·kw, B·H_out·W_out]`: row `(c, i, j)`, column `(b, oh, ow)`, so that the output is
//! `W · cols` in one product over the whole batch.

use gemm::Parallelism;
use rayon::prelude::*;

/// Shapes, strides and paddings of one convolution (groups 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Images.
    pub batch: usize,
    /// Input channels.
    pub cin: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Output channels.
    pub cout: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Zero padding: top, left, bottom, right.
    pub padding: [usize; 4],
    /// Dilation along height and width.
    pub dilation: [usize; 2],
}

impl Geometry {
    /// Output height and width; `None` when the kernel does not fit the padded input.
    pub fn output(&self) -> Option<[usize; 2]> {
        let side = |i: usize| {
            let padded = self.input[i] + self.padding[i] + self.padding[i + 2];
            let span = self.dilation[i] * (self.kernel[i] - 1) + 1;
            (padded >= span && self.stride[i] > 0).then(|| (padded - span) / self.stride[i] + 1)
        };
        Some([side(0)?, side(1)?])
    }

    /// Rows of the column matrix: `C_in · kh · kw`.
    pub fn patch_len(&self) -> usize {
        self.cin * self.kernel[0] * self.kernel[1]
    }

    /// Output pixels per image.
    fn pixels_out(&self) -> usize {
        let [oh, ow] = self.output().expect("checked by the caller");
        oh * ow
    }

    /// Columns of the column matrix: `B · H_out · W_out`.
    pub fn columns(&self) -> usize {
        self.batch * self.pixels_out()
    }

    /// For kernel offset `k` along axis `axis` and output coordinate `o`: the input coordinate,
    /// or `None` in the padding.
    #[inline]
    fn source(&self, axis: usize, o: usize, k: usize) -> Option<usize> {
        (o * self.stride[axis] + k * self.dilation[axis])
            .checked_sub(self.padding[axis])
            .filter(|&i| i < self.input[axis])
    }

    /// For kernel offset `k` along the width: the output columns `lo..hi` that read inside the
    /// input and the input column the first of them reads, or `None` when all read padding.
    /// Hoisting the bounds out of the pixel loop leaves it a strided copy (a plain copy at
    /// stride 1).
    #[inline]
    fn valid_columns(&self, k: usize, out_width: usize) -> Option<(usize, usize, usize)> {
        let (s, offset, pad) = (self.stride[1], k * self.dilation[1], self.padding[1]);
        let lo = pad.saturating_sub(offset).div_ceil(s);
        let hi = (self.input[1] + pad)
            .saturating_sub(offset)
            .div_ceil(s)
            .min(out_width);
        (lo < hi).then(|| (lo, hi, lo * s + offset - pad))
    }
}

/// The column matrix of `x`.
pub fn im2col(x: &[f32], g: &Geometry) -> Vec<f32> {
    let [oh, ow] = g.output().expect("checked by the caller");
    let [kh, kw] = g.kernel;
    let [h, w] = g.input;
    let n = g.columns();
    let mut cols = vec![0.0; g.patch_len() * n];
    cols.par_chunks_mut(n).enumerate().for_each(|(row, out)| {
        let (c, i, j) = (row / (kh * kw), row / kw % kh, row % kw);
        let Some((lo, hi, first)) = g.valid_columns(j, ow) else {
            return; // this kernel column reads only padding: the row stays zero
        };
        for b in 0..g.batch {
            let plane = &x[(b * g.cin + c) * h * w..][..h * w];
            for y in 0..oh {
                let Some(iy) = g.source(0, y, i) else {
                    continue;
                };
                let row = &plane[iy * w..][..w];
                let dst = &mut out[(b * oh + y) * ow..][..ow];
                if g.stride[1] == 1 {
                    dst[lo..hi].copy_from_slice(&row[first..first + hi - lo]);
                } else {
                    let src = row[first..].iter().step_by(g.stride[1]);
                    dst[lo..hi].iter_mut().zip(src).for_each(|(d, v)| *d = *v);
                }
            }
        }
    });
    cols
}

/// The adjoint of [`im2col`]: every column-matrix entry added back onto the input pixel it
/// was read from (the gradient of the input).
pub fn col2im(cols: &[f32], g: &Geometry) -> Vec<f32> {
    let [oh, ow] = g.output().expect("checked by the caller");
    let [kh, kw] = g.kernel;
    let [h, w] = g.input;
    let n = g.columns();
    let mut x = vec![0.0; g.batch * g.cin * h * w];
    // One (image, channel) plane per task: no two tasks write the same pixel.
    x.par_chunks_mut(h * w)
        .enumerate()
        .for_each(|(plane, dst)| {
            let (b, c) = (plane / g.cin, plane % g.cin);
            for i in 0..kh {
                for j in 0..kw {
                    let Some((lo, hi, first)) = g.valid_columns(j, ow) else {
                        continue;
                    };
                    let row = &cols[((c * kh + i) * kw + j) * n..][..n];
                    for y in 0..oh {
                        let Some(iy) = g.source(0, y, i) else {
                            continue;
                        };
                        let src = &row[(b * oh + y) * ow..][..ow];
                        let dst_row = &mut dst[iy * w..][..w];
                        let targets = dst_row[first..].iter_mut().step_by(g.stride[1]);
                        targets.zip(&src[lo..hi]).for_each(|(d, v)| *d += v);
                    }
                }
            }
        });
    x
}

/// `[first, second, len]` → `[second, first, len]` (row-major), whole rows at a time: the
/// `[B, C_out, L]` ↔ `[C_out, B, L]` between burn's layout and the product's.
pub fn swap_outer(data: &[f32], first: usize, second: usize, len: usize) -> Vec<f32> {
    assert_eq!(data.len(), first * second * len, "swap_outer: shape");
    let mut out = vec![0.0; data.len()];
    out.par_chunks_mut(len).enumerate().for_each(|(i, dst)| {
        let (a, b) = (i / first, i % first);
        dst.copy_from_slice(&data[(b * second + a) * len..][..len]);
    });
    out
}

/// A row-major matrix view: `rows × cols` with strides (a transposed view swaps them).
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Rows and columns.
    pub shape: [usize; 2],
    /// Element distance between consecutive rows and consecutive columns.
    pub strides: [usize; 2],
}

impl<'a> Matrix<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix of {rows} × {cols}");
        Self {
            data,
            shape: [rows, cols],
            strides: [cols, 1],
        }
    }

    /// The transpose, as a view.
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            shape: [self.shape[1], self.shape[0]],
            strides: [self.strides[1], self.strides[0]],
        }
    }
}

/// Products smaller than this many multiply-adds run on one thread (burn-flex's threshold).
const PARALLEL_MACS: usize = 192 * 192 * 192;

/// `a · b` into a new row-major matrix, through the `gemm` crate (the kernels burn-flex's
/// matmul uses), threaded for large products.
pub fn matmul(a: Matrix, b: Matrix) -> Vec<f32> {
    let ([m, k], [k2, n]) = (a.shape, b.shape);
    assert_eq!(k, k2, "inner dimensions {k} and {k2}");
    let last = |x: &Matrix| (x.shape[0] - 1) * x.strides[0] + (x.shape[1] - 1) * x.strides[1];
    assert!(
        m * k == 0 || last(&a) < a.data.len(),
        "lhs view out of bounds"
    );
    assert!(
        k * n == 0 || last(&b) < b.data.len(),
        "rhs view out of bounds"
    );
    let mut out = vec![0.0f32; m * n];
    if m * n * k == 0 {
        return out;
    }
    let parallelism = if m * n * k >= PARALLEL_MACS {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    // SAFETY: the asserts above keep every element the views address inside their slices, and
    // `out` holds exactly m × n row-major elements.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.data.as_ptr(),
            a.strides[1] as isize,
            a.strides[0] as isize,
            b.data.as_ptr(),
            b.strides[1] as isize,
            b.strides[0] as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    out
}
