use std::sync::Arc;

use chrono::Duration;

use super::slugs;
use crate::{
    Config, Filters, ListQuery, NewPrompt, PromptDb, PromptPatch, RankingWeights,
    ranking::{RankFeatures, list_order},
    testing::{Harness, TestStore, assert_invalid, prompt},
};

async fn list_all(h: &Harness) -> Vec<String> {
    let page =
        h.db.list_prompts(
            &h.alice,
            ListQuery {
                limit: Some(100),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(page.next_cursor.is_none());
    slugs(&page)
}

/// Pinned prompts come before all others, however the others rank.
pub async fn list_puts_pinned_first(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(
        &h.alice,
        NewPrompt {
            pinned: true,
            ..prompt("old-pinned", "Old pinned", "x")
        },
    )
    .await;
    h.clock.advance(Duration::days(60));
    h.save(
        &h.alice,
        NewPrompt {
            favorite: true,
            ..prompt("busy", "Busy", "x")
        },
    )
    .await;
    for _ in 0..20 {
        h.db.track_prompt_use(&h.alice, "busy", None).await.unwrap();
    }
    h.save(&h.alice, prompt("plain", "Plain", "x")).await;
    let order = list_all(&h).await;
    assert_eq!(order[0], "old-pinned");
    assert_eq!(order, ["old-pinned", "busy", "plain"]);
}

/// The backend's order is exactly the order core's ranking formula gives.
pub async fn list_order_matches_core_ranking(t: TestStore) {
    let h = Harness::new(t).await;
    for i in 0..30u32 {
        h.clock.advance(Duration::hours(i64::from(i % 7) * 13));
        h.save(
            &h.alice,
            NewPrompt {
                pinned: i % 11 == 0,
                favorite: i % 4 == 0,
                ..prompt(&format!("p{i:02}"), "P", "x")
            },
        )
        .await;
        for _ in 0..(i * 7 % 5) {
            h.db.track_prompt_use(&h.alice, &format!("p{:02}", (i * 3) % (i + 1)), None)
                .await
                .unwrap();
        }
    }
    let weights = RankingWeights::default();
    let mut expected = Vec::new();
    for slug in list_all(&h).await {
        let p = h.db.get_prompt(&h.alice, &slug).await.unwrap();
        expected.push((p.pinned, weights.score(&RankFeatures::of(&p)), slug));
    }
    let got: Vec<String> = expected.iter().map(|e| e.2.clone()).collect();
    expected.sort_by(|a, b| list_order((a.0, a.1, &a.2), (b.0, b.1, &b.2)));
    let want: Vec<String> = expected.into_iter().map(|e| e.2).collect();
    assert_eq!(got, want);
}

/// More uses, more recent activity and being a favourite each lift a prompt.
pub async fn list_ranks_usage_recency_and_favorite(t: TestStore) {
    let h = Harness::new(t).await;
    h.db.save_prompts(
        &h.alice,
        vec![
            prompt("a-unused", "A", "x"),
            prompt("b-used", "B", "x"),
            NewPrompt {
                favorite: true,
                ..prompt("c-favorite", "C", "x")
            },
        ],
    )
    .await
    .unwrap();
    for _ in 0..3 {
        h.db.track_prompt_use(&h.alice, "b-used", None)
            .await
            .unwrap();
    }
    // favourite (2.0) > ln(4) ≈ 1.39 > 0
    assert_eq!(list_all(&h).await, ["c-favorite", "b-used", "a-unused"]);
    // Two half-lives later a fresh prompt outranks all of them: 2·ln 2 ≈ 1.39 + … > 2.0.
    h.clock.advance(Duration::days(42));
    h.save(&h.alice, prompt("d-recent", "D", "x")).await;
    assert_eq!(
        list_all(&h).await,
        ["d-recent", "c-favorite", "b-used", "a-unused"]
    );
    // Using an old prompt refreshes it.
    h.db.track_prompt_use(&h.alice, "a-unused", None)
        .await
        .unwrap();
    assert_eq!(list_all(&h).await[0], "a-unused");
}

/// Tag filters require every tag; pinned and favourite filters narrow further.
pub async fn list_filters_by_tag_pinned_and_favorite(t: TestStore) {
    let h = Harness::new(t).await;
    let p = |slug: &str, tags: &[&str], pinned: bool, favorite: bool| NewPrompt {
        tags: tags.iter().map(|s| s.to_string()).collect(),
        pinned,
        favorite,
        ..prompt(slug, slug, "x")
    };
    h.db.save_prompts(
        &h.alice,
        vec![
            p("a", &["rust", "cli"], true, false),
            p("b", &["rust"], false, true),
            p("c", &["cli"], false, false),
            p("d", &[], true, true),
        ],
    )
    .await
    .unwrap();
    let list = |filters: Filters| {
        let db = h.db.clone();
        let alice = h.alice.clone();
        async move {
            let mut s = slugs(
                &db.list_prompts(
                    &alice,
                    ListQuery {
                        filters,
                        ..ListQuery::default()
                    },
                )
                .await
                .unwrap(),
            );
            s.sort();
            s
        }
    };
    let tags = |t: &[&str]| Filters {
        tags: t.iter().map(|s| s.to_string()).collect(),
        ..Filters::default()
    };
    assert_eq!(list(tags(&["rust"])).await, ["a", "b"]);
    assert_eq!(list(tags(&["RUST", "cli"])).await, ["a"]);
    assert_eq!(list(tags(&["nope"])).await, Vec::<String>::new());
    let flags = |pinned, favorite| Filters {
        pinned,
        favorite,
        ..Filters::default()
    };
    assert_eq!(list(flags(Some(true), None)).await, ["a", "d"]);
    assert_eq!(list(flags(Some(false), None)).await, ["b", "c"]);
    assert_eq!(list(flags(None, Some(true))).await, ["b", "d"]);
    assert_eq!(list(flags(Some(true), Some(true))).await, ["d"]);
    assert_eq!(
        list(Filters {
            pinned: Some(false),
            ..tags(&["cli"])
        })
        .await,
        ["c"]
    );
    assert_invalid(
        h.db.list_prompts(
            &h.alice,
            ListQuery {
                filters: tags(&["bad tag"]),
                ..ListQuery::default()
            },
        )
        .await,
        "tags[0]",
    );
}

async fn paginate(h: &Harness, filters: Filters, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            h.db.list_prompts(
                &h.alice,
                ListQuery {
                    filters: filters.clone(),
                    limit: Some(limit),
                    cursor,
                },
            )
            .await
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        seen.extend(slugs(&page));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return seen,
        }
    }
}

/// Paging through the list yields every prompt once, in the same order as one big page, even
/// when many prompts tie on score.
pub async fn list_pages_are_stable(t: TestStore) {
    let h = Harness::new(t).await;
    // Saved in one batch: identical scores, so slugs break the ties.
    let batch: Vec<NewPrompt> = (0..25)
        .map(|i| NewPrompt {
            pinned: i % 5 == 0,
            tags: if i % 2 == 0 {
                vec!["even".into()]
            } else {
                vec![]
            },
            ..prompt(&format!("p{:02}", (i * 7) % 25), "P", "x")
        })
        .collect();
    h.db.save_prompts(&h.alice, batch).await.unwrap();
    let whole = list_all(&h).await;
    assert_eq!(whole.len(), 25);
    for limit in [1, 4, 7, 25] {
        assert_eq!(
            paginate(&h, Filters::default(), limit).await,
            whole,
            "limit {limit}"
        );
    }
    let even = paginate(
        &h,
        Filters {
            tags: vec!["even".into()],
            ..Filters::default()
        },
        3,
    )
    .await;
    let expected: Vec<String> = whole
        .iter()
        .filter(|s| {
            let n: usize = s[1..].parse().unwrap();
            (0..25).any(|i| i % 2 == 0 && (i * 7) % 25 == n)
        })
        .cloned()
        .collect();
    assert_eq!(even, expected);
}

/// A prompt saved between two pages neither repeats nor hides the ones already listed.
pub async fn list_pages_survive_inserts(t: TestStore) {
    let h = Harness::new(t).await;
    let batch: Vec<NewPrompt> = (0..10)
        .map(|i| prompt(&format!("p{i}"), "P", "x"))
        .collect();
    h.db.save_prompts(&h.alice, batch).await.unwrap();
    let first =
        h.db.list_prompts(
            &h.alice,
            ListQuery {
                limit: Some(4),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    h.clock.advance(Duration::minutes(1));
    h.save(&h.alice, prompt("newer", "Newer", "x")).await;
    let rest = paginate_from(&h, first.next_cursor.clone().unwrap()).await;
    let mut all = slugs(&first);
    all.extend(rest);
    let expected: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    assert_eq!(
        all, expected,
        "the newer prompt ranks above the cursor and must not appear"
    );
}

async fn paginate_from(h: &Harness, cursor: String) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor = Some(cursor);
    while let Some(c) = cursor {
        let page =
            h.db.list_prompts(
                &h.alice,
                ListQuery {
                    limit: Some(4),
                    cursor: Some(c),
                    ..ListQuery::default()
                },
            )
            .await
            .unwrap();
        seen.extend(slugs(&page));
        cursor = page.next_cursor;
    }
    seen
}

/// Bad cursors and page sizes are rejected by field.
pub async fn list_rejects_bad_cursor_and_limit(t: TestStore) {
    let h = Harness::new(t).await;
    let q = |limit, cursor: Option<&str>| ListQuery {
        limit,
        cursor: cursor.map(Into::into),
        ..ListQuery::default()
    };
    assert_invalid(
        h.db.list_prompts(&h.alice, q(None, Some("not-a-cursor")))
            .await,
        "cursor",
    );
    assert_invalid(
        h.db.list_prompts(&h.alice, q(None, Some(&"A".repeat(2000))))
            .await,
        "cursor",
    );
    assert_invalid(h.db.list_prompts(&h.alice, q(Some(0), None)).await, "limit");
    assert_invalid(
        h.db.list_prompts(&h.alice, q(Some(101), None)).await,
        "limit",
    );
    assert!(
        h.db.list_prompts(&h.alice, q(Some(100), None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

/// Changing the weights and syncing re-ranks what is stored.
pub async fn ranking_follows_weight_changes(t: TestStore) {
    let store = t.store.clone();
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("used", "Used", "x")).await;
    for _ in 0..10 {
        h.db.track_prompt_use(&h.alice, "used", None).await.unwrap();
    }
    h.clock.advance(Duration::days(1));
    h.save(&h.alice, prompt("fresh", "Fresh", "x")).await;
    assert_eq!(list_all(&h).await, ["used", "fresh"]);
    assert!(!h.db.sync_ranking().await.unwrap(), "nothing changed yet");

    let config = Config {
        ranking: RankingWeights {
            usage: 0.0,
            ..RankingWeights::default()
        },
        ..Config::default()
    };
    let recency_only = PromptDb::with_config(Arc::clone(&store), config)
        .unwrap()
        .with_clock(h.clock.clone());
    assert!(recency_only.sync_ranking().await.unwrap());
    assert!(!recency_only.sync_ranking().await.unwrap());
    let page = recency_only
        .list_prompts(&h.alice, ListQuery::default())
        .await
        .unwrap();
    assert_eq!(slugs(&page), ["fresh", "used"]);
    // Writes through the new service keep using the new weights.
    recency_only
        .update_prompt(
            &h.alice,
            "used",
            PromptPatch {
                pinned: Some(false),
                favorite: Some(false),
                description: Some("touched".into()),
                ..PromptPatch::default()
            },
        )
        .await
        .unwrap();
    let page = recency_only
        .list_prompts(&h.alice, ListQuery::default())
        .await
        .unwrap();
    assert_eq!(
        slugs(&page),
        ["fresh", "used"],
        "same timestamp: slug breaks the tie"
    );
}
