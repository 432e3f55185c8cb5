//! The codec's GAN terms and both training objectives against PyTorch autograd, with the
//! packages' own term classes (Vocos 0.1.0's hinge, feature matching and mel losses, DAC
//! 1.0.0's `GANLoss`; tools/golden_gan_losses.py): the discriminator objective (multi-period
//! hinge / 5 + multi-resolution hinge / 3 + DAC least squares) and the generator objective
//! (the same ÷5 and ÷3 on the GAN and feature-matching terms, + 45 × log-mel L1 + 1000 ×
//! quantizer loss), values and gradients with respect to every verdict, the reconstruction and
//! the quantizer loss, on hinges on both sides of their kinks and on saturated ones.

use std::path::Path;

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Tensor, TensorData};
use simvq_audio::{audio_discriminator_loss, AudioLossConfig, AudioVerdicts, Verdict};
use simvq_quant::QuantLoss;
use simvq_testkit::{
    assert_close, assert_close_scalar, broadband, closed_form, grad_values, leaf, number, numbers,
    read_json, tensor_values, Tolerance, Value,
};

type B = Autodiff<Flex>;

/// f32 against the f64 reference (the mel term's logs of small magnitudes dominate).
const TOL: Tolerance = Tolerance {
    abs: 1e-5,
    rel: 1e-4,
};

fn golden() -> Value {
    read_json(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/losses_golden.json"))
}

fn shape4(value: &Value) -> [usize; 4] {
    let dims: Vec<usize> = numbers(value).iter().map(|&d| d as usize).collect();
    dims.try_into().unwrap()
}

/// The script's `verdicts(count, salt, offset)`: per sub-discriminator two feature maps and a
/// logit map (for DAC also its last feature map, as DAC's discriminators return it).
fn verdicts(golden: &Value, count: usize, salt: f64, offset: f64, dac: bool) -> Vec<Verdict<B>> {
    let feature_shapes = golden["feature_shapes"].as_array().unwrap();
    let logit_shape = shape4(&golden["logit_shape"]);
    let logit_len: usize = logit_shape.iter().product();
    (0..count)
        .map(|d| {
            let mut features: Vec<Tensor<B, 4>> = feature_shapes
                .iter()
                .enumerate()
                .map(|(j, shape)| {
                    let shape = shape4(shape);
                    let salt = salt + 0.1 * d as f64 + 0.01 * j as f64;
                    leaf(closed_form(shape.iter().product(), salt, 1.5, 0.0), shape)
                })
                .collect();
            let values = closed_form(logit_len, salt + 0.05 * d as f64 + 0.5, 2.0, offset);
            if dac {
                let map = TensorData::new(values.clone(), logit_shape);
                features.push(Tensor::from_data(map, &Default::default()));
            }
            let logits = leaf(values, [logit_shape[0], logit_len / logit_shape[0]]);
            Verdict { logits, features }
        })
        .collect()
}

/// Real and fake verdicts of every discriminator, as the script draws them.
fn all_verdicts(golden: &Value, offset: f64) -> (AudioVerdicts<B>, AudioVerdicts<B>) {
    let real = AudioVerdicts {
        mpd: verdicts(golden, 5, 0.2, -offset, false),
        mrd: verdicts(golden, 3, 2.1, -offset, false),
        dac: verdicts(golden, 8, 1.7, -offset, true),
    };
    let fake = AudioVerdicts {
        mpd: verdicts(golden, 5, 1.3, offset, false),
        mrd: verdicts(golden, 3, 0.9, offset, false),
        dac: verdicts(golden, 8, 2.9, offset, true),
    };
    (real, fake)
}

fn scalar(t: &Tensor<B, 1>) -> f64 {
    tensor_values(t)[0]
}

/// The verdict sets in the script's order, with their names.
fn sets<'a>(
    real: &'a AudioVerdicts<B>,
    fake: &'a AudioVerdicts<B>,
) -> [(&'static str, &'a [Verdict<B>]); 6] {
    [
        ("real_mpd", &real.mpd),
        ("fake_mpd", &fake.mpd),
        ("real_mrd", &real.mrd),
        ("fake_mrd", &fake.mrd),
        ("real_dac", &real.dac),
        ("fake_dac", &fake.dac),
    ]
}

#[test]
fn the_discriminator_objective_matches_vocos_and_dac() {
    let _autodiff = simvq_quant::autodiff_lock();
    let golden = golden();
    for case in golden["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (real, fake) = all_verdicts(&golden, number(&case["logit_offset"]));
        let loss = audio_discriminator_loss(&real, &fake, 1.0);
        let grads = loss.backward();
        let want = &case["discriminator"];
        assert_close_scalar(
            scalar(&loss),
            number(&want["total"]),
            TOL,
            &format!("{name}: D loss"),
        );
        let got: Vec<Vec<f64>> = sets(&real, &fake)
            .iter()
            .flat_map(|(_, set)| set.iter().map(|v| grad_values(&v.logits, &grads)))
            .collect();
        for (i, (got, want)) in got
            .iter()
            .zip(want["grad_logits"].as_array().unwrap())
            .enumerate()
        {
            assert_close(
                got,
                &numbers(want),
                TOL,
                &format!("{name}: ∂D/∂logits of sub-discriminator {i}"),
            );
        }
    }
}

#[test]
fn the_generator_objective_weights_its_terms_as_the_reference() {
    let _autodiff = simvq_quant::autodiff_lock();
    let golden = golden();
    let loss = AudioLossConfig::new().init::<B>(&Default::default());
    for case in golden["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let samples = case["samples"].as_u64().unwrap() as usize;
        let (real, fake) = all_verdicts(&golden, number(&case["logit_offset"]));
        let x = leaf(broadband(2 * samples, 0.4, 0.5), [2, samples]);
        let x_hat = leaf(broadband(2 * samples, 1.9, 0.45), [2, samples]);
        let (commitment, codebook) = (leaf(vec![0.0037], [1]), leaf(vec![0.0011], [1]));
        let quant = QuantLoss::without_entropy(commitment.clone(), codebook.clone());
        let out = loss.generator(x, x_hat.clone(), &real, &fake, &quant);
        let grads = out.total.backward();
        let want = &case["generator"];
        for (term, got) in [
            ("mel", &out.mel),
            ("adversarial", &out.adversarial),
            ("feature_matching", &out.feature_matching),
            ("total", &out.total),
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
        for (set, verdicts) in sets(&real, &fake) {
            let expected = want["grad_verdicts"][set].as_array().unwrap();
            for (d, (v, e)) in verdicts.iter().zip(expected).enumerate() {
                let what = format!("{name}: ∂G/∂{set}[{d}]");
                assert_close(
                    &grad_values(&v.logits, &grads),
                    &numbers(&e["logits"]),
                    TOL,
                    &format!("{what} logits"),
                );
                for (j, e) in e["features"].as_array().unwrap().iter().enumerate() {
                    assert_close(
                        &grad_values(&v.features[j], &grads),
                        &numbers(e),
                        TOL,
                        &format!("{what} feature {j}"),
                    );
                }
            }
        }
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
