//! The pos_net dropout: torch's inverted dropout while training, identity at inference, and
//! masks that depend on the seed alone.

use burn::backend::{Autodiff, Flex};
use burn::tensor::Tensor;
use simvq_audio::{DropoutRng, SeededDropout};
use simvq_testkit::tensor_values;

type AB = Autodiff<Flex>;

fn ones<Be: burn::tensor::backend::Backend>() -> Tensor<Be, 3> {
    Tensor::ones([4, 64, 100], &Default::default())
}

#[test]
fn drops_at_the_rate_asked_and_rescales_the_rest() {
    let dropout = SeededDropout::new(0.25, DropoutRng::new(1));
    let out = tensor_values(&dropout.forward(ones::<AB>()));
    let dropped = out.iter().filter(|&&v| v == 0.0).count() as f64 / out.len() as f64;
    // 25,600 draws: the rate's standard error is 0.27%.
    assert!((dropped - 0.25).abs() < 0.015, "dropped {dropped}");
    let scale = 1.0 / 0.75;
    assert!(out.iter().all(|&v| v == 0.0 || (v - scale).abs() < 1e-6));
}

#[test]
fn masks_follow_the_seed() {
    let rng = DropoutRng::new(0);
    let dropout = SeededDropout::new(0.5, rng.clone());
    let draw = || tensor_values(&dropout.forward(ones::<AB>()));
    rng.reseed(9);
    let first = draw();
    let second = draw();
    assert_ne!(first, second, "the stream moves on between calls");
    rng.reseed(9);
    assert_eq!(draw(), first, "reseeding replays it");
    // A clone shares the generator (the layers of one model draw from one stream).
    let other = SeededDropout::new(0.5, rng.clone());
    rng.reseed(9);
    assert_eq!(tensor_values(&other.forward(ones::<AB>())), first);
}

#[test]
fn identity_at_inference_and_at_zero() {
    let dropout = SeededDropout::new(0.5, DropoutRng::new(0));
    let x = ones::<Flex>();
    assert_eq!(
        tensor_values(&dropout.forward(x.clone())),
        tensor_values(&x)
    );
    let none = SeededDropout::new(0.0, DropoutRng::new(0));
    let y = ones::<AB>();
    assert_eq!(tensor_values(&none.forward(y.clone())), tensor_values(&y));
}
