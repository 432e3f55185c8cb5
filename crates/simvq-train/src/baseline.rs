//! The `[baseline.<Quantizer>]` table of a training config (image or audio), read over that
//! quantizer's defaults.
//!
//! Why: burn's `Config` derive gives serde no field defaults, so a bare `QuantizerConfig` table
//! must spell out every field. `model.quantizer` gets its defaults by layering over the
//! reference config; a baseline has nothing to layer over (its default is "none"), so it is
//! layered here over the named quantizer's `new()`.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use simvq_quant::{EmaVqConfig, FsqConfig, LfqConfig, QuantizerConfig, SimVqConfig, VqConfig};

/// The codes of the quantizer a run trains: the baseline's when there is one, else SimVQ's.
pub(crate) fn trained_codebook_size(
    baseline: Option<&QuantizerConfig>,
    simvq: &SimVqConfig,
) -> usize {
    baseline.map_or(simvq.codebook_size, QuantizerConfig::codebook_size)
}

/// Reads `baseline` (absent: `None`) with the named quantizer's defaults under its keys.
pub(crate) fn deserialize_baseline<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<QuantizerConfig>, D::Error> {
    use serde::de::Error;
    let Some(value) = Option::<Value>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let Some((name, table)) = single_entry(value) else {
        return Err(D::Error::custom(
            "baseline must be one table naming the quantizer, e.g. [baseline.Vq]",
        ));
    };
    let Value::Object(mut merged) = defaults(&name).map_err(D::Error::custom)? else {
        unreachable!("a quantizer config serialises to a table")
    };
    let Value::Object(table) = table else {
        return Err(D::Error::custom(format!(
            "[baseline.{name}] must be a table"
        )));
    };
    merged.extend(table);
    let tagged = Value::Object(Map::from_iter([(name, Value::Object(merged))]));
    serde_json::from_value(tagged)
        .map(Some)
        .map_err(|e| D::Error::custom(format!("[baseline]: {e}")))
}

/// The one `(key, value)` of a table of one entry.
fn single_entry(value: Value) -> Option<(String, Value)> {
    let Value::Object(map) = value else {
        return None;
    };
    if map.len() != 1 {
        return None;
    }
    map.into_iter().next()
}

/// The fields of quantizer `name` as its `new()` sets them. FSQ's levels and LFQ's codebook
/// size have no default: left empty (0), they fail the quantizer's own validation, which
/// names them.
fn defaults(name: &str) -> Result<Value, String> {
    let json = |v: Result<Value, serde_json::Error>| v.map_err(|e| e.to_string());
    match name {
        "SimVq" => json(serde_json::to_value(SimVqConfig::new())),
        "Vq" => json(serde_json::to_value(VqConfig::new())),
        "EmaVq" => json(serde_json::to_value(EmaVqConfig::new())),
        "Fsq" => json(serde_json::to_value(FsqConfig::new(Vec::new()))),
        "Lfq" => json(serde_json::to_value(LfqConfig::new(0))),
        other => Err(format!(
            "[baseline.{other}]: unknown quantizer; use SimVq, Vq, EmaVq, Fsq or Lfq"
        )),
    }
}
