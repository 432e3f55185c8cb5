//! Parity with vector-quantize-pytorch 1.32.0 (fixture `fixtures/zoo_golden.json`, made by
//! `tools/golden_zoo.py`): SimVQ with the rotation trick, residual SimVQ, FSQ, LFQ/BSQ and the
//! EMA codebook.

mod common;

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Distribution, Tensor, TensorData};
use common::*;
use simvq_quant::{
    CodebookQuantizer, EmaVqConfig, FsqConfig, GradientEstimator, LfqConfig, Quantizer,
    ResidualSimVqConfig, SimVqConfig,
};
use simvq_testkit::{number, numbers, read_json, Value};

fn case(name: &str) -> Value {
    let fixture = read_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/zoo_golden.json"
    ));
    let cases = fixture["cases"].as_array().unwrap();
    cases.iter().find(|c| c["name"] == name).unwrap().clone()
}

/// A case stored as `[1, N, D]` (channels last, as the package takes tokens) read as our flat
/// `[N, D]`.
fn flat_case(name: &str) -> Value {
    let mut case = case(name);
    let dims = shape::<3>(&case);
    assert_eq!(dims[0], 1);
    case["shape"] = Value::from(vec![dims[1], dims[2]]);
    case
}

/// The fixture's `dim → inner` and `inner → dim` projections (FSQ, LFQ).
fn fixture_projections(
    case: &Value,
    dim: usize,
    inner: usize,
) -> (Option<Linear<B>>, Option<Linear<B>>) {
    let project_in = linear(
        case,
        "project_in_weight_out_in",
        "project_in_bias",
        dim,
        inner,
    );
    let project_out = linear(
        case,
        "project_out_weight_out_in",
        "project_out_bias",
        inner,
        dim,
    );
    (Some(project_in), Some(project_out))
}

fn estimator_of(case: &Value) -> GradientEstimator {
    if case["rotation"].as_bool().unwrap_or(false) {
        GradientEstimator::Rotation
    } else {
        GradientEstimator::StraightThrough
    }
}

/// Forward a flat case through `quantizer`; checks indices, output, decoding and the input
/// gradient of `loss + Σ output·g` (`with_loss`) or `Σ output·g`. Returns the loss.
fn check_flat(name: &str, case: &Value, quantizer: &impl Quantizer<B>, with_loss: bool) -> f32 {
    let _autodiff = simvq_quant::autodiff_lock();
    let shape = shape::<2>(case);
    let z = tensor(case, "z", shape).require_grad();
    let out = quantizer.forward(z.clone()).unwrap();
    assert_output(name, case, &out.indices, &out.quantized, 1e-5);
    let decoded = quantizer.decode_indices(out.indices.clone()).unwrap();
    assert_close(
        name,
        "decoded",
        &values(&decoded),
        &floats(case, "decoded"),
        1e-5,
    );
    let loss: f32 = out.loss.total().into_scalar();
    let upstream = (out.quantized * tensor(case, "upstream_grad", shape)).sum();
    let objective = if with_loss {
        out.loss.total() + upstream
    } else {
        upstream
    };
    let grad = z.grad(&objective.backward()).unwrap();
    assert_close(
        name,
        "grad_z",
        &values(&grad),
        &floats(case, "grad_z"),
        1e-4,
    );
    loss
}

#[test]
fn simvq_rotation_trick_matches_vector_quantize_pytorch() {
    let _autodiff = simvq_quant::autodiff_lock();
    let case = case("simvq_rotation");
    let name = "simvq_rotation";
    let (k, d) = (usize_of(&case, "codebook_size"), usize_of(&case, "dim"));
    let device = Default::default();
    let mut vq = SimVqConfig::new()
        .with_codebook_size(k)
        .with_dim(d)
        .with_bias(false)
        .with_estimator(GradientEstimator::Rotation)
        .init::<B>(&device)
        .unwrap();
    let c = TensorData::new(floats(&case, "frozen_codebook"), [k, d]);
    vq.frozen_codebook = Param::from_data(c, &device).set_require_grad(false);
    vq.projection.weight = weight_out_in(floats(&case, "weight_out_in"), d, d);

    let shape = shape::<4>(&case);
    let x = tensor(&case, "x", shape).require_grad();
    let out = vq.forward_2d(x.clone()).unwrap();
    assert_eq!(index_values(&out.indices), ints(&case, "indices"));
    assert_close(
        name,
        "quantized",
        &values(&out.quantized),
        &floats(&case, "quantized"),
        1e-5,
    );
    let loss: f32 = out.loss.total().into_scalar();
    assert_close(name, "loss", &[loss], &[number(&case["loss"]) as f32], 1e-5);

    let upstream = (out.quantized * tensor(&case, "upstream_grad", shape)).sum();
    let grads = (out.loss.total() + upstream).backward();
    assert_close(
        name,
        "grad_x",
        &values(&x.grad(&grads).unwrap()),
        &floats(&case, "grad_x"),
        1e-4,
    );
    let grad_w = values(&vq.projection.weight.grad(&grads).unwrap().transpose());
    assert_close(
        name,
        "grad_w",
        &grad_w,
        &floats(&case, "grad_weight_out_in"),
        1e-4,
    );
}

#[test]
fn rotation_trick_differs_from_straight_through_only_in_the_gradient() {
    let _autodiff = simvq_quant::autodiff_lock();
    let device = Default::default();
    let config = SimVqConfig::new()
        .with_codebook_size(64)
        .with_dim(8)
        .with_seed(3);
    let st = config.init::<B>(&device).unwrap();
    let rot = config
        .with_estimator(GradientEstimator::Rotation)
        .init::<B>(&device)
        .unwrap();
    let z = Tensor::<B, 2>::random([40, 8], Distribution::Normal(0.0, 1.0), &device).require_grad();
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

fn check_residual(name: &str) {
    let _autodiff = simvq_quant::autodiff_lock();
    let case = case(name);
    let (d, k, q) = (
        usize_of(&case, "dim"),
        usize_of(&case, "codebook_size"),
        usize_of(&case, "num_quantizers"),
    );
    let device = Default::default();
    let level = SimVqConfig::new()
        .with_codebook_size(k)
        .with_dim(d)
        .with_bias(false)
        .with_estimator(estimator_of(&case));
    let mut rvq = ResidualSimVqConfig::new(q, level)
        .init::<B>(&device)
        .unwrap();
    let per_level = |key: &str, i: usize| -> Vec<f32> {
        numbers(&case[key][i])
            .into_iter()
            .map(|v| v as f32)
            .collect()
    };
    for (i, level) in rvq.levels.iter_mut().enumerate() {
        let c = TensorData::new(per_level("frozen_codebooks", i), [k, d]);
        level.frozen_codebook = Param::from_data(c, &device).set_require_grad(false);
        level.projection.weight = weight_out_in(per_level("weights_out_in", i), d, d);
    }
    let shape = shape::<3>(&case);
    let x = tensor(&case, "x", shape).require_grad();
    let out = rvq.forward_1d(x.clone(), q).unwrap();
    assert_eq!(out.indices.dims(), [shape[0], shape[2], q]);
    assert_output(name, &case, &out.indices, &out.quantized, 1e-5);
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

    let loss = out
        .losses
        .iter()
        .map(|l| l.total())
        .reduce(|a, b| a + b)
        .unwrap();
    let grads = (loss + (out.quantized * tensor(&case, "upstream_grad", shape)).sum()).backward();
    assert_close(
        name,
        "grad_x",
        &values(&x.grad(&grads).unwrap()),
        &floats(&case, "grad_x"),
        1e-4,
    );
    for (i, level) in rvq.levels.iter().enumerate() {
        let grad_w = values(&level.projection.weight.grad(&grads).unwrap().transpose());
        assert_close(
            name,
            "grad_w",
            &grad_w,
            &per_level("grads_weight_out_in", i),
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
fn fsq_matches_vector_quantize_pytorch() {
    let _autodiff = simvq_quant::autodiff_lock();
    // An image map [B, L, H, W] without projections.
    let case = case("fsq_image");
    let fsq = FsqConfig::new(vec![8, 5, 5, 5])
        .init::<B>(&Default::default())
        .unwrap();
    let shape = shape::<4>(&case);
    let z = tensor(&case, "z", shape).require_grad();
    let out = fsq.forward_2d(z.clone()).unwrap();
    assert_eq!(index_values(&out.indices), ints(&case, "indices"));
    assert_close(
        "fsq_image",
        "quantized",
        &values(&out.quantized),
        &floats(&case, "quantized"),
        1e-5,
    );
    let decoded = fsq.decode_indices_2d(out.indices.clone()).unwrap();
    assert_close(
        "fsq_image",
        "decoded",
        &values(&decoded),
        &floats(&case, "decoded"),
        1e-5,
    );
    let grad = z.grad(
        &(out.quantized * tensor(&case, "upstream_grad", shape))
            .sum()
            .backward(),
    );
    assert_close(
        "fsq_image",
        "grad_z",
        &values(&grad.unwrap()),
        &floats(&case, "grad_z"),
        1e-4,
    );

    // Tokens with projections (10 → 3 levels → 10), and the symmetry-preserving bound.
    for name in ["fsq_projected", "fsq_symmetric"] {
        let case = flat_case(name);
        let levels: Vec<usize> = ints(&case, "levels").iter().map(|&l| l as usize).collect();
        let dim = case["dim"].as_u64().map(|d| d as usize);
        let mut fsq = FsqConfig::new(levels.clone())
            .with_dim(dim)
            .with_preserve_symmetry(case["preserve_symmetry"].as_bool().unwrap())
            .init::<B>(&Default::default())
            .unwrap();
        if let Some(d) = dim {
            (fsq.project_in, fsq.project_out) = fixture_projections(&case, d, levels.len());
        }
        check_flat(name, &case, &fsq, false);
    }
}

#[test]
fn lfq_and_bsq_match_vector_quantize_pytorch() {
    for name in ["lfq", "lfq_projected", "bsq"] {
        let case = flat_case(name);
        let k = usize_of(&case, "codebook_size");
        let bits = k.trailing_zeros() as usize;
        let dim = case["dim"].as_u64().map(|d| d as usize);
        let commitment_weight = case["commitment_loss_weight"].as_f64().unwrap();
        let mut lfq = LfqConfig::new(k)
            .with_dim(dim)
            .with_spherical(case["spherical"].as_bool().unwrap())
            .with_commitment_loss_weight(commitment_weight)
            .init::<B>(&Default::default())
            .unwrap();
        if let Some(d) = dim {
            (lfq.project_in, lfq.project_out) = fixture_projections(&case, d, bits);
        }
        let loss = check_flat(name, &case, &lfq, true);
        assert_close(
            name,
            "aux_loss",
            &[loss],
            &[number(&case["aux_loss"]) as f32],
            1e-4,
        );
    }
}

#[test]
fn ema_codebook_matches_vector_quantize_pytorch_over_two_steps() {
    let _autodiff = simvq_quant::autodiff_lock();
    let case = case("ema_vq");
    let (k, d) = (usize_of(&case, "codebook_size"), usize_of(&case, "dim"));
    let vq = EmaVqConfig::new()
        .with_codebook_size(k)
        .with_dim(d)
        .with_decay(case["decay"].as_f64().unwrap())
        .with_beta(case["beta"].as_f64().unwrap())
        .init::<B>(&Default::default())
        .unwrap();
    let initial = tensor(&case, "initial_codebook", [k, d]);
    vq.codebook.update(initial.clone());
    vq.embed_sum.update(initial);
    for (step, expected) in case["steps"].as_array().unwrap().iter().enumerate() {
        let name = format!("ema_vq step {step}");
        let x = tensor(expected, "x", [40, d]).require_grad();
        let out = vq.forward(x.clone()).unwrap();
        assert_output(&name, expected, &out.indices, &out.quantized, 1e-5);
        let loss: f32 = out.loss.total().into_scalar();
        assert_close(
            &name,
            "loss",
            &[loss],
            &[number(&expected["loss"]) as f32],
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
        let codes = values(&vq.codebook().codes());
        assert_close(
            &name,
            "codebook_after",
            &codes,
            &floats(expected, "codebook_after"),
            1e-5,
        );
        let sizes = values(&vq.cluster_size.value_sync());
        assert_close(
            &name,
            "cluster_size_after",
            &sizes,
            &floats(expected, "cluster_size_after"),
            1e-5,
        );
    }
}
