//! A module's gradients (or weights) as one flat vector and back, in the module's own
//! parameter order: what the nodes of a multi-node run exchange. One buffer per exchange,
//! because every burn-collective call is a blocking round trip (a few hundred small ones per
//! step would be latency-bound); module order, because burn's ParamIds are drawn at random
//! in each process and so cannot pair the tensors of two processes.

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Shape, Tensor};

type Inner<B> = <B as AutodiffBackend>::InnerBackend;

/// Which of a module's float parameters, in visiting order, a flat buffer holds, and their
/// shapes (`None`: no gradient, left out).
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    shapes: Vec<Option<Shape>>,
}

impl Layout {
    /// Elements of the buffer.
    pub(crate) fn len(&self) -> usize {
        self.shapes.iter().flatten().map(Shape::num_elements).sum()
    }
}

/// `grads`' tensors for `module`'s parameters as one vector, with its layout.
pub(crate) fn flatten_gradients<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    mut grads: GradientsParams,
) -> (Tensor<Inner<B>, 1>, Layout) {
    let mut visitor = Flatten::<B> {
        grads: &mut grads,
        parts: Vec::new(),
        layout: Layout::default(),
    };
    module.visit(&mut visitor);
    let Flatten { parts, layout, .. } = visitor;
    (concat(parts), layout)
}

/// The inverse of [`flatten_gradients`]: `flat`'s slices as `module`'s gradients.
pub(crate) fn unflatten_gradients<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    layout: &Layout,
    flat: Tensor<Inner<B>, 1>,
) -> GradientsParams {
    let mut visitor = Unflatten::<B> {
        grads: GradientsParams::new(),
        slices: Slices::new(layout, flat),
    };
    module.visit(&mut visitor);
    visitor.grads
}

/// `module`'s weights as one vector (every float parameter, in visiting order).
pub(crate) fn flatten_weights<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
) -> (Tensor<Inner<B>, 1>, Layout) {
    let mut visitor = Weights::<B> {
        parts: Vec::new(),
        layout: Layout::default(),
    };
    module.visit(&mut visitor);
    (concat(visitor.parts), visitor.layout)
}

/// `module` with its weights replaced by `flat`'s slices (the inverse of
/// [`flatten_weights`]); each parameter keeps its id and whether it is trained.
pub(crate) fn with_weights<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: M,
    layout: &Layout,
    flat: Tensor<Inner<B>, 1>,
) -> M {
    module.map(&mut SetWeights::<B> {
        slices: Slices::new(layout, flat),
    })
}

fn concat<B: burn::tensor::backend::Backend>(parts: Vec<Tensor<B, 1>>) -> Tensor<B, 1> {
    if parts.is_empty() {
        return Tensor::empty([0], &Default::default());
    }
    Tensor::cat(parts, 0)
}

struct Flatten<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    parts: Vec<Tensor<Inner<B>, 1>>,
    layout: Layout,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Flatten<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let grad = self.grads.remove::<Inner<B>, D>(param.id);
        self.layout.shapes.push(grad.as_ref().map(Tensor::shape));
        if let Some(grad) = grad {
            let n = grad.shape().num_elements();
            self.parts.push(grad.reshape([n]));
        }
    }
}

struct Weights<B: AutodiffBackend> {
    parts: Vec<Tensor<Inner<B>, 1>>,
    layout: Layout,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Weights<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val().inner();
        let shape = value.shape();
        self.parts.push(value.reshape([shape.num_elements()]));
        self.layout.shapes.push(Some(shape));
    }
}

/// Hands out a flat buffer's consecutive slices, one per parameter of a layout.
struct Slices<B: AutodiffBackend> {
    shapes: std::vec::IntoIter<Option<Shape>>,
    flat: Tensor<Inner<B>, 1>,
    offset: usize,
}

impl<B: AutodiffBackend> Slices<B> {
    fn new(layout: &Layout, flat: Tensor<Inner<B>, 1>) -> Self {
        assert_eq!(
            flat.dims()[0],
            layout.len(),
            "a flat buffer matches its layout"
        );
        Self {
            shapes: layout.shapes.clone().into_iter(),
            flat,
            offset: 0,
        }
    }

    /// The next parameter's slice in its shape, `None` for one the layout left out.
    fn next<const D: usize>(&mut self) -> Option<Tensor<Inner<B>, D>> {
        let shape = self
            .shapes
            .next()
            .expect("the module is the one the layout was made from")?;
        let n = shape.num_elements();
        let slice = self.flat.clone().slice(self.offset..self.offset + n);
        self.offset += n;
        Some(slice.reshape(shape))
    }
}

struct Unflatten<B: AutodiffBackend> {
    grads: GradientsParams,
    slices: Slices<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Unflatten<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.slices.next::<D>() {
            self.grads.register::<Inner<B>, D>(param.id, grad);
        }
    }
}

struct SetWeights<B: AutodiffBackend> {
    slices: Slices<B>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for SetWeights<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, value, mapper) = param.consume();
        let trained = value.is_require_grad();
        let weights = self
            .slices
            .next::<D>()
            .expect("every weight is in the buffer");
        let value = Tensor::from_inner(weights).set_require_grad(trained);
        Param::from_mapped_value(id, value, mapper)
    }
}
