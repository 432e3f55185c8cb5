//! `SimVq::fit_to_latents`: the codes take the latents' mean and covariance, so latents far
//! from the reference initialisation's codes (where every latent picks the same code) are
//! spread over the codebook from the first step.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use simvq_quant::{CodebookQuantizer, CodebookUsage, QuantError, Quantizer, SimVqConfig};

type B = Flex;

const D: usize = 8;

/// `n` latents around a mean of 5 in every dimension with a spread of 0.05: correlated
/// (each is a random mix of the dimensions), like a fresh encoder's nearly identical frames.
fn latents(n: usize, seed: u64) -> (Vec<f32>, Tensor<B, 2>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mix: Vec<f32> = (0..D * D).map(|_| rng.random_range(-1.0..1.0f32)).collect();
    let mut rows = Vec::with_capacity(n * D);
    for _ in 0..n {
        let g: Vec<f32> = (0..D)
            .map(|_| {
                // Box-Muller normal.
                let (u, v): (f32, f32) = (rng.random_range(1e-7..1.0), rng.random_range(0.0..1.0));
                (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
            })
            .collect();
        for i in 0..D {
            let mixed: f32 = (0..D).map(|j| mix[i * D + j] * g[j]).sum();
            rows.push(5.0 + 0.05 * mixed);
        }
    }
    let tensor = Tensor::from_data(TensorData::new(rows.clone(), [n, D]), &Default::default());
    (rows, tensor)
}

fn mean_and_covariance(rows: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / D;
    let mut mean = vec![0.0; D];
    for row in rows.chunks_exact(D) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += f64::from(*v) / n as f64;
        }
    }
    let mut cov = vec![0.0; D * D];
    for row in rows.chunks_exact(D) {
        for i in 0..D {
            for j in 0..D {
                cov[i * D + j] +=
                    (f64::from(row[i]) - mean[i]) * (f64::from(row[j]) - mean[j]) / (n - 1) as f64;
            }
        }
    }
    (mean, cov)
}

fn utilization(vq: &simvq_quant::SimVq<B>, z: Tensor<B, 2>) -> f64 {
    let mut usage = CodebookUsage::new(vq.codebook_size());
    usage.update(&vq.codebook().nearest(z)).unwrap();
    usage.utilization()
}

#[test]
fn fitted_codes_have_the_latents_statistics_and_get_used() {
    let vq = SimVqConfig::new()
        .with_codebook_size(256)
        .with_dim(D)
        .with_seed(3)
        .init::<B>(&Default::default())
        .unwrap();
    let (rows, z) = latents(4_096, 1);
    let (_, held_out) = latents(4_096, 2);
    let before = utilization(&vq, held_out.clone());
    assert!(
        before < 0.02,
        "the reference init puts these latents on a code or two: {before}"
    );

    let fitted = vq.fit_to_latents(z).unwrap();
    let after = utilization(&fitted, held_out);
    // Gaussian codes on Gaussian data: those in the tails own little probability mass, so
    // 4,096 draws reach about two thirds of 256 codes in 8-D.
    assert!(
        after > 0.5,
        "fitted codes are in use on other latents: {after}"
    );

    // The codes' own statistics are the latents' (up to the sampling error of 256 codes).
    let codes: Vec<f32> = fitted.codebook().codes().into_data().to_vec().unwrap();
    let (code_mean, code_cov) = mean_and_covariance(&codes);
    let (mean, cov) = mean_and_covariance(&rows);
    let scale = (0..D).map(|i| cov[i * D + i]).sum::<f64>() / D as f64;
    for i in 0..D {
        assert!(
            (code_mean[i] - mean[i]).abs() < 0.3 * scale.sqrt(),
            "mean {i}"
        );
        for j in 0..D {
            let (a, b) = (code_cov[i * D + j], cov[i * D + j]);
            assert!((a - b).abs() < 0.35 * scale, "cov[{i},{j}]: {a} vs {b}");
        }
    }
}

#[test]
fn fitting_refuses_wrong_widths_and_too_few_latents() {
    let vq = SimVqConfig::new()
        .with_codebook_size(16)
        .with_dim(D)
        .init::<B>(&Default::default())
        .unwrap();
    let wide = Tensor::<B, 2>::zeros([10, D + 1], &Default::default());
    assert!(matches!(
        vq.clone().fit_to_latents(wide),
        Err(QuantError::DimMismatch {
            expected: D,
            got: 9,
            ..
        })
    ));
    let one = Tensor::<B, 2>::zeros([1, D], &Default::default());
    assert!(matches!(
        vq.fit_to_latents(one),
        Err(QuantError::EmptyInput(_))
    ));
}
