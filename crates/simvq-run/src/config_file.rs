//! Layered config files: a TOML file overrides only the keys it names, on top of the built-in
//! defaults, and a key the config does not have is an error.
//!
//! burn's `Config` derive alone would demand every field in the file (defaults apply only to
//! `new`) and silently ignore misspelt keys; this loader fixes both for any serde config.

use std::path::Path;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

use crate::error::{Result, RunError};

/// Reads `path` (TOML) over `defaults`.
pub fn load_config<T: Serialize + DeserializeOwned>(path: &Path, defaults: &T) -> Result<T> {
    let file = read_toml(path)?;
    layer(file, defaults).map_err(|message| config_error(path, message))
}

/// Reads the `[section]` table of `path` (TOML) over `defaults`, ignoring the file's other
/// tables: how a program that only runs the model reads a training run's `config.toml`.
pub fn load_config_section<T: Serialize + DeserializeOwned>(
    path: &Path,
    section: &str,
    defaults: &T,
) -> Result<T> {
    let mut file = read_toml(path)?;
    let table = file
        .as_object_mut()
        .and_then(|tables| tables.remove(section))
        .ok_or_else(|| config_error(path, format!("has no [{section}] table")))?;
    layer(table, defaults).map_err(|message| config_error(path, format!("[{section}]: {message}")))
}

/// [`load_config`] on a string; the error is a message naming the offending key.
pub fn parse_config<T: Serialize + DeserializeOwned>(
    text: &str,
    defaults: &T,
) -> std::result::Result<T, String> {
    layer(toml_value(text)?, defaults)
}

fn config_error(path: &Path, message: String) -> RunError {
    RunError::Config {
        path: path.to_path_buf(),
        message,
    }
}

/// The TOML file at `path`, as a JSON value.
fn read_toml(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| config_error(path, format!("cannot read it: {e}")))?;
    toml_value(&text).map_err(|message| config_error(path, message))
}

fn toml_value(text: &str) -> std::result::Result<Value, String> {
    let file: toml::Value = toml::from_str(text).map_err(|e| format!("not valid TOML: {e}"))?;
    serde_json::to_value(file).map_err(|e| e.to_string())
}

/// `file`'s keys over `defaults`; an unknown key is an error naming it.
fn layer<T: Serialize + DeserializeOwned>(
    file: Value,
    defaults: &T,
) -> std::result::Result<T, String> {
    let mut merged = serde_json::to_value(defaults).map_err(|e| e.to_string())?;
    merge(&mut merged, file, "")?;
    serde_json::from_value(merged).map_err(|e| format!("invalid value: {e}"))
}

/// Writes `config` as TOML (for the run directory: what was actually used).
pub fn to_toml<T: Serialize>(config: &T) -> String {
    toml::to_string_pretty(config).unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
}

/// An externally tagged enum value: one key, named like a variant.
fn is_enum_value(map: &Map<String, Value>) -> bool {
    map.len() == 1 && map.keys().all(|k| k.starts_with(char::is_uppercase))
}

fn merge(base: &mut Value, over: Value, path: &str) -> std::result::Result<(), String> {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) if !is_enum_value(&over) => {
            for (key, value) in over {
                let key_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value, &key_path)?,
                    None => {
                        let known: Vec<&str> = base.keys().map(String::as_str).collect();
                        return Err(format!(
                            "unknown key `{key_path}`; the keys here are: {}",
                            known.join(", ")
                        ));
                    }
                }
            }
            Ok(())
        }
        (slot, value) => {
            *slot = value;
            Ok(())
        }
    }
}
