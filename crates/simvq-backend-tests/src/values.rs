//! Named host values of one probe, and their comparison.

use burn::module::{AutodiffModule, Module, ModuleVisitor, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor};
use simvq_testkit::{assert_close, module_weights, Tolerance};

/// What a probe measured, in the order it measured it.
#[derive(Debug, Default)]
pub struct Values(pub Vec<Entry>);

/// One recorded tensor.
#[derive(Debug)]
pub struct Entry {
    /// What it is.
    pub name: String,
    /// Its values, row-major.
    pub values: Vec<f64>,
    /// Indices, which must match exactly.
    pub exact: bool,
}

impl Values {
    /// Records a float tensor.
    pub fn float<B: Backend, const D: usize>(&mut self, name: &str, t: &Tensor<B, D>) {
        let values = t.to_data().convert::<f64>().to_vec().expect("float values");
        self.push(name.to_string(), values, false);
    }

    /// Records values already on the host.
    pub fn host(&mut self, name: &str, values: Vec<f64>) {
        self.push(name.to_string(), values, false);
    }

    fn push(&mut self, name: String, values: Vec<f64>, exact: bool) {
        self.0.push(Entry {
            name,
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
        self.push(name.to_string(), values, true);
    }

    /// Records the value of every float parameter of `module`, named `prefix.<index>`.
    pub fn weights<B: Backend, M: Module<B>>(&mut self, prefix: &str, module: &M) {
        for (i, values) in module_weights(module).into_iter().enumerate() {
            let values = values.into_iter().map(f64::from).collect();
            self.push(format!("{prefix}.{i}"), values, false);
        }
    }

    /// Records the gradient of every float parameter of `module` (zeros for one that got
    /// none), named `prefix.<index>`.
    pub fn gradients<B: AutodiffBackend, M: AutodiffModule<B>>(
        &mut self,
        prefix: &str,
        module: &M,
        grads: &B::Gradients,
    ) {
        let mut visitor = Gradients {
            grads,
            out: Vec::new(),
        };
        module.visit(&mut visitor);
        for (i, values) in visitor.out.into_iter().enumerate() {
            self.push(format!("{prefix}.{i}"), values, false);
        }
    }
}

struct Gradients<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    out: Vec<Vec<f64>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Gradients<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        let grad = match value.grad(self.grads) {
            Some(grad) => grad.to_data(),
            None => value.inner().zeros_like().to_data(),
        };
        self.out
            .push(grad.convert::<f64>().to_vec().expect("float values"));
    }
}

/// Asserts that `got` (another backend) matches `want` (burn-flex) name by name: indices
/// exactly, float values within `rel` of the largest magnitude of their tensor (so a
/// gradient that is tiny next to its tensor's largest one is compared in absolute terms,
/// as summation order allows).
pub fn assert_same(got: &Values, want: &Values, rel: f64) {
    assert_eq!(got.0.len(), want.0.len(), "number of recorded values");
    for (g, w) in got.0.iter().zip(&want.0) {
        assert_eq!(g.name, w.name, "probes recorded in another order");
        if w.exact {
            assert_eq!(g.values, w.values, "{}", w.name);
            continue;
        }
        let largest = w.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let tolerance = Tolerance {
            abs: rel * largest.max(1e-12),
            rel,
        };
        assert_close(&g.values, &w.values, tolerance, &w.name);
    }
}
