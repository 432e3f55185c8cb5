//! The tiled nearest-code search returns exactly the indices of the full search, for any
//! tiling, on random data and on exact ties, and agrees with an independent f64 brute force.

use burn::backend::Flex;
use burn::tensor::{Distribution, Tensor, TensorData};
use simvq_quant::{Codebook, SearchTiling};

type B = Flex;

fn indices(t: Tensor<B, 1, burn::tensor::Int>) -> Vec<i64> {
    t.into_data().iter::<i64>().collect()
}

/// argmin_j ‖z_i − e_j‖² in f64 on the host, ties to the lowest j.
fn brute_force(z: &[f32], codes: &[f32], d: usize) -> Vec<i64> {
    z.chunks(d)
        .map(|zi| {
            let mut best = (f64::INFINITY, 0);
            for (j, e) in codes.chunks(d).enumerate() {
                let dist: f64 = zi
                    .iter()
                    .zip(e)
                    .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
                    .sum();
                if dist < best.0 {
                    best = (dist, j as i64);
                }
            }
            best.1
        })
        .collect()
}

fn random(shape: [usize; 2], seed: u64) -> Tensor<B, 2> {
    let device = Default::default();
    <B as burn::tensor::backend::Backend>::seed(&device, seed);
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), &device)
}

#[test]
fn tiled_search_equals_naive_search_on_random_data() {
    for (n, k, d, seed) in [(1000, 777, 16, 1), (513, 4096, 8, 2), (64, 5, 3, 3)] {
        let z = random([n, d], seed);
        let codebook = Codebook::new(random([k, d], seed + 100), 1 << 20);
        let naive = indices(codebook.nearest_naive(z.clone()));
        for tiling in [
            SearchTiling {
                tokens: 7,
                codes: 50,
            },
            SearchTiling {
                tokens: n,
                codes: 1,
            },
            SearchTiling {
                tokens: 1,
                codes: k,
            },
            SearchTiling {
                tokens: 128,
                codes: 300,
            },
            SearchTiling::for_budget(n, k, 64 << 10),
        ] {
            assert_eq!(
                indices(codebook.nearest_tiled(z.clone(), tiling)),
                naive,
                "{tiling:?}"
            );
        }
        assert_eq!(indices(codebook.nearest(z.clone())), naive);

        let zs: Vec<f32> = z.into_data().to_vec().unwrap();
        let cs: Vec<f32> = codebook.codes().into_data().to_vec().unwrap();
        assert_eq!(brute_force(&zs, &cs, d), naive, "n={n} k={k} d={d}");
    }
}

#[test]
fn ties_go_to_the_lowest_index_across_tiles() {
    // Small integers make every distance exact, so ties are exact whatever the summation order.
    let d = 4;
    let base: Vec<f32> = vec![
        0., 0., 0., 0., //
        1., 0., 0., 0., //
        0., 1., 0., 0., //
        1., 0., 0., 0., // duplicate of code 1
        0., 0., 2., 0., //
        0., 1., 0., 0., // duplicate of code 2
        -1., 0., 0., 0., //
        1., 0., 0., 0., // duplicate of code 1 again
    ];
    let k = base.len() / d;
    let device = Default::default();
    let codebook = Codebook::<B>::new(
        Tensor::from_data(TensorData::new(base.clone(), [k, d]), &device),
        1 << 20,
    );
    // Each query is equidistant to several codes: (1,1,0,0) is at distance 1 from codes 1,2,3,5,7.
    let queries: Vec<f32> = vec![
        1., 1., 0., 0., //
        0., 0., 1., 0., // codes 0 and 4 at distance 1
        1., 0., 0., 0., //
        0., 1., 0., 0., //
        0., 0., 0., 0., //
        0.5, 0., 0., 0., // codes 0 and 1 (and 3, 7) at 0.25
    ];
    let n = queries.len() / d;
    let z = Tensor::<B, 2>::from_data(TensorData::new(queries.clone(), [n, d]), &device);
    let want = brute_force(&queries, &base, d);
    assert_eq!(want, vec![1, 0, 1, 2, 0, 0]);
    assert_eq!(indices(codebook.nearest_naive(z.clone())), want);
    for codes in 1..=k {
        for tokens in [1, 2, n] {
            let tiling = SearchTiling { tokens, codes };
            assert_eq!(
                indices(codebook.nearest_tiled(z.clone(), tiling)),
                want,
                "{tiling:?}"
            );
        }
    }
}

#[test]
fn tiling_respects_the_budget() {
    for (n, k, budget) in [
        (16_384, 262_144, 256 << 20),
        (16_384, 262_144, 1 << 20),
        (10, 1_000_000, 4096),
        (100_000, 16, 1 << 20),
        (3, 5, 1),
    ] {
        let tiling = SearchTiling::for_budget(n, k, budget);
        assert!(tiling.tokens >= 1 && tiling.tokens <= n, "{tiling:?}");
        assert!(tiling.codes >= 1 && tiling.codes <= k, "{tiling:?}");
        if budget >= 8 {
            assert!(
                tiling.tile_bytes() <= budget,
                "{n} {k} {budget}: {tiling:?}"
            );
        } else {
            // Below one score the search still works, one token and one code at a time.
            assert_eq!(
                tiling,
                SearchTiling {
                    tokens: 1,
                    codes: 1
                }
            );
        }
    }
    // The default budget keeps the K = 262,144 search of one ImageNet batch to 256 MiB.
    let tiling = SearchTiling::for_budget(16_384, 262_144, 256 << 20);
    assert!(tiling.tile_bytes() <= 256 << 20);
    // With all codes in one tile the rest of the budget goes to tokens.
    assert_eq!(
        SearchTiling::for_budget(100_000, 16, 1 << 20),
        SearchTiling {
            tokens: 8192,
            codes: 16
        }
    );
}
