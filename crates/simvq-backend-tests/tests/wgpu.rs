//! Every model on burn-wgpu equals burn-flex: same seeded weights, same inputs, outputs and
//! gradients within f32 summation-order noise, indices exactly. Runs on any Vulkan device,
//! Mesa's lavapipe (a CPU) included: `cargo test -p simvq-backend-tests --features wgpu`.
#![cfg(feature = "wgpu")]

use burn::backend::wgpu::{Wgpu, WgpuDevice};
use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use simvq_backend_tests::{
    assert_same, audio_pass, audio_training_step, chirp_points, crepe_pass, image_pass,
    image_training_step, inception_pass, integer_points, lpips_pass, quantizer_pass,
    relative_tie_gap, residual_pass, search_paths, tied_search, PortableWeights, SeededConvWeights,
};
use simvq_metrics::{Crepe, CrepeCapacity, FidInception, Lpips, LpipsNet};
use simvq_quant::{
    EmaVqConfig, FsqConfig, LfqConfig, QuantizerConfig, ResidualSimVqConfig, SimVqConfig, VqConfig,
};

type Gpu = Autodiff<Wgpu>;
type Cpu = Autodiff<Flex>;

fn gpu() -> WgpuDevice {
    WgpuDevice::default()
}

/// Outputs and gradients differ by summation order only: a few ulps of the tensor's
/// largest value per layer, compounded through the network.
const REL: f64 = 2e-3;

/// Latent width of the quantizer probes.
const DIM: usize = 16;

fn same_quantizer_pass(config: QuantizerConfig) {
    assert_same(
        &quantizer_pass::<Gpu>(&config, DIM, &gpu()),
        &quantizer_pass::<Cpu>(&config, DIM, &Default::default()),
        REL,
    );
}

#[test]
fn simvq_forward_and_backward() {
    // A small search budget: the search runs in many tiles.
    same_quantizer_pass(QuantizerConfig::SimVq(
        SimVqConfig::new()
            .with_codebook_size(1024)
            .with_dim(DIM)
            .with_seed(5)
            .with_search_budget_bytes(64 * 1024),
    ));
}

#[test]
fn vq_and_vqgan_fc_forward_and_backward() {
    let vq = VqConfig::new()
        .with_codebook_size(1024)
        .with_dim(DIM)
        .with_seed(6)
        .with_search_budget_bytes(64 * 1024);
    same_quantizer_pass(QuantizerConfig::Vq(vq.clone()));
    // VQGAN-FC: 8-d factorized, l2-normalised codes.
    same_quantizer_pass(QuantizerConfig::Vq(
        vq.with_codebook_dim(Some(8)).with_l2_normalize(true),
    ));
}

#[test]
fn ema_vq_forward_backward_and_codebook_update() {
    same_quantizer_pass(QuantizerConfig::EmaVq(
        EmaVqConfig::new()
            .with_codebook_size(1024)
            .with_dim(DIM)
            .with_seed(7),
    ));
}

#[test]
fn fsq_forward_and_backward() {
    same_quantizer_pass(QuantizerConfig::Fsq(
        FsqConfig::new(vec![8, 5, 5, 5])
            .with_dim(Some(DIM))
            .with_seed(8),
    ));
}

#[test]
fn lfq_and_bsq_forward_and_backward() {
    let lfq = LfqConfig::new(1024).with_dim(Some(DIM)).with_seed(9);
    same_quantizer_pass(QuantizerConfig::Lfq(lfq.clone()));
    same_quantizer_pass(QuantizerConfig::Lfq(lfq.with_spherical(true)));
}

#[test]
fn residual_simvq_forward_and_backward() {
    let config = ResidualSimVqConfig::new(
        3,
        SimVqConfig::new()
            .with_codebook_size(256)
            .with_dim(DIM)
            .with_seed(10),
    );
    assert_same(
        &residual_pass::<Gpu>(&config, &gpu()),
        &residual_pass::<Cpu>(&config, &Default::default()),
        REL,
    );
}

#[test]
fn tied_codes_resolve_to_the_lowest_index() {
    let want: Vec<i64> = (0..64).map(|q| 3 * q).collect();
    assert_eq!(tied_search::<Wgpu>(&gpu()), want, "wgpu");
    assert_eq!(tied_search::<Flex>(&Default::default()), want, "burn-flex");
}

#[test]
fn fused_search_runs_on_wgpu_bare_and_under_autodiff() {
    let codes = integer_points(300, 8, 1.0);
    let queries = integer_points(50, 8, 2.0);
    let bare = search_paths::<Wgpu>(&codes, &queries, 8, &gpu());
    let autodiff = search_paths::<Gpu>(&codes, &queries, 8, &gpu());
    assert!(bare.fused.is_some(), "Wgpu has the fused kernel");
    assert_eq!(autodiff, bare, "Autodiff<Wgpu> runs the same kernel");
    let cpu = search_paths::<Flex>(&codes, &queries, 8, &Default::default());
    assert_eq!(cpu.fused, None, "burn-flex keeps the generic search");
}

/// On scores exact in f32 the fused kernel, the tiled search on wgpu and burn-flex's search
/// agree index for index, ties included: rows not a multiple of a workgroup (256), codes not
/// a multiple of a shared-memory tile, widths that fit many and few codes per tile, and more
/// codes than one launch walks (the running best carried across launches).
#[test]
fn fused_search_equals_the_tiled_search_on_exact_scores() {
    // 124,000 codes of width 256 take two launches (123,328 codes each at most).
    for (dim, n, k) in [
        (8, 1000, 70001),
        (64, 777, 2500),
        (255, 300, 700),
        (255, 64, 124_000),
    ] {
        let codes = integer_points(k, dim, 0.5 + dim as f64);
        let queries = integer_points(n, dim, 1.5 + dim as f64);
        let wgpu = search_paths::<Wgpu>(&codes, &queries, dim, &gpu());
        let cpu = search_paths::<Flex>(&codes, &queries, dim, &Default::default());
        let fused = wgpu.fused.as_ref().expect("fused kernel");
        assert_eq!(fused, &cpu.tiled, "fused vs burn-flex, D = {dim}");
        assert_eq!(wgpu.tiled, cpu.tiled, "tiled wgpu vs burn-flex, D = {dim}");
        assert_eq!(
            &wgpu.nearest, fused,
            "nearest is the fused kernel, D = {dim}"
        );
    }
}

/// On real-valued latents the two paths sum in different orders; any index they disagree on
/// must be a tie to within f32 rounding (here: none is expected, and any would be reported).
#[test]
fn fused_search_matches_the_tiled_search_on_real_latents() {
    let (dim, n, k) = (32, 1024, 65536);
    let codes = chirp_points(k, dim, 0.25);
    let queries = chirp_points(n, dim, 3.75);
    let wgpu = search_paths::<Wgpu>(&codes, &queries, dim, &gpu());
    let fused = wgpu.fused.expect("fused kernel");
    let differing: Vec<(usize, f64)> = (0..n)
        .filter(|&row| fused[row] != wgpu.tiled[row])
        .map(|row| {
            let gap = relative_tie_gap(&codes, &queries, dim, row, fused[row], wgpu.tiled[row]);
            (row, gap)
        })
        .collect();
    assert!(
        differing.iter().all(|&(_, gap)| gap < 1e-6),
        "indices that differ by more than rounding: {differing:?}"
    );
    assert!(
        differing.len() <= n / 1000,
        "{} of {n} rows differ",
        differing.len()
    );
}

#[test]
fn image_tokenizer_and_patchgan() {
    assert_same(
        &image_pass::<Gpu>(&gpu()),
        &image_pass::<Cpu>(&Default::default()),
        REL,
    );
}

#[test]
fn one_image_training_step() {
    assert_same(
        &image_training_step::<Gpu>(&gpu()),
        &image_training_step::<Cpu>(&Default::default()),
        REL,
    );
}

#[test]
fn audio_codec_and_discriminators() {
    assert_same(
        &audio_pass::<Gpu>(&gpu()),
        &audio_pass::<Cpu>(&Default::default()),
        REL,
    );
}

#[test]
fn one_audio_training_step() {
    assert_same(
        &audio_training_step::<Gpu>(&gpu()),
        &audio_training_step::<Cpu>(&Default::default()),
        REL,
    );
}

/// Stack for the Inception probe on wgpu: it overflows a test thread's default 2 MiB there
/// (not on burn-flex; where in burn-wgpu the recursion is has not been traced).
const INCEPTION_STACK: usize = 32 << 20;

#[test]
fn fid_inception_features() {
    let weights = PortableWeights::of(FidInception::<Flex>::random(&Default::default()));
    let on_gpu = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(INCEPTION_STACK)
            .spawn_scoped(scope, || inception_pass::<Wgpu>(&weights, &gpu()))
            .expect("a thread")
            .join()
            .expect("the wgpu pass")
    });
    assert_same(
        &on_gpu,
        &inception_pass::<Flex>(&weights, &Default::default()),
        REL,
    );
}

#[test]
fn lpips_vgg_distance_and_its_gradient() {
    // Seeded, not the backend's draw: see SeededConvWeights for why a gradient through ReLUs
    // and max pools needs one fixed draw.
    let weights = PortableWeights::of(
        Lpips::<Flex>::random(LpipsNet::Vgg, &Default::default())
            .map(&mut SeededConvWeights::<Flex>::new(1, &Default::default())),
    );
    assert_same(
        &lpips_pass::<Gpu>(LpipsNet::Vgg, &weights, &gpu()),
        &lpips_pass::<Cpu>(LpipsNet::Vgg, &weights, &Default::default()),
        REL,
    );
}

#[test]
fn crepe_pitch_probabilities() {
    let weights = PortableWeights::of(Crepe::<Flex>::random(
        CrepeCapacity::Full,
        &Default::default(),
    ));
    assert_same(
        &crepe_pass::<Wgpu>(&weights, CrepeCapacity::Full, &gpu()),
        &crepe_pass::<Flex>(&weights, CrepeCapacity::Full, &Default::default()),
        REL,
    );
}

/// The gradient of `x ↦ Σ gelu(x)` at 601 points of [−6, 6].
fn gelu_gradient<B: burn::tensor::backend::AutodiffBackend>(
    gelu: fn(burn::tensor::Tensor<B, 1>) -> burn::tensor::Tensor<B, 1>,
    device: &B::Device,
) -> Vec<f64> {
    let _autodiff = simvq_quant::autodiff_lock();
    let xs: Vec<f32> = (0..=600).map(|i| -6.0 + 0.02 * i as f32).collect();
    let n = xs.len();
    let x = burn::tensor::Tensor::<B, 1>::from_data(burn::tensor::TensorData::new(xs, [n]), device)
        .require_grad();
    let grads = gelu(x.clone()).sum().backward();
    let grad = x.grad(&grads).expect("x takes part in the sum");
    grad.into_data()
        .convert::<f64>()
        .to_vec()
        .expect("float values")
}

/// The largest difference between two gradients.
fn largest_gap(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn the_backbones_gelu_has_the_exact_gradient_on_wgpu() {
    let cpu = gelu_gradient::<Cpu>(simvq_audio::exact_gelu, &Default::default());
    let ours = gelu_gradient::<Gpu>(simvq_audio::exact_gelu, &gpu());
    assert!(
        largest_gap(&ours, &cpu) < 1e-5,
        "exact_gelu: {:e}",
        largest_gap(&ours, &cpu)
    );
    // What the backbone's activation replaced: burn's gelu, whose wgpu backward is the tanh
    // approximation's derivative. If burn fixes it, this fails, and exact_gelu can go.
    let burns = gelu_gradient::<Gpu>(burn::tensor::activation::gelu, &gpu());
    assert!(
        largest_gap(&burns, &cpu) > 5e-4,
        "burn's gelu: {:e}",
        largest_gap(&burns, &cpu)
    );
}
