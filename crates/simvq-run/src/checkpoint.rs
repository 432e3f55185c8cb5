//! Checkpoint directories: written under a temporary name and renamed into place, so a run
//! killed mid-write never leaves a half checkpoint where resume would pick it up.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::backend::Backend;

use crate::error::{Result, RunError};

/// Suffix of a checkpoint still being written.
const PARTIAL: &str = ".partial";
/// Prefix of every checkpoint directory; the step follows, zero-padded so names sort.
const PREFIX: &str = "step-";

/// The checkpoints of one run, under `<run>/checkpoints/`.
#[derive(Debug, Clone)]
pub struct CheckpointDir {
    root: PathBuf,
    keep: usize,
}

impl CheckpointDir {
    /// Checkpoints under `run_dir/checkpoints`, keeping the newest `keep` (at least 1).
    pub fn new(run_dir: &Path, keep: usize) -> Self {
        Self {
            root: run_dir.join("checkpoints"),
            keep: keep.max(1),
        }
    }

    /// Where checkpoints live.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Complete checkpoints, oldest first, with their steps.
    pub fn list(&self) -> Result<Vec<(usize, PathBuf)>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(RunError::Io {
                    path: self.root.clone(),
                    source,
                })
            }
        };
        let mut found: Vec<(usize, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let step = name.strip_prefix(PREFIX)?.parse::<usize>().ok()?;
                Some((step, e.path()))
            })
            .collect();
        found.sort();
        Ok(found)
    }

    /// The newest complete checkpoint.
    pub fn latest(&self) -> Result<Option<(usize, PathBuf)>> {
        Ok(self.list()?.pop())
    }

    /// Writes checkpoint `step`: `write` fills a fresh temporary directory, which is then
    /// renamed to `step-<step>`; older checkpoints beyond `keep` are removed afterwards.
    /// `write`'s error type is the caller's (a trainer's own errors pass through).
    pub fn save<E: From<RunError>>(
        &self,
        step: usize,
        write: impl FnOnce(&Path) -> std::result::Result<(), E>,
    ) -> std::result::Result<PathBuf, E> {
        let final_dir = self.root.join(format!("{PREFIX}{step:09}"));
        let partial = self.root.join(format!("{PREFIX}{step:09}{PARTIAL}"));
        self.prepare(&partial)?;
        write(&partial)?;
        Ok(self.commit(&partial, final_dir)?)
    }

    /// An empty directory at `partial`.
    fn prepare(&self, partial: &Path) -> Result<()> {
        if partial.exists() {
            std::fs::remove_dir_all(partial).map_err(io(partial))?;
        }
        std::fs::create_dir_all(partial).map_err(io(partial))
    }

    /// Flushes `partial`, renames it to `final_dir`, prunes the oldest checkpoints.
    fn commit(&self, partial: &Path, final_dir: PathBuf) -> Result<PathBuf> {
        sync_dir(partial)?;
        if final_dir.exists() {
            std::fs::remove_dir_all(&final_dir).map_err(io(&final_dir))?;
        }
        std::fs::rename(partial, &final_dir).map_err(io(&final_dir))?;
        sync_dir(&self.root)?;
        let all = self.list()?;
        for (_, old) in all.iter().take(all.len().saturating_sub(self.keep)) {
            std::fs::remove_dir_all(old).map_err(io(old))?;
        }
        Ok(final_dir)
    }
}

/// The error of an I/O failure on `path`.
fn io(path: &Path) -> impl Fn(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Flushes every file of `dir` and the directory itself to disk.
fn sync_dir(dir: &Path) -> Result<()> {
    let io = |source| RunError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|source| RunError::Io {
                    path: path.clone(),
                    source,
                })?;
        }
    }
    // Directories cannot be fsynced on every platform; the rename is what makes it atomic.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A training run directory and one of its checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCheckpoint {
    /// The run directory (with `config.toml`).
    pub run: PathBuf,
    /// The checkpoint directory (with `model.mpk`, `ema.mpk`, …).
    pub checkpoint: PathBuf,
}

impl RunCheckpoint {
    /// Loads the checkpoint's `name` weights (`"ema"`, what evaluations use, or `"model"`) into
    /// `module`, which must have the run's architecture.
    pub fn load_weights<B: Backend, M: Module<B>>(
        &self,
        module: M,
        name: &str,
        device: &B::Device,
    ) -> Result<M> {
        let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
        module
            .load_file(self.checkpoint.join(name), &recorder, device)
            .map_err(|e| RunError::Checkpoint {
                path: self.checkpoint.clone(),
                message: format!("loading {name}.mpk: {e}"),
            })
    }

    /// `path` is a run directory (its newest checkpoint is taken) or one of its checkpoints
    /// (`RUN/checkpoints/step-N`).
    pub fn locate(path: &Path) -> Result<Self> {
        if path.join("config.toml").is_file() {
            let (_, checkpoint) =
                CheckpointDir::new(path, 1)
                    .latest()?
                    .ok_or_else(|| RunError::Checkpoint {
                        path: path.to_path_buf(),
                        message: "the run has no checkpoint yet".into(),
                    })?;
            return Ok(Self {
                run: path.to_path_buf(),
                checkpoint,
            });
        }
        match path.parent().and_then(Path::parent) {
            Some(run) if path.join("ema.mpk").is_file() && run.join("config.toml").is_file() => {
                Ok(Self {
                    run: run.to_path_buf(),
                    checkpoint: path.to_path_buf(),
                })
            }
            _ => Err(RunError::Checkpoint {
                path: path.to_path_buf(),
                message: "neither a run directory (with config.toml and checkpoints/) nor one \
                          of its checkpoints (with ema.mpk)"
                    .into(),
            }),
        }
    }
}
