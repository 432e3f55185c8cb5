//! The run directory: created with the config that runs in it, and the errors that name its
//! files.

use std::path::Path;

use serde::Serialize;
use simvq_run::{to_toml, RunError};

use crate::error::{Result, TrainError};
use crate::gan_loop::RunOptions;

/// Creates the run directory and writes the config that runs into it (`config.toml`); on
/// the nodes of a multi-node run other than rank 0, which write nothing, does nothing.
pub(crate) fn prepare_run_dir(options: &RunOptions, config: &impl Serialize) -> Result<()> {
    if !options.is_leader() {
        return Ok(());
    }
    let out = &options.out_dir;
    std::fs::create_dir_all(out).map_err(io_error(out))?;
    let path = out.join("config.toml");
    std::fs::write(&path, to_toml(config)).map_err(io_error(&path))
}

/// An I/O error on `path`, naming it.
pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
    move |source| {
        RunError::Io {
            path: path.to_path_buf(),
            source,
        }
        .into()
    }
}

/// A checkpoint under `path` that cannot be written or read.
pub(crate) fn checkpoint_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    RunError::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
    .into()
}
