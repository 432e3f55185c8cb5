//! A PyTorch checkpoint's tensors by name, for networks built straight from their tensors
//! (UTMOS): a Lightning checkpoint's `state_dict` or a bare state dict, every lookup failing
//! with the file, the key and where the right file comes from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use burn_store::pytorch::PytorchReader;
use burn_store::TensorSnapshot;

use crate::error::MetricsError;

/// The tensors of one checkpoint file (read lazily from disk).
pub(crate) struct StateDict {
    path: PathBuf,
    tensors: HashMap<String, TensorSnapshot>,
    help: &'static str,
}

impl StateDict {
    /// Reads the tensor index of `path`; `help` ends every error.
    pub(crate) fn read(path: &Path, help: &'static str) -> Result<Self, MetricsError> {
        let fail = |message: String| MetricsError::Weights {
            path: path.to_path_buf(),
            message: format!("{message}. {help}"),
        };
        if !path.is_file() {
            return Err(fail("not found".into()));
        }
        let reader = PytorchReader::with_top_level_key(path, "state_dict")
            .or_else(|_| PytorchReader::new(path))
            .map_err(|e| fail(format!("not a readable PyTorch checkpoint ({e})")))?;
        Ok(Self {
            path: path.to_path_buf(),
            tensors: reader.into_tensors(),
            help,
        })
    }

    /// The error for `message` about this file.
    pub(crate) fn error(&self, message: String) -> MetricsError {
        MetricsError::Weights {
            path: self.path.clone(),
            message: format!("{message}. {}", self.help),
        }
    }

    /// Whether the file holds `key`.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    /// The values of `key` as f32, which must have `rank` dimensions.
    pub(crate) fn data(&self, key: &str, rank: usize) -> Result<TensorData, MetricsError> {
        let snapshot = self
            .tensors
            .get(key)
            .ok_or_else(|| self.error(format!("no tensor {key}: not this network's checkpoint")))?;
        if snapshot.shape.len() != rank {
            return Err(self.error(format!(
                "{key} has shape {:?}, expected {rank} dimensions",
                &snapshot.shape[..]
            )));
        }
        let data = snapshot
            .to_data()
            .map_err(|e| self.error(format!("{key}: {e}")))?;
        Ok(data.convert::<f32>())
    }

    /// The tensor `key` on `device`.
    pub(crate) fn tensor<B: Backend, const D: usize>(
        &self,
        key: &str,
        device: &B::Device,
    ) -> Result<Tensor<B, D>, MetricsError> {
        Ok(Tensor::from_data(self.data(key, D)?, device))
    }
}
