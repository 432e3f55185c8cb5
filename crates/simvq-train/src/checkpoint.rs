//! Checkpoint directories: written under a temporary name and renamed into place, so a run
//! killed mid-write never leaves a half checkpoint where resume would pick it up.

use std::path::{Path, PathBuf};

use crate::error::{Result, TrainError};

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
                return Err(TrainError::Io {
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
    pub fn save(&self, step: usize, write: impl FnOnce(&Path) -> Result<()>) -> Result<PathBuf> {
        let final_dir = self.root.join(format!("{PREFIX}{step:09}"));
        let partial = self.root.join(format!("{PREFIX}{step:09}{PARTIAL}"));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| TrainError::Io { path, source }
        };
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
        }
        std::fs::create_dir_all(&partial).map_err(io(&partial))?;
        write(&partial)?;
        sync_dir(&partial)?;
        if final_dir.exists() {
            std::fs::remove_dir_all(&final_dir).map_err(io(&final_dir))?;
        }
        std::fs::rename(&partial, &final_dir).map_err(io(&final_dir))?;
        sync_dir(&self.root)?;
        let all = self.list()?;
        for (_, old) in all.iter().take(all.len().saturating_sub(self.keep)) {
            std::fs::remove_dir_all(old).map_err(io(old))?;
        }
        Ok(final_dir)
    }
}

/// Flushes every file of `dir` and the directory itself to disk.
fn sync_dir(dir: &Path) -> Result<()> {
    let io = |source| TrainError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|source| TrainError::Io {
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
