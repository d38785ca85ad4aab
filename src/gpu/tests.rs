//! Native checks of the WebGPU descriptions: dispatch math, uniform layouts against the
//! WGSL structs, declared workgroup sizes, and the dropout hash. The kernels themselves are
//! tested against the scalar oracle in Chromium (`tests/web_gpu.rs`).

use super::*;
use crate::nn::Penalty;
use crate::optim::{AdamConfig, RmsPropConfig, RpropConfig, SgdConfig};

/// The body of `struct NAME { … }` in a WGSL source: its member names, in order.
fn struct_members(src: &str, name: &str) -> Vec<String> {
    let start = src.find(&format!("struct {name} {{")).unwrap_or_else(|| panic!("no struct {name}"));
    let body = &src[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
    body.lines()
        .map(|l| l.split("//").next().unwrap().trim())
        .filter(|l| l.contains(':'))
        .map(|l| l.split(':').next().unwrap().trim().to_string())
        .collect()
}

/// The `@workgroup_size(…)` text written just before `fn entry(`.
fn declared_workgroup(src: &str, entry: &str) -> String {
    let at = src.find(&format!("fn {entry}(")).unwrap_or_else(|| panic!("no entry {entry}"));
    let before = &src[..at];
    let w = before.rfind("@workgroup_size(").expect("a workgroup size");
    before[w + "@workgroup_size(".len()..].split(')').next().unwrap().to_string()
}

const KERNELS: &[Kernel] = &[
    Kernel::Matmul(Tile::LARGE),
    Kernel::Matmul(Tile::SMALL),
    Kernel::ReduceSplit,
    Kernel::DropoutForward,
    Kernel::ActBackward,
    Kernel::ColSum,
    Kernel::SoftmaxXent,
    Kernel::ReduceLoss,
    Kernel::BnForwardTrain,
    Kernel::BnForwardEval,
    Kernel::BnBackward,
    Kernel::SgdStep,
    Kernel::RpropStep,
    Kernel::RmsPropStep,
    Kernel::AdamStep,
    Kernel::Penalty,
    Kernel::Prox,
];

#[test]
fn declared_workgroup_sizes_match_the_rust_description() {
    for &k in KERNELS {
        let src = k.module().source();
        let declared = declared_workgroup(&src, k.entry());
        let (x, y, z) = k.workgroup();
        let want = match k {
            Kernel::Matmul(_) => "WG_X, WG_Y, 1".to_string(),
            _ => format!("{x}, {y}, {z}"),
        };
        assert_eq!(declared, want, "{k:?}");
        assert!(x * y * z <= 256, "{k:?}: at most 256 invocations (WebGPU's default limit)");
    }
}

#[test]
fn tiles_fit_the_default_limits_and_divide_evenly() {
    for t in [Tile::LARGE, Tile::SMALL] {
        let (x, y) = t.workgroup();
        assert_eq!((x * t.tn, y * t.tm), (t.bn, t.bm), "{t:?}: invocations cover the block");
        assert!(x * y <= 256 && t.shared_bytes() <= 16_384, "{t:?}");
        // every invocation loads whole elements of both tiles each k step
        assert_eq!((t.bm * t.bk) % (x * y), 0);
        assert_eq!((t.bn * t.bk) % (x * y), 0);
    }
}

#[test]
fn uniform_blocks_match_the_wgsl_structs() {
    // (WGSL source, struct name, bytes Rust writes, reason)
    let rows: Vec<(&str, &str, usize, &str)> = vec![
        (MATMUL_WGSL, "Params", MatmulUniform::default().bytes().len(), "matmul"),
        (POINTWISE_WGSL, "Params", PointwiseUniform::default().bytes().len(), "pointwise"),
        (LOSS_WGSL, "Params", LossUniform::default().bytes().len(), "loss"),
        (BATCHNORM_WGSL, "Params", BatchNormUniform::default().bytes().len(), "batch-norm"),
        (OPTIM_WGSL, "Sgd", SgdUniform::new(&SgdConfig::default(), 1, true).bytes().len(), "sgd"),
        (OPTIM_WGSL, "Adam", AdamUniform::new(&AdamConfig::default(), 1, 1).bytes().len(), "adam"),
        (OPTIM_WGSL, "Rprop", RpropUniform::new(&RpropConfig::default(), 1, true).bytes().len(), "rprop"),
        (OPTIM_WGSL, "RmsProp", RmsPropUniform::new(&RmsPropConfig::default(), 1).bytes().len(), "rmsprop"),
        (PENALTY_WGSL, "Params", PenaltyUniform::new(&Penalty::default(), 1, 0).bytes().len(), "penalty"),
        (PENALTY_WGSL, "Prox", ProxUniform::default().bytes().len(), "proximal L1"),
    ];
    for (src, name, len, reason) in rows {
        let members = struct_members(src, name);
        assert_eq!(members.len() * 4, len, "{reason}: {members:?}");
        assert_eq!(len % 16, 0, "{reason}: uniform blocks are 16-byte multiples");
    }
    let u = MatmulUniform { m: 3, k: 5, beta: 1.0, ..Default::default() };
    assert_eq!(&u.bytes()[..8], &[3, 0, 0, 0, 5, 0, 0, 0]);
    assert_eq!(&u.bytes()[32..36], &1f32.to_le_bytes());
}

#[test]
fn matmul_plans_cover_the_output_and_k_exactly() {
    let shapes = [
        (1, 1, 1),
        (1, 784, 128),
        (128, 1, 784),
        (64, 784, 128),
        (64, 128, 10),
        (10, 64, 128),
        (128, 10000, 784),
        (10, 60000, 128),
        (33, 65, 17),
        (1000, 3, 1000),
        (7, 4096, 1),
    ];
    for (m, k, n) in shapes {
        let p = MatmulPlan::new(m, k, n);
        let t = p.tile;
        assert!(p.groups[0] as usize * t.bn as usize >= n && (p.groups[0] as usize - 1) * (t.bn as usize) < n, "{p:?}");
        assert!(p.groups[1] as usize * t.bm as usize >= m && (p.groups[1] as usize - 1) * (t.bm as usize) < m, "{p:?}");
        assert_eq!(p.k_split % t.bk as usize, 0, "{p:?}");
        assert!(p.splits * p.k_split >= k, "{p:?}: the slices cover k");
        assert!((p.splits - 1) * p.k_split < k, "{p:?}: no empty slice");
        assert_eq!(p.groups[2] as usize, p.splits);
        assert!(p.splits <= 16);
        assert_eq!(p.scratch_len(), if p.splits > 1 { p.splits * m * n } else { 0 });
    }
    // The skinny weight gradient of the output layer over a large batch is split.
    assert!(MatmulPlan::new(10, 60_000, 128).splits > 1);
    // A wide forward product is not, and gets the large tile.
    let p = MatmulPlan::new(512, 784, 512);
    assert_eq!((p.splits, p.tile), (1, Tile::LARGE));
}

#[test]
fn one_dimensional_grids_cover_n_within_the_limit() {
    for n in [0usize, 1, 255, 256, 257, 65_535 * 256, 65_535 * 256 + 1, 50_000_000] {
        let [x, y, z] = grid_1d(n);
        assert!(x <= MAX_GROUPS_PER_DIM && y <= MAX_GROUPS_PER_DIM && z == 1, "{n}");
        assert!(x as usize * y as usize * 256 >= n, "{n}: covered");
        assert!(x >= 1 && y >= 1);
    }
    assert_eq!(grid_bn(1), [1, 1, 1]);
    assert_eq!(grid_bn(65), [2, 1, 1]);
}

#[test]
fn optimizer_scalars_are_worked_out_as_the_cpu_does() {
    let cfg = AdamConfig { lr: 0.01, betas: (0.8, 0.99), weight_decay: 0.1, ..Default::default() };
    let u = AdamUniform::new(&cfg, 5, 3);
    assert_eq!(u.step_size, (0.01 / (1.0 - 0.8f64.powf(3.0))) as f32);
    assert_eq!(u.bc2_sqrt, (1.0 - 0.99f64.powf(3.0)).sqrt() as f32);
    assert_eq!(u.one_minus_beta1, (1.0 - 0.8f64) as f32);
    assert_eq!(u.flags, OPT_WEIGHT_DECAY);
    let s = SgdUniform::new(&SgdConfig { momentum: 0.9, dampening: 0.1, nesterov: false, ..Default::default() }, 5, true);
    assert_eq!(s.keep, 0.9f64 as f32);
    assert_eq!(s.flags, OPT_MOMENTUM | OPT_FIRST);
    let r = RmsPropUniform::new(&RmsPropConfig { alpha: 0.9, momentum: 0.5, centered: true, ..Default::default() }, 5);
    assert_eq!(r.one_minus_alpha, (1.0 - 0.9f64) as f32, "1 − α in f64, then rounded");
    assert_ne!(r.one_minus_alpha, 1.0 - 0.9f32);
    assert_eq!(r.flags, OPT_MOMENTUM | OPT_CENTERED);
    let r = RpropUniform::new(&RpropConfig { maximize: true, ..Default::default() }, 5, true);
    assert_eq!((r.lr, r.eta_plus, r.step_size_max), (0.01, 1.2, 50.0));
    assert_eq!(r.flags, OPT_MAXIMIZE | OPT_INIT);
    let p = PenaltyUniform::new(&Penalty::new(0.1, 0.3), 6, 2);
    assert_eq!(&p.bytes()[24..28], &(0.5f32 * 0.3).to_le_bytes(), "λ₂/2 as the CPU's 0.5·λ₂");
    assert_eq!(&p.bytes()[28..32], &0.1f32.to_le_bytes(), "λ₁ in the gradient by subgradient");
    let p = PenaltyUniform::new(&Penalty::new(0.1, 0.3).proximal(), 6, 2);
    assert_eq!((&p.bytes()[16..20], &p.bytes()[28..32]), (&0.1f32.to_le_bytes()[..], &[0u8; 4][..]), "proximal: λ₁ in the value, not the gradient");
}
