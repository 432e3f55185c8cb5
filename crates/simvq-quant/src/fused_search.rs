//! The nearest-code search as one CubeCL kernel for the GPU backends (burn-wgpu, burn-cuda):
//! scores and the running argmin in one pass, no `[N, K]` score tile in global memory.
//!
//! The generic path ([`crate::Codebook::nearest_tiled`]) writes every tile of scores to global
//! memory with a matmul and reads it back for `min_dim`: at K = 262,144 that is most of the
//! search's memory traffic, and the tile budget caps how much of the GPU a step can use. Here a
//! workgroup of 16 × 16 threads scores 64 query rows against 64 codes at a time, as a matmul
//! kernel would: 16-wide slices of both are staged through shared memory (the last column,
//! `1` against `‖e‖²`, on its own), each thread accumulates a
//! 4 × 4 block of scores in registers (8 shared-memory reads per 16 multiply-adds, laid out so
//! a warp's reads hit distinct banks or one broadcast word), then folds them into a running
//! best per row. At the end the 16 threads sharing a row reduce their bests through shared
//! memory. Only `[N]` scores and indices are written.
//!
//! The codes are walked in chunks, one launch each, with the running (score, code) per row
//! kept in an `[N]` buffer between launches: Mesa's llvmpipe (lavapipe, which runs the wgpu
//! suite in CI) ends every loop of an invocation once all its loops together have run 65,535
//! iterations (`LP_MAX_TGSI_LOOP_ITERATIONS`), silently, which at K ≥ 2,000 gave wrong codes;
//! bounded launches also stay clear of display GPUs' kernel watchdogs. Only the loops over
//! code tiles and over 16-wide slices of the width are loops; everything inside is unrolled.
//!
//! The arithmetic is the generic path's: the score of code `j` for query `z` is
//! `[−2z, 1] · [e_j, ‖e_j‖²]`, accumulated in f32; each thread visits its codes in ascending
//! order and replaces its best on a strictly lower score only, and the final reduction takes
//! the lowest index among equal scores, so ties go to the lowest index as in the generic path. The
//! sums run in another order than the matmul's, so on inputs whose scores are not exact in f32
//! two codes closer than rounding may swap; on exact inputs the indices are identical (tested
//! on wgpu in `simvq-backend-tests`).

use burn::tensor::DType;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeRuntime;
use cubecl::prelude::*;

/// Threads per side of a workgroup (16 × 16).
const SIDE: usize = 16;

/// Rows and codes per thread: each thread holds a `MICRO × MICRO` block of scores.
const MICRO: usize = 4;

/// Rows (and codes) one workgroup covers per tile: `SIDE · MICRO`.
const BLOCK: usize = SIDE * MICRO;

/// Slice of the width (`D + 1`) staged in shared memory per step.
const DEPTH: usize = 16;

/// Loop iterations one invocation may run per launch: half of llvmpipe's 65,535.
const ITERATIONS_PER_LAUNCH: usize = 32 << 10;

/// Scores query rows `[N, W]` against codes `chunk_start..chunk_end` of `keys` `[K, W]` and
/// merges each row's best into `best_scores` / `best_codes` (read unless `chunk_start` is 0;
/// they hold codes below `chunk_start`, so only a strictly lower score replaces them).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn nearest_code_kernel<F: Float, I: Numeric>(
    queries: &Tensor<F>,
    keys: &Tensor<F>,
    best_scores: &mut Tensor<f32>,
    best_codes: &mut Tensor<I>,
    chunk_start: u32,
    chunk_end: u32,
    #[comptime] width: usize,
    #[define(F, I)] _dtypes: [StorageType; 2],
) {
    let rows = queries.shape(0);
    let (tx, ty) = (UNIT_POS_X as usize, UNIT_POS_Y as usize);
    let thread = ty * SIDE + tx;
    let first_row = (CUBE_POS_Y * CUBE_COUNT_X + CUBE_POS_X) as usize * BLOCK;
    let end = chunk_end as usize;
    // The last column (the query's 1 and the code's ‖e‖²) is added on its own after the
    // slices, so a width of 2ⁿ + 1 costs no mostly-zero slice.
    let last = width - 1;
    // Slices stored transposed (`[d][row]`, `[d][code]`): thread (tx, ty) owns rows
    // `ty + i·SIDE` and codes `tx + j·SIDE`, so a warp reads consecutive words.
    let mut query_slice = SharedMemory::<f32>::new(DEPTH * BLOCK);
    let mut code_slice = SharedMemory::<f32>::new(DEPTH * BLOCK);
    let mut scores = Array::<f32>::new(MICRO * MICRO);
    let mut best = Array::<f32>::new(MICRO);
    // `end` marks "no code yet": every code of the chunk is below it.
    let mut best_code = Array::<u32>::new(MICRO);
    #[unroll]
    for i in 0..MICRO {
        best[i] = 0.0;
        best_code[i] = chunk_end;
    }

    let mut start = chunk_start as usize;
    while start < end {
        #[unroll]
        for i in 0..MICRO * MICRO {
            scores[i] = 0.0;
        }
        let mut d0 = 0usize;
        while d0 < last {
            // 256 threads stage 64 × 16 values of each side, 4 apiece, zero past the edges.
            #[unroll]
            for l in 0..BLOCK * DEPTH / (SIDE * SIDE) {
                let e = l * SIDE * SIDE + thread;
                let (r, d) = (e / DEPTH, d0 + e % DEPTH);
                let mut q = 0.0f32;
                if first_row + r < rows && d < last {
                    q = f32::cast_from(queries[(first_row + r) * width + d]);
                }
                query_slice[(e % DEPTH) * BLOCK + r] = q;
                let mut c = 0.0f32;
                if start + r < end && d < last {
                    c = f32::cast_from(keys[(start + r) * width + d]);
                }
                code_slice[(e % DEPTH) * BLOCK + r] = c;
            }
            sync_cube();
            #[unroll]
            for k in 0..DEPTH {
                #[unroll]
                for i in 0..MICRO {
                    let q = query_slice[k * BLOCK + i * SIDE + ty];
                    #[unroll]
                    for j in 0..MICRO {
                        scores[i * MICRO + j] += q * code_slice[k * BLOCK + j * SIDE + tx];
                    }
                }
            }
            sync_cube();
            d0 += DEPTH;
        }
        if thread < BLOCK {
            let mut q = 0.0f32;
            if first_row + thread < rows {
                q = f32::cast_from(queries[(first_row + thread) * width + last]);
            }
            query_slice[thread] = q;
            let mut c = 0.0f32;
            if start + thread < end {
                c = f32::cast_from(keys[(start + thread) * width + last]);
            }
            code_slice[thread] = c;
        }
        sync_cube();
        #[unroll]
        for i in 0..MICRO {
            let q = query_slice[i * SIDE + ty];
            #[unroll]
            for j in 0..MICRO {
                scores[i * MICRO + j] += q * code_slice[j * SIDE + tx];
            }
        }
        sync_cube();
        #[unroll]
        for i in 0..MICRO {
            #[unroll]
            for j in 0..MICRO {
                let code = start + j * SIDE + tx;
                let score = scores[i * MICRO + j];
                // Ascending codes, strictly lower only: a thread keeps its lowest tied index.
                if code < end && (best_code[i] == chunk_end || score < best[i]) {
                    best[i] = score;
                    best_code[i] = code as u32;
                }
            }
        }
        start += BLOCK;
    }
    reduce_rows::<I>(
        best_scores,
        best_codes,
        &best,
        &best_code,
        first_row,
        rows,
        chunk_start,
    );
}

/// The 16 threads sharing each row pool their bests through shared memory; one thread per
/// row takes the lowest score (lowest index among equals) and merges it with the earlier
/// chunks' best.
#[cube]
fn reduce_rows<I: Numeric>(
    best_scores: &mut Tensor<f32>,
    best_codes: &mut Tensor<I>,
    best: &Array<f32>,
    best_code: &Array<u32>,
    first_row: usize,
    rows: usize,
    chunk_start: u32,
) {
    let (tx, ty) = (UNIT_POS_X as usize, UNIT_POS_Y as usize);
    let mut pooled_scores = SharedMemory::<f32>::new(BLOCK * SIDE);
    let mut pooled_codes = SharedMemory::<u32>::new(BLOCK * SIDE);
    #[unroll]
    for i in 0..MICRO {
        pooled_scores[(i * SIDE + ty) * SIDE + tx] = best[i];
        pooled_codes[(i * SIDE + ty) * SIDE + tx] = best_code[i];
    }
    sync_cube();
    let local = ty * SIDE + tx;
    let row = first_row + local;
    if local < BLOCK && row < rows {
        let mut score = pooled_scores[local * SIDE];
        let mut code = pooled_codes[local * SIDE];
        #[unroll]
        for t in 1..SIDE {
            let s = pooled_scores[local * SIDE + t];
            let c = pooled_codes[local * SIDE + t];
            if s < score || (s == score && c < code) {
                score = s;
                code = c;
            }
        }
        // Earlier chunks hold lower indices: only a strictly lower score replaces theirs.
        if chunk_start == 0 || score < best_scores[row] {
            best_scores[row] = score;
            best_codes[row] = I::cast_from(code);
        }
    }
}

/// Index of the best-scoring key row for every query row (`[N, W]`, `[K, W]` → `[N]` of
/// `index_dtype`), a few launches of the fused kernel. `K` must be at least 1.
pub fn nearest_codes<R: CubeRuntime>(
    queries: CubeTensor<R>,
    keys: CubeTensor<R>,
    index_dtype: DType,
) -> CubeTensor<R> {
    let queries = into_contiguous(queries);
    let keys = into_contiguous(keys);
    let [rows, width] = [queries.meta.shape()[0], queries.meta.shape()[1]];
    let codes = keys.meta.shape()[0];
    let (client, device) = (queries.client.clone(), queries.device.clone());
    let best_codes =
        empty_device_dtype::<R>(client.clone(), device.clone(), [rows].into(), index_dtype);
    if rows == 0 {
        return best_codes;
    }
    let best_scores = empty_device_dtype::<R>(client.clone(), device, [rows].into(), DType::F32);
    let cubes = rows.div_ceil(BLOCK) as u32;
    let max_x = client.properties().hardware.max_cube_count.0.max(1);
    // Per code tile: one iteration per width slice, one for the tile loop.
    let tiles_per_launch = ITERATIONS_PER_LAUNCH / ((width - 1).div_ceil(DEPTH) + 1);
    let chunk = tiles_per_launch.max(1) * BLOCK;
    for chunk_start in (0..codes).step_by(chunk) {
        nearest_code_kernel::launch::<R>(
            &client,
            CubeCount::Static(cubes.min(max_x), cubes.div_ceil(max_x), 1),
            CubeDim::new_2d(SIDE as u32, SIDE as u32),
            queries.clone().into_tensor_arg(),
            keys.clone().into_tensor_arg(),
            best_scores.clone().into_tensor_arg(),
            best_codes.clone().into_tensor_arg(),
            chunk_start as u32,
            (chunk_start + chunk).min(codes) as u32,
            width,
            [queries.dtype.into(), index_dtype.into()],
        );
    }
    best_codes
}
