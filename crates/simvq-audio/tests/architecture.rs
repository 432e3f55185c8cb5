//! The reference codec: parameter counts, the 24,000 → 75 → 24,000 shapes, causal padding.

use burn::backend::Flex;
use burn::module::Module;
use burn::tensor::{Distribution, Int, Tensor};
use simvq_audio::{
    extra_padding, reflect_pad, AudioCodecConfig, AudioError, SeanetConfig, VocosConfig,
};
use simvq_quant::{CodebookQuantizer, SimVqConfig};

type B = Flex;

/// Millions of parameters, rounded as the spec gives them.
fn millions(n: usize, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (n as f64 / 1e6 * scale).round() / scale
}

#[test]
fn reference_parameter_counts_match_the_spec() {
    let codec = AudioCodecConfig::reference(4096)
        .init::<B>(&Default::default())
        .unwrap();
    assert_eq!(millions(codec.encoder.num_params(), 2), 8.80);
    assert_eq!(millions(codec.backbone.num_params(), 1), 61.9);
    // Linear 768 → 1282.
    assert_eq!(codec.head.num_params(), 768 * 1282 + 1282);
    // W, b and the frozen C (4,096 × 512).
    assert_eq!(codec.quantizer.num_params(), 512 * 512 + 512 + 4096 * 512);
}

#[test]
fn one_second_is_75_tokens_and_decodes_to_one_second() {
    let config = AudioCodecConfig::reference(4096);
    assert_eq!(config.frame_rate(), 75.0);
    assert!((config.bitrate() - 900.0).abs() < 1e-9);
    assert!((AudioCodecConfig::reference(262_144).bitrate() - 1350.0).abs() < 1e-9);
    let device = Default::default();
    let codec = config.init::<B>(&device).unwrap();
    let wave = Tensor::<B, 2>::random([1, 24_000], Distribution::Uniform(-0.5, 0.5), &device);
    let latent = codec.encoder.forward(wave.clone().reshape([1, 1, 24_000]));
    assert_eq!(latent.dims(), [1, 512, 75]);
    let out = codec.forward(wave.clone()).unwrap();
    assert_eq!(out.indices.dims(), [1, 75]);
    assert_eq!(out.reconstruction.dims(), [1, 24_000]);
    let tokens = codec.encode(wave).unwrap();
    assert_eq!(tokens.clone().into_data(), out.indices.into_data());
    assert_eq!(codec.decode_indices(tokens).unwrap().dims(), [1, 24_000]);
}

/// A codec narrow enough for quick tests.
fn small_config() -> AudioCodecConfig {
    AudioCodecConfig::new(
        SeanetConfig::new()
            .with_filters(4)
            .with_dimension(32)
            .with_lstm_layers(1),
        SimVqConfig::new()
            .with_codebook_size(64)
            .with_dim(32)
            .with_seed(1),
        VocosConfig::new()
            .with_input_channels(32)
            .with_dim(64)
            .with_intermediate_dim(96)
            .with_layers(1),
    )
}

fn small_codec() -> simvq_audio::AudioCodec<B> {
    small_config().init::<B>(&Default::default()).unwrap()
}

#[test]
fn lengths_round_up_to_whole_frames() {
    let codec = small_codec();
    let device = Default::default();
    for samples in [1usize, 319, 320, 321, 1000] {
        let wave = Tensor::<B, 2>::random([2, samples], Distribution::Uniform(-0.5, 0.5), &device);
        let tokens = codec.encode(wave).unwrap();
        let frames = samples.div_ceil(320);
        assert_eq!(tokens.dims(), [2, frames], "{samples} samples");
        assert_eq!(
            codec.decode_indices(tokens).unwrap().dims(),
            [2, 320 * frames]
        );
    }
}

#[test]
fn causal_padding_follows_encodec() {
    // A stride-8 conv of kernel 16 over 100 samples: 8 on the left, and enough on the right
    // for a 13th frame (EnCodec's get_extra_padding_for_conv1d).
    assert_eq!(extra_padding(100, 16, 8, 8), 4);
    assert_eq!(extra_padding(96, 16, 8, 8), 0);
    // Reflection of a signal shorter than the padding: zero-extended first.
    let x = Tensor::<B, 3>::from_floats([[[1.0, 2.0, 3.0]]], &Default::default());
    let padded = reflect_pad(x.clone(), 2, 1)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(padded, vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0]);
    let short = reflect_pad(x, 4, 0).into_data().to_vec::<f32>().unwrap();
    // torch: F.pad([1,2,3,0,0], (4,0), 'reflect')[..., :-2] → [0, 0, 3, 2, 1, 2, 3]
    assert_eq!(short, vec![0.0, 0.0, 3.0, 2.0, 1.0, 2.0, 3.0]);
}

#[test]
fn tokens_decode_through_the_projected_codebook_and_bad_input_is_refused() {
    let codec = small_codec();
    let device = Default::default();
    let tokens = Tensor::<B, 2, Int>::from_ints([[0, 5, 63]], &device);
    let codes = codec
        .quantizer
        .codebook()
        .codes()
        .select(0, tokens.clone().reshape([3]))
        .reshape([1, 3, 32])
        .swap_dims(1, 2);
    let expected = codec.head.forward(codec.backbone.forward(codes));
    codec
        .decode_indices(tokens)
        .unwrap()
        .into_data()
        .assert_approx_eq::<f32>(&expected.into_data(), Default::default());
    let out_of_range = Tensor::<B, 2, Int>::from_ints([[64]], &device);
    assert!(codec.decode_indices(out_of_range).is_err());
    let empty = Tensor::<B, 2>::zeros([1, 0], &device);
    assert!(matches!(codec.encode(empty), Err(AudioError::Shape(_))));
}

#[test]
fn the_codec_trains_under_autodiff() {
    let _autodiff = simvq_quant::autodiff_lock();
    use burn::backend::Autodiff;
    use burn::optim::GradientsParams;
    use simvq_audio::MelConfig;
    type AB = Autodiff<Flex>;
    let device = Default::default();
    let codec = small_config().init::<AB>(&device).unwrap();
    let wave = Tensor::<AB, 2>::random([1, 3200], Distribution::Uniform(-0.5, 0.5), &device);
    let out = codec.forward(wave.clone()).unwrap();
    let mel = MelConfig::new().init::<AB>(&device);
    let loss = mel.log_mel_l1(out.reconstruction, wave) * 45.0 + out.quant_loss.total() * 1000.0;
    let mut grads = loss.backward();
    let grads = GradientsParams::from_module(&mut grads, &codec);
    // Encoder (weight-norm g and v, LSTM), W and b, backbone, head: everything but C.
    let trainable = codec.num_params() - 64 * 32;
    assert!(
        grads.len() > 40,
        "{} parameter tensors got gradients",
        grads.len()
    );
    assert!(trainable > 0);
}
