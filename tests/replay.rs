//! Native half of the cross-platform replay check; tests/web.rs runs the same check in
//! Chromium. A seed must reproduce a run — natively, in the browser and in Node.
mod common;

#[test]
fn the_same_seed_gives_the_same_numbers_everywhere() {
    common::check_replay();
}

#[test]
fn vectorized_optimizer_loops_equal_one_weight_at_a_time() {
    common::check_vectorized_optimizers();
}

#[test]
fn the_packed_product_skips_zero_steps_bit_for_bit() {
    // the portable micro-kernel here; tests/web.rs runs the simd128 one
    common::check_zero_skipping();
}

#[test]
fn the_packed_product_adds_bias_and_relu_as_it_writes_bit_for_bit() {
    common::check_fused_bias_relu();
}

#[test]
fn the_packed_product_applies_relu_backward_as_it_writes_bit_for_bit() {
    common::check_fused_relu_grad();
}

#[test]
fn the_packed_product_sums_the_bias_gradient_as_it_packs_bit_for_bit() {
    common::check_fused_row_sums();
}

#[test]
fn the_packed_product_gathers_rows_into_its_panels_bit_for_bit() {
    common::check_gathered_rows();
}

#[test]
fn a_fused_training_step_has_the_unfused_gradients_bit_for_bit() {
    common::check_fused_step();
}
