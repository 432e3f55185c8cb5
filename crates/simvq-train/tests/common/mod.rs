//! Helpers shared by the training tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::module::{Module, ModuleVisitor, Param};
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::{backend::Backend, Tensor};
use simvq_image::AutoencoderConfig;
use simvq_train::RunOptions;

/// A run on `data` (train and val) writing to `out`, without a progress bar, on one device.
pub fn options(data: PathBuf, out: &Path, resume: bool, stop_after: Option<usize>) -> RunOptions {
    RunOptions {
        train: data.clone(),
        val: data,
        out_dir: out.to_path_buf(),
        resume,
        stop_after,
        progress: false,
        devices: 1,
    }
}

/// Every float parameter's values, in visiting order.
struct Flatten(Vec<Vec<f32>>);

impl<Be: Backend> ModuleVisitor<Be> for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<Be, D>>) {
        self.0
            .push(param.val().into_data().convert::<f32>().to_vec().unwrap());
    }
}

/// Every float parameter of `module`, in visiting order.
pub fn module_weights<M: Module<Flex>>(module: &M) -> Vec<Vec<f32>> {
    let mut flat = Flatten(Vec::new());
    module.visit(&mut flat);
    flat.0
}

/// The weights of the checkpoint file `path`, loaded into `module` (a fresh module of the
/// run's config).
pub fn checkpoint_weights<M: Module<Flex>>(module: M, path: &Path) -> Vec<Vec<f32>> {
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    let loaded = module
        .load_file(path, &recorder, &Default::default())
        .unwrap();
    module_weights(&loaded)
}

/// An image autoencoder small enough to train or evaluate in a test (f = 2, 8-d codes).
pub fn tiny_autoencoder() -> AutoencoderConfig {
    AutoencoderConfig::new()
        .with_channels(32)
        .with_channel_multipliers(vec![1, 2])
        .with_res_blocks(1)
        .with_z_channels(8)
}
