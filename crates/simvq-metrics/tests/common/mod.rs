//! Fixture readers shared by the golden-value tests.
#![allow(dead_code)] // each test binary uses its own subset

use serde_json::Value;

/// A numeric array of the fixture as f64.
pub fn doubles(case: &Value, key: &str) -> Vec<f64> {
    case[key]
        .as_array()
        .unwrap_or_else(|| panic!("fixture lacks {key}"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// A numeric array of the fixture as f32.
pub fn floats(case: &Value, key: &str) -> Vec<f32> {
    doubles(case, key).into_iter().map(|v| v as f32).collect()
}

/// Arithmetic mean.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}
