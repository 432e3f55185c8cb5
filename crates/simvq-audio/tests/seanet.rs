//! The causal SEANet encoder against EnCodec's `SEANetEncoder` (tools/golden_seanet.py): the
//! same weights, loaded from its PyTorch state dict, give the same output for lengths shorter
//! than, equal to and longer than the padding.

use std::path::Path;

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use burn_store::{ModuleSnapshot, PytorchStore};
use simvq_audio::SeanetConfig;
use simvq_quant::SeededInit;
use simvq_testkit::{assert_close_scalar, closed_form, numbers, read_json, Tolerance};

type B = Flex;

#[test]
fn seanet_matches_encodec() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let config = SeanetConfig::new()
        .with_filters(4)
        .with_dimension(16)
        .with_ratios(vec![4, 2])
        .with_lstm_layers(0);
    let device = Default::default();
    let mut encoder = config.init(&SeededInit::<B>::new(0, &device));
    // EnCodec's `model` list: conv, then (residual, ELU, downsample) per stage, ELU, conv.
    let mut store = PytorchStore::from_file(fixtures.join("seanet_small.pth"))
        .map_indices_contiguous(false)
        .with_key_remapping(r"^model\.0\.conv\.conv\.", "conv_in.")
        .with_key_remapping(r"^model\.8\.conv\.conv\.", "conv_out.");
    for stage in 0..2 {
        let (res, down) = (3 * stage + 1, 3 * stage + 3);
        store = store
            .with_key_remapping(
                format!(r"^model\.{res}\.block\.1\.conv\.conv\."),
                format!("stages.{stage}.residual.block.0."),
            )
            .with_key_remapping(
                format!(r"^model\.{res}\.block\.3\.conv\.conv\."),
                format!("stages.{stage}.residual.block.1."),
            )
            .with_key_remapping(
                format!(r"^model\.{res}\.shortcut\.conv\.conv\."),
                format!("stages.{stage}.residual.shortcut."),
            )
            .with_key_remapping(
                format!(r"^model\.{down}\.conv\.conv\."),
                format!("stages.{stage}.downsample."),
            );
    }
    let result = encoder.load_from(&mut store).unwrap();
    assert!(
        result.missing.is_empty() && result.unused.is_empty(),
        "{result}"
    );
    assert_eq!(result.applied.len(), 10 * 3, "ten convs: g, v, bias");

    let golden = read_json(fixtures.join("seanet_golden.json"));
    for case in golden["cases"].as_array().unwrap() {
        let length = case["length"].as_u64().unwrap() as usize;
        let input = closed_form(length, length as f64, 0.8, 0.0);
        let x = Tensor::<B, 3>::from_data(TensorData::new(input, [1, 1, length]), &device);
        let y = encoder.forward(x);
        let shape: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(y.dims().to_vec(), shape, "length {length}");
        let got = y.into_data().convert::<f64>().to_vec::<f64>().unwrap();
        let want = numbers(&case["output"]);
        assert_eq!(got.len(), want.len(), "length {length}: outputs");
        // 1e-4, relative beyond ±1: `max` of the two, not the kit's sum, so value by value.
        for (i, (&g, &e)) in got.iter().zip(&want).enumerate() {
            assert_close_scalar(
                g,
                e,
                Tolerance::absolute(1e-4 * e.abs().max(1.0)),
                &format!("length {length}: output {i}"),
            );
        }
    }
}
