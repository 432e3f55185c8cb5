//! `conv1d` and `conv1d_forward` (the 2-D im2col path over a height of 1) equal burn's 1-D
//! convolutions: outputs and the gradients of the input, the weight and the bias, for the
//! audio codec's shapes (SEANet's causal convs with pre-padded input and strides up to 8, its
//! dilated residual convs, Vocos's kernel-7 embedding with asymmetric padding, the attention's
//! 1×1 projections) and a grouped (depthwise) conv, which falls back to burn's own.

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::nn::conv::Conv1dConfig;
use burn::nn::PaddingConfig1d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use simvq_conv::{conv1d, conv1d_forward};
use simvq_testkit::{assert_close, closed_form, grad_values, leaf, tensor_values, Tolerance};

type B = Autodiff<Flex>;

/// One 1-D convolution: channels, kernel, stride, (left, right) padding, dilation, groups.
#[derive(Clone, Copy)]
struct Case {
    channels: [usize; 2],
    kernel: usize,
    stride: usize,
    padding: [usize; 2],
    dilation: usize,
    groups: usize,
    length: usize,
}

/// Output and the three gradients of `Σ w · conv(x)`, through ours or burn's, on the module
/// (`Conv1d`) or on the function (`conv1d`, symmetric padding only).
fn run(c: Case, ours: bool, module: bool) -> Vec<Vec<f64>> {
    let _autodiff = simvq_quant::autodiff_lock();
    let [cin, cout] = c.channels;
    let [left, right] = c.padding;
    let mut conv = Conv1dConfig::new(cin, cout, c.kernel)
        .with_stride(c.stride)
        .with_dilation(c.dilation)
        .with_groups(c.groups)
        .with_padding(PaddingConfig1d::Explicit(left, right))
        .init::<B>(&Default::default());
    let w = conv.weight.dims();
    conv.weight = Param::from_tensor(leaf(closed_form(w.iter().product(), 0.4, 0.3, 0.0), w));
    conv.bias = Some(Param::from_tensor(leaf(
        closed_form(cout, 1.3, 0.5, 0.1),
        [cout],
    )));
    let shape = [2, cin, c.length];
    let x: Tensor<B, 3> = leaf(closed_form(shape.iter().product(), 0.7, 1.5, 0.2), shape);
    let (weight, bias) = (conv.weight.val(), conv.bias.as_ref().unwrap().val());
    let options = ConvOptions::new([c.stride], [left], [c.dilation], c.groups);
    let y = match (ours, module) {
        (true, true) => conv1d_forward(&conv, x.clone()),
        (false, true) => conv.forward(x.clone()),
        (true, false) => conv1d(x.clone(), weight.clone(), Some(bias.clone()), options),
        (false, false) => {
            burn::tensor::module::conv1d(x.clone(), weight.clone(), Some(bias.clone()), options)
        }
    };
    let dims = y.dims();
    let mask: Tensor<B, 3> = leaf(closed_form(dims.iter().product(), 2.1, 1.0, 0.3), dims);
    let grads = (y.clone() * mask).sum().backward();
    vec![
        tensor_values(&y),
        grad_values(&x, &grads),
        grad_values(&weight, &grads),
        grad_values(&bias, &grads),
    ]
}

fn check(c: Case) {
    let modules = if c.padding[0] == c.padding[1] {
        vec![true, false]
    } else {
        vec![true]
    };
    for module in modules {
        let ours = run(c, true, module);
        let burns = run(c, false, module);
        for (i, (a, b)) in ours.iter().zip(&burns).enumerate() {
            let what = format!(
                "{:?} k{} s{} p{:?} d{} g{} on {} ({}): {}",
                c.channels,
                c.kernel,
                c.stride,
                c.padding,
                c.dilation,
                c.groups,
                c.length,
                if module { "Conv1d" } else { "conv1d" },
                ["output", "∂x", "∂w", "∂b"][i]
            );
            let tolerance = if i == 0 { 1e-5 } else { 1e-4 };
            assert_close(a, b, Tolerance::relative(tolerance), &what);
        }
    }
}

const SEANET_RESIDUAL: Case = Case {
    channels: [6, 3],
    kernel: 3,
    stride: 1,
    padding: [0, 0],
    dilation: 1,
    groups: 1,
    length: 40,
};

#[test]
fn seanet_convs_causal_strided_and_dilated() {
    check(SEANET_RESIDUAL);
    check(Case {
        dilation: 3,
        ..SEANET_RESIDUAL
    });
    // A downsampling conv: kernel 2·stride, stride 8.
    check(Case {
        channels: [4, 8],
        kernel: 16,
        stride: 8,
        length: 80,
        ..SEANET_RESIDUAL
    });
}

#[test]
fn vocos_embedding_attention_and_symmetric_padding() {
    check(Case {
        channels: [5, 7],
        kernel: 7,
        padding: [3, 3],
        ..SEANET_RESIDUAL
    });
    check(Case {
        padding: [4, 2],
        ..SEANET_RESIDUAL
    });
    check(Case {
        channels: [8, 8],
        kernel: 1,
        ..SEANET_RESIDUAL
    });
}

#[test]
fn grouped_convs_fall_back_to_burns() {
    check(Case {
        channels: [6, 6],
        kernel: 7,
        padding: [3, 3],
        groups: 6,
        ..SEANET_RESIDUAL
    });
}

#[test]
fn inference_on_burn_flex_takes_the_same_path() {
    let device = Default::default();
    let x = Tensor::<Flex, 3>::from_data(
        TensorData::new(closed_form(2 * 4 * 33, 0.7, 1.5, 0.2), [2, 4, 33]),
        &device,
    );
    let w = Tensor::<Flex, 3>::from_data(
        TensorData::new(closed_form(5 * 4 * 4, 0.4, 0.3, 0.0), [5, 4, 4]),
        &device,
    );
    let options = ConvOptions::new([2], [1], [1], 1);
    let ours = conv1d(x.clone(), w.clone(), None, options.clone());
    let burns = burn::tensor::module::conv1d(x, w, None, options);
    assert_eq!(ours.dims(), burns.dims());
    assert_close(
        &tensor_values(&ours),
        &tensor_values(&burns),
        Tolerance::relative(1e-5),
        "inference",
    );
}
