//! The discriminators against Vocos: the multi-period one against vocos 0.1's
//! `MultiPeriodDiscriminator` (torch 2.11: parameter count, the shape of every logit and
//! feature map for a 4,001-sample input, which every period pads by reflection), the
//! multi-resolution one against vocos 0.0.3's `DiscriminatorR` (tools/golden_mrd.py: weights
//! from its state dict, logits and feature-map statistics).

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use simvq_audio::{
    feature_matching_loss, hinge_discriminator_loss, hinge_generator_loss, MultiPeriodConfig,
};
use simvq_quant::SeededInit;
use simvq_testkit::{assert_close_scalar, number, numbers, read_json, Tolerance, Value};

#[test]
fn shapes_and_size_match_vocos() {
    let device = Default::default();
    let mpd = MultiPeriodConfig::new().init(&SeededInit::<Flex>::new(0, &device));
    // sum(p.numel() for p in vocos.discriminators.MultiPeriodDiscriminator().parameters())
    assert_eq!(mpd.num_params(), 41_105_770);
    let wave = Tensor::<Flex, 2>::random([2, 4001], Distribution::Uniform(-0.5, 0.5), &device);
    let verdicts = mpd.forward(wave);
    let logits: Vec<[usize; 2]> = verdicts.iter().map(|v| v.logits.dims()).collect();
    assert_eq!(logits, [[2, 50], [2, 51], [2, 50], [2, 56], [2, 55]]);
    let expected: [[[usize; 4]; 5]; 5] = [
        [
            [2, 128, 223, 2],
            [2, 512, 75, 2],
            [2, 1024, 25, 2],
            [2, 1024, 25, 2],
            [2, 1, 25, 2],
        ],
        [
            [2, 128, 149, 3],
            [2, 512, 50, 3],
            [2, 1024, 17, 3],
            [2, 1024, 17, 3],
            [2, 1, 17, 3],
        ],
        [
            [2, 128, 89, 5],
            [2, 512, 30, 5],
            [2, 1024, 10, 5],
            [2, 1024, 10, 5],
            [2, 1, 10, 5],
        ],
        [
            [2, 128, 64, 7],
            [2, 512, 22, 7],
            [2, 1024, 8, 7],
            [2, 1024, 8, 7],
            [2, 1, 8, 7],
        ],
        [
            [2, 128, 41, 11],
            [2, 512, 14, 11],
            [2, 1024, 5, 11],
            [2, 1024, 5, 11],
            [2, 1, 5, 11],
        ],
    ];
    for (verdict, shapes) in verdicts.iter().zip(expected) {
        let got: Vec<[usize; 4]> = verdict.features.iter().map(|f| f.dims()).collect();
        assert_eq!(got, shapes);
    }
}

#[test]
fn gan_terms_are_averaged_over_periods_and_train_both_sides() {
    let _autodiff = simvq_quant::autodiff_lock();
    type B = Autodiff<Flex>;
    let device = Default::default();
    let mpd = MultiPeriodConfig::new()
        .with_periods(vec![2, 3])
        .init(&SeededInit::<B>::new(0, &device));
    let real = Tensor::<B, 2>::random([1, 600], Distribution::Uniform(-0.5, 0.5), &device);
    let fake =
        Tensor::<B, 2>::random([1, 600], Distribution::Uniform(-0.5, 0.5), &device).require_grad();
    let (vr, vf) = (mpd.forward(real.clone()), mpd.forward(fake.clone()));
    // With identical inputs the matching term is exactly zero.
    let same = feature_matching_loss(&vr, &mpd.forward(real));
    assert_eq!(same.into_scalar(), 0.0);
    let d = hinge_discriminator_loss(&vr, &vf);
    // Each hinge term is at least 0; the average of two sub-losses of ~2 stays near 2.
    let d_value = d.clone().into_scalar();
    assert!(d_value > 0.5 && d_value < 4.0, "{d_value}");
    let g = hinge_generator_loss(&vf) + feature_matching_loss(&vr, &vf);
    let grads = g.backward();
    assert!(
        fake.grad(&grads).is_some(),
        "the generator terms reach the waveform"
    );
}

#[test]
fn multi_resolution_discriminator_matches_vocos_0_0_3() {
    use burn::tensor::TensorData;
    use burn_store::{ModuleSnapshot, PytorchStore};
    use simvq_audio::MultiResolutionConfig;

    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let device = Default::default();
    let mut mrd = MultiResolutionConfig::new()
        .with_channels(8)
        .init(&SeededInit::<Flex>::new(0, &device));
    let mut store = PytorchStore::from_file(fixtures.join("mrd_small.pth"))
        .map_indices_contiguous(false)
        .with_key_remapping(r"^(\d)\.", "discriminators.$1.");
    let result = mrd.load_from(&mut store).unwrap();
    assert!(
        result.missing.is_empty() && result.unused.is_empty(),
        "{result}"
    );
    assert_eq!(
        result.applied.len(),
        3 * 6 * 3,
        "3 resolutions × 6 convs × (g, v, bias)"
    );

    let golden = read_json(fixtures.join("mrd_golden.json"));
    let wave: Vec<f32> = (0..4001)
        .map(|i| {
            let n = i as f64;
            (0.6 * (0.05 * n).sin() + 0.2 * (0.31 * n + 1.0).sin()) as f32
        })
        .collect();
    let wave = Tensor::<Flex, 2>::from_data(TensorData::new(wave, [1, 4001]), &device);
    assert_verdicts_match(&mrd.forward(wave), &golden["cases"], 1e-4);
}

#[test]
fn dac_discriminator_and_losses_match_descript_audio_codec() {
    use burn::tensor::TensorData;
    use simvq_audio::{
        dac_feature_matching_loss, lsgan_discriminator_loss, lsgan_generator_loss, DacConfig,
    };
    use simvq_testkit::ClosedFormWeights;

    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let golden = read_json(fixtures.join("dac_golden.json"));
    let device = Default::default();
    let dac = DacConfig::new()
        .init(&SeededInit::<Flex>::new(0, &device))
        .map(&mut ClosedFormWeights);
    assert_eq!(
        dac.num_params() as u64,
        golden["parameters"].as_u64().unwrap()
    );

    let signal = |f: fn(f64) -> f64| {
        let wave: Vec<f32> = (0..3000).map(|i| f(f64::from(i)) as f32).collect();
        Tensor::<Flex, 2>::from_data(TensorData::new(wave, [1, 3000]), &device)
    };
    let real = dac.forward(signal(|n| {
        0.3 + 0.5 * (0.05 * n).sin() + 0.2 * (0.31 * n + 1.0).sin()
    }));
    let fake = dac.forward(signal(|n| {
        0.4 * (0.07 * n + 0.5).sin() - 0.1 * (0.5 * n).cos()
    }));
    assert_verdicts_match(&real, &golden["real_cases"], 1e-4);
    for (got, key) in [
        (lsgan_discriminator_loss(&real, &fake), "discriminator_loss"),
        (lsgan_generator_loss(&fake), "generator_loss"),
        (
            dac_feature_matching_loss(&real, &fake),
            "feature_matching_loss",
        ),
    ] {
        assert_close_scalar(
            f64::from(got.into_scalar()),
            number(&golden[key]),
            Tolerance {
                abs: 0.0,
                rel: 1e-4,
            },
            key,
        );
    }
}

/// Logits and feature-map shapes, means and mean magnitudes against a golden `cases` array,
/// to a relative tolerance (absolute below 1e-2).
fn assert_verdicts_match(verdicts: &[simvq_audio::Verdict<Flex>], cases: &Value, tolerance: f64) {
    // `tolerance · max(|want|, 1e-2)`: a `max`, not the kit's sum, so value by value.
    let close = |got: f64, want: f64, what: &str| {
        assert_close_scalar(
            got,
            want,
            Tolerance::absolute(tolerance * want.abs().max(1e-2)),
            what,
        );
    };
    let cases = cases.as_array().unwrap();
    assert_eq!(verdicts.len(), cases.len());
    for (verdict, case) in verdicts.iter().zip(cases) {
        let logits = verdict.logits.clone().into_data().to_vec::<f32>().unwrap();
        let expected = numbers(&case["logits"]);
        assert_eq!(logits.len(), expected.len());
        for (i, (g, e)) in logits.iter().zip(&expected).enumerate() {
            close(f64::from(*g), *e, &format!("logit {i}"));
        }
        let means = numbers(&case["feature_means"]);
        let abs_means = numbers(&case["feature_abs_means"]);
        for (i, feature) in verdict.features.iter().enumerate() {
            let shape: Vec<usize> = case["feature_shapes"][i]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(feature.dims().to_vec(), shape);
            close(
                f64::from(feature.clone().mean().into_scalar()),
                means[i],
                &format!("feature {i} mean"),
            );
            close(
                f64::from(feature.clone().abs().mean().into_scalar()),
                abs_means[i],
                &format!("feature {i} |mean|"),
            );
        }
    }
}
