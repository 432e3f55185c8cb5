//! Adam as the reference configures it, with the optional warm-up and clipping that users of
//! the reference report needing against NaNs.

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::AdamConfig;
use serde::{Deserialize, Serialize};

/// Adam settings shared by the generator and the discriminator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSettings {
    /// Learning rate after warm-up (constant: the reference's `scheduler_type "None"`).
    pub learning_rate: f64,
    /// Adam β₁ (0.5 in the reference).
    pub beta1: f32,
    /// Adam β₂ (0.9).
    pub beta2: f32,
    /// Adam ε (PyTorch's 1e-8; burn's default would be 1e-5).
    pub epsilon: f32,
    /// Linear warm-up from 0 over this many steps (0: none, as the reference).
    pub warmup_steps: usize,
    /// Clip each network's gradient to this global norm (none in the reference).
    pub grad_clip_norm: Option<f32>,
}

impl OptimizerSettings {
    /// lr 1e-4, betas (0.5, 0.9), ε 1e-8, no warm-up, no clipping.
    pub fn reference() -> Self {
        Self {
            learning_rate: 1e-4,
            beta1: 0.5,
            beta2: 0.9,
            epsilon: 1e-8,
            warmup_steps: 0,
            grad_clip_norm: None,
        }
    }

    /// The burn optimizer config.
    pub fn adam(&self) -> AdamConfig {
        AdamConfig::new()
            .with_beta_1(self.beta1)
            .with_beta_2(self.beta2)
            .with_epsilon(self.epsilon)
            .with_grad_clipping(self.grad_clip_norm.map(GradientClippingConfig::Norm))
    }

    /// Learning rate of step `step` (0-based).
    pub fn learning_rate_at(&self, step: usize) -> f64 {
        if self.warmup_steps == 0 {
            self.learning_rate
        } else {
            self.learning_rate * ((step + 1) as f64 / self.warmup_steps as f64).min(1.0)
        }
    }
}
