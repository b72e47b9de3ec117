//! The worst request of each input shape at the 16 MiB body limit (see
//! `tests/support/worst_case.rs`), timed through the real router over a SQLite file. Goal: every
//! one is answered in at most 50 ms.
//!
//! ```sh
//! cargo bench --bench worst_case
//! cargo bench --bench worst_case -- --test   # each once, checking its answer
//! WORST_CASE_ONLY=config_huge_value cargo bench --bench worst_case   # one shape
//! ```

#[path = "../tests/support/router.rs"]
mod router;
#[path = "../tests/support/worst_case.rs"]
mod worst_case;

use std::time::Duration;

use axum::body::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;

fn worst_cases(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let app = rt.block_on(router::App::new());
    let seed = Bytes::from(worst_case::seed_body().to_string());
    let (status, _) = rt.block_on(app.send("POST", "/api/v1/prompts", Some(seed)));
    assert_eq!(status, 201);
    let mut group = c.benchmark_group("worst_case");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    // `WORST_CASE_ONLY=name` runs one shape (for profiling).
    let only = std::env::var("WORST_CASE_ONLY").ok();
    for shape in worst_case::all() {
        if only.as_deref().is_some_and(|o| o != shape.name) {
            continue;
        }
        let body = shape.body.map(Bytes::from);
        let (status, _) = rt.block_on(app.send(shape.method, &shape.path, body.clone()));
        assert_eq!(status.as_u16(), shape.status, "{}", shape.name);
        group.bench_function(shape.name, |b| {
            b.to_async(&rt).iter(|| async {
                let (status, _) = app.send(shape.method, &shape.path, body.clone()).await;
                assert_eq!(status.as_u16(), shape.status, "{}", shape.name);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, worst_cases);
criterion_main!(benches);
