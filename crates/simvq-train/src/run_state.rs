//! A run's live state (both networks, their optimizers, the EMA weights, the step count and
//! the loss curve) and its checkpoints: everything an exact resume needs, written atomically
//! through [`CheckpointDir`].

use std::path::{Path, PathBuf};

use burn::module::{AutodiffModule, Module};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, Optimizer};
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;
use simvq_run::CheckpointDir;

use crate::ema::WeightEma;
use crate::error::Result;
use crate::optimizer::OptimizerSettings;
use crate::run_dir::{checkpoint_error, io_error};
use crate::run_report::TrainState;
use crate::task::{GanTask, InnerOf};

type FileRecorder = NamedMpkFileRecorder<FullPrecisionSettings>;
type Adam_<B, M> = OptimizerAdaptor<Adam, M, B>;
type EmaOf<B, T> = WeightEma<InnerOf<B, T>>;

/// Live state of a run.
pub(crate) struct Run<B: AutodiffBackend, T: GanTask<B>> {
    pub generator: T::Generator,
    pub discriminator: T::Discriminator,
    pub optim_g: Adam_<B, T::Generator>,
    pub optim_d: Adam_<B, T::Discriminator>,
    pub ema: EmaOf<B, T>,
    pub state: TrainState,
}

impl<B: AutodiffBackend, T: GanTask<B>> Run<B, T> {
    /// Step 0 of a run from these networks: fresh Adam states, the EMA starting at the
    /// generator's weights.
    pub(crate) fn new(
        generator: T::Generator,
        discriminator: T::Discriminator,
        optimizer: &OptimizerSettings,
        ema_decay: f64,
    ) -> Self {
        let adam = optimizer.adam();
        Self {
            ema: WeightEma::new(generator.valid(), ema_decay),
            generator,
            discriminator,
            optim_g: adam.init(),
            optim_d: adam.init(),
            state: TrainState::default(),
        }
    }

    /// Writes the checkpoint of the current step; returns its folder.
    pub(crate) fn save(&self, checkpoints: &CheckpointDir) -> Result<PathBuf> {
        let recorder = FileRecorder::new();
        checkpoints.save(self.state.step, |dir| {
            let fail = |e: burn::record::RecorderError| checkpoint_error(dir, e);
            let file = |name: &str| dir.join(name);
            self.generator
                .clone()
                .save_file(file("model"), &recorder)
                .map_err(fail)?;
            self.discriminator
                .clone()
                .save_file(file("discriminator"), &recorder)
                .map_err(fail)?;
            self.ema
                .module()
                .clone()
                .save_file(file("ema"), &recorder)
                .map_err(fail)?;
            Recorder::<B>::record(&recorder, self.optim_g.to_record(), file("optim_generator"))
                .map_err(fail)?;
            Recorder::<B>::record(
                &recorder,
                self.optim_d.to_record(),
                file("optim_discriminator"),
            )
            .map_err(fail)?;
            let state = file("state.json");
            std::fs::write(
                &state,
                serde_json::to_string(&self.state).expect("serialisable"),
            )
            .map_err(io_error(&state))
        })
    }

    /// This run with everything replaced by the checkpoint in `dir` of step `step`.
    pub(crate) fn load(mut self, dir: &Path, step: usize, device: &B::Device) -> Result<Self> {
        let recorder = FileRecorder::new();
        let file = |name: &str| dir.join(name);
        let fail = |e: burn::record::RecorderError| checkpoint_error(dir, e);
        self.generator = self
            .generator
            .load_file(file("model"), &recorder, device)
            .map_err(fail)?;
        self.discriminator = self
            .discriminator
            .load_file(file("discriminator"), &recorder, device)
            .map_err(fail)?;
        let ema = self
            .ema
            .module()
            .clone()
            .load_file(file("ema"), &recorder, device)
            .map_err(fail)?;
        self.ema = WeightEma::new(ema, self.ema.decay());
        let record = Recorder::<B>::load(&recorder, file("optim_generator"), device);
        self.optim_g = self.optim_g.load_record(record.map_err(fail)?);
        let record = Recorder::<B>::load(&recorder, file("optim_discriminator"), device);
        self.optim_d = self.optim_d.load_record(record.map_err(fail)?);
        let state = std::fs::read_to_string(file("state.json")).map_err(io_error(dir))?;
        self.state = serde_json::from_str(&state).map_err(|e| checkpoint_error(dir, e))?;
        if self.state.step != step {
            return Err(checkpoint_error(
                dir,
                "its state.json disagrees with its name",
            ));
        }
        Ok(self)
    }
}
