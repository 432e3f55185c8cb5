//! Exponential moving average of model weights (the reference's `LitEma`, decay 0.999, no
//! warm-up): validation, evaluation and export use these weights.

use std::any::Any;
use std::collections::HashMap;

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;

/// `ema ← decay·ema + (1 − decay)·live` for every trainable parameter; frozen ones (SimVQ's
/// `C`) are left exactly as they are.
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
    /// Folds the live model's trainable weights into the average. Parameters are matched by
    /// id, so the average must have been started from (or saved with) the same model.
    pub fn update<AB, L>(&mut self, live: &L)
    where
        AB: AutodiffBackend,
        L: AutodiffModule<AB, InnerModule = M>,
        M: burn::module::Module<AB::InnerBackend>,
    {
        let mut collect = TrainableWeights::<AB> {
            tensors: HashMap::new(),
            _backend: Default::default(),
        };
        live.visit(&mut collect);
        let mut blend = Blend {
            live: collect.tensors,
            decay: self.decay,
        };
        self.module = self.module.clone().map(&mut blend);
    }
}

/// Gathers the inner-backend value of every parameter that requires a gradient.
struct TrainableWeights<AB: AutodiffBackend> {
    tensors: HashMap<ParamId, Box<dyn Any + Send>>,
    _backend: std::marker::PhantomData<AB>,
}

impl<AB: AutodiffBackend> ModuleVisitor<AB> for TrainableWeights<AB> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<AB, D>>) {
        let value = param.val();
        if value.is_require_grad() {
            self.tensors.insert(param.id, Box::new(value.inner()));
        }
    }
}

struct Blend {
    live: HashMap<ParamId, Box<dyn Any + Send>>,
    decay: f64,
}

impl<B: burn::tensor::backend::Backend> ModuleMapper<B> for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, average, mapper) = param.consume();
        let blended = match self.live.remove(&id).map(|t| t.downcast::<Tensor<B, D>>()) {
            Some(Ok(live)) => average * self.decay + *live * (1.0 - self.decay),
            _ => average,
        };
        Param::from_mapped_value(id, blended, mapper)
    }
}
