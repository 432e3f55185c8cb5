//! Feature statistics and the Fréchet distance equal pytorch-fid's (numpy mean, `np.cov`,
//! scipy `sqrtm`) within 0.1% (fixture from `tools/golden_fid.py`).

mod common;

use common::{fixture, floats};
use simvq_metrics::{frechet_distance, FeatureStatistics, MetricsError};
use simvq_testkit::{assert_close, assert_close_scalar, number, numbers, read_json, Tolerance};

#[test]
fn matches_pytorch_fid() {
    let golden = read_json(fixture("fid_golden.json"));
    for case in golden["cases"].as_array().unwrap() {
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
        assert_close(
            &mean,
            &numbers(&case["mu_a"]),
            Tolerance::absolute(1e-9),
            &format!("{name}: mean"),
        );
        let covariance = stats_a.covariance().unwrap();
        let diagonal: Vec<f64> = (0..dim).map(|i| covariance[(i, i)]).collect();
        assert_close(
            &diagonal,
            &numbers(&case["sigma_a_diag"]),
            Tolerance::relative(1e-9),
            &format!("{name}: cov"),
        );
        let fid = frechet_distance(&stats_a, &stats_b).unwrap();
        assert_close_scalar(
            fid,
            number(&case["fid"]),
            Tolerance {
                abs: 0.0,
                rel: 1e-3,
            },
            &format!("{name}: fid"),
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
