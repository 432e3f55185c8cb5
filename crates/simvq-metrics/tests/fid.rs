//! Feature statistics and the Fréchet distance equal pytorch-fid's (numpy mean, `np.cov`,
//! scipy `sqrtm`) within 0.1% (fixture from `tools/golden_fid.py`).

mod common;

use common::{doubles, floats};
use serde_json::Value;
use simvq_metrics::{frechet_distance, FeatureStatistics, MetricsError};

#[test]
fn matches_pytorch_fid() {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/fid_golden.json")).unwrap();
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let dim = case["dim"].as_u64().unwrap() as usize;
        let (a, b) = (floats(case, "a"), floats(case, "b"));

        // Fed in uneven batches and merged, as an evaluation over several devices would.
        let mut stats_a = FeatureStatistics::new(dim);
        let rows_a = a.len() / dim;
        let (first, rest) = a.split_at(dim * 37.min(rows_a / 2));
        stats_a.update(first).unwrap();
        let mut other = FeatureStatistics::new(dim);
        other.update(rest).unwrap();
        stats_a.merge(&other).unwrap();
        let mut stats_b = FeatureStatistics::new(dim);
        stats_b.update(&b).unwrap();

        let mean: Vec<f64> = stats_a.mean().iter().copied().collect();
        for (got, want) in mean.iter().zip(doubles(case, "mu_a")) {
            assert!((got - want).abs() < 1e-9, "{name}: mean");
        }
        let covariance = stats_a.covariance().unwrap();
        for (i, want) in doubles(case, "sigma_a_diag").iter().enumerate() {
            assert!(
                (covariance[(i, i)] - want).abs() < 1e-9 * (1.0 + want.abs()),
                "{name}: cov"
            );
        }
        let fid = frechet_distance(&stats_a, &stats_b).unwrap();
        let want = case["fid"].as_f64().unwrap();
        assert!(
            (fid - want).abs() <= 1e-3 * want,
            "{name}: fid {fid} vs {want}"
        );
    }
}

#[test]
fn identical_statistics_have_zero_distance_and_errors_are_clear() {
    let features: Vec<f32> = (0..300).map(|i| ((i * 7919) % 101) as f32 / 10.0).collect();
    let mut stats = FeatureStatistics::new(3);
    stats.update(&features).unwrap();
    assert!(frechet_distance(&stats, &stats).unwrap().abs() < 1e-9);

    assert!(matches!(
        stats.update(&[1.0, 2.0]),
        Err(MetricsError::FeatureShape { len: 2, dim: 3 })
    ));
    let mut lonely = FeatureStatistics::new(3);
    lonely.update(&[1.0, 2.0, 3.0]).unwrap();
    assert_eq!(
        frechet_distance(&stats, &lonely),
        Err(MetricsError::TooFewFeatures(1))
    );
    assert!(frechet_distance(&stats, &FeatureStatistics::new(4)).is_err());
}
