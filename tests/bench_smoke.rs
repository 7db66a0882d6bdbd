//! Quick runs of the benchmark harnesses so they cannot rot (numbers, not speeds).

#[path = "../bench/board_tick.rs"]
mod board_tick;

#[test]
fn board_tick_bench_produces_numbers() {
    let (tasks, median, p99) = board_tick::measure(4, 25, 20);
    assert_eq!(tasks, 1 + 4 + 4 * 25);
    assert!(median > 0.0 && p99 >= median, "median {median} p99 {p99}");
}
