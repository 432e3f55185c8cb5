//! Exponential moving average of model weights (the reference's `LitEma`, decay 0.999, no
//! warm-up): validation, evaluation and export use these weights.

use std::any::Any;
use std::collections::{HashMap, HashSet};

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;

/// `ema ← decay·ema + (1 − decay)·live` for every trainable parameter; every other value (a
/// frozen parameter such as SimVQ's `C`, and state updated outside the optimizer, such as an
/// EMA VQ's running codebook) is the live model's, as the reference's `LitEma` averages
/// trainable parameters only and leaves buffers to the live model. Averaging a running
/// codebook's initial value instead would evaluate a codebook training never moved.
#[derive(Debug, Clone)]
pub struct WeightEma<M> {
    module: M,
    decay: f64,
}

impl<M> WeightEma<M> {
    /// Starts the average at `module` (the live model's weights, without autodiff).
    pub fn new(module: M, decay: f64) -> Self {
        Self { module, decay }
    }

    /// The averaged model.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// Takes the averaged model out.
    pub fn into_module(self) -> M {
        self.module
    }

    /// The decay.
    pub fn decay(&self) -> f64 {
        self.decay
    }
}

impl<M: Clone> WeightEma<M> {
    /// Folds the live model's trainable weights into the average and takes its other values.
    /// Parameters are matched by id, so the average must have been started from (or saved
    /// with) the same model.
    pub fn update<AB, L>(&mut self, live: &L)
    where
        AB: AutodiffBackend,
        L: AutodiffModule<AB, InnerModule = M>,
        M: burn::module::Module<AB::InnerBackend>,
    {
        let mut trainable = TrainableIds::<AB> {
            ids: HashSet::new(),
            _backend: Default::default(),
        };
        live.visit(&mut trainable);
        // `valid` first: it brings running states up to their last update, which a visit of
        // the live module would not see yet.
        let mut values = Values {
            tensors: HashMap::new(),
        };
        live.valid().visit(&mut values);
        let mut blend = Blend {
            live: values.tensors,
            trainable: trainable.ids,
            decay: self.decay,
        };
        self.module = self.module.clone().map(&mut blend);
    }
}

/// Gathers the ids of the parameters that require a gradient.
struct TrainableIds<AB: AutodiffBackend> {
    ids: HashSet<ParamId>,
    _backend: std::marker::PhantomData<AB>,
}

impl<AB: AutodiffBackend> ModuleVisitor<AB> for TrainableIds<AB> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<AB, D>>) {
        if param.val().is_require_grad() {
            self.ids.insert(param.id);
        }
    }
}

/// Gathers every float value (parameters and running states) of a module.
struct Values {
    tensors: HashMap<ParamId, Box<dyn Any + Send>>,
}

impl<B: burn::tensor::backend::Backend> ModuleVisitor<B> for Values {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.tensors.insert(param.id, Box::new(param.val()));
    }
}

struct Blend {
    live: HashMap<ParamId, Box<dyn Any + Send>>,
    trainable: HashSet<ParamId>,
    decay: f64,
}

impl<B: burn::tensor::backend::Backend> ModuleMapper<B> for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, average, mapper) = param.consume();
        let live = self
            .live
            .remove(&id)
            .and_then(|t| t.downcast::<Tensor<B, D>>().ok());
        let value = match live {
            Some(live) if self.trainable.contains(&id) => {
                average * self.decay + *live * (1.0 - self.decay)
            }
            Some(live) => *live,
            None => average,
        };
        Param::from_mapped_value(id, value, mapper)
    }
}
