//! EMA codebook: updates only while training, k-means initialisation, dead-code replacement,
//! and its running statistics saved with the module.

mod common;

use burn::backend::{Autodiff, Flex};
use burn::module::{AutodiffModule, Module};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::{Distribution, Tensor};
use common::values;
use simvq_quant::{CodebookQuantizer, CodebookUsage, EmaVqConfig, Quantizer};

type B = Autodiff<Flex>;

fn batch(n: usize, d: usize, seed: u64) -> Tensor<B, 2> {
    let device = Default::default();
    <B as burn::tensor::backend::Backend>::seed(&device, seed);
    Tensor::random([n, d], Distribution::Normal(3.0, 1.0), &device)
}

#[test]
fn updates_while_training_only() {
    let vq = EmaVqConfig::new()
        .with_codebook_size(32)
        .with_dim(4)
        .init::<B>(&Default::default())
        .unwrap();
    let before = values(&vq.codebook().codes());
    let inference = vq.valid();
    inference.forward(batch(64, 4, 1).inner()).unwrap();
    assert_eq!(
        values(&inference.codebook().codes()),
        before,
        "no update without autodiff"
    );
    vq.forward(batch(64, 4, 1)).unwrap();
    assert_ne!(
        values(&vq.codebook().codes()),
        before,
        "EMA step in training"
    );
}

#[test]
fn kmeans_init_and_dead_code_replacement_keep_codes_in_use() {
    let device = Default::default();
    let (k, d) = (64, 4);
    // Data far from the initial codes (mean 3): without remedies most codes never win.
    let usage_after = |config: EmaVqConfig| {
        let vq = config.init::<B>(&device).unwrap();
        for step in 0..20 {
            vq.forward(batch(512, d, step)).unwrap();
        }
        let mut usage = CodebookUsage::new(k);
        usage
            .update(&vq.forward(batch(4096, d, 99)).unwrap().indices)
            .unwrap();
        usage.utilization()
    };
    let plain = usage_after(
        EmaVqConfig::new()
            .with_codebook_size(k)
            .with_dim(d)
            .with_decay(0.8),
    );
    let kmeans = usage_after(
        EmaVqConfig::new()
            .with_codebook_size(k)
            .with_dim(d)
            .with_decay(0.8)
            .with_kmeans_init(true),
    );
    let revived = usage_after(
        EmaVqConfig::new()
            .with_codebook_size(k)
            .with_dim(d)
            .with_decay(0.8)
            .with_dead_code_threshold(2.0),
    );
    assert!(plain < 0.5, "plain EMA collapses here: {plain}");
    assert!(kmeans > 0.9, "k-means init: {kmeans}");
    assert!(revived > 0.9, "dead-code replacement: {revived}");
}

#[test]
fn running_statistics_are_saved_and_loaded() {
    let device = Default::default();
    let config = EmaVqConfig::new()
        .with_codebook_size(16)
        .with_dim(4)
        .with_kmeans_init(true);
    let vq = config.init::<B>(&device).unwrap();
    vq.forward(batch(100, 4, 5)).unwrap();
    let trained_codes = values(&vq.codebook().codes());
    let trained_sizes = values(&vq.cluster_size.value_sync());
    let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = recorder.record(vq.into_record(), ()).unwrap();
    let loaded = config
        .init::<B>(&device)
        .unwrap()
        .load_record(recorder.load(bytes, &device).unwrap());
    assert_eq!(values(&loaded.codebook().codes()), trained_codes);
    assert_eq!(values(&loaded.cluster_size.value_sync()), trained_sizes);
    let initialized: Vec<f32> = values(&loaded.initialized.value_sync());
    assert_eq!(
        initialized,
        vec![1.0],
        "k-means does not run again after loading"
    );
}
