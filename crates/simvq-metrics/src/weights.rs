//! Loading pretrained networks (LPIPS, InceptionV3) from files the user provides.
//!
//! Our machines have no internet, so nothing is downloaded: the user names the file, and every
//! failure says which file and where the right one comes from. Both PyTorch pickles (`.pth`,
//! `.pt`) and safetensors are read, through burn-store's PyTorch adapter (BatchNorm
//! `weight`/`bias` → `gamma`/`beta`).

use std::path::Path;

use burn::tensor::backend::Backend;
use burn_store::{
    KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};

use crate::error::MetricsError;

/// Loads `path` into `module`, renaming the file's keys with the regex pairs `remaps`. Every
/// tensor of `module` must be found with its shape; extra keys in the file are ignored (a
/// classifier head, BatchNorm's `num_batches_tracked`). `help` ends every error message.
pub(crate) fn load_weights<B: Backend, M: ModuleSnapshot<B>>(
    module: &mut M,
    path: &Path,
    remaps: &[(String, String)],
    help: &str,
) -> Result<(), MetricsError> {
    let fail = |message: String| MetricsError::Weights {
        path: path.to_path_buf(),
        message: format!("{message}. {help}"),
    };
    if !path.is_file() {
        return Err(fail("not found".into()));
    }
    let expected = module.collect(None, None, false).len();
    let remapper =
        KeyRemapper::from_pattern_iter(remaps.iter().map(|(f, t)| (f.as_str(), t.as_str())))
            .map_err(|e| fail(format!("bad key pattern: {e}")))?;
    let result = if path.extension().is_some_and(|e| e == "safetensors") {
        let mut store = SafetensorsStore::from_file(path)
            .with_from_adapter(PyTorchToBurnAdapter)
            .remap(remapper)
            .validate(true)
            .allow_partial(true);
        module
            .load_from(&mut store)
            .map_err(|e| fail(e.to_string()))?
    } else {
        let mut store = PytorchStore::from_file(path)
            .map_indices_contiguous(false)
            .remap(remapper)
            .validate(true)
            .allow_partial(true);
        module
            .load_from(&mut store)
            .map_err(|e| fail(e.to_string()))?
    };
    if !result.errors.is_empty() || !result.missing.is_empty() || result.applied.len() != expected {
        let missing = result.missing.iter().map(|(p, _)| p.clone());
        let errors = result.errors.iter().map(|e| e.to_string());
        return Err(fail(format!(
            "loaded {} of {expected} tensors (missing: {}; errors: {})",
            result.applied.len(),
            first_few(missing),
            first_few(errors),
        )));
    }
    Ok(())
}

/// The first five items and how many more, so a wrong file does not print 500 names.
fn first_few(items: impl ExactSizeIterator<Item = String>) -> String {
    const SHOWN: usize = 5;
    let total = items.len();
    let shown: Vec<String> = items.take(SHOWN).collect();
    match total {
        0 => "none".into(),
        n if n <= SHOWN => shown.join(", "),
        n => format!("{}, … and {} more", shown.join(", "), n - SHOWN),
    }
}
