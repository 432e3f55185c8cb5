//! One table of a run's `config.toml` read over defaults, the rest of the file ignored; typos
//! and a missing table are errors naming the file, the table and the key.

use serde::{Deserialize, Serialize};
use simvq_run::{load_config_section, RunError};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Model {
    width: usize,
    depth: usize,
}

fn run_config(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

const DEFAULTS: Model = Model { width: 8, depth: 2 };

#[test]
fn the_section_overrides_the_defaults_and_other_tables_are_ignored() {
    let (_dir, path) = run_config("seed = 3\n[model]\ndepth = 5\n[schedule]\nsteps = 10\n");
    let model = load_config_section(&path, "model", &DEFAULTS).unwrap();
    assert_eq!(model, Model { width: 8, depth: 5 });
}

#[test]
fn a_typo_or_a_missing_table_is_named() {
    let (_dir, path) = run_config("[model]\ndepht = 5\n");
    let err = load_config_section(&path, "model", &DEFAULTS).unwrap_err();
    assert!(matches!(err, RunError::Config { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("config.toml") && text.contains("[model]") && text.contains("depht"),
        "{text}"
    );
    let (_dir, path) = run_config("[schedule]\nsteps = 10\n");
    let err = load_config_section(&path, "model", &DEFAULTS)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no [model] table"), "{err}");
}
