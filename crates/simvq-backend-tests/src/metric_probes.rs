//! The metric networks compared across backends. They have no seeded initialiser (the real
//! ones load files), so each probe takes weights drawn once and loads them on the backend
//! under test.

use burn::tensor::backend::{AutodiffBackend, Backend};
use simvq_metrics::{Crepe, CrepeCapacity, FidInception, Lpips, LpipsNet, CREPE_WINDOW};

use crate::portable_weights::PortableWeights;
use crate::probes::input;
use crate::values::Values;

/// The 2,048 pool features of FID's Inception for two 48² images (resized to 299² inside, as
/// the reference feeds its 128² reconstructions).
pub fn inception_pass<B: Backend>(weights: &PortableWeights, device: &B::Device) -> Values {
    let net = weights.load(FidInception::<B>::random(device), device);
    // Pixels in [0, 1].
    let images = input::<B, 4>([2, 3, 48, 48], 8.0, 0.5, device).add_scalar(0.5);
    let mut values = Values::default();
    values.float("pool features", &net.features(images));
    values
}

/// LPIPS (`net`, with `weights`) between two 32² batches and its gradient with respect to the reconstruction (the
/// image tokenizer's perceptual loss trains through it).
pub fn lpips_pass<B: AutodiffBackend>(
    net: LpipsNet,
    weights: &PortableWeights,
    device: &B::Device,
) -> Values {
    let _autodiff = simvq_quant::autodiff_lock();
    let net = weights.load(Lpips::<B>::random(net, device), device);
    let x = input::<B, 4>([2, 3, 32, 32], 9.0, 1.0, device);
    let y = input::<B, 4>([2, 3, 32, 32], 10.0, 1.0, device).require_grad();
    let distance = net.forward(x, y.clone());
    let grads = distance.clone().sum().backward();
    let mut values = Values::default();
    values.float("distance", &distance);
    values.float("grad reconstruction", &y.grad(&grads).expect("y is used"));
    values
}

/// CREPE's pitch-bin probabilities for four frames of one window each; `weights` are of
/// width `capacity`.
pub fn crepe_pass<B: Backend>(
    weights: &PortableWeights,
    capacity: CrepeCapacity,
    device: &B::Device,
) -> Values {
    let net = weights.load(Crepe::<B>::random(capacity, device), device);
    let frames = input::<B, 2>([4, CREPE_WINDOW], 11.0, 1.0, device);
    let mut values = Values::default();
    values.float("pitch probabilities", &net.forward(frames));
    values
}
