//! Convolutions with a faster CPU path: on burn-flex (and its autodiff) a convolution is one
//! im2col + one gemm over the whole batch, forward and backward; every other backend runs
//! burn's own convolution. A 1-D convolution is the 2-D one over a height of 1.
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
//! `Backward` trait. tests/fast_conv2d.rs and tests/fast_conv1d.rs check outputs and all three
//! gradients against burn's convolutions.

use std::any::{Any, TypeId};

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Autodiff, Flex};
use burn::nn::conv::{Conv1d, Conv2d};
use burn::nn::{PaddingConfig1d, PaddingConfig2d};
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Tensor, TensorData, TensorPrimitive};
use rayon::prelude::*;

use crate::im2col::{col2im, im2col, matmul, swap_outer, Element, Geometry, Matrix};

/// The training backend the fast path differentiates.
type Trained = Autodiff<Flex>;

/// `conv.forward(x)`, through the im2col + gemm path on burn-flex.
pub fn conv2d_forward<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let padding = match conv.padding {
        PaddingConfig2d::Explicit(top, left, bottom, right) => [top, left, bottom, right],
        PaddingConfig2d::Valid => [0; 4],
        PaddingConfig2d::Same => return conv.forward(x),
    };
    let shape = Shape {
        stride: conv.stride,
        padding,
        dilation: conv.dilation,
        groups: conv.groups,
    };
    let weight = conv.weight.val();
    match geometry::<B>(&x, &weight, &shape) {
        Some(g) => fast(x, weight, conv.bias.as_ref().map(|b| b.val()), g),
        None => conv.forward(x),
    }
}

/// `burn::tensor::module::conv2d`, through the im2col + gemm path on burn-flex.
pub fn conv2d<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    options: ConvOptions<2>,
) -> Tensor<B, 4> {
    let [ph, pw] = options.padding;
    let shape = Shape {
        stride: options.stride,
        padding: [ph, pw, ph, pw],
        dilation: options.dilation,
        groups: options.groups,
    };
    match geometry::<B>(&x, &weight, &shape) {
        Some(g) => fast(x, weight, bias, g),
        None => burn::tensor::module::conv2d(x, weight, bias, options),
    }
}

/// `conv.forward(x)` of a 1-D convolution, through the im2col + gemm path on burn-flex.
pub fn conv1d_forward<B: Backend>(conv: &Conv1d<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [left, right] = match conv.padding {
        PaddingConfig1d::Explicit(left, right) => [left, right],
        PaddingConfig1d::Valid => [0, 0],
        PaddingConfig1d::Same => return conv.forward(x),
    };
    let shape = Shape {
        stride: [1, conv.stride],
        padding: [0, left, 0, right],
        dilation: [1, conv.dilation],
        groups: conv.groups,
    };
    let bias = conv.bias.as_ref().map(|b| b.val());
    fast_1d(&x, &conv.weight.val(), bias, &shape).unwrap_or_else(|| conv.forward(x))
}

/// `burn::tensor::module::conv1d` (`x` `[B, C_in, T]`, `weight` `[C_out, C_in, K]`), through
/// the im2col + gemm path on burn-flex.
pub fn conv1d<B: Backend>(
    x: Tensor<B, 3>,
    weight: Tensor<B, 3>,
    bias: Option<Tensor<B, 1>>,
    options: ConvOptions<1>,
) -> Tensor<B, 3> {
    let [padding] = options.padding;
    let shape = Shape {
        stride: [1, options.stride[0]],
        padding: [0, padding, 0, padding],
        dilation: [1, options.dilation[0]],
        groups: options.groups,
    };
    fast_1d(&x, &weight, bias.clone(), &shape)
        .unwrap_or_else(|| burn::tensor::module::conv1d(x, weight, bias, options))
}

/// A 1-D convolution as the 2-D one over a height of 1, when the fast path takes it.
fn fast_1d<B: Backend>(
    x: &Tensor<B, 3>,
    weight: &Tensor<B, 3>,
    bias: Option<Tensor<B, 1>>,
    shape: &Shape,
) -> Option<Tensor<B, 3>> {
    let [batch, cin, t] = x.dims();
    let [cout, cin_w, k] = weight.dims();
    let x = x.clone().reshape([batch, cin, 1, t]);
    let weight = weight.clone().reshape([cout, cin_w, 1, k]);
    let g = geometry(&x, &weight, shape)?;
    let y = fast(x, weight, bias, g);
    let [batch, cout, _, t_out] = y.dims();
    Some(y.reshape([batch, cout, t_out]))
}

/// A convolution's hyper-parameters, padding as `[top, left, bottom, right]`.
struct Shape {
    stride: [usize; 2],
    padding: [usize; 4],
    dilation: [usize; 2],
    groups: usize,
}

/// The fast path on burn-flex or its autodiff, whose types the caller has checked.
fn fast<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    g: Geometry,
) -> Tensor<B, 4> {
    if TypeId::of::<B>() == TypeId::of::<Trained>() {
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

/// The convolution's geometry when the fast path takes it: on burn-flex or its autodiff, in
/// f32 or f64 (input and weight alike), groups 1, a non-empty output.
fn geometry<B: Backend>(
    x: &Tensor<B, 4>,
    weight: &Tensor<B, 4>,
    shape: &Shape,
) -> Option<Geometry> {
    let on_flex = TypeId::of::<B>() == TypeId::of::<Flex>();
    let on_trained = TypeId::of::<B>() == TypeId::of::<Trained>();
    let [batch, cin, h, w] = x.dims();
    let [cout, cin_w, kh, kw] = weight.dims();
    let g = Geometry {
        batch,
        cin,
        input: [h, w],
        cout,
        kernel: [kh, kw],
        stride: shape.stride,
        padding: shape.padding,
        dilation: shape.dilation,
    };
    let floats = matches!(x.dtype(), DType::F32 | DType::F64) && weight.dtype() == x.dtype();
    let fits = (on_flex || on_trained)
        && floats
        && shape.groups == 1
        && cin == cin_w
        && g.output().is_some();
    (fits && g.columns() > 0 && g.patch_len() > 0 && cout > 0).then_some(g)
}

/// A float both the column matrices and burn's tensor data hold (f32, f64).
trait Float: Element + burn::tensor::Element {}

impl<T: Element + burn::tensor::Element> Float for T {}

/// A float tensor's values, row-major, as `T` (its dtype, checked by [`geometry`]).
fn values<T: Float, const D: usize>(t: Tensor<Flex, D>) -> Vec<T> {
    t.into_data()
        .into_vec::<T>()
        .expect("geometry() checked the dtype")
}

fn tensor<T: Float, const D: usize>(values: Vec<T>, shape: [usize; D]) -> Tensor<Flex, D> {
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

/// The forward pass on burn-flex, in the input's float type.
fn forward(
    x: Tensor<Flex, 4>,
    weight: Tensor<Flex, 4>,
    bias: Option<Tensor<Flex, 1>>,
    g: &Geometry,
) -> Tensor<Flex, 4> {
    match x.dtype() {
        DType::F64 => forward_in::<f64>(x, weight, bias, g),
        _ => forward_in::<f32>(x, weight, bias, g),
    }
}

/// The forward pass on burn-flex in `T`: `[B, C_out, H_out, W_out]`.
fn forward_in<T: Float>(
    x: Tensor<Flex, 4>,
    weight: Tensor<Flex, 4>,
    bias: Option<Tensor<Flex, 1>>,
    g: &Geometry,
) -> Tensor<Flex, 4> {
    let [oh, ow] = g.output().expect("checked by geometry()");
    let (n, k) = (g.columns(), g.patch_len());
    let cols = im2col(&values::<T, 4>(x), g);
    let mut out = matmul(
        Matrix::new(&values::<T, 4>(weight), g.cout, k),
        Matrix::new(&cols, k, n),
    );
    if let Some(bias) = bias {
        let bias = values::<T, 1>(bias);
        out.par_chunks_mut(n)
            .zip(&bias)
            .for_each(|(row, &b)| row.iter_mut().for_each(|v| *v += b));
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
        match ops.state.0.dtype() {
            DType::F64 => backward_in::<f64>(ops, grads),
            _ => backward_in::<f32>(ops, grads),
        }
    }
}

/// [`ConvBackward`] in the forward's float type `T`.
fn backward_in<T: Float>(
    ops: Ops<<ConvBackward as Backward<Flex, 3>>::State, 3>,
    grads: &mut Gradients,
) {
    let [node_x, node_w, node_b] = ops.parents;
    let (x, weight, g) = ops.state;
    let grad = grads.consume::<Flex>(&ops.node);
    let grad = values::<T, 4>(Tensor::<Flex, 4>::from_primitive(TensorPrimitive::Float(
        grad,
    )));
    let [oh, ow] = g.output().expect("checked by geometry()");
    let (n, k) = (g.columns(), g.patch_len());
    // [B, C_out, L] → [C_out, B·L], the product's layout.
    let grad = swap_outer(&grad, g.batch, g.cout, oh * ow);
    let grad_m = Matrix::new(&grad, g.cout, n);
    let weight_shape = weight.dims();
    let weight = values::<T, 4>(weight);
    if let Some(node) = node_x {
        let cols = matmul(Matrix::new(&weight, g.cout, k).t(), grad_m);
        let dx = tensor(col2im(&cols, &g), [g.batch, g.cin, g.input[0], g.input[1]]);
        grads.register::<Flex>(node.id, dx.into_primitive().tensor());
    }
    if let Some(node) = node_w {
        let cols = im2col(&values::<T, 4>(x), &g);
        let dw = matmul(grad_m, Matrix::new(&cols, k, n).t());
        let dw = tensor(dw, weight_shape);
        grads.register::<Flex>(node.id, dw.into_primitive().tensor());
    }
    if let Some(node) = node_b {
        let db: Vec<T> = grad
            .par_chunks(n)
            .map(|row| T::from_f64(row.iter().map(|&v| v.to_f64()).sum::<f64>()))
            .collect();
        grads.register::<Flex>(node.id, tensor(db, [g.cout]).into_primitive().tensor());
    }
}
