//! pytorch-fid's InceptionV3 against pytorch-fid itself (tools/golden_inception.py): every
//! weight is a closed-form formula, written here to a safetensors file under pytorch-fid's key
//! names and loaded through `FidInception::load`, so the network, its FID patches, the 299²
//! resize and the loading are proven without the 91 MB weight file.

mod common;

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use common::{fixture, formula_tensor, write_formula_tensors};
use simvq_metrics::{FidInception, MetricsError, INCEPTION_FEATURES};
use simvq_testkit::{assert_close, numbers, read_json, Tolerance};

type B = Flex;

#[test]
fn pool_features_match_pytorch_fid() {
    let golden = read_json(fixture("inception_golden.json"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pt_inception.safetensors");
    write_formula_tensors(&golden["tensors"], &path);
    let device = Default::default();
    let net = FidInception::<B>::load(&path, &device).expect("every tensor loads");

    let (shape, pixels) = formula_tensor(&golden["images"]);
    let images = Tensor::<B, 4>::from_data(TensorData::new(pixels, shape), &device);
    let got = net
        .features(images)
        .into_data()
        .convert::<f64>()
        .to_vec::<f64>()
        .unwrap();
    let expected: Vec<f64> = golden["features"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(numbers)
        .collect();
    assert_eq!(got.len(), 2 * INCEPTION_FEATURES);
    let scale = expected.iter().fold(0f64, |m, v| m.max(v.abs()));
    assert_close(
        &got,
        &expected,
        Tolerance::absolute(1e-4 * scale),
        &format!("pool features (feature scale {scale})"),
    );
}

#[test]
fn a_missing_or_foreign_weight_file_says_which_and_where_to_get_it() {
    let device = Default::default();
    let err = FidInception::<B>::load("/nowhere/pt_inception.pth".as_ref(), &device).unwrap_err();
    assert!(matches!(err, MetricsError::Weights { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("/nowhere/pt_inception.pth") && msg.contains("pytorch-fid/releases"),
        "{msg}"
    );
    // LPIPS heads are a real PyTorch file, but not this network's.
    let msg = FidInception::<B>::load(&fixture("lpips_heads.pth"), &device)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("loaded 0 of"), "{msg}");
}
