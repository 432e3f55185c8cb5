//! Residual SimVQ: quantize dropout, decoding from any prefix of the levels, errors.

mod common;

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Distribution, Tensor};
use common::values;
use rand::{rngs::StdRng, SeedableRng};
use simvq_quant::{QuantError, ResidualSimVqConfig, SimVqConfig};

type B = Autodiff<Flex>;

#[test]
fn dropped_levels_are_marked_and_prefixes_decode() {
    let device = Default::default();
    let rvq = ResidualSimVqConfig::new(
        4,
        SimVqConfig::new()
            .with_codebook_size(64)
            .with_dim(8)
            .with_seed(7),
    )
    .with_quantize_dropout(true)
    .with_quantize_dropout_cutoff_index(1)
    .init::<B>(&device)
    .unwrap();
    let z = Tensor::<B, 4>::random([2, 8, 3, 3], Distribution::Normal(0.0, 1.0), &device);

    let full = rvq.forward_2d(z.clone(), 4).unwrap();
    assert_eq!(full.indices.dims(), [2, 3, 3, 4]);
    assert_eq!(
        values(&rvq.decode_indices_2d(full.indices.clone()).unwrap()),
        values(&full.quantized)
    );

    let two = rvq.forward_2d(z.clone(), 2).unwrap();
    assert_eq!(two.losses.len(), 2);
    // The image layout's total is the sum of its levels' losses, as the flat layout's.
    let summed = two.losses[0].total() + two.losses[1].total();
    assert_eq!(values(&two.total_loss()), values(&summed));
    let idx: Vec<i64> = two.indices.to_data().iter::<i64>().collect();
    for token in idx.chunks(4) {
        assert!(
            token[0] >= 0 && token[1] >= 0 && token[2] == -1 && token[3] == -1,
            "{token:?}"
        );
    }
    // The first two levels are the same whether or not the others run, and decode alike
    // from the full indices' prefix or from the dropped-out indices.
    let prefix = rvq
        .decode_indices_2d(full.indices.clone().narrow(3, 0, 2))
        .unwrap();
    let dropped = rvq.decode_indices_2d(two.indices).unwrap();
    assert_eq!(values(&prefix), values(&two.quantized));
    assert_eq!(values(&dropped), values(&two.quantized));

    // More levels, smaller reconstruction error.
    let err = |levels| {
        let out = rvq.forward_2d(z.clone(), levels).unwrap();
        (out.quantized - z.clone()).square().mean().into_scalar()
    };
    let errors: Vec<f32> = (1..=4).map(err).collect();
    assert!(errors.windows(2).all(|w| w[1] < w[0]), "{errors:?}");

    let mut rng = StdRng::seed_from_u64(0);
    let draws: Vec<usize> = (0..200).map(|_| rvq.sample_levels(&mut rng)).collect();
    assert!(draws.iter().all(|&l| (2..=4).contains(&l)));
    assert!((2..=4).all(|l| draws.contains(&l)));
}

#[test]
fn residual_errors_are_clear() {
    let device = Default::default();
    let config = ResidualSimVqConfig::new(3, SimVqConfig::new().with_codebook_size(16).with_dim(4));
    let none = ResidualSimVqConfig::new(0, SimVqConfig::new().with_codebook_size(16).with_dim(4));
    assert!(matches!(
        none.init::<B>(&device),
        Err(QuantError::InvalidConfig(_))
    ));
    assert!(matches!(
        config
            .clone()
            .with_quantize_dropout_cutoff_index(3)
            .init::<B>(&device),
        Err(QuantError::InvalidConfig(_))
    ));
    let rvq = config.init::<B>(&device).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    assert_eq!(rvq.sample_levels(&mut rng), 3, "no dropout: all levels");
    let z = Tensor::<B, 2>::random([5, 4], Distribution::Normal(0.0, 1.0), &device);
    assert!(matches!(
        rvq.forward(z.clone(), 0),
        Err(QuantError::InvalidConfig(_))
    ));
    assert!(matches!(
        rvq.forward(z.clone(), 4),
        Err(QuantError::InvalidConfig(_))
    ));
    assert!(matches!(
        rvq.forward(Tensor::zeros([5, 3], &device), 3),
        Err(QuantError::DimMismatch { .. })
    ));
    let idx = rvq.forward(z, 3).unwrap().indices;
    assert!(matches!(
        rvq.decode_indices(Tensor::cat(vec![idx.clone(), idx], 1)),
        Err(QuantError::InvalidConfig(_))
    ));
}
