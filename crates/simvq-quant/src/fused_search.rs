//! The nearest-code search as one CubeCL kernel for the GPU backends (burn-wgpu, burn-cuda):
//! scores and the running argmin in one pass, no `[N, K]` score tile in global memory.
//!
//! The generic path ([`crate::Codebook::nearest_tiled`]) writes every tile of scores to global
//! memory with a matmul and reads it back for `min_dim`: at K = 262,144 that is most of the
//! search's memory traffic, and the tile budget caps how much of the GPU a step can use. Here
//! each thread owns one query row, held in registers; a workgroup loads a tile of codes into
//! shared memory, every thread scores its row against each of them, and keeps the best. Only the
//! `[N]` indices are written.
//!
//! The codes are walked in chunks, one launch each, with the running (score, code) per row
//! kept in an `[N]` buffer between launches: Mesa's llvmpipe (lavapipe, which runs the wgpu
//! suite in CI) ends every loop of an invocation once all its loops together have run 65,535
//! iterations (`LP_MAX_TGSI_LOOP_ITERATIONS`), silently, which at K ≥ 2,000 gave wrong codes;
//! bounded launches also stay clear of display GPUs' kernel watchdogs. The loops over the code
//! width are unrolled (the width is a compile-time parameter), so a chunk's iterations are
//! about one per code.
//!
//! The arithmetic is the generic path's: the score of code `j` for query `z` is
//! `[−2z, 1] · [e_j, ‖e_j‖²]`, accumulated in f32, codes visited in ascending order and replaced
//! on a strictly lower score only, so ties go to the lowest index as in the generic path. The
//! sums run in another order than the matmul's, so on inputs whose scores are not exact in f32
//! two codes closer than rounding may swap; on exact inputs the indices are identical (tested
//! on wgpu in `simvq-backend-tests`).

use burn::tensor::DType;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::CubeRuntime;
use cubecl::prelude::*;

/// Threads (query rows) per workgroup, at most: every GPU and lavapipe allow 256.
const ROWS_PER_CUBE: u32 = 256;

/// Shared memory one workgroup's tile of codes may take. 16 KiB leaves room for two
/// workgroups per streaming multiprocessor even on 32-KiB devices.
const TILE_BYTES: usize = 16 << 10;

/// Most codes in one tile: past this the tile loop no longer amortises the barriers.
const MAX_TILE_CODES: usize = 256;

/// Loop iterations one invocation may run per launch: half of llvmpipe's 65,535.
const ITERATIONS_PER_LAUNCH: usize = 32 << 10;

/// Scores each query row (`[N, W]`) against codes `chunk_start..chunk_end` of `keys`
/// (`[K, W]`) and updates the row's running best in `best_scores` / `best_codes` (read unless
/// `chunk_start` is 0).
///
/// `width` (W = D + 1) and `tile_codes` are compile-time: the query lives in `width`
/// registers, the tile in `tile_codes × width` floats of shared memory, and the loops over the
/// width are unrolled (one kernel per code width, which a model fixes).
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
    #[comptime] tile_codes: usize,
    #[define(F, I)] _dtypes: [StorageType; 2],
) {
    let cube = (CUBE_POS_Y * CUBE_COUNT_X + CUBE_POS_X) as usize;
    let row = cube * CUBE_DIM_X as usize + UNIT_POS_X as usize;
    let active = row < queries.shape(0);
    let (chunk_start, chunk_end) = (chunk_start as usize, chunk_end as usize);

    let mut query = Array::<f32>::new(width);
    let mut best_score = 0.0f32;
    let mut best_code = 0usize;
    if active {
        #[unroll]
        for d in 0..width {
            query[d] = f32::cast_from(queries[row * width + d]);
        }
        if chunk_start > 0 {
            best_score = best_scores[row];
            best_code = usize::cast_from(best_codes[row]);
        }
    }
    let mut tile = SharedMemory::<F>::new(tile_codes * width);
    let mut start = chunk_start;
    while start < chunk_end {
        let mut len = chunk_end - start;
        if len > tile_codes {
            len = tile_codes;
        }
        // Every thread of the workgroup loads part of the tile, active or not: all must
        // reach both barriers.
        let mut i = UNIT_POS_X as usize;
        while i < len * width {
            tile[i] = keys[start * width + i];
            i += CUBE_DIM_X as usize;
        }
        sync_cube();
        if active {
            for t in 0..len {
                let mut score = 0.0f32;
                #[unroll]
                for d in 0..width {
                    score += query[d] * f32::cast_from(tile[t * width + d]);
                }
                let code = start + t;
                // Strictly lower only: the first code reaching a score keeps it.
                if code == 0 || score < best_score {
                    best_score = score;
                    best_code = code;
                }
            }
        }
        sync_cube();
        start += tile_codes;
    }
    if active {
        best_scores[row] = best_score;
        best_codes[row] = I::cast_from(best_code);
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
    let hardware = &client.properties().hardware;
    let threads = ROWS_PER_CUBE.min(hardware.max_units_per_cube);
    let cubes = rows.div_ceil(threads as usize) as u32;
    let max_x = hardware.max_cube_count.0.max(1);
    let tile_bytes = TILE_BYTES.min(hardware.max_shared_memory_size / 2);
    let tile_codes = (tile_bytes / (width * queries.dtype.size())).clamp(1, MAX_TILE_CODES);
    // Per code: one scoring iteration and its share of the tile loads.
    let chunk = ITERATIONS_PER_LAUNCH * threads as usize / (threads as usize + width);
    for chunk_start in (0..codes).step_by(chunk.max(1)) {
        nearest_code_kernel::launch::<R>(
            &client,
            CubeCount::Static(cubes.min(max_x), cubes.div_ceil(max_x), 1),
            CubeDim::new_1d(threads),
            queries.clone().into_tensor_arg(),
            keys.clone().into_tensor_arg(),
            best_scores.clone().into_tensor_arg(),
            best_codes.clone().into_tensor_arg(),
            chunk_start as u32,
            (chunk_start + chunk).min(codes) as u32,
            width,
            tile_codes,
            [queries.dtype.into(), index_dtype.into()],
        );
    }
    best_codes
}
