//! The audio training step against tools/golden_audio_step.py's PyTorch steps, both in f64: the
//! same codec, discriminators, batches and optimizer as audio_training_step.rs, on a device
//! whose tensors default to f64. In f32 rounding decides a few things (the slope of LeakyReLU
//! inputs within rounding of zero, Adam's step on gradients that are zero in exact arithmetic),
//! so the f32 test skips what they touch; in f64 those effects are ~1e-9 smaller, so this test
//! compares every tensor of the codec and of the discriminators, with no exceptions. Its own
//! binary, because a device's default dtype is fixed for the process once a tensor exists.

mod common;

use burn::backend::Flex;
use burn::tensor::{set_default_dtypes, DType};
use simvq_testkit::{number, read_json, Tolerance};

use common::audio_step::{checksums, codec, config, run_the_scripts_steps, tensors, Stepped};

/// The losses are reported as f32 (`LossRecord`): f64 arithmetic rounded once.
const LOSS: Tolerance = Tolerance {
    abs: 1e-9,
    rel: 2e-7,
};
/// A discriminator tensor's sums after the steps, relative to its magnitude (sum of |values|).
/// Measured: at most 1.5e-8.
const AFTER_REL: f64 = 1e-7;
/// A discriminator tensor's update checksum, relative to the update's magnitude (sum of
/// |update|). Measured: at most 6.5e-7.
const UPDATE_REL: f64 = 3e-6;
/// Each codec value after the steps, relative to its tensor's mean |update| (an update is
/// ~1e-3 of a weight: relative to the weights this would hide it). Measured: at most 5.1e-6,
/// in the element-wise worst case (the discriminators' checksums average over a tensor).
const CODEC_UPDATE_REL: f64 = 2e-5;
/// An absolute floor under that: the attention key's bias, whose gradient is zero in exact
/// arithmetic, moves by rounding residue over Adam's eps (measured 7e-13 apart; 1e-4 is the
/// learning rate).
const UPDATE_FLOOR: f64 = 1e-11;

#[test]
fn two_steps_in_f64_equal_the_references_f64_steps_in_every_tensor() {
    let device = Default::default();
    set_default_dtypes::<Flex>(&device, DType::F64, DType::I32)
        .expect("no tensor may exist on the device before its dtype is set");
    let golden = read_json(common::fixture("audio_step.json"));
    let Stepped {
        model,
        discriminator,
        before,
    } = run_the_scripts_steps(&golden, "f64_steps", LOSS);

    let initial = tensors(&codec("audio_ckpt.ckpt", &config()), |_| true);
    let expected = tensors(&codec("audio_step_after_f64.ckpt", &config()), |_| true);
    let got = tensors(&model, |_| true);
    assert_eq!(got.len(), expected.len(), "codec tensor count");
    let mut failures = Vec::new();
    let mut worst = 0.0f64;
    for (path, values) in &got {
        let (want, start) = (&expected[path], &initial[path]);
        let scale = want
            .iter()
            .zip(start)
            .map(|(w, s)| (w - s).abs())
            .sum::<f64>()
            / want.len() as f64;
        let off = values
            .iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0, f64::max);
        let tolerance = CODEC_UPDATE_REL * scale + UPDATE_FLOOR;
        worst = worst.max(off / tolerance);
        if off > tolerance {
            failures.push(format!(
                "codec {path}: off by {off:e}, {:e} of its mean update",
                off / scale
            ));
        }
    }
    eprintln!("codec: at most {worst:.3} of the tolerance");

    let after = checksums(&discriminator);
    let want = golden["discriminators"].as_object().unwrap();
    assert_eq!(after.len(), want.len(), "discriminator tensor count");
    let (mut worst_value, mut worst_update) = (0.0f64, 0.0f64);
    for (path, got) in &after {
        let w = &want[path]["f64"];
        let abs = number(&w["abs"]);
        for (name, got) in [("sum", got.sum), ("weighted", got.weighted)] {
            let off = (got - number(&w[name])).abs() / abs;
            worst_value = worst_value.max(off);
            if off > AFTER_REL {
                failures.push(format!("{path}: {name} off by {off:e} of its magnitude"));
            }
        }
        let update = got.weighted - before[path].weighted;
        let off = (update - number(&w["update_weighted"])).abs() / number(&w["update_abs"]);
        worst_update = worst_update.max(off);
        if off > UPDATE_REL {
            failures.push(format!("{path}: update off by {off:e} of its magnitude"));
        }
    }
    eprintln!("discriminators: worst value {worst_value:e}, worst update {worst_update:e}");
    assert!(
        failures.is_empty(),
        "{} checks off:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
