//! `Conv2d` forward with a faster CPU path: on burn-flex (and its autodiff) a convolution is one
//! im2col + one gemm over the whole batch, forward and backward; every other backend runs
//! burn's own `Conv2d::forward`.
//!
//! Why: burn 0.21's CPU backend runs a convolution as one small gemm per image and tile, and
//! its generic backward computes the weight gradient as *another convolution* whose kernel is
//! the output gradient (`x` and `grad` with batch and channels swapped, each copied element by
//! element through a strided iterator), then returns it as a transposed view that every
//! later op walks slowly. Profiled on the image demo's training step, convolutions and those
//! copies were most of the time (docs/benchmarks.md). Here the weight gradient is one product
//! `grad · colsᵀ`, the input gradient `col2im(Wᵀ · grad)`, as PyTorch's CPU convolutions do.
//!
//! How: the models are generic over `B: Backend`, and burn offers backend-specific kernels
//! only through a trait every model would have to be bound by. Instead the backend type is
//! compared here (`TypeId`) and the tensors are moved, not converted, into the concrete type
//! (`Any` downcasts, no `unsafe`); the autodiff op is registered through burn-autodiff's public
//! `Backward` trait. tests/fast_conv2d.rs checks outputs and all three gradients against
//! burn's convolution.

use std::any::{Any, TypeId};

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Autodiff, Flex};
use burn::nn::conv::Conv2d;
use burn::nn::PaddingConfig2d;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, TensorPrimitive};
use rayon::prelude::*;

use crate::im2col::{col2im, im2col, matmul, swap_outer, Geometry, Matrix};

/// The training backend the fast path differentiates.
type Trained = Autodiff<Flex>;

/// `conv.forward(x)`, through the im2col + gemm path on burn-flex.
pub fn conv2d_forward<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let on_flex = TypeId::of::<B>() == TypeId::of::<Flex>();
    let on_trained = TypeId::of::<B>() == TypeId::of::<Trained>();
    let Some(g) = geometry(conv, &x).filter(|_| on_flex || on_trained) else {
        return conv.forward(x);
    };
    let weight = conv.weight.val();
    let bias = conv.bias.as_ref().map(|b| b.val());
    if on_trained {
        cast(tracked(cast(x), cast(weight), bias.map(cast), g))
    } else {
        cast(forward(cast(x), cast(weight), bias.map(cast), &g))
    }
}

/// Moves a value into the type the caller has checked it has.
fn cast<From: 'static, To: 'static>(value: From) -> To {
    *(Box::new(value) as Box<dyn Any>)
        .downcast::<To>()
        .expect("the caller compared the types")
}

/// The convolution's geometry when the fast path supports it (groups 1, explicit or no
/// padding, a non-empty output).
fn geometry<B: Backend>(conv: &Conv2d<B>, x: &Tensor<B, 4>) -> Option<Geometry> {
    let [batch, cin, h, w] = x.dims();
    let [cout, cin_w, kh, kw] = conv.weight.dims();
    let padding = match conv.padding {
        PaddingConfig2d::Explicit(top, left, bottom, right) => [top, left, bottom, right],
        PaddingConfig2d::Valid => [0; 4],
        PaddingConfig2d::Same => return None,
    };
    let g = Geometry {
        batch,
        cin,
        input: [h, w],
        cout,
        kernel: [kh, kw],
        stride: conv.stride,
        padding,
        dilation: conv.dilation,
    };
    let fits = conv.groups == 1 && cin == cin_w && g.output().is_some();
    (fits && g.columns() > 0 && g.patch_len() > 0 && cout > 0).then_some(g)
}

/// A float tensor's values, row-major.
fn values<const D: usize>(t: Tensor<Flex, D>) -> Vec<f32> {
    t.into_data()
        .into_vec::<f32>()
        .expect("burn-flex float tensors are f32")
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> Tensor<Flex, D> {
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

/// The forward pass on burn-flex: `[B, C_out, H_out, W_out]`.
fn forward(
    x: Tensor<Flex, 4>,
    weight: Tensor<Flex, 4>,
    bias: Option<Tensor<Flex, 1>>,
    g: &Geometry,
) -> Tensor<Flex, 4> {
    let [oh, ow] = g.output().expect("checked by geometry()");
    let (n, k) = (g.columns(), g.patch_len());
    let cols = im2col(&values(x), g);
    let mut out = matmul(
        Matrix::new(&values(weight), g.cout, k),
        Matrix::new(&cols, k, n),
    );
    if let Some(bias) = bias {
        let bias = values(bias);
        out.par_chunks_mut(n)
            .zip(&bias)
            .for_each(|(row, b)| row.iter_mut().for_each(|v| *v += b));
    }
    let out = swap_outer(&out, g.cout, g.batch, oh * ow);
    tensor(out, [g.batch, g.cout, oh, ow])
}

/// The forward pass on burn-flex's autodiff, with [`ConvBackward`] recorded.
fn tracked(
    x: Tensor<Trained, 4>,
    weight: Tensor<Trained, 4>,
    bias: Option<Tensor<Trained, 1>>,
    g: Geometry,
) -> Tensor<Trained, 4> {
    let has_bias = bias.is_some();
    // Without a bias the op still has three parents; an untracked one receives no gradient.
    let bias = bias.unwrap_or_else(|| Tensor::zeros([g.cout], &x.device()));
    let (x_inner, w_inner, b_inner) = (x.clone().inner(), weight.clone().inner(), bias.clone());
    let out = forward(
        x_inner.clone(),
        w_inner.clone(),
        has_bias.then(|| b_inner.inner()),
        &g,
    )
    .into_primitive()
    .tensor();
    let nodes = [
        x.into_primitive().tensor().node,
        weight.into_primitive().tensor().node,
        bias.into_primitive().tensor().node,
    ];
    let result = match ConvBackward
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish((x_inner, w_inner, g), out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    };
    Tensor::from_primitive(TensorPrimitive::Float(result))
}

/// The backward of [`tracked`]: the gradients of the input, the weight and the bias.
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    /// The input, the weight, the geometry.
    type State = (Tensor<Flex, 4>, Tensor<Flex, 4>, Geometry);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let (x, weight, g) = ops.state;
        let grad = grads.consume::<Flex>(&ops.node);
        let grad = values(Tensor::<Flex, 4>::from_primitive(TensorPrimitive::Float(
            grad,
        )));
        let [oh, ow] = g.output().expect("checked by geometry()");
        let (n, k) = (g.columns(), g.patch_len());
        // [B, C_out, L] → [C_out, B·L], the product's layout.
        let grad = swap_outer(&grad, g.batch, g.cout, oh * ow);
        let grad_m = Matrix::new(&grad, g.cout, n);
        let weight_shape = weight.dims();
        let weight = values(weight);
        if let Some(node) = node_x {
            let cols = matmul(Matrix::new(&weight, g.cout, k).t(), grad_m);
            let dx = tensor(col2im(&cols, &g), [g.batch, g.cin, g.input[0], g.input[1]]);
            grads.register::<Flex>(node.id, dx.into_primitive().tensor());
        }
        if let Some(node) = node_w {
            let cols = im2col(&values(x), &g);
            let dw = matmul(grad_m, Matrix::new(&cols, k, n).t());
            let dw = tensor(dw, weight_shape);
            grads.register::<Flex>(node.id, dw.into_primitive().tensor());
        }
        if let Some(node) = node_b {
            let db: Vec<f32> = grad
                .par_chunks(n)
                .map(|row| row.iter().map(|&v| f64::from(v)).sum::<f64>() as f32)
                .collect();
            grads.register::<Flex>(node.id, tensor(db, [g.cout]).into_primitive().tensor());
        }
    }
}
