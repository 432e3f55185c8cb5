//! `cargo xtask manifest`: the reference's LibriTTS manifests (`generate_manifest.py`): the
//! audio files of some splits, as paths relative to the root, one per line.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use simvq_data::FileList;

/// Arguments of `manifest`.
#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// The LibriTTS root (holding train-clean-100/, dev-clean/, test-other/, …).
    #[arg(long)]
    root: PathBuf,
    /// Splits to list (repeatable), e.g. --split train-clean-100 --split train-clean-360
    /// --split train-other-500.
    #[arg(long = "split", required = true)]
    splits: Vec<String>,
    /// Manifest to write. Default: ROOT/train.txt for train-* splits, ROOT/dev.txt for dev-*,
    /// else ROOT/FIRST_SPLIT.txt (test-other.txt, as the reference's test set).
    #[arg(long)]
    output: Option<PathBuf>,
    /// File extensions listed (repeatable).
    #[arg(long = "ext", default_value = "wav")]
    extensions: Vec<String>,
}

/// Writes the manifest and reports how many files it lists.
pub fn run(args: &ManifestArgs) -> Result<()> {
    let extensions: Vec<&str> = args.extensions.iter().map(String::as_str).collect();
    let list = FileList::splits(&args.root, &args.splits, &extensions)?;
    let output = args.output.clone().unwrap_or_else(|| {
        let first = &args.splits[0];
        let name = if args.splits.iter().all(|s| s.starts_with("train")) {
            "train"
        } else if args.splits.iter().all(|s| s.starts_with("dev")) {
            "dev"
        } else {
            first.as_str()
        };
        args.root.join(format!("{name}.txt"))
    });
    std::fs::write(&output, list.manifest())
        .with_context(|| format!("writing {}", output.display()))?;
    println!(
        "{}: {} files from {}",
        output.display(),
        list.len(),
        args.splits.join(", ")
    );
    Ok(())
}
