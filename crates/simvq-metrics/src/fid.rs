//! Fréchet distance between feature distributions (the "F" of rFID), as pytorch-fid computes
//! it: `|μ₁ − μ₂|² + tr Σ₁ + tr Σ₂ − 2 tr √(Σ₁Σ₂)`, with sample covariances (N − 1), in f64.
//!
//! The features come from pytorch-fid's InceptionV3 (2048-d pool features); this module is the
//! statistics and the distance, independent of the network.
//!
//! `tr √(Σ₁Σ₂)` is computed as the sum of the square roots of the eigenvalues of the symmetric
//! `√Σ₁ Σ₂ √Σ₁` (same spectrum as `Σ₁Σ₂`), with nalgebra's symmetric eigensolver, instead of
//! scipy's general `sqrtm`: no complex arithmetic, and tiny negative eigenvalues from rounding
//! are clamped to zero rather than producing imaginary parts.
//!
//! At 2048 dimensions those two eigendecompositions take ~35 s on a CPU core. While one side has
//! no more feature vectors than dimensions (small evaluations, tests), its centred features `X`
//! are kept and the exact equivalent `tr √(X Σ₂ Xᵀ / (n − 1))` is used instead: an `n × n`
//! problem (the non-zero spectrum of `XᵀX Σ₂` equals that of `X Σ₂ Xᵀ`).

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use crate::error::MetricsError;

/// Running mean and covariance of feature vectors, mergeable across batches and devices.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureStatistics {
    count: usize,
    sum: DVector<f64>,
    /// Σ x xᵀ; the covariance follows from it, the sum and the count.
    outer: DMatrix<f64>,
    /// The feature vectors themselves (row-major), kept while there are no more of them than
    /// dimensions, for the low-rank form of the distance.
    rows: Option<Vec<f64>>,
}

impl FeatureStatistics {
    /// Empty statistics of `dim`-dimensional features.
    pub fn new(dim: usize) -> Self {
        Self {
            count: 0,
            sum: DVector::zeros(dim),
            outer: DMatrix::zeros(dim, dim),
            rows: Some(Vec::new()),
        }
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.sum.len()
    }

    /// Number of feature vectors added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Adds row-major features `[n, dim]`.
    pub fn update(&mut self, features: &[f32]) -> Result<(), MetricsError> {
        let dim = self.dim();
        if dim == 0 || !features.len().is_multiple_of(dim) {
            return Err(MetricsError::FeatureShape {
                len: features.len(),
                dim,
            });
        }
        let rows = features.len() / dim;
        let batch = DMatrix::from_row_iterator(rows, dim, features.iter().map(|&x| f64::from(x)));
        for row in batch.row_iter() {
            self.sum += row.transpose();
        }
        self.outer += batch.transpose() * &batch;
        self.count += rows;
        self.keep_rows(features.iter().map(|&x| f64::from(x)));
        Ok(())
    }

    /// Adds another accumulator of the same dimension.
    pub fn merge(&mut self, other: &FeatureStatistics) -> Result<(), MetricsError> {
        if other.dim() != self.dim() {
            return Err(MetricsError::FeatureShape {
                len: other.dim(),
                dim: self.dim(),
            });
        }
        self.count += other.count;
        self.sum += &other.sum;
        self.outer += &other.outer;
        match &other.rows {
            Some(rows) => self.keep_rows(rows.iter().copied()),
            None => self.rows = None,
        }
        Ok(())
    }

    /// Appends feature values to the kept rows, or drops them once there are more vectors
    /// than dimensions (`count` already includes the new ones).
    fn keep_rows(&mut self, values: impl Iterator<Item = f64>) {
        if self.count > self.dim() {
            self.rows = None;
        } else if let Some(rows) = &mut self.rows {
            rows.extend(values);
        }
    }

    /// The kept feature vectors minus their mean, `[count, dim]`.
    fn centred_rows(&self) -> Option<DMatrix<f64>> {
        let rows = self.rows.as_ref()?;
        let mean = self.mean().transpose();
        let mut x = DMatrix::from_row_slice(self.count, self.dim(), rows);
        for mut row in x.row_iter_mut() {
            row -= &mean;
        }
        Some(x)
    }

    /// Mean feature.
    pub fn mean(&self) -> DVector<f64> {
        &self.sum / self.count as f64
    }

    /// Sample covariance (`np.cov(rowvar=False)`, divisor N − 1).
    pub fn covariance(&self) -> Result<DMatrix<f64>, MetricsError> {
        if self.count < 2 {
            return Err(MetricsError::TooFewFeatures(self.count));
        }
        let n = self.count as f64;
        let mean = self.mean();
        Ok((&self.outer - (&mean * mean.transpose()) * n) / (n - 1.0))
    }
}

/// Fréchet distance between two feature distributions.
pub fn frechet_distance(a: &FeatureStatistics, b: &FeatureStatistics) -> Result<f64, MetricsError> {
    if a.dim() != b.dim() {
        return Err(MetricsError::FeatureShape {
            len: b.dim(),
            dim: a.dim(),
        });
    }
    let (sigma_a, sigma_b) = (a.covariance()?, b.covariance()?);
    let diff = a.mean() - b.mean();
    let trace_sqrt = match (a.centred_rows(), b.centred_rows()) {
        (Some(x), _) => {
            trace_sqrt_of_spectrum(&x * &sigma_b * x.transpose() / (a.count as f64 - 1.0))
        }
        (None, Some(y)) => {
            trace_sqrt_of_spectrum(&y * &sigma_a * y.transpose() / (b.count as f64 - 1.0))
        }
        (None, None) => {
            let sqrt_a = symmetric_sqrt(&sigma_a);
            trace_sqrt_of_spectrum(&sqrt_a * &sigma_b * &sqrt_a)
        }
    };
    Ok(diff.dot(&diff) + sigma_a.trace() + sigma_b.trace() - 2.0 * trace_sqrt)
}

/// `Σ √λ` over the eigenvalues of a symmetric positive semi-definite matrix (rounding's tiny
/// negative ones count as zero).
fn trace_sqrt_of_spectrum(m: DMatrix<f64>) -> f64 {
    let m = (&m + m.transpose()) * 0.5; // exact symmetry for the solver
                                        // Only the spectrum is needed: skipping the eigenvectors halves the time.
    m.symmetric_eigenvalues()
        .iter()
        .map(|&l| l.max(0.0).sqrt())
        .sum()
}

/// Principal square root of a symmetric positive semi-definite matrix.
fn symmetric_sqrt(m: &DMatrix<f64>) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new(m.clone());
    let roots = eigen.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eigen.eigenvectors * DMatrix::from_diagonal(&roots) * eigen.eigenvectors.transpose()
}
