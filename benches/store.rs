//! Criterion benchmarks of the hot paths, at 10k and 100k prompts owned by one user (the worst
//! case for per-user queries), on SQLite and — when `PROMPTDB_BENCH_POSTGRES_URL` (an admin URL)
//! is set — on PostgreSQL, connected as an ordinary role so row-level security is in force.
//!
//! ```sh
//! cargo bench --bench store                        # 10k and 100k
//! PROMPTDB_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench store
//! PROMPTDB_BENCH_SIZES=1000 cargo bench --bench store -- --test   # quick smoke run
//! ```
//!
//! Seeded databases (`target/promptdb-bench/`, PostgreSQL databases `promptdb_bench_<n>`) are kept
//! and reused by later runs.

use std::{hint::black_box, path::PathBuf, sync::Arc, time::Duration};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use promptdb::{
    LabelTarget, ListQuery, NewPrompt, Principal, PromptDb, ResolveRequest, SearchQuery, UserId,
    sqlite::SqliteStore, store::MetaStore,
};
use promptdb_store_postgres::PostgresStore;
use sqlx::{Connection, PgConnection};
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

/// Seeds `n` prompts for a new user; a rare marker word on every 10,000th prompt.
async fn seed(db: &PromptDb, n: usize) -> UserId {
    let user = db.create_user("bench").await.unwrap();
    let me = Principal::full(user.id);
    let mut words = Words(0x9E37_79B9_7F4A_7C15);
    for start in (0..n).step_by(100) {
        let batch = (start..(start + 100).min(n))
            .map(|i| {
                let mut content = words.text(60);
                if i % 10_000 == 0 {
                    content.push_str(" zanzibar");
                }
                NewPrompt {
                    slug: Some(format!("prompt-{i}")),
                    name: format!("{} {}", words.word(), words.word()),
                    description: words.text(12),
                    content,
                    tags: vec![format!("t{}", i % 50)],
                    pinned: i % 1000 == 0,
                    ..NewPrompt::default()
                }
            })
            .collect();
        db.save_prompts(&me, batch).await.unwrap();
    }
    user.id
}

/// How many prompts carry a `production` label (the ones resolve benchmarks ask for).
const LABELLED: usize = 1_000;

/// Points `production` of the first prompts at their version 1, once per database.
async fn label(db: &PromptDb, me: &Principal, n: usize) {
    if !db.labels(me, "prompt-0").await.unwrap().is_empty() {
        return;
    }
    for i in 0..n.min(LABELLED) {
        db.set_label(
            me,
            &format!("prompt-{i}"),
            "production",
            LabelTarget::version(1),
        )
        .await
        .unwrap();
    }
}

/// The SQLite database with `n` prompts (seeded on first use).
async fn sqlite(n: usize) -> (PromptDb, Principal) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/promptdb-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("sqlite-{n}.sqlite3"));
    let user_file = path.with_extension("user");
    let fresh = !user_file.exists();
    if fresh {
        let _ = std::fs::remove_file(&path);
    }
    let db = PromptDb::new(Arc::new(SqliteStore::open(&path).await.unwrap()));
    let user = if fresh {
        let id = seed(&db, n).await;
        std::fs::write(&user_file, id.to_string()).unwrap();
        id
    } else {
        std::fs::read_to_string(&user_file)
            .unwrap()
            .parse()
            .unwrap()
    };
    db.sync_ranking().await.unwrap();
    (db, Principal::full(user))
}

async fn conn_to(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap()
}

/// The PostgreSQL database with `n` prompts (seeded on first use), as an ordinary role.
async fn postgres(admin: &str, n: usize) -> (PromptDb, Principal) {
    const ROLE: &str = "promptdb_bench_app";
    let name = format!("promptdb_bench_{n}");
    let mut conn = PgConnection::connect(admin).await.unwrap();
    let role: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(ROLE)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    if !role {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    if !exists {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} OWNER {ROLE} TEMPLATE template0 ENCODING 'UTF8'"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let url = promptdb_store_postgres::testing::url_for(admin, &name, ROLE);
    let store = PostgresStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    // The seeded user is remembered in the database's meta table.
    let seeded = store.meta("bench_user").await.unwrap();
    let db = PromptDb::new(Arc::new(store.clone()));
    let user = match seeded {
        Some(id) => id.parse().unwrap(),
        None => {
            let id = seed(&db, n).await;
            store.set_meta("bench_user", &id.to_string()).await.unwrap();
            // What autovacuum would do after a bulk load: without statistics the planner
            // guesses, and picks nested loops over the search index.
            sqlx::query("ANALYZE")
                .execute(&mut conn_to(&url).await)
                .await
                .unwrap();
            id
        }
    };
    db.sync_ranking().await.unwrap();
    (db, Principal::full(user))
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let postgres_url = std::env::var("PROMPTDB_BENCH_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let mut backends = vec!["sqlite"];
    if postgres_url.is_some() {
        backends.push("postgres");
    }
    for (backend, n) in backends
        .iter()
        .flat_map(|b| sizes().into_iter().map(move |n| (*b, n)))
    {
        let (db, me) = match backend {
            "sqlite" => rt.block_on(sqlite(n)),
            _ => rt.block_on(postgres(postgres_url.as_deref().unwrap_or_default(), n)),
        };
        rt.block_on(label(&db, &me, n));
        let label = if n >= 1000 {
            format!("{}k", n / 1000)
        } else {
            n.to_string()
        };
        let mut group = c.benchmark_group(backend);
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
        // What an application asks for at run time: the `production` version of a prompt.
        let labelled = n.min(LABELLED);
        group.bench_function(BenchmarkId::new("resolve_label", &label), |b| {
            let mut i = 0usize;
            b.to_async(&rt).iter(|| {
                i = (i + 7919) % labelled;
                let request = ResolveRequest {
                    slug: format!("prompt-{i}"),
                    ..ResolveRequest::default()
                };
                let (db, me) = (&db, &me);
                async move { black_box(db.resolve(me, request).await.unwrap()) }
            })
        });
        group.bench_function(BenchmarkId::new("resolve_batch_20", &label), |b| {
            let mut i = 0usize;
            b.to_async(&rt).iter(|| {
                let requests: Vec<ResolveRequest> = (0..20)
                    .map(|_| {
                        i = (i + 7919) % labelled;
                        ResolveRequest {
                            slug: format!("prompt-{i}"),
                            ..ResolveRequest::default()
                        }
                    })
                    .collect();
                let (db, me) = (&db, &me);
                async move { black_box(db.resolve_many(me, requests).await.unwrap()) }
            })
        });
        group.bench_function(BenchmarkId::new("track_use", &label), |b| {
            b.to_async(&rt).iter(|| async {
                black_box(db.track_prompt_use(&me, "prompt-42", None).await.unwrap())
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
