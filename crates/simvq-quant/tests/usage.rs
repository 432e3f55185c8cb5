//! Codebook usage statistics.

use burn::backend::Flex;
use burn::tensor::{Int, Tensor, TensorData};
use simvq_quant::{CodebookUsage, QuantError};

#[test]
fn counts_utilization_perplexity_and_dead_codes() {
    let mut usage = CodebookUsage::new(8);
    assert_eq!(usage.perplexity(), 0.0);
    let indices = Tensor::<Flex, 2, Int>::from_data(
        TensorData::from([[0i64, 1, 1], [3, 3, 3]]),
        &Default::default(),
    );
    usage.update(&indices).unwrap();
    assert_eq!(usage.counts(), &[1, 2, 0, 3, 0, 0, 0, 0]);
    assert_eq!(usage.total(), 6);
    assert_eq!(usage.used_codes(), 3);
    assert_eq!(usage.dead_codes(), 5);
    assert!((usage.utilization() - 3.0 / 8.0).abs() < 1e-12);
    let p = [1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0];
    let entropy: f64 = p.iter().map(|p: &f64| -p * p.ln()).sum();
    assert!((usage.perplexity() - entropy.exp()).abs() < 1e-12);

    let mut uniform = CodebookUsage::new(4);
    uniform.update_from([0, 1, 2, 3, 0, 1, 2, 3]).unwrap();
    assert!((uniform.perplexity() - 4.0).abs() < 1e-12);
    assert_eq!(uniform.utilization(), 1.0);
}

#[test]
fn merges_and_rejects_bad_input() {
    let mut a = CodebookUsage::new(4);
    let mut b = CodebookUsage::new(4);
    a.update_from([0, 0, 1]).unwrap();
    b.update_from([1, 3]).unwrap();
    a.merge(&b).unwrap();
    assert_eq!(a.counts(), &[2, 2, 0, 1]);
    assert_eq!(
        a.merge(&CodebookUsage::new(5)),
        Err(QuantError::UsageSizeMismatch { left: 4, right: 5 })
    );
    assert_eq!(
        a.update_from([4]),
        Err(QuantError::IndexOutOfRange {
            index: 4,
            codebook_size: 4
        })
    );
    assert!(a.update_from([-2]).is_err());
    a.reset();
    assert_eq!(a.total(), 0);
}
