//! LFQ beyond the fixture: the per-bit entropy used for large codebooks agrees with the exact
//! one where it should, bounds it where it cannot agree, and needs no K-sized tensor.

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Distribution, Tensor};
use simvq_quant::{LfqConfig, QuantError, Quantizer};

type B = Autodiff<Flex>;

#[test]
fn factorized_entropy_matches_exact_per_token_and_bounds_the_batch_entropy() {
    let device = Default::default();
    // A low inverse temperature keeps every probability above the log clamp, where the
    // per-token entropy factorizes exactly over bits.
    let config = LfqConfig::new(256).with_inv_temperature(0.5);
    let exact = config.init::<B>(&device).unwrap();
    let factorized = config
        .with_exact_entropy_max_codes(0)
        .init::<B>(&device)
        .unwrap();
    let x = Tensor::<B, 2>::random([64, 8], Distribution::Normal(0.0, 1.0), &device);
    let (ps_exact, cb_exact) = exact.entropies(x.clone());
    let (ps_fact, cb_fact) = factorized.entropies(x);
    let (ps_exact, cb_exact): (f32, f32) = (ps_exact.into_scalar(), cb_exact.into_scalar());
    let (ps_fact, cb_fact): (f32, f32) = (ps_fact.into_scalar(), cb_fact.into_scalar());
    assert!(
        (ps_exact - ps_fact).abs() < 1e-4 * ps_exact,
        "{ps_exact} vs {ps_fact}"
    );
    assert!(
        cb_fact >= cb_exact - 1e-4,
        "sum of bit entropies bounds the joint: {cb_fact} < {cb_exact}"
    );
    assert!(cb_fact <= 8.0 * std::f32::consts::LN_2 + 1e-4);
}

#[test]
fn huge_codebooks_cost_no_memory() {
    // 2^30 codes: an [N, K] tensor would be terabytes; the per-bit path is [N, 30].
    let device = Default::default();
    let lfq = LfqConfig::new(1 << 30)
        .with_dim(Some(16))
        .init::<B>(&device)
        .unwrap();
    let z = Tensor::<B, 3>::random([2, 16, 50], Distribution::Normal(0.0, 1.0), &device);
    let out = lfq.forward_1d(z).unwrap();
    assert_eq!(out.indices.dims(), [2, 50]);
    let total: f32 = out.loss.total().into_scalar();
    assert!(total.is_finite());
    let decoded = lfq.decode_indices_1d(out.indices).unwrap();
    assert_eq!(decoded.dims(), [2, 16, 50]);
}

#[test]
fn lfq_rejects_bad_sizes() {
    for k in [0, 1, 3, 1000, 1 << 31] {
        assert!(
            matches!(
                LfqConfig::new(k).init::<B>(&Default::default()),
                Err(QuantError::InvalidConfig(_))
            ),
            "{k}"
        );
    }
}
