//! Dropout whose masks come from a seeded generator of the model's own, not the backend's.
//!
//! burn's `Dropout` draws from the backend's one global generator: a resumed run can only
//! replay its masks by reseeding that global every step, and two models training in one
//! process (tests, a server) draw from each other's stream. The masks here are drawn on the
//! host from a generator the backbone owns and the training loop reseeds each step
//! ([`DropoutRng::reseed`]), so they depend on `(seed, step)` alone.

use std::sync::{Arc, Mutex};

use burn::module::Module;
use burn::tensor::{backend::Backend, Distribution, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A generator shared by the dropout layers of one model (clones share it).
#[derive(Debug, Clone)]
pub struct DropoutRng(Arc<Mutex<StdRng>>);

impl DropoutRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Arc::new(Mutex::new(StdRng::seed_from_u64(seed))))
    }

    /// Restarts the stream from `seed` (what the training loop does before each step).
    pub fn reseed(&self, seed: u64) {
        *self.lock() = StdRng::seed_from_u64(seed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StdRng> {
        // A panic while drawing cannot leave the generator half-updated in a way that
        // matters: its state is always a valid stream.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Inverted dropout, as torch's: zeroes each element with probability `prob` and scales the
/// rest by `1 / (1 − prob)`, only while autodiff is on (training); identity otherwise.
#[derive(Module, Debug, Clone)]
pub struct SeededDropout {
    prob: f64,
    #[module(skip)]
    rng: DropoutRng,
}

impl SeededDropout {
    /// Dropout with probability `prob` (in `[0, 1]`) drawing from `rng`.
    pub fn new(prob: f64, rng: DropoutRng) -> Self {
        Self { prob, rng }
    }

    /// `x` with its elements dropped (training) or unchanged (inference).
    pub fn forward<B: Backend, const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let device = x.device();
        if self.prob == 0.0 || !B::ad_enabled(&device) {
            return x;
        }
        let shape = x.shape();
        let keep = TensorData::random::<f32, _, _>(
            shape.clone(),
            Distribution::Bernoulli(1.0 - self.prob),
            &mut *self.rng.lock(),
        );
        let scale = if self.prob < 1.0 {
            (1.0 / (1.0 - self.prob)) as f32
        } else {
            0.0
        };
        let mask: Vec<f32> = keep
            .iter::<f32>()
            .map(|kept| if kept > 0.5 { scale } else { 0.0 })
            .collect();
        x * Tensor::from_data(TensorData::new(mask, shape), &device)
    }
}
