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

#[test]
fn shapes_and_size_match_vocos() {
    let device = Default::default();
    let mpd = MultiPeriodConfig::new().init::<Flex>(&device);
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
    type B = Autodiff<Flex>;
    let device = Default::default();
    let mpd = MultiPeriodConfig::new()
        .with_periods(vec![2, 3])
        .init::<B>(&device);
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
        .init::<Flex>(&device);
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

    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("mrd_golden.json")).unwrap())
            .unwrap();
    let wave: Vec<f32> = (0..4001)
        .map(|i| {
            let n = i as f64;
            (0.6 * (0.05 * n).sin() + 0.2 * (0.31 * n + 1.0).sin()) as f32
        })
        .collect();
    let wave = Tensor::<Flex, 2>::from_data(TensorData::new(wave, [1, 4001]), &device);
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let close = |got: f64, want: f64, what: &str| {
        assert!(
            (got - want).abs() <= 1e-4 * want.abs().max(1e-2),
            "{what}: {got} vs {want}"
        );
    };
    for (verdict, case) in mrd
        .forward(wave)
        .iter()
        .zip(golden["cases"].as_array().unwrap())
    {
        let logits = verdict.logits.clone().into_data().to_vec::<f32>().unwrap();
        let expected = floats(&case["logits"]);
        assert_eq!(logits.len(), expected.len());
        for (g, e) in logits.iter().zip(&expected) {
            close(f64::from(*g), *e, "logit");
        }
        let means = floats(&case["feature_means"]);
        let abs_means = floats(&case["feature_abs_means"]);
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
                "feature mean",
            );
            close(
                f64::from(feature.clone().abs().mean().into_scalar()),
                abs_means[i],
                "feature |mean|",
            );
        }
    }
}
