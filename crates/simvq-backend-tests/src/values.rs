//! Named host values of one probe, and their comparison.

use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor};
use simvq_testkit::{assert_close, Tolerance};

/// What a probe measured, in the order it measured it.
#[derive(Debug, Default)]
pub struct Values(pub Vec<Entry>);

/// One recorded tensor.
#[derive(Debug)]
pub struct Entry {
    /// What it is.
    pub name: String,
    /// The set of tensors it belongs to (every gradient of one network), for the scale of
    /// values that are zero in exact arithmetic; a lone tensor is its own group.
    pub group: String,
    /// Its values, row-major.
    pub values: Vec<f64>,
    /// Indices, which must match exactly.
    pub exact: bool,
}

impl Values {
    /// Records a float tensor.
    pub fn float<B: Backend, const D: usize>(&mut self, name: &str, t: &Tensor<B, D>) {
        let values = t.to_data().convert::<f64>().to_vec().expect("float values");
        self.push(name, name, values, false);
    }

    /// Records values already on the host.
    pub fn host(&mut self, name: &str, values: Vec<f64>) {
        self.push(name, name, values, false);
    }

    fn push(&mut self, group: &str, name: &str, values: Vec<f64>, exact: bool) {
        self.0.push(Entry {
            name: name.to_string(),
            group: group.to_string(),
            values,
            exact,
        });
    }

    /// Records an index tensor.
    pub fn int<B: Backend, const D: usize>(&mut self, name: &str, t: &Tensor<B, D, Int>) {
        let values = t
            .to_data()
            .convert::<i64>()
            .to_vec::<i64>()
            .expect("indices");
        let values = values.into_iter().map(|v| v as f64).collect();
        self.push(name, name, values, true);
    }

    /// Records the value of every float parameter of `module`, named `prefix <module path>`.
    pub fn weights<B: Backend, M: Module<B>>(&mut self, prefix: &str, module: &M) {
        let mut visitor = Weights {
            path: ParamPath::new(prefix),
            out: self,
        };
        module.visit(&mut visitor);
    }

    /// Records the gradient of every float parameter of `module` (zeros for one that got
    /// none), named `prefix <module path>`.
    pub fn gradients<B: AutodiffBackend, M: AutodiffModule<B>>(
        &mut self,
        prefix: &str,
        module: &M,
        grads: &B::Gradients,
    ) {
        let mut visitor = Gradients {
            grads,
            path: ParamPath::new(prefix),
            out: self,
        };
        module.visit(&mut visitor);
    }
}

/// The module path of the parameter being visited (`backbone.blocks.0.dwconv.weight`), so a
/// failure names the layer instead of a position in the visit order.
struct ParamPath {
    prefix: String,
    fields: Vec<String>,
}

impl ParamPath {
    fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
            fields: Vec::new(),
        }
    }

    fn enter(&mut self, name: &str) {
        self.fields.push(name.to_string());
    }

    fn exit(&mut self) {
        self.fields.pop();
    }

    fn name(&self) -> String {
        format!("{} {}", self.prefix, self.fields.join("."))
    }
}

struct Weights<'a> {
    path: ParamPath,
    out: &'a mut Values,
}

impl<B: Backend> ModuleVisitor<B> for Weights<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.enter(name);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let values = param.val().to_data().convert::<f64>();
        let values = values.to_vec().expect("float values");
        self.out
            .push(&self.path.prefix, &self.path.name(), values, false);
    }
}

struct Gradients<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    path: ParamPath,
    out: &'a mut Values,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Gradients<'_, B> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.enter(name);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        let grad = match value.grad(self.grads) {
            Some(grad) => grad.to_data(),
            None => value.inner().zeros_like().to_data(),
        };
        let grad = grad.convert::<f64>().to_vec().expect("float values");
        self.out
            .push(&self.path.prefix, &self.path.name(), grad, false);
    }
}

/// Asserts that `got` (another backend) matches `want` (burn-flex) name by name: indices
/// exactly, float values within `rel` of the largest magnitude of their tensor.
///
/// A tensor whose values all lie within a few f32 ulps of its group's scale (the largest
/// magnitude over, say, every gradient of the network) is rounding noise: a gradient that is
/// zero in exact arithmetic, such as an attention key's bias (softmax ignores what it adds to
/// every key alike), comes back as the residue of terms of the network's gradient scale that
/// cancel. Such a tensor must be noise of that size on the other backend too, nothing more.
pub fn assert_same(got: &Values, want: &Values, rel: f64) {
    assert_eq!(got.0.len(), want.0.len(), "number of recorded values");
    for (g, w) in got.0.iter().zip(&want.0) {
        assert_eq!(g.name, w.name, "probes recorded in another order");
        if w.exact {
            assert_eq!(g.values, w.values, "{}", w.name);
            continue;
        }
        let noise = ZERO_ULPS * f64::from(f32::EPSILON) * want.group_largest(&w.group);
        let own = largest(&w.values);
        let abs = if own <= noise { noise } else { rel * own };
        let tolerance = Tolerance {
            abs: abs.max(1e-12),
            rel,
        };
        assert_close(&g.values, &w.values, tolerance, &w.name);
    }
}

/// How many f32 ulps of its group's scale a value that is zero in exact arithmetic may have.
const ZERO_ULPS: f64 = 16.0;

impl Values {
    /// The largest magnitude over every entry of `group`.
    fn group_largest(&self, group_name: &str) -> f64 {
        self.0
            .iter()
            .filter(|e| !e.exact && e.group == group_name)
            .fold(0.0, |m, e| m.max(largest(&e.values)))
    }
}

fn largest(values: &[f64]) -> f64 {
    values.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(gradients: &[(&str, Vec<f64>)]) -> Values {
        let mut values = Values::default();
        for (name, grad) in gradients {
            values.push("grad net", &format!("grad net {name}"), grad.clone(), false);
        }
        values
    }

    #[test]
    fn noise_of_a_zero_gradient_passes() {
        let want = network(&[("w", vec![50.0, -3.0]), ("k.bias", vec![2e-8, -1e-8])]);
        let got = network(&[("w", vec![50.0, -3.0]), ("k.bias", vec![-9e-9, 3e-8])]);
        assert_same(&got, &want, 2e-3);
    }

    #[test]
    #[should_panic(expected = "grad net small")]
    fn a_small_gradient_is_still_compared_with_its_own_scale() {
        // 1e-3 is far above the noise of a group of scale 50 (about 1e-4): a 10% error fails.
        let want = network(&[("w", vec![50.0]), ("small", vec![1e-3, 5e-4])]);
        let got = network(&[("w", vec![50.0]), ("small", vec![1.1e-3, 5e-4])]);
        assert_same(&got, &want, 2e-3);
    }

    #[test]
    #[should_panic(expected = "grad net k.bias")]
    fn a_zero_gradient_that_is_not_noise_elsewhere_fails() {
        let want = network(&[("w", vec![50.0]), ("k.bias", vec![2e-8])]);
        let got = network(&[("w", vec![50.0]), ("k.bias", vec![1e-2])]);
        assert_same(&got, &want, 2e-3);
    }

    #[test]
    #[should_panic(expected = "indices")]
    fn indices_must_match_exactly() {
        let mut want = Values::default();
        want.push("indices", "indices", vec![1.0, 2.0], true);
        let mut got = Values::default();
        got.push("indices", "indices", vec![1.0, 3.0], true);
        assert_same(&got, &want, 2e-3);
    }
}
