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

use nalgebra::{DMatrix, DVector, SymmetricEigen};

use crate::error::MetricsError;

/// Running mean and covariance of feature vectors, mergeable across batches and devices.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureStatistics {
    count: usize,
    sum: DVector<f64>,
    /// Σ x xᵀ; the covariance follows from it, the sum and the count.
    outer: DMatrix<f64>,
}

impl FeatureStatistics {
    /// Empty statistics of `dim`-dimensional features.
    pub fn new(dim: usize) -> Self {
        Self {
            count: 0,
            sum: DVector::zeros(dim),
            outer: DMatrix::zeros(dim, dim),
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
        Ok(())
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
    let sqrt_a = symmetric_sqrt(&sigma_a);
    let middle = &sqrt_a * &sigma_b * &sqrt_a;
    let middle = (&middle + middle.transpose()) * 0.5; // exact symmetry for the solver
    let trace_sqrt: f64 = SymmetricEigen::new(middle)
        .eigenvalues
        .iter()
        .map(|&l| l.max(0.0).sqrt())
        .sum();
    Ok(diff.dot(&diff) + sigma_a.trace() + sigma_b.trace() - 2.0 * trace_sqrt)
}

/// Principal square root of a symmetric positive semi-definite matrix.
fn symmetric_sqrt(m: &DMatrix<f64>) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new(m.clone());
    let roots = eigen.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eigen.eigenvectors * DMatrix::from_diagonal(&roots) * eigen.eigenvectors.transpose()
}
