//! Fixture helpers shared by the golden-value tests, on top of simvq-testkit: fixture paths,
//! f32 inputs, closed-form tensors and the safetensors files the network tests load.
#![allow(dead_code)] // each test binary uses its own subset

use simvq_testkit::{closed_form, number, numbers, Value};

/// A numeric array of the fixture as f32.
pub fn floats(case: &Value, key: &str) -> Vec<f32> {
    let value = case
        .get(key)
        .unwrap_or_else(|| panic!("fixture lacks {key}"));
    numbers(value).into_iter().map(|v| v as f32).collect()
}

/// Arithmetic mean.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Path of a file in `tests/fixtures`.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A shape array of the fixture.
pub fn shape(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

/// The tensor a fixture spec `{shape, salt, amplitude, offset?}` describes: the closed-form
/// weights and inputs of the network fixture scripts (`tools/golden_lpips.py`,
/// `tools/golden_inception.py`, `tools/golden_vuv.py`).
pub fn formula_tensor(spec: &Value) -> (Vec<usize>, Vec<f32>) {
    let shape = shape(&spec["shape"]);
    let values = closed_form(
        shape.iter().product(),
        number(&spec["salt"]),
        number(&spec["amplitude"]),
        spec["offset"].as_f64().unwrap_or(0.0),
    );
    (shape, values)
}

/// Writes f32 tensors under the given names to a safetensors file.
pub fn write_safetensors(path: &std::path::Path, tensors: &[(String, Vec<usize>, Vec<f32>)]) {
    use safetensors::tensor::{Dtype, TensorView};
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), data)| {
            (
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), data).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

/// Writes the fixture's `[[name, spec], …]` list of closed-form tensors to a safetensors file
/// under those names (the network fixtures' weights).
pub fn write_formula_tensors(specs: &Value, path: &std::path::Path) {
    let tensors: Vec<(String, Vec<usize>, Vec<f32>)> = specs
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let (shape, values) = formula_tensor(&entry[1]);
            (entry[0].as_str().unwrap().to_string(), shape, values)
        })
        .collect();
    write_safetensors(path, &tensors);
}
