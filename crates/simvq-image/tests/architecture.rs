//! The reference architecture: parameter counts, shapes, DCR order, token decoding.

use burn::backend::Flex;
use burn::module::Module;
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use simvq_image::{
    depth_to_space_dcr, AutoencoderConfig, ImageError, ImageTokenizerConfig,
    PatchDiscriminatorConfig,
};
use simvq_quant::{CodebookQuantizer, SeededInit, SimVqConfig};
use simvq_testkit::module_weights;

type B = Flex;

/// Millions of parameters, rounded to the 10k the spec gives.
fn millions(n: usize) -> f64 {
    (n as f64 / 1e4).round() / 100.0
}

#[test]
fn reference_parameter_counts_match_the_spec() {
    let device = Default::default();
    let tokenizer = ImageTokenizerConfig::reference(1024)
        .init::<B>(&device)
        .unwrap();
    assert_eq!(millions(tokenizer.encoder.num_params()), 24.28);
    assert_eq!(millions(tokenizer.decoder.num_params()), 39.85);
    // W (128×128) and b (128), plus the frozen C (1,024×128), which `num_params` counts too.
    assert_eq!(
        tokenizer.quantizer.num_params(),
        128 * 128 + 128 + 1024 * 128
    );
    let discriminator = PatchDiscriminatorConfig::new().init::<B>(&device);
    assert_eq!(millions(discriminator.num_params()), 2.77);
}

#[test]
fn reference_shapes_128_to_16x16x128_to_128() {
    let device = Default::default();
    let tokenizer = ImageTokenizerConfig::reference(1024)
        .init::<B>(&device)
        .unwrap();
    let images =
        Tensor::<B, 4>::random([1, 3, 128, 128], Distribution::Uniform(-1.0, 1.0), &device);
    let latent = tokenizer.encoder.forward(images.clone());
    assert_eq!(latent.dims(), [1, 128, 16, 16]);
    let out = tokenizer.forward(images.clone()).unwrap();
    assert_eq!(out.reconstruction.dims(), [1, 3, 128, 128]);
    assert_eq!(out.indices.dims(), [1, 16, 16]);
    let tokens = tokenizer.encode(images).unwrap();
    assert_eq!(tokens.dims(), [1, 16, 16]);
    // Training forward and inference encode pick the same codes.
    assert_eq!(tokens.into_data(), out.indices.into_data());
    let logits = PatchDiscriminatorConfig::new()
        .init::<B>(&device)
        .forward(out.reconstruction);
    assert_eq!(logits.dims(), [1, 1, 14, 14]);
}

/// Initialisation draws on the host from its own seed: two tokenizers and discriminators built
/// at once in two threads from seed 3 are identical, seed 4 gives others, and `init` is
/// seed 0.
#[test]
fn initialisation_is_seeded_and_independent_of_other_threads() {
    let config = small_config();
    let build = |seed| {
        let init = SeededInit::<B>::new(seed, &Default::default());
        let tokenizer = config.init_seeded(&init).unwrap();
        let discriminator = PatchDiscriminatorConfig::new()
            .with_base_channels(8)
            .init_seeded(&init);
        (module_weights(&tokenizer), module_weights(&discriminator))
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| build(3));
        let b = s.spawn(|| build(3));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a, b);
    assert_ne!(a.0, build(4).0);
    let default = module_weights(&config.init::<B>(&Default::default()).unwrap());
    assert_eq!(default, build(0).0);
}

#[test]
fn depth_to_space_uses_dcr_order_not_pixel_shuffle() {
    // in[0, k, 0, 0] = k for 8 channels → 2 output channels of 2×2.
    let x = Tensor::<B, 4>::from_data(
        TensorData::new((0..8).map(|v| v as f32).collect::<Vec<_>>(), [1, 8, 1, 1]),
        &Default::default(),
    );
    let out = depth_to_space_dcr(x, 2)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    // out[c, i, j] = in[(i·2 + j)·2 + c]; PixelShuffle would give in[c·4 + i·2 + j].
    assert_eq!(out, vec![0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 5.0, 7.0]);
}

fn small_config() -> ImageTokenizerConfig {
    let autoencoder = AutoencoderConfig::new()
        .with_channels(32)
        .with_channel_multipliers(vec![1, 2])
        .with_res_blocks(1)
        .with_z_channels(8);
    ImageTokenizerConfig::new(
        autoencoder,
        SimVqConfig::new()
            .with_codebook_size(64)
            .with_dim(8)
            .with_seed(3),
    )
}

#[test]
fn tokens_decode_through_the_projected_codebook() {
    let device = Default::default();
    let tokenizer = small_config().init::<B>(&device).unwrap();
    let tokens = Tensor::<B, 3, Int>::from_data(
        TensorData::new((0..32i64).map(|v| v * 2).collect::<Vec<_>>(), [2, 4, 4]),
        &device,
    );
    let decoded = tokenizer.decode_indices(tokens.clone()).unwrap();
    assert_eq!(decoded.dims(), [2, 3, 8, 8]);
    // E = C·Wᵀ + b, gathered by hand, through the decoder, clamped.
    let codes = tokenizer
        .quantizer
        .codebook()
        .codes()
        .select(0, tokens.reshape([32]))
        .reshape([2, 4, 4, 8])
        .permute([0, 3, 1, 2]);
    let expected = tokenizer.decoder.forward(codes).clamp(-1.0, 1.0);
    decoded
        .into_data()
        .assert_approx_eq::<f32>(&expected.into_data(), Default::default());
    let max = decoded_max_abs(&tokenizer, &device);
    assert!(max <= 1.0);
}

fn decoded_max_abs(
    tokenizer: &simvq_image::ImageTokenizer<B>,
    device: &burn::tensor::Device<B>,
) -> f32 {
    let images = Tensor::<B, 4>::random([1, 3, 16, 16], Distribution::Normal(0.0, 3.0), device);
    tokenizer
        .reconstruct(images)
        .unwrap()
        .abs()
        .max()
        .into_scalar()
}

#[test]
fn wrong_inputs_and_configs_are_refused_with_the_fix() {
    let device = Default::default();
    let tokenizer = small_config().init::<B>(&device).unwrap();
    let odd = Tensor::<B, 4>::zeros([1, 3, 9, 16], &device);
    let err = tokenizer.encode(odd).unwrap_err().to_string();
    assert!(err.contains("multiples of 2"), "{err}");
    let gray = Tensor::<B, 4>::zeros([1, 1, 16, 16], &device);
    assert!(matches!(tokenizer.forward(gray), Err(ImageError::Shape(_))));
    let out_of_range = Tensor::<B, 3, Int>::full([1, 2, 2], 64, &device);
    assert!(tokenizer.decode_indices(out_of_range).is_err());

    let mut narrow = small_config();
    narrow.autoencoder.channels = 48;
    let err = narrow.init::<B>(&device).unwrap_err().to_string();
    assert!(err.contains("GroupNorm"), "{err}");
    let mut mismatched = small_config();
    mismatched.quantizer.dim = 16;
    let err = mismatched.init::<B>(&device).unwrap_err().to_string();
    assert!(err.contains("z_channels"), "{err}");
}
