//! The weight EMA averages what the optimizer trains and takes everything else from the live
//! model: an EMA VQ's running codebook (updated in the forward pass, not by gradient) must be
//! the live one in the averaged model, or evaluation would use the codebook training never
//! moved.

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use simvq_quant::{EmaVqConfig, Quantizer, SimVqConfig};
use simvq_train::WeightEma;

type B = Autodiff<Flex>;

fn all_codes<Q: Quantizer<Flex>>(q: &Q, k: usize) -> Vec<f32> {
    let indices = Tensor::<Flex, 1, Int>::from_data(
        TensorData::new((0..k as i64).collect::<Vec<_>>(), [k]),
        &Default::default(),
    );
    q.decode_indices(indices)
        .unwrap()
        .into_data()
        .to_vec()
        .unwrap()
}

#[test]
fn an_ema_vq_codebook_follows_the_live_model() {
    let device = Default::default();
    let live = EmaVqConfig::new()
        .with_codebook_size(8)
        .with_dim(4)
        .with_decay(0.5)
        .init::<B>(&device)
        .unwrap();
    let mut ema = WeightEma::new(live.valid(), 0.999);
    let before = all_codes(ema.module(), 8);
    let z = Tensor::<B, 2>::random([64, 4], Distribution::Normal(3.0, 1.0), &device);
    live.forward(z).unwrap();
    ema.update(&live);
    let moved = all_codes(&live.valid(), 8);
    assert_ne!(moved, before, "the forward pass moves the running codebook");
    assert_eq!(all_codes(ema.module(), 8), moved);
}

#[test]
fn trainable_weights_are_averaged_and_frozen_ones_kept() {
    let device = Default::default();
    let start = SimVqConfig::new()
        .with_codebook_size(8)
        .with_dim(4)
        .init::<B>(&device)
        .unwrap();
    let mut ema = WeightEma::new(start.valid(), 0.75);
    // One "step": W moved by +1 everywhere (same parameter ids), C untouched.
    let mut live = start.clone();
    live.projection.weight = live
        .projection
        .weight
        .map(|w| Tensor::from_inner(w.inner().add_scalar(1.0)).require_grad());
    ema.update(&live);
    let values = |t: Tensor<Flex, 2>| -> Vec<f32> { t.into_data().to_vec().unwrap() };
    let old = values(start.valid().projection.weight.val());
    let averaged = values(ema.module().projection.weight.val());
    for (o, a) in old.iter().zip(&averaged) {
        assert!((a - (o + 0.25)).abs() < 1e-6, "{a} vs {o} + 0.25");
    }
    assert_eq!(
        values(ema.module().frozen_codebook.val()),
        values(start.valid().frozen_codebook.val())
    );
}
