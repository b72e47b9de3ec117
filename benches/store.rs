//! Criterion benchmarks of the hot paths on the SQLite backend, at 10k and 100k prompts owned by
//! one user (the worst case for per-user queries).
//!
//! ```sh
//! cargo bench --bench store                        # 10k and 100k
//! PROMPTDB_BENCH_SIZES=1000 cargo bench --bench store -- --test   # quick smoke run
//! ```
//!
//! Seeded databases are kept under `target/promptdb-bench/` and reused by later runs.

use std::{hint::black_box, path::PathBuf, sync::Arc, time::Duration};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use promptdb::{ListQuery, NewPrompt, Principal, PromptDb, SearchQuery, sqlite::SqliteStore};
use tokio::runtime::Runtime;

/// Deterministic pseudo-random words: a Zipf-like vocabulary, so a few words are everywhere
/// (broad queries) and most are rare (selective queries).
struct Words(u64);

impl Words {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn word(&mut self) -> String {
        // Rank r is drawn with probability ~ 1/r over 20,000 words.
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        let rank = (20_000f64.powf(u)) as u64;
        format!("w{rank}")
    }

    fn text(&mut self, n: usize) -> String {
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
}

fn sizes() -> Vec<usize> {
    std::env::var("PROMPTDB_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

/// Opens (seeding on first use) a database with `n` prompts for one user.
async fn seeded(n: usize) -> (PromptDb, Principal) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/promptdb-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("sqlite-{n}.sqlite3"));
    let fresh = !path.exists();
    let store = SqliteStore::open(&path).await.unwrap();
    let db = PromptDb::new(Arc::new(store));
    let user_id = if fresh {
        let user = db.create_user("bench").await.unwrap();
        let me = Principal::full(user.id);
        let mut words = Words(0x9E37_79B9_7F4A_7C15);
        for start in (0..n).step_by(100) {
            let batch = (start..(start + 100).min(n))
                .map(|i| NewPrompt {
                    slug: Some(format!("prompt-{i}")),
                    name: format!("{} {}", words.word(), words.word()),
                    description: words.text(12),
                    content: words.text(60),
                    tags: vec![format!("t{}", i % 50)],
                    // A rare marker on every 10,000th prompt: the selective query.
                    pinned: i % 1000 == 0,
                    ..NewPrompt::default()
                })
                .map(|mut p| {
                    if start % 10_000 == 0 && p.slug.as_deref() == Some(&format!("prompt-{start}"))
                    {
                        p.content.push_str(" zanzibar");
                    }
                    p
                })
                .collect();
            db.save_prompts(&me, batch).await.unwrap();
        }
        std::fs::write(path.with_extension("user"), user.id.to_string()).unwrap();
        user.id
    } else {
        std::fs::read_to_string(path.with_extension("user"))
            .unwrap()
            .parse()
            .unwrap()
    };
    db.sync_ranking().await.unwrap();
    (db, Principal::full(user_id))
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    for n in sizes() {
        let (db, me) = rt.block_on(seeded(n));
        let label = if n >= 1000 {
            format!("{}k", n / 1000)
        } else {
            n.to_string()
        };
        let mut group = c.benchmark_group("sqlite");
        group.measurement_time(Duration::from_secs(4));

        group.bench_function(BenchmarkId::new("get_by_slug", &label), |b| {
            let mut i = 0usize;
            b.to_async(&rt).iter(|| {
                i = (i + 7919) % n;
                let slug = format!("prompt-{i}");
                let (db, me) = (&db, &me);
                async move { black_box(db.get_prompt(me, &slug).await.unwrap()) }
            })
        });
        group.bench_function(BenchmarkId::new("list_first_page", &label), |b| {
            b.to_async(&rt).iter(|| async {
                black_box(db.list_prompts(&me, ListQuery::default()).await.unwrap())
            })
        });
        group.bench_function(BenchmarkId::new("list_by_tag", &label), |b| {
            let q = ListQuery {
                filters: promptdb::Filters {
                    tags: vec!["t7".into()],
                    ..Default::default()
                },
                ..ListQuery::default()
            };
            b.to_async(&rt)
                .iter(|| async { black_box(db.list_prompts(&me, q.clone()).await.unwrap()) })
        });
        // ~n/10,000 matches.
        group.bench_function(BenchmarkId::new("search_selective", &label), |b| {
            b.to_async(&rt).iter(|| async {
                black_box(
                    db.search_prompts(&me, SearchQuery::new("zanzibar"))
                        .await
                        .unwrap(),
                )
            })
        });
        // A mid-frequency word: hundreds to thousands of matches.
        group.bench_function(BenchmarkId::new("search_medium", &label), |b| {
            b.to_async(&rt).iter(|| async {
                black_box(
                    db.search_prompts(&me, SearchQuery::new("w300"))
                        .await
                        .unwrap(),
                )
            })
        });
        // The most common word: matches nearly every prompt; capped at 200 candidates.
        group.bench_function(BenchmarkId::new("search_broad", &label), |b| {
            b.to_async(&rt).iter(|| async {
                black_box(
                    db.search_prompts(&me, SearchQuery::new("w1"))
                        .await
                        .unwrap(),
                )
            })
        });
        group.bench_function(BenchmarkId::new("track_use", &label), |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(db.track_prompt_use(&me, "prompt-42").await.unwrap()) })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
