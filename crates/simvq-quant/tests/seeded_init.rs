//! `SeededInit` draws what burn's initialisers draw (same shapes, same distributions), the
//! same values for the same seed whatever else runs in the process, and other values for
//! another seed.

use burn::backend::Flex;
use burn::module::Module;
use burn::nn::conv::{Conv1dConfig, Conv2dConfig};
use burn::nn::{Initializer, LinearConfig, LstmConfig};
use burn::tensor::backend::Backend;
use simvq_quant::SeededInit;
use simvq_testkit::module_weights;

type B = Flex;

fn host(seed: u64) -> SeededInit<B> {
    SeededInit::new(seed, &Default::default())
}

fn mean_std(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

/// Host-drawn and burn-drawn parameters of the same layer: same count and sizes, and the
/// same mean and spread within sampling error.
fn assert_same_distribution<M: Module<B>>(host: &M, burn: &M, what: &str) {
    let (host, burn) = (module_weights(host), module_weights(burn));
    assert_eq!(host.len(), burn.len(), "{what}: parameter count");
    for (i, (h, b)) in host.iter().zip(&burn).enumerate() {
        assert_eq!(h.len(), b.len(), "{what}: size of parameter {i}");
        let ((hm, hs), (bm, bs)) = (mean_std(h), mean_std(b));
        // Six standard errors of the difference of two samples of n: a mean's is
        // std·√(2/n), a std's about std/√n. Wrong fans are off by factors like √k or √3.
        let n = h.len() as f64;
        let scale = bs.max(1e-12);
        assert!(
            (hs - bs).abs() <= 6.0 * scale / n.sqrt(),
            "{what}, parameter {i}: std {hs} drawn here, {bs} by burn"
        );
        assert!(
            (hm - bm).abs() <= 6.0 * scale * (2.0 / n).sqrt() + 1e-12,
            "{what}, parameter {i}: mean {hm} drawn here, {bm} by burn"
        );
    }
}

#[test]
fn layers_draw_what_burn_draws() {
    let device = Default::default();
    B::seed(&device, 0);
    let conv2d = Conv2dConfig::new([48, 64], [3, 3]);
    assert_same_distribution(
        &host(1).conv2d(&conv2d),
        &conv2d.init::<B>(&device),
        "conv2d (PyTorch's default)",
    );
    let grouped = Conv1dConfig::new(64, 64, 7)
        .with_groups(8)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        });
    assert_same_distribution(
        &host(2).conv1d(&grouped),
        &grouped.init::<B>(&device),
        "grouped conv1d, normal",
    );
    let xavier =
        LinearConfig::new(96, 80).with_initializer(Initializer::XavierNormal { gain: 2.0 });
    assert_same_distribution(
        &host(3).linear(&xavier),
        &xavier.init::<B>(&device),
        "linear, Xavier normal",
    );
    let fan_out = LinearConfig::new(40, 120).with_initializer(Initializer::KaimingUniform {
        gain: 1.5,
        fan_out_only: true,
    });
    assert_same_distribution(
        &host(4).linear(&fan_out),
        &fan_out.init::<B>(&device),
        "linear, Kaiming on fan-out",
    );
    let lstm = LstmConfig::new(24, 48, true).with_initializer(Initializer::Uniform {
        min: -0.1,
        max: 0.3,
    });
    assert_same_distribution(
        &host(5).lstm(&lstm),
        &lstm.init::<B>(&device),
        "lstm, uniform",
    );
}

#[test]
fn a_seed_names_one_set_of_weights() {
    let config = Conv2dConfig::new([16, 32], [3, 3]);
    let draw = |seed| module_weights(&host(seed).conv2d(&config));
    // Another initialisation in another thread at the same time changes nothing.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| draw(7));
        let b = s.spawn(|| draw(7));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a, b);
    assert_ne!(a, draw(8));
}

#[test]
fn constants_and_orthogonal_matrices() {
    let init = host(0);
    let ones = init.param::<2>(&Initializer::Constant { value: 0.25 }, [3, 4], 3, 4);
    assert!(module_weights(&ones)[0].iter().all(|&v| v == 0.25));
    for shape in [[6, 4], [4, 6], [5, 5]] {
        let q = init.param::<2>(&Initializer::Orthogonal { gain: 2.0 }, shape, 1, 1);
        let values = module_weights(&q).remove(0);
        let [rows, cols] = shape;
        // The smaller side's vectors are orthogonal with norm `gain`.
        let (n, m) = (rows.min(cols), rows.max(cols));
        let at = |vector: usize, i: usize| {
            let (r, c) = if rows >= cols {
                (i, vector)
            } else {
                (vector, i)
            };
            f64::from(values[r * cols + c])
        };
        for u in 0..n {
            for v in 0..n {
                let dot: f64 = (0..m).map(|i| at(u, i) * at(v, i)).sum();
                let want = if u == v { 4.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-4, "{shape:?}: <q{u}, q{v}> = {dot}");
            }
        }
    }
}
