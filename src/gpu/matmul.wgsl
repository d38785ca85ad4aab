// Tiled matrix product  C ← act(op(A)·op(B) + bias + beta·C),  all row-major f32.
//
// op(A) is (m × k) and op(B) is (k × n); A is stored (m × k), or (k × m) when TRANS_A is set,
// and likewise B. The three products of MLP training are all this one kernel:
//   forward         Z  = X·Wᵀ  (+ bias, + activation)   TRANS_B
//   weight gradient dW = dYᵀ·X                           TRANS_A
//   input gradient  dX = dY·W                            neither
//
// Tiling. Rust prepends the tile constants (see `Tile` in mod.rs):
//   BM × BN  the block of C one workgroup computes,
//   BK       the slice of k loaded into workgroup memory per iteration,
//   TM × TN  the block of C one invocation keeps in registers ("register blocking").
// So a workgroup has (BN/TN) × (BM/TM) invocations (16 × 16 = 256 for both variants), and
// each k-step loads a BM×BK tile of op(A) and a BK×BN tile of op(B) once into workgroup
// memory, where every invocation reuses each value TN (resp. TM) times. With BM = BN = 64,
// BK = 16 the two tiles take 2 · 64 · 16 · 4 B = 8 KiB, inside the 16 KiB WebGPU guarantees.
//
// Bounds guard. m, n and k need not be multiples of the tile: loads outside op(A) or op(B)
// (or outside this workgroup's k range) put 0 in the tile, which adds nothing to the sums,
// and the epilogue writes only the elements with row < m and col < n.
//
// Split-K. When C has few tiles but k is long (dW = dYᵀ·X over a large batch), the k range
// is cut into `splits` slices of `k_split` (a multiple of BK); workgroup z sums its slice and
// writes the raw partial product to C + z·m·n (C is then a scratch buffer of splits·m·n),
// and `reduce_split` below adds the slices and applies the epilogue.
//
// Element offsets (a_off, …) let one storage buffer hold many tensors (the flat parameter
// vector holds every layer's W and b), without the 256-byte alignment that binding offsets
// would need.

struct Params {
    m: u32,
    k: u32,
    n: u32,
    flags: u32,      // TRANS_A | TRANS_B | HAS_BIAS | PARTIAL
    a_off: u32,
    b_off: u32,
    bias_off: u32,
    c_off: u32,
    beta: f32,       // 0: C is overwritten (and never read); 1: accumulate
    act: u32,        // activation code (activation.wgsl)
    k_split: u32,    // k range of one split (≥ k when not split)
    splits: u32,
}

const TRANS_A: u32 = 1u;
const TRANS_B: u32 = 2u;
const HAS_BIAS: u32 = 4u;
const PARTIAL: u32 = 8u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const WG_X: u32 = BN / TN;
const WG_Y: u32 = BM / TM;
const THREADS: u32 = WG_X * WG_Y;

// Tiles stored k-major: a_tile[kk·BM + row], b_tile[kk·BN + col], so the inner loop reads
// TM consecutive rows of A and TN consecutive columns of B for one kk.
var<workgroup> a_tile: array<f32, BM * BK>;
var<workgroup> b_tile: array<f32, BK * BN>;

// The epilogue: bias, beta·C, activation. Shared by the direct and the split-K paths.
fn finish(sum: f32, row: u32, col: u32) -> f32 {
    var v = sum;
    let idx = p.c_off + row * p.n + col;
    if (p.beta != 0.0) {
        v = v + p.beta * c[idx];
    }
    if ((p.flags & HAS_BIAS) != 0u) {
        v = v + bias[p.bias_off + col];
    }
    return activate(v, p.act);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wg.y * BM;
    let col0 = wg.x * BN;
    let k_begin = wg.z * p.k_split;
    let k_end = min(p.k, k_begin + p.k_split);
    let ta = (p.flags & TRANS_A) != 0u;
    let tb = (p.flags & TRANS_B) != 0u;

    var acc: array<f32, TM * TN>;
    for (var i = 0u; i < TM * TN; i++) {
        acc[i] = 0.0;
    }
    var a_reg: array<f32, TM>;
    var b_reg: array<f32, TN>;

    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        // Cooperative loads. Neighbouring invocations take neighbouring addresses in memory:
        // along k when the operand is stored with k fastest, along rows/cols otherwise.
        for (var e = li; e < BM * BK; e += THREADS) {
            var r: u32;
            var kk: u32;
            if (ta) { r = e % BM; kk = e / BM; } else { r = e / BK; kk = e % BK; }
            let gr = row0 + r;
            let gk = k0 + kk;
            var v = 0.0;
            if (gr < p.m && gk < k_end) {
                if (ta) { v = a[p.a_off + gk * p.m + gr]; } else { v = a[p.a_off + gr * p.k + gk]; }
            }
            a_tile[kk * BM + r] = v;
        }
        for (var e = li; e < BK * BN; e += THREADS) {
            var cc: u32;
            var kk: u32;
            if (tb) { cc = e / BK; kk = e % BK; } else { cc = e % BN; kk = e / BN; }
            let gc = col0 + cc;
            let gk = k0 + kk;
            var v = 0.0;
            if (gc < p.n && gk < k_end) {
                if (tb) { v = b[p.b_off + gc * p.k + gk]; } else { v = b[p.b_off + gk * p.n + gc]; }
            }
            b_tile[kk * BN + cc] = v;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            for (var i = 0u; i < TM; i++) {
                a_reg[i] = a_tile[kk * BM + lid.y * TM + i];
            }
            for (var j = 0u; j < TN; j++) {
                b_reg[j] = b_tile[kk * BN + lid.x * TN + j];
            }
            for (var i = 0u; i < TM; i++) {
                for (var j = 0u; j < TN; j++) {
                    acc[i * TN + j] = acc[i * TN + j] + a_reg[i] * b_reg[j];
                }
            }
        }
        workgroupBarrier();
    }

    let partial = (p.flags & PARTIAL) != 0u;
    for (var i = 0u; i < TM; i++) {
        let row = row0 + lid.y * TM + i;
        for (var j = 0u; j < TN; j++) {
            let col = col0 + lid.x * TN + j;
            if (row < p.m && col < p.n) {
                if (partial) {
                    c[wg.z * p.m * p.n + row * p.n + col] = acc[i * TN + j];
                } else {
                    c[p.c_off + row * p.n + col] = finish(acc[i * TN + j], row, col);
                }
            }
        }
    }
}

// Split-K second pass: C[row, col] = epilogue(Σ_z partial[z, row, col]). One invocation per
// element of C, 256 per workgroup, the grid folded into 2-D when m·n needs more than 65,535
// workgroups (index = x + y·(groups_x·256)). `a` is the scratch buffer of partial products.
@compute @workgroup_size(256, 1, 1)
fn reduce_split(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let idx = gid.x + gid.y * groups.x * 256u;
    let mn = p.m * p.n;
    if (idx >= mn) {
        return;
    }
    var s = 0.0;
    for (var z = 0u; z < p.splits; z++) {
        s = s + a[z * mn + idx];
    }
    c[p.c_off + idx] = finish(s, idx / p.n, idx % p.n);
}
