//! Quantizers picked by name from a TOML config, built, saved and loaded as one module type.
//!
//! burn's `Config` derive deserializes every field (defaults apply to `new`, not to parsing),
//! so a config file spells all of them out, as `configs/*.toml` do.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::{Distribution, Tensor};
use simvq_quant::{AnyQuantizer, GradientEstimator, Quantizer, QuantizerConfig};

type B = Autodiff<Flex>;

#[derive(Debug, serde::Deserialize)]
struct ModelConfig {
    quantizer: QuantizerConfig,
}

fn parse(text: &str) -> QuantizerConfig {
    toml::from_str::<ModelConfig>(text).unwrap().quantizer
}

#[test]
fn toml_picks_any_quantizer_by_name() {
    let simvq = parse(
        r#"
        [quantizer.SimVq]
        codebook_size = 1024
        dim = 16
        beta = 0.25
        legacy = false
        bias = true
        freeze_codebook = true
        seed = 0
        search_budget_bytes = 268435456
        estimator = "Rotation"
        frozen_codebook = "Gaussian"
        "#,
    );
    let QuantizerConfig::SimVq(config) = &simvq else {
        panic!("expected SimVq, got {simvq:?}")
    };
    assert_eq!(
        (config.codebook_size, config.dim, config.beta),
        (1024, 16, 0.25)
    );
    assert_eq!(config.estimator, GradientEstimator::Rotation);
    assert_eq!(
        config.frozen_codebook_dim, None,
        "optional fields may be left out"
    );
    assert!(config.freeze_codebook && config.bias && !config.legacy);

    let fsq = parse(
        r#"
        [quantizer.Fsq]
        levels = [8, 8, 8, 5, 5, 5]
        dim = 16
        projection_bias = true
        preserve_symmetry = false
        "#,
    );
    let vq = parse(&vq_toml(512, 16));

    let device = Default::default();
    for (config, size) in [(simvq, 1024), (fsq, 64_000), (vq, 512)] {
        let quantizer = config.init::<B>(&device).unwrap();
        assert_eq!((quantizer.codebook_size(), quantizer.dim()), (size, 16));
        let z = Tensor::<B, 3>::random([2, 16, 10], Distribution::Normal(0.0, 1.0), &device);
        let out = quantizer.forward_1d(z).unwrap();
        assert_eq!(out.indices.dims(), [2, 10]);
        let decoded = quantizer.decode_indices_1d(out.indices).unwrap();
        assert_eq!(decoded.dims(), [2, 16, 10]);

        // JSON round trip of the config (what checkpoints store).
        let json = serde_json::to_string(&config).unwrap();
        let back: QuantizerConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}

fn vq_toml(codebook_size: usize, dim: usize) -> String {
    format!(
        "[quantizer.Vq]\ncodebook_size = {codebook_size}\ndim = {dim}\nbeta = 0.25\nlegacy = false\n\
         seed = 0\nsearch_budget_bytes = 1048576\nestimator = \"StraightThrough\"\n\
         l2_normalize = false\nprojection_bias = true\n"
    )
}

#[test]
fn missing_and_unknown_names_are_rejected() {
    let err = toml::from_str::<ModelConfig>("[quantizer.Vq]\ncodebook_size = 4\n").unwrap_err();
    assert!(err.to_string().contains("missing field"), "{err}");
    let err = toml::from_str::<ModelConfig>("[quantizer.Lfq2]\ndim = 4\n").unwrap_err();
    assert!(err.to_string().contains("unknown variant"), "{err}");
}

#[test]
fn any_quantizer_saves_and_loads() {
    let device = Default::default();
    let config = parse(&vq_toml(64, 8));
    let quantizer = config.init::<B>(&device).unwrap();
    let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = recorder
        .record(quantizer.clone().into_record(), ())
        .unwrap();
    let other = parse(&vq_toml(64, 8).replace("seed = 0", "seed = 2"));
    let loaded: AnyQuantizer<B> = other
        .init::<B>(&device)
        .unwrap()
        .load_record(recorder.load(bytes, &device).unwrap());
    let z = Tensor::<B, 2>::random([30, 8], Distribution::Normal(0.0, 1.0), &device);
    let a: Vec<i64> = quantizer
        .forward(z.clone())
        .unwrap()
        .indices
        .into_data()
        .iter::<i64>()
        .collect();
    let b: Vec<i64> = loaded
        .forward(z)
        .unwrap()
        .indices
        .into_data()
        .iter::<i64>()
        .collect();
    assert_eq!(a, b);
}
