//! Adam as the reference configures it, with the optional warm-up and clipping that users of
//! the reference report needing against NaNs.

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::AdamConfig;
use serde::{Deserialize, Serialize};

/// How the learning rate moves after warm-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrDecay {
    /// Constant (the reference's `scheduler_type "None"`).
    #[default]
    Constant,
    /// Half a cosine from `learning_rate` down to `min_learning_rate` at the last step (the
    /// reference code's warm-up + cosine scheduler, unused by its configs). A short run ends
    /// on small steps instead of on the noise of a large constant rate.
    Cosine,
}

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
    /// What the rate does after warm-up (`constant`, the reference; or `cosine`).
    #[serde(default)]
    pub decay: LrDecay,
    /// Where `cosine` ends (the reference code's `min_learning_rate`: 0).
    #[serde(default)]
    pub min_learning_rate: f64,
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
            decay: LrDecay::Constant,
            min_learning_rate: 0.0,
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

    /// Learning rate of step `step` (0-based) of a run of `steps` steps.
    pub fn learning_rate_at(&self, step: usize, steps: usize) -> f64 {
        let warmup = self.warmup_steps;
        if step < warmup {
            return self.learning_rate * (step + 1) as f64 / warmup as f64;
        }
        match self.decay {
            LrDecay::Constant => self.learning_rate,
            LrDecay::Cosine => {
                let span = steps.saturating_sub(warmup + 1).max(1) as f64;
                let progress = ((step - warmup) as f64 / span).min(1.0);
                let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                self.min_learning_rate + (self.learning_rate - self.min_learning_rate) * cosine
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_constant() {
        let mut s = OptimizerSettings::reference();
        s.warmup_steps = 4;
        let want = [0.25e-4, 0.5e-4, 0.75e-4, 1e-4, 1e-4, 1e-4];
        for (i, w) in want.iter().enumerate() {
            let got = s.learning_rate_at(i, 10);
            assert!((got - w).abs() < 1e-15, "step {i}: {got}, want {w}");
        }
    }

    #[test]
    fn cosine_runs_from_the_rate_to_the_minimum_over_the_steps_after_warmup() {
        let mut s = OptimizerSettings::reference();
        s.learning_rate = 1.0;
        s.min_learning_rate = 0.2;
        s.decay = LrDecay::Cosine;
        s.warmup_steps = 2;
        // Steps 2..=10 after warm-up: 1.0 at the first, 0.6 half-way, 0.2 at the last.
        assert!((s.learning_rate_at(1, 11) - 1.0).abs() < 1e-12);
        assert!((s.learning_rate_at(2, 11) - 1.0).abs() < 1e-12);
        assert!((s.learning_rate_at(6, 11) - 0.6).abs() < 1e-12);
        assert!((s.learning_rate_at(10, 11) - 0.2).abs() < 1e-12);
        assert!((s.learning_rate_at(50, 11) - 0.2).abs() < 1e-12);
    }
}
