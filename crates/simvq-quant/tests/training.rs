//! Training behaviour: what gets gradients, what stays frozen, decode and save/load round
//! trips, seeding, and clear errors for bad input.

mod common;

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use common::values;
use simvq_quant::{CodebookQuantizer, QuantError, Quantizer, SimVq, SimVqConfig, VqConfig};

type B = Autodiff<Flex>;

fn normal<const D: usize>(shape: [usize; D]) -> Tensor<B, D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), &Default::default())
}

#[test]
fn gradients_reach_w_b_and_input_but_never_c() {
    let _autodiff = simvq_quant::autodiff_lock();
    let mut vq = SimVqConfig::new()
        .with_codebook_size(256)
        .with_dim(16)
        .with_seed(1)
        .init::<B>(&Default::default())
        .unwrap();
    let c_before = values(&vq.frozen_codebook.val());
    let w_before = values(&vq.projection.weight.val());
    let mut optim = AdamConfig::new().init();
    for _ in 0..3 {
        let z = normal([4, 16, 6, 6]).require_grad();
        let out = vq.forward_2d(z.clone()).unwrap();
        // The straight-through output passes an upstream gradient of ones unchanged, plus the
        // commitment term's pull towards the code.
        let loss = out.loss.total() + out.quantized.sum();
        let grads = loss.backward();
        let grad_z = z.grad(&grads).expect("input gets a gradient");
        let ones_part: f32 = grad_z.mean().into_scalar();
        assert!(
            (ones_part - 1.0).abs() < 1e-3,
            "STE passes the upstream gradient: {ones_part}"
        );
        assert!(
            vq.projection.weight.grad(&grads).is_some(),
            "W gets a gradient"
        );
        assert!(
            vq.projection.bias.as_ref().unwrap().grad(&grads).is_some(),
            "b gets a gradient"
        );
        assert!(
            vq.frozen_codebook.grad(&grads).is_none(),
            "C gets no gradient"
        );
        let grads = GradientsParams::from_grads(grads, &vq);
        vq = optim.step(1e-2, vq, grads);
    }
    assert_eq!(
        values(&vq.frozen_codebook.val()),
        c_before,
        "C is bit-identical after Adam steps"
    );
    assert_ne!(values(&vq.projection.weight.val()), w_before, "W moved");
}

#[test]
fn unfrozen_codebook_and_plain_vq_train_their_codes() {
    let _autodiff = simvq_quant::autodiff_lock();
    let device = Default::default();
    let joint = SimVqConfig::new()
        .with_codebook_size(64)
        .with_dim(8)
        .with_freeze_codebook(false)
        .init::<B>(&device)
        .unwrap();
    let out = joint.forward(normal([32, 8])).unwrap();
    let grads = out.loss.total().backward();
    assert!(
        joint.frozen_codebook.grad(&grads).is_some(),
        "C trains when freeze_codebook = false"
    );

    let vq = VqConfig::new()
        .with_codebook_size(64)
        .with_dim(8)
        .init::<B>(&device)
        .unwrap();
    let out = vq.forward(normal([32, 8])).unwrap();
    let grads = out.loss.total().backward();
    assert!(
        vq.codebook.grad(&grads).is_some(),
        "plain VQ trains its codebook"
    );
}

#[test]
fn decoding_indices_reproduces_quantized_values_exactly() {
    let vq = SimVqConfig::new()
        .with_codebook_size(512)
        .with_dim(32)
        .with_seed(3)
        .init::<B>(&Default::default())
        .unwrap();
    let out = vq.forward_2d(normal([2, 32, 4, 5])).unwrap();
    assert_eq!(out.indices.dims(), [2, 4, 5]);
    let decoded = vq.decode_indices_2d(out.indices.clone()).unwrap();
    assert_eq!(values(&decoded), values(&out.quantized));

    let out = vq.forward_1d(normal([3, 32, 7])).unwrap();
    assert_eq!(out.indices.dims(), [3, 7]);
    assert_eq!(
        values(&vq.decode_indices_1d(out.indices).unwrap()),
        values(&out.quantized)
    );

    // Decoding goes through E = C·Wᵀ + b, not the raw C (the reference's get_codebook_entry bug).
    let first = Tensor::<B, 1, Int>::from_data(TensorData::from([0i64]), &Default::default());
    let code = values(&vq.decode_indices(first).unwrap());
    let c0 = values(&vq.frozen_codebook.val().narrow(0, 0, 1));
    let e0 = values(&vq.codebook().codes().narrow(0, 0, 1));
    assert_eq!(code, e0);
    assert_ne!(code, c0);
}

#[test]
fn quantized_map_keeps_channel_first_layout() {
    // Token (b, h, w) of a [B, D, H, W] map must be quantized as the vector z[b, :, h, w].
    let vq = SimVqConfig::new()
        .with_codebook_size(128)
        .with_dim(8)
        .with_seed(4)
        .init::<B>(&Default::default())
        .unwrap();
    let z = normal([2, 8, 3, 5]);
    let out = vq.forward_2d(z.clone()).unwrap();
    let flat = z.permute([0, 2, 3, 1]).reshape([30, 8]);
    let flat_out = vq.forward(flat).unwrap();
    let map_indices: Vec<i64> = out.indices.to_data().iter::<i64>().collect();
    let flat_indices: Vec<i64> = flat_out.indices.to_data().iter::<i64>().collect();
    assert_eq!(map_indices, flat_indices);
    let back = flat_out
        .quantized
        .reshape([2, 3, 5, 8])
        .permute([0, 3, 1, 2]);
    assert_eq!(values(&back), values(&out.quantized));
}

#[test]
fn save_and_load_keep_c_and_w() {
    let _autodiff = simvq_quant::autodiff_lock();
    let device = Default::default();
    let config = SimVqConfig::new()
        .with_codebook_size(300)
        .with_dim(12)
        .with_seed(5);
    let vq = config.init::<B>(&device).unwrap();
    let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = recorder.record(vq.clone().into_record(), ()).unwrap();

    // A quantizer with another seed, then loaded: C and W come from the record.
    let fresh = config.clone().with_seed(99).init::<B>(&device).unwrap();
    assert_ne!(
        values(&fresh.frozen_codebook.val()),
        values(&vq.frozen_codebook.val())
    );
    let loaded: SimVq<B> = fresh.load_record(recorder.load(bytes, &device).unwrap());
    assert_eq!(
        values(&loaded.frozen_codebook.val()),
        values(&vq.frozen_codebook.val())
    );
    assert_eq!(
        values(&loaded.projection.weight.val()),
        values(&vq.projection.weight.val())
    );
    let b = |q: &SimVq<B>| values(&q.projection.bias.as_ref().unwrap().val());
    assert_eq!(b(&loaded), b(&vq));

    // C stays frozen after loading.
    let out = loaded.forward(normal([10, 12])).unwrap();
    let grads = out.loss.total().backward();
    assert!(loaded.frozen_codebook.grad(&grads).is_none());
}

#[test]
fn same_seed_same_quantizer() {
    let device = Default::default();
    let a = SimVqConfig::new()
        .with_codebook_size(100)
        .with_dim(8)
        .with_seed(11)
        .init::<B>(&device)
        .unwrap();
    let b = SimVqConfig::new()
        .with_codebook_size(100)
        .with_dim(8)
        .with_seed(11)
        .init::<B>(&device)
        .unwrap();
    let c = SimVqConfig::new()
        .with_codebook_size(100)
        .with_dim(8)
        .with_seed(12)
        .init::<B>(&device)
        .unwrap();
    assert_eq!(
        values(&a.frozen_codebook.val()),
        values(&b.frozen_codebook.val())
    );
    assert_eq!(
        values(&a.projection.weight.val()),
        values(&b.projection.weight.val())
    );
    assert_ne!(
        values(&a.frozen_codebook.val()),
        values(&c.frozen_codebook.val())
    );

    // C ~ N(0, dim^-½): check the scale on a larger draw.
    let big = SimVqConfig::new()
        .with_codebook_size(4096)
        .with_dim(64)
        .init::<B>(&device)
        .unwrap();
    let c = values(&big.frozen_codebook.val());
    let var = c.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / c.len() as f64;
    assert!((var.sqrt() - 0.125).abs() < 0.002, "std {}", var.sqrt());
}

#[test]
fn legacy_swaps_the_loss_weights() {
    let device = Default::default();
    let z = normal([20, 8]);
    let modern = SimVqConfig::new()
        .with_codebook_size(32)
        .with_dim(8)
        .init::<B>(&device)
        .unwrap();
    let legacy = SimVqConfig::new()
        .with_codebook_size(32)
        .with_dim(8)
        .with_legacy(true)
        .init::<B>(&device)
        .unwrap();
    let m = modern.forward(z.clone()).unwrap().loss;
    let l = legacy.forward(z).unwrap().loss;
    let v = |t: Tensor<B, 1>| t.into_scalar();
    let (mc, mb, lc, lb) = (
        v(m.commitment),
        v(m.codebook),
        v(l.commitment),
        v(l.codebook),
    );
    // Both terms have the same value mean((z_q − z)²); only the weights differ.
    assert!((mb * 0.25 - mc).abs() < 1e-6 && (lc * 0.25 - lb).abs() < 1e-6);
    assert!((mb - lc).abs() < 1e-6);
}

#[test]
fn bad_input_gives_clear_errors() {
    let device = Default::default();
    let vq = SimVqConfig::new()
        .with_codebook_size(16)
        .with_dim(8)
        .init::<B>(&device)
        .unwrap();
    let err = vq.forward_2d(normal([1, 3, 4, 4])).unwrap_err();
    assert_eq!(
        err,
        QuantError::DimMismatch {
            expected: 8,
            got: 3,
            axis: 1,
            shape: vec![1, 3, 4, 4]
        }
    );
    assert!(err.to_string().contains("channel-first"), "{err}");
    assert!(matches!(
        vq.forward(normal([5, 9])),
        Err(QuantError::DimMismatch { got: 9, .. })
    ));
    assert!(matches!(
        vq.forward_1d(Tensor::zeros([2, 8, 0], &device)),
        Err(QuantError::EmptyInput(_))
    ));
    for bad in [16i64, -1] {
        let idx = Tensor::<B, 2, Int>::from_data(TensorData::from([[0i64, bad]]), &device);
        let err = vq.decode_indices_1d(idx).unwrap_err();
        assert_eq!(
            err,
            QuantError::IndexOutOfRange {
                index: bad,
                codebook_size: 16
            }
        );
    }
    for config in [
        SimVqConfig::new().with_codebook_size(0).with_dim(8),
        SimVqConfig::new().with_codebook_size(8).with_dim(0),
        SimVqConfig::new()
            .with_codebook_size(8)
            .with_dim(8)
            .with_beta(f64::NAN),
    ] {
        assert!(matches!(
            config.init::<B>(&device),
            Err(QuantError::InvalidConfig(_))
        ));
    }
}
