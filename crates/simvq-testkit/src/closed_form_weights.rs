//! tools/golden_dac.py's closed-form weights for weight-normalised discriminators, which are
//! too large to store as fixtures at the reference's widths (DAC's alone is ~50 M parameters):
//! the Python side writes the same values into the packages' own modules.

use burn::module::{ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// Sets every float parameter by its shape, over its row-major flat index `i` of `n` values:
/// `weight_v = sin(0.37 i + 0.01 n)`, `weight_g = 0.5 + 0.25 cos(0.9 i)` (the `[out, 1, 1, 1]`
/// tensors), `bias = 0.01 sin(1.7 i)` (the 1-D ones). Only for modules made of weight-normalised
/// convolutions: any other parameter would be taken for one of these three.
pub struct ClosedFormWeights;

impl<B: Backend> ModuleMapper<B> for ClosedFormWeights {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.dims();
        let numel: usize = shape.iter().product();
        let is_g = D == 4 && shape[1..].iter().all(|&d| d == 1);
        let values: Vec<f32> = (0..numel)
            .map(|i| {
                let i = i as f64;
                (if D == 1 {
                    0.01 * (1.7 * i).sin()
                } else if is_g {
                    0.5 + 0.25 * (0.9 * i).cos()
                } else {
                    (0.37 * i + 0.01 * numel as f64).sin()
                }) as f32
            })
            .collect();
        // A fresh tensor does not track gradients: keep the parameter trainable if it was.
        let trainable = tensor.is_require_grad();
        let tensor = Tensor::from_data(TensorData::new(values, shape), &tensor.device())
            .set_require_grad(trainable);
        Param::from_mapped_value(id, tensor, mapper)
    }
}
