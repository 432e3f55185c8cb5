//! PSNR and SSIM equal scikit-image's on the reference's uint8-truncated inputs
//! (fixture from `tools/golden_image_metrics.py`, scikit-image 0.26), within 1e-4.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
mod common;

use common::{fixture, floats, mean};
use simvq_metrics::{psnr, ssim, ImageQuality, MetricsError};
use simvq_testkit::{number, numbers, read_json};

#[test]
fn psnr_and_ssim_match_scikit_image() {
    let golden = read_json(fixture("image_metrics_golden.json"));
    let device = Default::default();
    let mut all = ImageQuality::default();
    let (mut batch_psnrs, mut batch_ssims, mut image_psnrs) = (vec![], vec![], vec![]);
    for case in golden["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let shape: [usize; 4] = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let tensor =
            |key| Tensor::<Flex, 4>::from_data(TensorData::new(floats(case, key), shape), &device);
        let mut quality = ImageQuality::default();
        quality.update(tensor("recon"), tensor("target")).unwrap();
        all.update(tensor("recon"), tensor("target")).unwrap();
        let report = quality.report().unwrap();

        let want_ssim = numbers(&case["ssim"]);
        let want_psnr = numbers(&case["psnr"]);
        assert!(
            (report.ssim - mean(&want_ssim)).abs() < 1e-4,
            "{name}: ssim {} vs {}",
            report.ssim,
            mean(&want_ssim)
        );
        assert!(
            (report.ssim_per_image - mean(&want_ssim)).abs() < 1e-4,
            "{name}"
        );
        assert!(
            (report.psnr_per_image - mean(&want_psnr)).abs() < 1e-4,
            "{name}: psnr"
        );
        let want_batch = number(&case["psnr_batch"]);
        assert!(
            (report.psnr - want_batch).abs() < 1e-4,
            "{name}: batch psnr {} vs {want_batch}",
            report.psnr
        );
        assert_eq!(report.images, shape[0]);
        batch_psnrs.push(want_batch);
        batch_ssims.push(mean(&want_ssim));
        image_psnrs.extend(want_psnr);
    }
    // Over several batches of different sizes the reference averages batch values.
    let report = all.report().unwrap();
    assert!((report.psnr - mean(&batch_psnrs)).abs() < 1e-4);
    assert!((report.ssim - mean(&batch_ssims)).abs() < 1e-4);
    assert!((report.psnr_per_image - mean(&image_psnrs)).abs() < 1e-4);
    assert!(
        (report.psnr - report.psnr_per_image).abs() > 1e-3,
        "the two PSNR protocols differ here"
    );
}

#[test]
fn identical_images_and_known_values() {
    let a = vec![0.25; 3 * 8 * 8];
    assert_eq!(ssim(&a, &a, 3, 8, 8, 1.0).unwrap(), 1.0);
    assert_eq!(psnr(&a, &a, 1.0), f64::INFINITY);
    let b: Vec<f64> = a.iter().map(|x| x + 0.1).collect();
    assert!((psnr(&a, &b, 1.0) - 20.0).abs() < 1e-9, "mse 0.01 → 20 dB");
}

#[test]
fn bad_input_is_reported() {
    let device = Default::default();
    let mut quality = ImageQuality::default();
    assert_eq!(quality.report(), Err(MetricsError::Empty));
    let small = Tensor::<Flex, 4>::zeros([1, 3, 6, 9], &device);
    assert!(matches!(
        quality.update(small.clone(), small),
        Err(MetricsError::ImageTooSmall { .. })
    ));
    let a = Tensor::<Flex, 4>::zeros([1, 3, 8, 8], &device);
    let b = Tensor::<Flex, 4>::zeros([1, 3, 8, 9], &device);
    let err = quality.update(a, b).unwrap_err();
    assert!(
        err.to_string().contains("[batch, channels, height, width]"),
        "{err}"
    );
}
