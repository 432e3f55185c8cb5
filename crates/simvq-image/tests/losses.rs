//! The image GAN terms and the generator objective against PyTorch autograd
//! (tools/golden_gan_losses.py): values and gradients of SimVQ's non-saturating generator loss
//! and taming's hinge loss, on moderate logits and on logits far beyond ±88 (where
//! `log(exp(x) + 1)` overflows in f32), and of L1 + 0.1 · GAN + 1.0 · quantizer loss (LPIPS,
//! weight 1 in the reference, is proven on its own in simvq-metrics).

use std::path::Path;

use burn::backend::{Autodiff, Flex};
use burn::tensor::Tensor;
use simvq_image::{discriminator_hinge_loss, non_saturating_generator_loss, ImageLossConfig};
use simvq_quant::QuantLoss;
use simvq_testkit::{
    assert_close, assert_close_scalar, closed_form, grad_values, leaf, number, numbers, read_json,
    tensor_values, Tolerance, Value,
};

type B = Autodiff<Flex>;

/// f32 against the f64 reference.
const TOL: Tolerance = Tolerance {
    abs: 1e-5,
    rel: 1e-5,
};

fn cases() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/losses_golden.json");
    read_json(path)["cases"].as_array().unwrap().clone()
}

/// The script's logits: a closed-form pattern, centred on each image's offset (`sign` −1 for
/// the real logits).
fn logits(case: &Value, salt: f64, sign: f32) -> Tensor<B, 4> {
    let offsets = numbers(&case["logit_offsets"]);
    let mut values = closed_form(18, salt, 2.0, 0.0);
    for (i, v) in values.iter_mut().enumerate() {
        *v += sign * offsets[i / 9] as f32;
    }
    leaf(values, [2, 1, 3, 3])
}

fn scalar(t: &Tensor<B, 1>) -> f64 {
    tensor_values(t)[0]
}

#[test]
fn the_generator_gan_loss_matches_pytorch_even_beyond_the_f32_exponent() {
    let _autodiff = simvq_quant::autodiff_lock();
    for case in cases() {
        let name = case["name"].as_str().unwrap().to_string();
        let fake = logits(&case, 0.3, 1.0);
        let loss = non_saturating_generator_loss(fake.clone());
        let grads = loss.backward();
        assert_close_scalar(
            scalar(&loss),
            number(&case["generator_loss"]),
            TOL,
            &format!("{name}: loss"),
        );
        assert_close(
            &grad_values(&fake, &grads),
            &numbers(&case["generator_loss_grad"]),
            TOL,
            &format!("{name}: gradient"),
        );
    }
}

#[test]
fn the_hinge_loss_matches_taming() {
    let _autodiff = simvq_quant::autodiff_lock();
    for case in cases() {
        let name = case["name"].as_str().unwrap().to_string();
        let (real, fake) = (logits(&case, 1.1, -1.0), logits(&case, 0.3, 1.0));
        let loss = discriminator_hinge_loss(real.clone(), fake.clone());
        let grads = loss.backward();
        assert_close_scalar(
            scalar(&loss),
            number(&case["hinge_loss"]),
            TOL,
            &format!("{name}: loss"),
        );
        assert_close(
            &grad_values(&real, &grads),
            &numbers(&case["hinge_grad_real"]),
            TOL,
            &format!("{name}: ∂/∂real"),
        );
        assert_close(
            &grad_values(&fake, &grads),
            &numbers(&case["hinge_grad_fake"]),
            TOL,
            &format!("{name}: ∂/∂fake"),
        );
    }
}

#[test]
fn the_generator_objective_weights_its_terms_as_the_reference() {
    let _autodiff = simvq_quant::autodiff_lock();
    let loss = ImageLossConfig::new()
        .with_perceptual_weight(0.0)
        .init::<B>(None);
    for case in cases() {
        let name = case["name"].as_str().unwrap().to_string();
        let want = &case["objective"];
        let x = leaf(closed_form(96, 0.7, 0.9, 0.0), [2, 3, 4, 4]);
        let x_hat = leaf(closed_form(96, 2.3, 0.8, 0.0), [2, 3, 4, 4]);
        let fake = logits(&case, 0.3, 1.0);
        let commitment = leaf(vec![0.37], [1]);
        let codebook = leaf(vec![0.11], [1]);
        let quant = QuantLoss::without_entropy(commitment.clone(), codebook.clone());
        let out = loss.generator(x, x_hat.clone(), fake.clone(), &quant);
        let grads = out.total.backward();
        for (term, got) in [
            ("total", &out.total),
            ("reconstruction", &out.reconstruction),
            ("adversarial", &out.adversarial),
        ] {
            assert_close_scalar(
                scalar(got),
                number(&want[term]),
                TOL,
                &format!("{name}: {term}"),
            );
        }
        assert_close(
            &grad_values(&x_hat, &grads),
            &numbers(&want["grad_x_hat"]),
            TOL,
            &format!("{name}: ∂/∂x̂"),
        );
        assert_close(
            &grad_values(&fake, &grads),
            &numbers(&want["grad_logits_fake"]),
            TOL,
            &format!("{name}: ∂/∂logits"),
        );
        assert_close_scalar(
            grad_values(&commitment, &grads)[0],
            number(&want["grad_commitment"]),
            TOL,
            &format!("{name}: ∂/∂commitment"),
        );
        assert_close_scalar(
            grad_values(&codebook, &grads)[0],
            number(&want["grad_codebook"]),
            TOL,
            &format!("{name}: ∂/∂codebook"),
        );
    }
}
