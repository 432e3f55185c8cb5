//! Quantizers picked by name from a TOML config, built, saved and loaded as one module type.
//!
//! burn's `Config` derive deserializes every field (defaults apply to `new`, not to parsing),
//! so a config file spells all of them out, as `configs/*.toml` do.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::{Distribution, Tensor};
use simvq_quant::{
    AnyQuantizer, EmaVqConfig, FsqConfig, GradientEstimator, LfqConfig, Quantizer, QuantizerConfig,
    SimVqConfig, VqConfig,
};

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
        seed = 0
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

/// Every quantizer kind, seeded `seed`, with projections where the kind has them.
fn every_kind(seed: u64) -> Vec<QuantizerConfig> {
    vec![
        QuantizerConfig::SimVq(
            SimVqConfig::new()
                .with_codebook_size(64)
                .with_dim(8)
                .with_seed(seed),
        ),
        QuantizerConfig::Vq(
            VqConfig::new()
                .with_codebook_size(64)
                .with_dim(8)
                .with_codebook_dim(Some(4))
                .with_seed(seed),
        ),
        QuantizerConfig::EmaVq(
            EmaVqConfig::new()
                .with_codebook_size(64)
                .with_dim(8)
                .with_seed(seed),
        ),
        QuantizerConfig::Fsq(
            FsqConfig::new(vec![5, 4, 3])
                .with_dim(Some(8))
                .with_seed(seed),
        ),
        QuantizerConfig::Lfq(LfqConfig::new(64).with_dim(Some(8)).with_seed(seed)),
    ]
}

#[test]
fn every_kind_is_seeded_and_round_trips_through_a_record() {
    type I = Flex;
    let device = Default::default();
    let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
    let z = Tensor::<I, 2>::random([200, 8], Distribution::Normal(0.0, 1.0), &device);
    let run = |q: &AnyQuantizer<I>| {
        let out = q.forward(z.clone()).unwrap();
        let values: Vec<f32> = out.quantized.into_data().to_vec().unwrap();
        let indices: Vec<i64> = out.indices.into_data().iter::<i64>().collect();
        (values, indices)
    };
    for (a, b) in every_kind(1).into_iter().zip(every_kind(2)) {
        let original = a.init::<I>(&device).unwrap();
        assert_eq!(
            run(&original),
            run(&a.init::<I>(&device).unwrap()),
            "{a:?}: same seed, same quantizer"
        );
        let other = b.init::<I>(&device).unwrap();
        assert_ne!(
            run(&original).0,
            run(&other).0,
            "{b:?}: another seed, another quantizer"
        );
        let bytes = recorder.record(original.clone().into_record(), ()).unwrap();
        let loaded = other.load_record(recorder.load(bytes, &device).unwrap());
        assert_eq!(
            run(&loaded),
            run(&original),
            "{a:?}: loaded from the record"
        );
    }
}
