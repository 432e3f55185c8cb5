//! LPIPS-VGG and LPIPS-Alex against the `lpips` package (tools/golden_lpips.py): closed-form
//! weights, so the networks and both weight-file formats are proven without the VGG16 and
//! AlexNet downloads.

mod common;

use std::path::Path;

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use common::{fixture, formula_tensor, write_safetensors};
use simvq_metrics::{Lpips, LpipsNet, MetricsError};
use simvq_testkit::{assert_close_scalar, closed_form, numbers, read_json, Tolerance, Value};

type B = Flex;

/// The torchvision `features.*` convs of each backbone: (out channels, kernel, position).
fn backbone_convs(net: LpipsNet) -> Vec<(usize, usize, usize)> {
    match net {
        LpipsNet::Vgg => [
            64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512,
        ]
        .into_iter()
        .zip([0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28])
        .map(|(c, p)| (c, 3, p))
        .collect(),
        LpipsNet::Alex => vec![
            (64, 11, 0),
            (192, 5, 3),
            (384, 3, 6),
            (256, 3, 8),
            (256, 3, 10),
        ],
    }
}

/// The torchvision backbone with the script's weights, as a safetensors file.
fn write_backbone(net: LpipsNet, path: &Path) {
    let mut cin = 3;
    let mut tensors = Vec::new();
    for (k, (cout, kernel, pos)) in backbone_convs(net).into_iter().enumerate() {
        let fan_in = cin * kernel * kernel;
        let w = closed_form(cout * fan_in, k as f64, 1.7 / (fan_in as f64).sqrt(), 0.0);
        let b = closed_form(cout, k as f64 + 0.5, 0.05, 0.0);
        tensors.push((
            format!("features.{pos}.weight"),
            vec![cout, cin, kernel, kernel],
            w,
        ));
        tensors.push((format!("features.{pos}.bias"), vec![cout], b));
        cin = cout;
    }
    write_safetensors(path, &tensors);
}

fn input(spec: &Value) -> Tensor<B, 4> {
    let (shape, values) = formula_tensor(spec);
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

fn heads_file(net: LpipsNet) -> std::path::PathBuf {
    fixture(match net {
        LpipsNet::Vgg => "lpips_heads.pth",
        LpipsNet::Alex => "lpips_alex_heads.pth",
    })
}

fn assert_matches_lpips_package(net: LpipsNet) {
    let golden = read_json(fixture("lpips_golden.json"));
    let dir = tempfile::tempdir().unwrap();
    let backbone = dir.path().join("backbone.safetensors");
    write_backbone(net, &backbone);
    let lpips = Lpips::<B>::load(net, &backbone, &heads_file(net), &Default::default())
        .expect("both files load");
    let (x, y) = (input(&golden["x"]), input(&golden["y"]));
    let got = lpips
        .forward(x.clone(), y)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let want = numbers(&golden[net.name()]["lpips"]);
    assert_eq!(
        got.len(),
        want.len(),
        "{}: one distance per pair",
        net.name()
    );
    // 1e-4 relative, 1e-7 below 1e-3: a `max`, not the kit's sum, so value by value.
    for (i, (&g, &e)) in got.iter().zip(&want).enumerate() {
        assert_close_scalar(
            f64::from(g),
            e,
            Tolerance::absolute(1e-4 * e.abs().max(1e-3)),
            &format!("{} lpips {i}", net.name()),
        );
    }
    let same = lpips
        .forward(x.clone(), x)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    assert!(same.iter().all(|v| v.abs() < 1e-7), "{same:?}");
}

#[test]
fn lpips_vgg_matches_the_lpips_package() {
    assert_matches_lpips_package(LpipsNet::Vgg);
}

#[test]
fn lpips_alex_matches_the_lpips_package() {
    assert_matches_lpips_package(LpipsNet::Alex);
}

#[test]
fn missing_or_wrong_weight_files_name_the_file_and_where_to_get_it() {
    let device = Default::default();
    let heads = heads_file(LpipsNet::Vgg);
    let missing = Path::new("/nonexistent/vgg16-397923af.pth");
    let err = Lpips::<B>::load(LpipsNet::Vgg, missing, &heads, &device).unwrap_err();
    assert!(matches!(err, MetricsError::Weights { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/vgg16-397923af.pth") && msg.contains("download.pytorch.org"),
        "{msg}"
    );
    // The heads file given as the backbone: nothing fits, and the error says so.
    let msg = Lpips::<B>::load(LpipsNet::Vgg, &heads, &heads, &device)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("loaded 0 of 26"), "{msg}");
    // AlexNet heads in a VGG network: shapes differ, and the error names the file.
    let alex_heads = heads_file(LpipsNet::Alex);
    let dir = tempfile::tempdir().unwrap();
    let backbone = dir.path().join("vgg.safetensors");
    write_backbone(LpipsNet::Vgg, &backbone);
    let msg = Lpips::<B>::load(LpipsNet::Vgg, &backbone, &alex_heads, &device)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("lpips_alex_heads.pth"), "{msg}");
}
