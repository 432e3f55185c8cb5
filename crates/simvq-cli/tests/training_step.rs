//! One training step of the image tokenizer and its PatchGAN against the same step in
//! PyTorch with the reference's update order (tools/golden_image_step.py): the same initial
//! weights (imported from the script's state dict), the same batch, Adam (lr 1e-3, betas 0.5 and
//! 0.9); the losses and the parameters after the step, for our clean step and for
//! `reference_exact` (D's step also gets G's GAN loss's gradient; BatchNorm over groups of
//! two images, as two GPUs with two images each).

mod common;

use burn::backend::{Autodiff, Flex};
use burn_store::ModuleSnapshot;
use simvq_cli::{import_checkpoint, import_discriminator, Checkpoint, ModelConfig, Tokenizer};
use simvq_data::ImageBatch;
use simvq_image::{ImageLossConfig, PatchDiscriminatorConfig};
use simvq_testkit::{
    assert_close, assert_close_scalar, closed_form, number, numbers, read_json, Value,
};
use simvq_train::{ImageStep, ImageTrainConfig, LossRecord, OptimizerSettings};

type B = Autodiff<Flex>;

use common::{STEP as AFTER, STEP as LOSS};

/// The script's networks and step: tools/golden_import_image.py's tokenizer, a PatchGAN with
/// ndf 8, no LPIPS, Adam at lr 1e-3.
fn config(exact: bool) -> ImageTrainConfig {
    let mut config = ImageTrainConfig::demo();
    config.model = common::fixture_image_tokenizer();
    config.discriminator = PatchDiscriminatorConfig::new()
        .with_base_channels(8)
        .with_batchnorm_batch(if exact { 2 } else { 0 });
    config.loss = ImageLossConfig::new().with_perceptual_weight(0.0);
    config.optimizer = OptimizerSettings {
        learning_rate: 1e-3,
        ..OptimizerSettings::reference()
    };
    config.reference_exact = exact;
    config
}

/// The script's batch: `0.9 · sin(0.37 i + 0.2)` over `[4, 3, 32, 32]`.
fn batch() -> ImageBatch {
    ImageBatch {
        pixels: closed_form(4 * 3 * 32 * 32, 0.2, 0.9, 0.0),
        shape: [4, 3, 32, 32],
        paths: Vec::new(),
    }
}

/// The values of `module`'s tensor at `path`, transposed when it is a burn `Linear` weight
/// (`[in, out]`; PyTorch stores `[out, in]`).
fn tensor_values<M: ModuleSnapshot<B>>(module: &M, path: &str, linear: bool) -> Vec<f64> {
    let snapshot = module
        .collect(None, None, false)
        .into_iter()
        .find(|s| s.full_path() == path)
        .unwrap_or_else(|| panic!("no tensor {path}"));
    let data = snapshot.to_data().unwrap().convert::<f64>();
    let values: Vec<f64> = data.to_vec().unwrap();
    if !linear {
        return values;
    }
    let [rows, cols] = [data.shape[0], data.shape[1]];
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| (r, c)))
        .map(|(r, c)| values[r * cols + c])
        .collect()
}

/// Our path (and whether it is a `Linear` weight) of each tensor the script watches.
fn our_path(reference: &str) -> (&'static str, bool, bool) {
    // (path, in the discriminator, Linear)
    match reference {
        "encoder.conv_in.weight" => ("encoder.conv_in.weight", false, false),
        "quantize.embedding_proj.weight" => ("quantizer.projection.weight", false, true),
        "quantize.embedding_proj.bias" => ("quantizer.projection.bias", false, false),
        "decoder.conv_out.weight" => ("decoder.conv_out.weight", false, false),
        "decoder.conv_out.bias" => ("decoder.conv_out.bias", false, false),
        "loss.discriminator.main.0.weight" => ("input.weight", true, false),
        "loss.discriminator.main.0.bias" => ("input.bias", true, false),
        "loss.discriminator.main.3.weight" => ("blocks.0.norm.gamma", true, false),
        "loss.discriminator.main.3.bias" => ("blocks.0.norm.beta", true, false),
        "loss.discriminator.main.11.weight" => ("output.weight", true, false),
        other => panic!("unwatched tensor {other}"),
    }
}

fn check_step(case: &str, exact: bool) {
    let golden = read_json(common::fixture("image_step.json"));
    let want: &Value = &golden["cases"][case];
    let config = config(exact);
    let device = Default::default();
    let checkpoint = Checkpoint::read(&common::fixture("image_step.ckpt")).unwrap();
    let (tokenizer, _) = import_checkpoint::<B>(
        &checkpoint,
        &ModelConfig::Image(config.model.clone()),
        false,
        &device,
    )
    .unwrap();
    let Tokenizer::Image(model) = tokenizer else {
        panic!("an image tokenizer")
    };
    let discriminator =
        import_discriminator::<B>(&checkpoint, &config.discriminator, &device).unwrap();
    let mut step = ImageStep::new(&config, None);
    let (model, discriminator, losses) =
        step.step(model, discriminator, &batch(), &device).unwrap();

    // LPIPS is off (weight 0), so its term is 0 and the reference's record has none.
    assert_eq!(losses.lpips, 0.0);
    for (name, got) in losses
        .terms()
        .into_iter()
        .filter(|(name, _)| *name != "lpips")
    {
        assert_close_scalar(
            got,
            number(&want["losses"][name]),
            LOSS,
            &format!("{case}: {name} loss"),
        );
    }
    for (reference, expected) in want["after"].as_object().unwrap() {
        let (path, in_discriminator, linear) = our_path(reference);
        let got = if in_discriminator {
            tensor_values(&discriminator, path, linear)
        } else {
            tensor_values(&model, path, linear)
        };
        assert_close(
            &got,
            &numbers(expected),
            AFTER,
            &format!("{case}: {reference} after the step"),
        );
    }
}

#[test]
fn our_step_equals_the_clean_pytorch_step() {
    check_step("clean", false);
}

#[test]
fn reference_exact_equals_the_references_step() {
    check_step("reference_exact", true);
}
