// Does this JavaScript engine run relaxed SIMD? Shared by the page (www/main.js), the WebGPU
// bench page (bench/gpu.js) and the Node bench (bench/bench.mjs), which all pick the
// relaxed-SIMD build of the core where it validates.

/**
 * A 59-byte module whose one function uses f32x4.relaxed_madd: `WebAssembly.validate`
 * accepts it only where the instruction exists (Node 20 needs --experimental-wasm-relaxed-simd).
 */
export function hasRelaxedSimd() {
  const v128zero = [0xfd, 0x0c, ...new Array(16).fill(0)];
  const body = [0x00, ...v128zero, ...v128zero, ...v128zero, 0xfd, 0x85, 0x02, 0x0b];
  const module = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of that type
    0x0a, body.length + 2, 0x01, body.length, ...body]; // its code
  return WebAssembly.validate(new Uint8Array(module));
}
