//! SimVQ with a frozen codebook from a file of features (VQGAN-LC style) or of another width.

use std::collections::HashMap;
use std::path::Path;

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Distribution, Tensor};
use safetensors::tensor::{Dtype, TensorView};
use simvq_quant::{CodebookQuantizer, FrozenCodebook, QuantError, Quantizer, SimVqConfig};

type B = Autodiff<Flex>;

fn write(path: &Path, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) {
    let views: HashMap<String, TensorView> = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            (
                name.to_string(),
                TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn codebook_from_a_features_file_is_frozen_and_projected() {
    let _autodiff = simvq_quant::autodiff_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("features.safetensors");
    let (k, width, dim) = (20, 6, 4);
    let features: Vec<f32> = (0..k * width).map(|i| (i as f32 * 0.37).sin()).collect();
    write(
        &path,
        &[("features", Dtype::F32, vec![k, width], f32_bytes(&features))],
    );

    let device = Default::default();
    let vq = SimVqConfig::new()
        .with_codebook_size(k)
        .with_dim(dim)
        .with_frozen_codebook(FrozenCodebook::File(path.display().to_string()))
        .init::<B>(&device)
        .unwrap();
    assert_eq!(vq.frozen_codebook.dims(), [k, width]);
    let loaded: Vec<f32> = vq.frozen_codebook.val().into_data().to_vec().unwrap();
    assert_eq!(loaded, features);
    assert_eq!((vq.codebook_size(), vq.dim()), (k, dim));
    assert_eq!(vq.codebook().codes().dims(), [k, dim]);

    let z = Tensor::<B, 2>::random([12, dim], Distribution::Normal(0.0, 1.0), &device);
    let out = vq.forward(z).unwrap();
    let grads = out.loss.total().backward();
    assert!(
        vq.frozen_codebook.grad(&grads).is_none(),
        "file codebook stays frozen"
    );
    assert!(
        vq.projection.weight.grad(&grads).is_some(),
        "its projector learns"
    );

    // The same file in f16 gives the same codebook up to f16 rounding.
    let half_path = dir.path().join("features_f16.safetensors");
    let bytes: Vec<u8> = features
        .iter()
        .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
        .collect();
    write(&half_path, &[("c", Dtype::F16, vec![k, width], bytes)]);
    let vq16 = SimVqConfig::new()
        .with_codebook_size(k)
        .with_dim(dim)
        .with_frozen_codebook(FrozenCodebook::File(half_path.display().to_string()))
        .init::<B>(&device)
        .unwrap();
    let loaded16: Vec<f32> = vq16.frozen_codebook.val().into_data().to_vec().unwrap();
    assert!(loaded16
        .iter()
        .zip(&features)
        .all(|(a, b)| (a - b).abs() < 1e-3));
}

#[test]
fn gaussian_codebook_of_another_width() {
    let vq = SimVqConfig::new()
        .with_codebook_size(64)
        .with_dim(8)
        .with_frozen_codebook_dim(Some(32))
        .init::<B>(&Default::default())
        .unwrap();
    assert_eq!(vq.frozen_codebook.dims(), [64, 32]);
    assert_eq!(vq.projection.weight.dims(), [32, 8]);
    assert_eq!(vq.dim(), 8);
    let out = vq
        .forward_1d(Tensor::random(
            [2, 8, 5],
            Distribution::Normal(0.0, 1.0),
            &Default::default(),
        ))
        .unwrap();
    assert_eq!(out.quantized.dims(), [2, 8, 5]);
}

#[test]
fn bad_codebook_files_name_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let init = |path: &Path, k: usize| {
        SimVqConfig::new()
            .with_codebook_size(k)
            .with_dim(4)
            .with_frozen_codebook(FrozenCodebook::File(path.display().to_string()))
            .init::<B>(&Default::default())
            .unwrap_err()
    };
    let reason = |err: QuantError| match err {
        QuantError::CodebookFile { reason, .. } => reason,
        other => panic!("unexpected {other:?}"),
    };

    let missing = dir.path().join("nope.safetensors");
    let err = init(&missing, 4);
    assert!(err.to_string().contains("nope.safetensors"), "{err}");
    assert!(reason(err).contains("cannot read"));

    let rows = dir.path().join("rows.safetensors");
    write(
        &rows,
        &[("c", Dtype::F32, vec![3, 2], f32_bytes(&[0.0; 6]))],
    );
    assert!(reason(init(&rows, 4)).contains("set codebook_size = 3"));

    let two = dir.path().join("two.safetensors");
    write(
        &two,
        &[
            ("a", Dtype::F32, vec![4, 2], f32_bytes(&[0.0; 8])),
            ("b", Dtype::F32, vec![4, 2], f32_bytes(&[0.0; 8])),
        ],
    );
    assert!(reason(init(&two, 4)).contains("exactly one tensor"));

    let flat = dir.path().join("flat.safetensors");
    write(&flat, &[("c", Dtype::F32, vec![8], f32_bytes(&[0.0; 8]))]);
    assert!(reason(init(&flat, 4)).contains("need [codes, width]"));

    let nan = dir.path().join("nan.safetensors");
    write(
        &nan,
        &[(
            "c",
            Dtype::F32,
            vec![4, 1],
            f32_bytes(&[0.0, f32::NAN, 0.0, 0.0]),
        )],
    );
    assert!(reason(init(&nan, 4)).contains("non-finite"));

    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"not a tensor file").unwrap();
    assert!(reason(init(&junk, 4)).contains("not a safetensors file"));
}
