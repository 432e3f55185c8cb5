//! Tokens only: `encode`, `encode_1d` and `encode_2d` give the indices the full forward pass
//! gives, for every quantizer, and the EMA quantizer's `encode` leaves its codebook alone.

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Distribution, Tensor};
use simvq_quant::{CodebookQuantizer, EmaVqConfig, FsqConfig, Quantizer, SimVqConfig, VqConfig};

type B = Autodiff<Flex>;

fn assert_encode_matches_forward(q: &impl Quantizer<B>, dim: usize) {
    let device = Default::default();
    let normal = Distribution::Normal(0.0, 1.0);
    let image = Tensor::<B, 4>::random([2, dim, 3, 5], normal, &device);
    let forward = q.forward_2d(image.clone()).unwrap().indices;
    assert_eq!(q.encode_2d(image).unwrap().into_data(), forward.into_data());
    let sequence = Tensor::<B, 3>::random([2, dim, 7], normal, &device);
    let forward = q.forward_1d(sequence.clone()).unwrap().indices;
    assert_eq!(
        q.encode_1d(sequence).unwrap().into_data(),
        forward.into_data()
    );
}

#[test]
fn tokens_equal_the_forward_pass_indices() {
    let device = Default::default();
    assert_encode_matches_forward(
        &SimVqConfig::new()
            .with_codebook_size(64)
            .with_dim(8)
            .with_seed(1)
            .init::<B>(&device)
            .unwrap(),
        8,
    );
    assert_encode_matches_forward(
        &VqConfig::new()
            .with_codebook_size(64)
            .with_dim(8)
            .init::<B>(&device)
            .unwrap(),
        8,
    );
    assert_encode_matches_forward(
        &FsqConfig::new(vec![8, 5, 5]).init::<B>(&device).unwrap(),
        3,
    );
}

#[test]
fn encoding_does_not_train_the_ema_codebook() {
    let device = Default::default();
    let vq = EmaVqConfig::new()
        .with_codebook_size(32)
        .with_dim(4)
        .init::<B>(&device)
        .unwrap();
    let before = vq.codebook().codes().into_data();
    let z = Tensor::<B, 2>::random([50, 4], Distribution::Normal(0.0, 1.0), &device);
    let tokens = vq.encode(z).unwrap();
    assert_eq!(tokens.dims(), [50]);
    assert_eq!(vq.codebook().codes().into_data(), before);
}
