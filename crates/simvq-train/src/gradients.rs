//! A module's parameter gradients, each laid out row-major before the optimizer reads it.
//!
//! burn 0.21 returns a convolution's weight gradient as a transposed view (its generic
//! `conv2d_weight_backward` ends in `swap_dims`). On the CPU backend every element-wise op on
//! such a view walks it one element at a time through a strided iterator, about ten times
//! slower than on row-major memory, and Adam applies about ten such ops to each gradient:
//! profiled on the image demo, Adam took 10% of a training step. One copy per gradient here
//! lets every later op take the vectorised path (`docs/benchmarks.md` has the before/after).

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;

/// The gradients of `module`'s parameters in `grads`, each row-major.
pub fn module_gradients<B: AutodiffBackend, M: AutodiffModule<B>>(
    grads: &mut B::Gradients,
    module: &M,
) -> GradientsParams {
    let mut params = GradientsParams::from_module(grads, module);
    module.visit(&mut RowMajor {
        grads: &mut params,
        backend: std::marker::PhantomData::<B>,
    });
    params
}

/// Re-registers each visited parameter's gradient as a row-major copy (a no-op for a gradient
/// that already is: a reshape of row-major memory is a view).
struct RowMajor<'a, B> {
    grads: &'a mut GradientsParams,
    backend: std::marker::PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for RowMajor<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            let shape = grad.shape();
            // Flattening a strided view cannot be a view: the backend copies it row-major.
            let flat = grad.reshape([shape.num_elements()]);
            self.grads
                .register::<B::InnerBackend, D>(param.id, flat.reshape(shape));
        }
    }
}
