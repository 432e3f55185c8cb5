//! Parity with vector-quantize-pytorch 1.32.0 (fixture `fixtures/zoo_golden.json`, made by
//! `tools/golden_zoo.py`): SimVQ with the rotation trick, and FSQ.

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Int, Tensor, TensorData};
use serde_json::Value;
use simvq_quant::{
    EmaVqConfig, Fsq, FsqConfig, GradientEstimator, LfqConfig, Quantizer, QuantizerOutput,
    ResidualSimVqConfig, SimVqConfig,
};

type B = Autodiff<Flex>;

fn floats(case: &Value, key: &str) -> Vec<f32> {
    case[key]
        .as_array()
        .unwrap_or_else(|| panic!("fixture lacks {key}"))
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn ints(case: &Value, key: &str) -> Vec<i64> {
    case[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

fn shape<const R: usize>(case: &Value) -> [usize; R] {
    let dims: Vec<usize> = case["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    dims.try_into().unwrap()
}

fn assert_close(name: &str, key: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{name}/{key}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{name}/{key}[{i}]: got {g}, want {w}"
        );
    }
}

fn values<BK: burn::tensor::backend::Backend, const D: usize>(t: &Tensor<BK, D>) -> Vec<f32> {
    t.to_data().to_vec().unwrap()
}

fn index_values<const D: usize>(t: &Tensor<B, D, Int>) -> Vec<i64> {
    t.to_data().iter::<i64>().collect()
}

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/zoo_golden.json")).unwrap()
}

fn case(name: &str) -> Value {
    fixture()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
        .clone()
}

/// A Linear from PyTorch's [out, in] weight and bias.
fn linear(case: &Value, weight: &str, bias: &str, d_in: usize, d_out: usize) -> Linear<B> {
    let device = Default::default();
    let w = Tensor::<B, 2>::from_data(
        TensorData::new(floats(case, weight), [d_out, d_in]),
        &device,
    );
    Linear {
        weight: Param::from_tensor(w.transpose()),
        bias: Some(Param::from_data(
            TensorData::new(floats(case, bias), [d_out]),
            &device,
        )),
    }
}

#[test]
fn simvq_rotation_trick_matches_vector_quantize_pytorch() {
    let case = case("simvq_rotation");
    let device = Default::default();
    let (k, d) = (
        case["codebook_size"].as_u64().unwrap() as usize,
        case["dim"].as_u64().unwrap() as usize,
    );
    let mut vq = SimVqConfig::new(k, d)
        .with_bias(false)
        .with_estimator(GradientEstimator::Rotation)
        .init::<B>(&device)
        .unwrap();
    vq.frozen_codebook = Param::from_data(
        TensorData::new(floats(&case, "frozen_codebook"), [k, d]),
        &device,
    )
    .set_require_grad(false);
    let w = Tensor::<B, 2>::from_data(
        TensorData::new(floats(&case, "weight_out_in"), [d, d]),
        &device,
    );
    vq.projection.weight = Param::from_tensor(w.transpose());

    let shape = shape::<4>(&case);
    let x = Tensor::<B, 4>::from_data(TensorData::new(floats(&case, "x"), shape), &device)
        .require_grad();
    let g = Tensor::<B, 4>::from_data(
        TensorData::new(floats(&case, "upstream_grad"), shape),
        &device,
    );
    let out = vq.forward_2d(x.clone()).unwrap();
    assert_eq!(index_values(&out.indices), ints(&case, "indices"));
    assert_close(
        "simvq_rotation",
        "quantized",
        &values(&out.quantized),
        &floats(&case, "quantized"),
        1e-5,
    );
    let loss: f32 = out.loss.total().into_scalar();
    assert_close(
        "simvq_rotation",
        "loss",
        &[loss],
        &[case["loss"].as_f64().unwrap() as f32],
        1e-5,
    );

    let grads = (out.loss.total() + (out.quantized * g).sum()).backward();
    assert_close(
        "simvq_rotation",
        "grad_x",
        &values(&x.grad(&grads).unwrap()),
        &floats(&case, "grad_x"),
        1e-4,
    );
    let grad_w = vq.projection.weight.grad(&grads).unwrap().transpose();
    assert_close(
        "simvq_rotation",
        "grad_w",
        &values(&grad_w),
        &floats(&case, "grad_weight_out_in"),
        1e-4,
    );
}

#[test]
fn rotation_trick_differs_from_straight_through_only_in_the_gradient() {
    let device = Default::default();
    let config = SimVqConfig::new(64, 8).with_seed(3);
    let st = config.init::<B>(&device).unwrap();
    let rot = config
        .clone()
        .with_estimator(GradientEstimator::Rotation)
        .init::<B>(&device)
        .unwrap();
    let z = Tensor::<B, 2>::random(
        [40, 8],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    )
    .require_grad();
    let (a, b) = (
        st.forward(z.clone()).unwrap(),
        rot.forward(z.clone()).unwrap(),
    );
    assert_eq!(
        values(&a.quantized),
        values(&b.quantized),
        "same forward value"
    );
    let ga = z.grad(&a.quantized.sum().backward()).unwrap();
    let gb = z.grad(&b.quantized.sum().backward()).unwrap();
    assert!(
        values(&ga).iter().all(|&v| v == 1.0),
        "straight-through passes ones"
    );
    assert_ne!(
        values(&ga),
        values(&gb),
        "the rotation trick rotates and scales the gradient"
    );
}

fn check_fsq<const R: usize, const I: usize>(
    case: &Value,
    forward: impl Fn(&Fsq<B>, Tensor<B, R>) -> simvq_quant::Result<QuantizerOutput<B, R, I>>,
    decode: impl Fn(&Fsq<B>, Tensor<B, I, Int>) -> simvq_quant::Result<Tensor<B, R>>,
) {
    let name = case["name"].as_str().unwrap();
    let device = Default::default();
    let levels: Vec<usize> = case["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let dim = case["dim"].as_u64().map(|d| d as usize);
    let mut fsq = FsqConfig::new(levels.clone())
        .with_dim(dim)
        .with_preserve_symmetry(case["preserve_symmetry"].as_bool().unwrap())
        .init::<B>(&device)
        .unwrap();
    if let Some(d) = dim {
        let l = levels.len();
        fsq.project_in = Some(linear(
            case,
            "project_in_weight_out_in",
            "project_in_bias",
            d,
            l,
        ));
        fsq.project_out = Some(linear(
            case,
            "project_out_weight_out_in",
            "project_out_bias",
            l,
            d,
        ));
    }
    let shape = shape::<R>(case);
    let z = Tensor::<B, R>::from_data(TensorData::new(floats(case, "z"), shape), &device)
        .require_grad();
    let g = Tensor::<B, R>::from_data(
        TensorData::new(floats(case, "upstream_grad"), shape),
        &device,
    );
    let out = forward(&fsq, z.clone()).unwrap();
    assert_eq!(
        index_values(&out.indices),
        ints(case, "indices"),
        "{name}: indices"
    );
    assert_close(
        name,
        "quantized",
        &values(&out.quantized),
        &floats(case, "quantized"),
        1e-5,
    );
    let decoded = decode(&fsq, out.indices.clone()).unwrap();
    assert_close(
        name,
        "decoded",
        &values(&decoded),
        &floats(case, "decoded"),
        1e-5,
    );
    let grads = (out.quantized * g).sum().backward();
    assert_close(
        name,
        "grad_z",
        &values(&z.grad(&grads).unwrap()),
        &floats(case, "grad_z"),
        1e-4,
    );
}

#[test]
fn fsq_matches_vector_quantize_pytorch() {
    // An image map [B, L, H, W] without projections.
    check_fsq::<4, 3>(
        &case("fsq_image"),
        |q, z| q.forward_2d(z),
        |q, i| q.decode_indices_2d(i),
    );
    // Tokens stored as [1, N, D] (channels last), i.e. our flat [N, D]: with projections
    // (dim 10 → 3 levels → 10), and with the symmetry-preserving bound.
    for name in ["fsq_projected", "fsq_symmetric"] {
        let mut flat = case(name);
        let dims: Vec<u64> = flat["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(dims[0], 1);
        flat["shape"] = serde_json::json!([dims[1], dims[2]]);
        check_fsq::<2, 1>(&flat, |q, z| q.forward(z), |q, i| q.decode_indices(i));
    }
}

fn floats_at(case: &Value, key: &str, level: usize) -> Vec<f32> {
    case[key][level]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn check_residual(name: &str) {
    let case = case(name);
    let device = Default::default();
    let usize_of = |key: &str| case[key].as_u64().unwrap() as usize;
    let (d, k, q) = (
        usize_of("dim"),
        usize_of("codebook_size"),
        usize_of("num_quantizers"),
    );
    let estimator = if case["rotation"].as_bool().unwrap() {
        GradientEstimator::Rotation
    } else {
        GradientEstimator::StraightThrough
    };
    let quantizer = SimVqConfig::new(k, d)
        .with_bias(false)
        .with_estimator(estimator);
    let mut rvq = ResidualSimVqConfig::new(q, quantizer)
        .init::<B>(&device)
        .unwrap();
    for (i, level) in rvq.levels.iter_mut().enumerate() {
        let c = TensorData::new(floats_at(&case, "frozen_codebooks", i), [k, d]);
        level.frozen_codebook = Param::from_data(c, &device).set_require_grad(false);
        let w = Tensor::<B, 2>::from_data(
            TensorData::new(floats_at(&case, "weights_out_in", i), [d, d]),
            &device,
        );
        level.projection.weight = Param::from_tensor(w.transpose());
    }
    let shape = shape::<3>(&case);
    let x = Tensor::<B, 3>::from_data(TensorData::new(floats(&case, "x"), shape), &device)
        .require_grad();
    let g = Tensor::<B, 3>::from_data(
        TensorData::new(floats(&case, "upstream_grad"), shape),
        &device,
    );
    let out = rvq.forward_1d(x.clone(), q).unwrap();
    assert_eq!(out.indices.dims(), [shape[0], shape[2], q]);
    assert_eq!(
        index_values(&out.indices),
        ints(&case, "indices"),
        "{name}: indices"
    );
    assert_close(
        name,
        "quantized",
        &values(&out.quantized),
        &floats(&case, "quantized"),
        1e-5,
    );
    let losses: Vec<f32> = out.losses.iter().map(|l| l.total().into_scalar()).collect();
    assert_close(name, "losses", &losses, &floats(&case, "losses"), 1e-5);

    let prefix = rvq
        .decode_indices_1d(out.indices.clone().narrow(2, 0, 2))
        .unwrap();
    assert_close(
        name,
        "decoded_prefix_2",
        &values(&prefix),
        &floats(&case, "decoded_prefix_2"),
        1e-5,
    );

    let total = out
        .losses
        .iter()
        .map(|l| l.total())
        .reduce(|a, b| a + b)
        .unwrap()
        + (out.quantized * g).sum();
    let grads = total.backward();
    assert_close(
        name,
        "grad_x",
        &values(&x.grad(&grads).unwrap()),
        &floats(&case, "grad_x"),
        1e-4,
    );
    for (i, level) in rvq.levels.iter().enumerate() {
        let grad_w = level.projection.weight.grad(&grads).unwrap().transpose();
        assert_close(
            name,
            "grad_w",
            &values(&grad_w),
            &floats_at(&case, "grads_weight_out_in", i),
            1e-4,
        );
    }
}

#[test]
fn residual_simvq_matches_vector_quantize_pytorch() {
    check_residual("residual_simvq");
    check_residual("residual_simvq_rotation");
}

#[test]
fn lfq_and_bsq_match_vector_quantize_pytorch() {
    for name in ["lfq", "lfq_projected", "bsq"] {
        let mut case = case(name);
        let device = Default::default();
        let k = case["codebook_size"].as_u64().unwrap() as usize;
        let dim = case["dim"].as_u64().map(|d| d as usize);
        let bits = k.trailing_zeros() as usize;
        let mut lfq = LfqConfig::new(k)
            .with_dim(dim)
            .with_spherical(case["spherical"].as_bool().unwrap())
            .with_commitment_loss_weight(case["commitment_loss_weight"].as_f64().unwrap())
            .init::<B>(&device)
            .unwrap();
        if let Some(d) = dim {
            lfq.project_in = Some(linear(
                &case,
                "project_in_weight_out_in",
                "project_in_bias",
                d,
                bits,
            ));
            lfq.project_out = Some(linear(
                &case,
                "project_out_weight_out_in",
                "project_out_bias",
                bits,
                d,
            ));
        }
        // Stored as [1, N, D] channels-last: our flat [N, D].
        let dims: Vec<u64> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        case["shape"] = serde_json::json!([dims[1], dims[2]]);
        let shape = shape::<2>(&case);
        let z = Tensor::<B, 2>::from_data(TensorData::new(floats(&case, "z"), shape), &device)
            .require_grad();
        let g = Tensor::<B, 2>::from_data(
            TensorData::new(floats(&case, "upstream_grad"), shape),
            &device,
        );
        let out = lfq.forward(z.clone()).unwrap();
        assert_eq!(
            index_values(&out.indices),
            ints(&case, "indices"),
            "{name}: indices"
        );
        assert_close(
            name,
            "quantized",
            &values(&out.quantized),
            &floats(&case, "quantized"),
            1e-5,
        );
        assert_close(
            name,
            "decoded",
            &values(&lfq.decode_indices(out.indices.clone()).unwrap()),
            &floats(&case, "decoded"),
            1e-5,
        );
        let scalar = |key: &str| case[key].as_f64().unwrap() as f32;
        let total: f32 = out.loss.total().into_scalar();
        assert_close(name, "aux_loss", &[total], &[scalar("aux_loss")], 1e-4);
        let commitment: f32 = out.loss.commitment.clone().into_scalar();
        assert_close(
            name,
            "commitment",
            &[commitment],
            &[scalar("commitment") * scalar("commitment_loss_weight")],
            1e-5,
        );
        let grads = (out.loss.total() + (out.quantized * g).sum()).backward();
        assert_close(
            name,
            "grad_z",
            &values(&z.grad(&grads).unwrap()),
            &floats(&case, "grad_z"),
            1e-4,
        );
    }
}

#[test]
fn ema_codebook_matches_vector_quantize_pytorch_over_two_steps() {
    let case = case("ema_vq");
    let device = Default::default();
    let (k, d) = (
        case["codebook_size"].as_u64().unwrap() as usize,
        case["dim"].as_u64().unwrap() as usize,
    );
    let vq = EmaVqConfig::new(k, d)
        .with_decay(case["decay"].as_f64().unwrap())
        .with_beta(case["beta"].as_f64().unwrap())
        .init::<B>(&device)
        .unwrap();
    let initial = Tensor::<B, 2>::from_data(
        TensorData::new(floats(&case, "initial_codebook"), [k, d]),
        &device,
    );
    vq.codebook.update(initial.clone());
    vq.embed_sum.update(initial);
    for (step, expected) in case["steps"].as_array().unwrap().iter().enumerate() {
        let name = format!("ema_vq step {step}");
        let x = Tensor::<B, 2>::from_data(TensorData::new(floats(expected, "x"), [40, d]), &device)
            .require_grad();
        let out = vq.forward(x.clone()).unwrap();
        assert_eq!(
            index_values(&out.indices),
            ints(expected, "indices"),
            "{name}: indices"
        );
        assert_close(
            &name,
            "quantized",
            &values(&out.quantized),
            &floats(expected, "quantized"),
            1e-5,
        );
        let loss: f32 = out.loss.total().into_scalar();
        assert_close(
            &name,
            "loss",
            &[loss],
            &[expected["loss"].as_f64().unwrap() as f32],
            1e-5,
        );
        let grad = x.grad(&out.quantized.sum().backward()).unwrap();
        assert_close(
            &name,
            "grad_x",
            &values(&grad),
            &floats(expected, "grad_x"),
            1e-5,
        );
        let codes = vq.codebook().codes();
        assert_close(
            &name,
            "codebook_after",
            &values(&codes),
            &floats(expected, "codebook_after"),
            1e-5,
        );
        let sizes = vq.cluster_size.value_sync();
        assert_close(
            &name,
            "cluster_size_after",
            &values(&sizes),
            &floats(expected, "cluster_size_after"),
            1e-5,
        );
    }
}
