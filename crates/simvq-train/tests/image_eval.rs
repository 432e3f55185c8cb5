//! The image evaluation accumulates LPIPS and rFID over batches as the reference does (LPIPS
//! summed over images ÷ images; Inception statistics over the whole set), and saves the
//! originals and reconstructions it scored.

mod common;

use burn::backend::Flex;
use burn::tensor::Tensor;
use simvq_data::{demo_images_dir, Augment, Crop, FileList, ImageLoader, ImageTransform};
use simvq_metrics::{
    frechet_distance, FeatureStatistics, FidInception, Lpips, LpipsNet, INCEPTION_FEATURES,
};
use simvq_quant::SimVqConfig;
use simvq_train::{evaluate_images, save_png_pairs, ImageEvalNetworks, ImageTrainConfig};

type B = Flex;

fn values(t: Tensor<B, 2>) -> Vec<f32> {
    t.into_data().to_vec().unwrap()
}

#[test]
fn lpips_and_rfid_accumulate_over_the_whole_set() {
    let device = Default::default();
    let mut config = ImageTrainConfig::demo();
    config.model.autoencoder = common::tiny_autoencoder();
    config.model.quantizer = SimVqConfig::new().with_codebook_size(64).with_dim(8);
    let model = config.model.init::<B>(&device).unwrap();
    let loader = ImageLoader::new(
        FileList::images(demo_images_dir()).unwrap(),
        ImageTransform {
            size: 32,
            crop: Crop::Center,
            augment: Augment::None,
        },
        2,
        false,
        0,
    )
    .unwrap();
    // Random weights: what is checked is the bookkeeping, the networks are proven elsewhere.
    let networks = ImageEvalNetworks {
        lpips: vec![Lpips::random(LpipsNet::Alex, &device)],
        inception: Some(FidInception::random(&device)),
    };

    let dir = tempfile::tempdir().unwrap();
    let (mut lpips_sum, mut seen) = (0.0, 0);
    let mut real = FeatureStatistics::new(INCEPTION_FEATURES);
    let mut fake = FeatureStatistics::new(INCEPTION_FEATURES);
    let (report, _) = evaluate_images(&model, &loader, 3, 0, &networks, &device, |x, recon| {
        let per_image = networks.lpips[0].forward(x.clone(), recon.clone());
        lpips_sum += f64::from(per_image.sum().into_scalar());
        let inception = networks.inception.as_ref().unwrap();
        let unit = |t: &Tensor<B, 4>| t.clone().add_scalar(1.0).div_scalar(2.0);
        real.update(&values(inception.features(unit(x))))?;
        fake.update(&values(inception.features(unit(recon))))?;
        save_png_pairs(x, recon, seen, dir.path())?;
        seen += x.dims()[0];
        Ok(())
    })
    .unwrap();

    assert_eq!((report.images, seen), (3, 3), "a batch of 2 and one of 1");
    let lpips = report.lpips_alex.expect("LPIPS-Alex was given");
    assert!((lpips - lpips_sum / 3.0).abs() <= 1e-6 * lpips.abs().max(1e-6));
    assert_eq!(report.lpips_vgg, None, "no VGG network was given");
    let rfid = report.rfid.expect("the Inception network was given");
    let expected = frechet_distance(&real, &fake).unwrap();
    assert!(rfid.is_finite() && rfid >= 0.0);
    assert!(
        (rfid - expected).abs() <= 1e-9 * expected.max(1e-12),
        "{rfid} vs {expected}"
    );
    for sub in ["source", "recons"] {
        let pngs = std::fs::read_dir(dir.path().join(sub)).unwrap().count();
        assert_eq!(pngs, 3, "{sub}");
    }
}

#[test]
fn images_too_small_for_lpips_alex_are_a_clear_error() {
    let device = Default::default();
    let lpips = Lpips::<B>::random(LpipsNet::Alex, &device);
    let err = lpips.check_size([1, 3, 16, 16]).unwrap_err().to_string();
    assert!(
        err.contains("LPIPS-Alex needs images of at least 31"),
        "{err}"
    );
    assert!(lpips.check_size([1, 3, 32, 32]).is_ok());
    // 31² is the smallest that runs through AlexNet's stride-4 stem and two 3×3/2 pools.
    let x = Tensor::<B, 4>::zeros([1, 3, 31, 31], &device);
    assert_eq!(lpips.forward(x.clone(), x).dims(), [1]);
}
