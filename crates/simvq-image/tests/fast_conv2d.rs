//! `conv2d_forward` (im2col + gemm on burn-flex) equals burn's `Conv2d::forward`: outputs and
//! the gradients of the input, the weight and the bias, for every convolution shape the
//! tokenizer and the PatchGAN use (3×3 same, 1×1, the stride-2 downsample (here padded asymmetrically), the
//! discriminator's 4×4 stride 2) and a dilated one; with and without bias; on burn-flex
//! without autodiff too.

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use simvq_image::conv2d_forward;
use simvq_testkit::{assert_close, closed_form, grad_values, leaf, tensor_values, Tolerance};

type B = Autodiff<Flex>;

/// One convolution to compare.
struct Case {
    cin: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    padding: [usize; 4],
    dilation: usize,
    bias: bool,
    input: [usize; 2],
}

fn conv<Be: Backend>(c: &Case) -> Conv2d<Be> {
    let [top, left, bottom, right] = c.padding;
    let mut conv = Conv2dConfig::new([c.cin, c.cout], [c.kernel, c.kernel])
        .with_stride([c.stride; 2])
        .with_dilation([c.dilation; 2])
        .with_padding(PaddingConfig2d::Explicit(top, left, bottom, right))
        .with_bias(c.bias)
        .init::<Be>(&Default::default());
    let w = conv.weight.dims();
    let values = closed_form(w.iter().product(), 0.4, 0.3, 0.0);
    conv.weight = Param::from_tensor(Tensor::from_data(
        burn::tensor::TensorData::new(values, w),
        &Default::default(),
    ));
    if c.bias {
        conv.bias = Some(Param::from_tensor(Tensor::from_data(
            burn::tensor::TensorData::new(closed_form(c.cout, 1.3, 0.5, 0.1), [c.cout]),
            &Default::default(),
        )));
    }
    conv
}

/// Output values and gradients (input, weight, bias) of `Σ w · conv(x)`.
fn run(c: &Case, ours: bool) -> (Vec<f64>, Vec<Vec<f64>>) {
    let _autodiff = simvq_quant::autodiff_lock();
    let conv = conv::<B>(c);
    let shape = [2, c.cin, c.input[0], c.input[1]];
    let x: Tensor<B, 4> = leaf(closed_form(shape.iter().product(), 0.7, 1.5, 0.2), shape);
    let y = if ours {
        conv2d_forward(&conv, x.clone())
    } else {
        conv.forward(x.clone())
    };
    let dims = y.dims();
    let w: Tensor<B, 4> = leaf(closed_form(dims.iter().product(), 2.1, 1.0, 0.3), dims);
    let grads = (y.clone() * w).sum().backward();
    let mut g = vec![
        grad_values(&x, &grads),
        grad_values(&conv.weight.val(), &grads),
    ];
    if let Some(b) = &conv.bias {
        g.push(grad_values(&b.val(), &grads));
    }
    (tensor_values(&y), g)
}

fn check(c: Case) {
    let what = format!(
        "{}→{} k{} s{} p{:?} d{} bias {} on {:?}",
        c.cin, c.cout, c.kernel, c.stride, c.padding, c.dilation, c.bias, c.input
    );
    let (y_ours, g_ours) = run(&c, true);
    let (y_burn, g_burn) = run(&c, false);
    assert_close(
        &y_ours,
        &y_burn,
        Tolerance::relative(1e-5),
        &format!("{what}: output"),
    );
    for (i, (a, b)) in g_ours.iter().zip(&g_burn).enumerate() {
        assert_close(
            a,
            b,
            Tolerance::relative(1e-4),
            &format!("{what}: gradient {i}"),
        );
    }
    // Inference on burn-flex itself takes the same path.
    let plain = conv::<Flex>(&c);
    let shape = [2, c.cin, c.input[0], c.input[1]];
    let x = Tensor::<Flex, 4>::from_data(
        burn::tensor::TensorData::new(closed_form(shape.iter().product(), 0.7, 1.5, 0.2), shape),
        &Default::default(),
    );
    let got = tensor_values(&conv2d_forward(&plain, x.clone()));
    let want = tensor_values(&plain.forward(x));
    assert_close(
        &got,
        &want,
        Tolerance::relative(1e-5),
        &format!("{what}: inference"),
    );
}

/// The tokenizer's most common conv: 3×3, stride 1, "same" padding.
const SAME_3X3: Case = Case {
    cin: 5,
    cout: 7,
    kernel: 3,
    stride: 1,
    padding: [1; 4],
    dilation: 1,
    bias: false,
    input: [9, 6],
};

#[test]
fn same_3x3_with_and_without_bias() {
    check(SAME_3X3);
    check(Case {
        bias: true,
        ..SAME_3X3
    });
}

#[test]
fn pointwise_1x1() {
    check(Case {
        kernel: 1,
        padding: [0; 4],
        bias: true,
        input: [5, 5],
        ..SAME_3X3
    });
}

#[test]
fn asymmetric_stride_2_downsample() {
    // The encoder's 3×3 stride 2, with padding on the bottom and right only.
    check(Case {
        stride: 2,
        padding: [0, 0, 1, 1],
        bias: true,
        input: [8, 7],
        ..SAME_3X3
    });
}

#[test]
fn patchgan_4x4_stride_2_and_dilated() {
    check(Case {
        cin: 3,
        cout: 8,
        kernel: 4,
        stride: 2,
        input: [10, 10],
        ..SAME_3X3
    });
    check(Case {
        padding: [2; 4],
        dilation: 2,
        bias: true,
        input: [7, 9],
        ..SAME_3X3
    });
}

#[test]
fn kernel_wider_than_the_input() {
    // Some kernel columns read only padding: their rows of the column matrix stay zero.
    check(Case {
        kernel: 5,
        padding: [2; 4],
        bias: true,
        input: [3, 1],
        ..SAME_3X3
    });
}
