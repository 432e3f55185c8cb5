//! Every model on burn-wgpu equals burn-flex: same seeded weights, same inputs, outputs and
//! gradients within f32 summation-order noise, indices exactly. Runs on any Vulkan device,
//! Mesa's lavapipe (a CPU) included: `cargo test -p simvq-backend-tests --features wgpu`.
#![cfg(feature = "wgpu")]

use burn::backend::wgpu::{Wgpu, WgpuDevice};
use burn::backend::{Autodiff, Flex};
use simvq_backend_tests::{
    assert_same, audio_pass, image_pass, image_training_step, quantizer_pass, tied_search,
};

type Gpu = Autodiff<Wgpu>;
type Cpu = Autodiff<Flex>;

fn gpu() -> WgpuDevice {
    WgpuDevice::default()
}

/// Outputs and gradients differ by summation order only: a few ulps of the tensor's
/// largest value per layer, compounded through the network.
const REL: f64 = 2e-3;

#[test]
fn simvq_forward_and_backward() {
    assert_same(
        &quantizer_pass::<Gpu>(&gpu()),
        &quantizer_pass::<Cpu>(&Default::default()),
        REL,
    );
}

#[test]
fn tied_codes_resolve_to_the_lowest_index() {
    let want: Vec<i64> = (0..64).map(|q| 3 * q).collect();
    assert_eq!(tied_search::<Wgpu>(&gpu()), want, "wgpu");
    assert_eq!(tied_search::<Flex>(&Default::default()), want, "burn-flex");
}

#[test]
fn image_tokenizer_and_patchgan() {
    assert_same(
        &image_pass::<Gpu>(&gpu()),
        &image_pass::<Cpu>(&Default::default()),
        REL,
    );
}

#[test]
fn one_image_training_step() {
    assert_same(
        &image_training_step::<Gpu>(&gpu()),
        &image_training_step::<Cpu>(&Default::default()),
        REL,
    );
}

#[test]
fn audio_codec_and_discriminators() {
    assert_same(
        &audio_pass::<Gpu>(&gpu()),
        &audio_pass::<Cpu>(&Default::default()),
        REL,
    );
}
