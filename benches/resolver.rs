//! The embeddable resolver's hot path (`promptdb_core::resolver`): a cached resolve, with and
//! without an A/B split and rendering. Goals: a hit with no variables ≤ 200 ns; rendering a 1 KB
//! prompt with 3 variables ≤ 2 µs.
//!
//! ```sh
//! cargo bench --bench resolver
//! ```
//!
//! A hit completes on its first poll, so each iteration polls the future once with a no-op
//! waker: the figure is the resolver's, not an executor's.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use promptdb_core::resolver::{At, Local, Resolver};
use promptdb_core::{LabelTarget, NewPrompt, Principal, PromptDb, Variant};
use promptdb_store_sqlite::SqliteStore;

/// Polls a future that must be ready at once.
fn now<T>(fut: impl Future<Output = T>) -> T {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a cache hit must not wait"),
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let resolver = rt.block_on(async {
        let db = PromptDb::new(Arc::new(SqliteStore::open_in_memory().await.unwrap()));
        let me = Principal::full(db.create_user("bench").await.unwrap().id);
        // About 1 KB of text with three variables.
        let body = format!(
            "You are a support agent for {{{{product}}}}. {} The customer {{{{customer}}}} writes: {{{{ticket}}}}",
            "Answer politely, cite the relevant policy, and keep it short. ".repeat(15)
        );
        assert!((1000..1100).contains(&body.len()), "{}", body.len());
        db.save_prompts(
            &me,
            vec![
                NewPrompt::new("support/triage", "Triage", body),
                NewPrompt::new("greeting", "Greeting", "Hello there."),
            ],
        )
        .await
        .unwrap();
        db.update_prompt(
            &me,
            "greeting",
            promptdb_core::PromptPatch {
                content: Some("Hello again.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        db.set_label(&me, "support/triage", "production", LabelTarget::version(1))
            .await
            .unwrap();
        let split = LabelTarget::Split {
            split: vec![
                Variant { version: 1, weight: 90 },
                Variant { version: 2, weight: 10 },
            ],
        };
        db.set_label(&me, "greeting", "production", split).await.unwrap();
        let resolver = Resolver::new(Local::new(db, me));
        resolver.get("support/triage", At::PRODUCTION, None).await.unwrap();
        resolver.get("greeting", At::PRODUCTION, None).await.unwrap();
        resolver
    });
    let values: BTreeMap<String, String> = [
        ("product", "PromptDB"),
        ("customer", "Ada"),
        ("ticket", "My export is empty."),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let _guard = rt.enter();

    let mut group = c.benchmark_group("resolver");
    group.bench_function("hit", |b| {
        b.iter(|| now(resolver.get("support/triage", At::PRODUCTION, None)).unwrap());
    });
    group.bench_function("hit_split_with_subject", |b| {
        b.iter(|| now(resolver.get("greeting", At::PRODUCTION, Some("user-4242"))).unwrap());
    });
    group.bench_function("render_1kb_3_variables", |b| {
        b.iter(|| now(resolver.render("support/triage", At::PRODUCTION, None, &values)).unwrap());
    });
    group.finish();
    let stats = resolver.stats();
    assert_eq!(stats.misses, 2, "every timed call was a hit: {stats:?}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
