//! LPIPS-VGG against the `lpips` package (tools/golden_lpips.py): closed-form weights, so the
//! network code and both weight-file formats are proven without the 528 MB VGG16 download.

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use safetensors::tensor::{Dtype, TensorView};
use serde_json::Value;
use simvq_image::{ImageError, Lpips};

type B = Flex;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `amplitude · sin(0.37·i + salt)`, as the fixture script.
fn formula(len: usize, salt: f64, amplitude: f64) -> Vec<f32> {
    (0..len)
        .map(|i| (amplitude * (0.37 * i as f64 + salt).sin()) as f32)
        .collect()
}

/// torchvision's VGG16 `features.*` with the script's weights, as a safetensors file.
fn write_backbone(path: &Path) {
    let widths = [
        64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512,
    ];
    let positions = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
    let mut cin = 3;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (k, (&cout, pos)) in widths.iter().zip(positions).enumerate() {
        let fan_in = cin * 9;
        let w = formula(cout * fan_in, k as f64, 1.7 / (fan_in as f64).sqrt());
        let b = formula(cout, k as f64 + 0.5, 0.05);
        let bytes = |v: Vec<f32>| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        tensors.push((
            format!("features.{pos}.weight"),
            vec![cout, cin, 3, 3],
            bytes(w),
        ));
        tensors.push((format!("features.{pos}.bias"), vec![cout], bytes(b)));
        cin = cout;
    }
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(name, shape, data)| {
            (
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

fn input(spec: &Value) -> Tensor<B, 4> {
    let shape: Vec<usize> = spec["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let values = formula(
        shape.iter().product(),
        spec["salt"].as_f64().unwrap(),
        spec["amplitude"].as_f64().unwrap(),
    );
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

#[test]
fn lpips_matches_the_lpips_package() {
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("lpips_golden.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backbone = dir.path().join("vgg16.safetensors");
    write_backbone(&backbone);
    let lpips = Lpips::<B>::load(&backbone, &fixture("lpips_heads.pth"), &Default::default())
        .expect("both files load");
    let (x, y) = (input(&golden["x"]), input(&golden["y"]));
    let got = lpips
        .forward(x.clone(), y)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    for (g, e) in got.iter().zip(golden["lpips"].as_array().unwrap()) {
        let e = e.as_f64().unwrap() as f32;
        assert!((g - e).abs() <= 1e-4 * e.abs().max(1e-3), "{g} vs {e}");
    }
    let same = lpips
        .forward(x.clone(), x)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    assert!(same.iter().all(|v| v.abs() < 1e-7), "{same:?}");
}

#[test]
fn missing_or_wrong_weight_files_name_the_file_and_where_to_get_it() {
    let device = Default::default();
    let missing = Path::new("/nonexistent/vgg16-397923af.pth");
    let err = Lpips::<B>::load(missing, &fixture("lpips_heads.pth"), &device).unwrap_err();
    assert!(matches!(err, ImageError::Weights { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/vgg16-397923af.pth") && msg.contains("download.pytorch.org"),
        "{msg}"
    );
    // The heads file given as the backbone: nothing fits, and the error says so.
    let heads = fixture("lpips_heads.pth");
    let msg = Lpips::<B>::load(&heads, &heads, &device)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("loaded 0 of 26"), "{msg}");
}
