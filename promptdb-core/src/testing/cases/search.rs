use super::slugs;
use crate::{
    Config, Filters, NewPrompt, PromptPatch, SearchQuery,
    testing::{Harness, TestStore, assert_invalid, prompt},
};

async fn search(h: &Harness, q: &str) -> Vec<String> {
    let page =
        h.db.search_prompts(
            &h.alice,
            SearchQuery {
                limit: Some(100),
                ..SearchQuery::new(q)
            },
        )
        .await
        .unwrap_or_else(|e| panic!("search {q:?}: {e}"));
    slugs(&page)
}

async fn search_sorted(h: &Harness, q: &str) -> Vec<String> {
    let mut s = search(h, q).await;
    s.sort();
    s
}

/// Words are found in the slug, name, tags, description and content.
pub async fn search_matches_every_field(t: TestStore) {
    let h = Harness::new(t).await;
    h.db.save_prompts(
        &h.alice,
        vec![
            prompt("slugword-here", "Name", "body"),
            prompt("b", "Namezebra title", "body"),
            NewPrompt {
                tags: vec!["tagword".into()],
                ..prompt("c", "Name", "body")
            },
            NewPrompt {
                description: "describes a giraffe".into(),
                ..prompt("d", "Name", "body")
            },
            prompt("e", "Name", "the content mentions an okapi"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(search(&h, "slugword").await, ["slugword-here"]);
    assert_eq!(search(&h, "namezebra").await, ["b"]);
    assert_eq!(search(&h, "tagword").await, ["c"]);
    assert_eq!(search(&h, "giraffe").await, ["d"]);
    assert_eq!(search(&h, "okapi").await, ["e"]);
    assert_eq!(search(&h, "body").await.len(), 4);
}

/// Every word must match; a word matches as a prefix.
pub async fn search_requires_every_word_and_matches_prefixes(t: TestStore) {
    let h = Harness::new(t).await;
    h.db.save_prompts(
        &h.alice,
        vec![
            prompt("both", "Rust review", "checklist"),
            prompt("rust-only", "Rust", "idioms"),
            prompt("review-only", "Review", "anything"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(search(&h, "rust review").await, ["both"]);
    assert_eq!(search(&h, "review rust").await, ["both"]);
    assert_eq!(search_sorted(&h, "rev").await, ["both", "review-only"]);
    assert_eq!(search(&h, "rust idiom").await, ["rust-only"]);
    assert!(search(&h, "rust missingword").await.is_empty());
    assert!(
        search(&h, "ust").await.is_empty(),
        "only prefixes match, not infixes"
    );
}

/// A word in the name outranks the same word in the content.
pub async fn search_ranks_name_above_content(t: TestStore) {
    let h = Harness::new(t).await;
    h.db.save_prompts(
        &h.alice,
        vec![
            prompt(
                "content-hit",
                "Something else",
                "A long text that mentions kiwi once among many other words here.",
            ),
            prompt(
                "name-hit",
                "Kiwi",
                "A long text that says nothing about the fruit among many other words here.",
            ),
        ],
    )
    .await
    .unwrap();
    assert_eq!(search(&h, "kiwi").await, ["name-hit", "content-hit"]);
}

/// When two prompts match equally, the better-ranked one (more used) comes first.
pub async fn search_blends_ranking_for_equal_relevance(t: TestStore) {
    let h = Harness::new(t).await;
    h.db.save_prompts(
        &h.alice,
        vec![
            prompt("alpha", "Mango", "same text"),
            prompt("zeta", "Mango", "same text"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        search(&h, "mango").await,
        ["alpha", "zeta"],
        "ties break by slug"
    );
    for _ in 0..5 {
        h.db.track_prompt_use(&h.alice, "zeta", None).await.unwrap();
    }
    assert_eq!(search(&h, "mango").await, ["zeta", "alpha"]);
}

/// `#tag` and `tag:` in the query, and the filter fields, narrow results exactly.
pub async fn search_filters_by_tags_and_flags(t: TestStore) {
    let h = Harness::new(t).await;
    let p = |slug: &str, tags: &[&str], pinned: bool| NewPrompt {
        tags: tags.iter().map(|s| s.to_string()).collect(),
        pinned,
        ..prompt(slug, "Lemon", "lemon text")
    };
    h.db.save_prompts(
        &h.alice,
        vec![
            p("a", &["rust"], false),
            p("b", &["rust", "cli"], true),
            p("c", &["go"], false),
        ],
    )
    .await
    .unwrap();
    assert_eq!(search_sorted(&h, "lemon #rust").await, ["a", "b"]);
    assert_eq!(
        search_sorted(&h, "#rust").await,
        ["a", "b"],
        "a tag alone is a valid search"
    );
    assert_eq!(search_sorted(&h, "lemon tag:rust #CLI").await, ["b"]);
    assert!(
        search(&h, "lemon #rustacean").await.is_empty(),
        "tags match exactly, not by prefix"
    );
    let filtered = |filters: Filters| SearchQuery {
        filters,
        ..SearchQuery::new("lemon")
    };
    let page =
        h.db.search_prompts(
            &h.alice,
            filtered(Filters {
                pinned: Some(false),
                ..Filters::default()
            }),
        )
        .await
        .unwrap();
    let mut got = slugs(&page);
    got.sort();
    assert_eq!(got, ["a", "c"]);
    let page =
        h.db.search_prompts(
            &h.alice,
            filtered(Filters {
                tags: vec!["go".into()],
                ..Filters::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(slugs(&page), ["c"]);
}

/// Search pages cover every match once, in the same order as one big page.
pub async fn search_pages_without_overlap(t: TestStore) {
    let h = Harness::new(t).await;
    let batch: Vec<NewPrompt> = (0..30)
        .map(|i| prompt(&format!("p{i:02}"), "Papaya", &"papaya ".repeat(1 + i % 4)))
        .collect();
    h.db.save_prompts(&h.alice, batch).await.unwrap();
    let whole = search(&h, "papaya").await;
    assert_eq!(whole.len(), 30);
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            h.db.search_prompts(
                &h.alice,
                SearchQuery {
                    limit: Some(7),
                    cursor,
                    ..SearchQuery::new("papaya")
                },
            )
            .await
            .unwrap();
        paged.extend(slugs(&page));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, whole);
}

/// Query syntax of the backends (quotes, operators, column filters, SQL) is plain text.
pub async fn search_treats_operators_as_text(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(
        &h.alice,
        prompt("song", "Song", "rock and roll, NOT jazz: near (the) end*"),
    )
    .await;
    for q in [
        "\"",
        "\"rock",
        "rock\"",
        "AND",
        "OR",
        "NOT jazz",
        "rock AND",
        "NEAR(rock roll)",
        "rock*",
        "content:rock",
        "{name}: rock",
        "^rock",
        "-rock",
        "rock -jazz",
        "(rock",
        "rock)",
        "'; DROP TABLE prompts; --",
        "rock & roll | jazz",
        "rock:*",
        "!rock",
        "\\",
        "%",
        "_",
        "rock\u{0}",
        "a:b:c",
        "***",
    ] {
        let result = h.db.search_prompts(&h.alice, SearchQuery::new(q)).await;
        match result {
            Ok(_) => {}
            Err(crate::Error::Invalid { field, .. }) if field == "q" => {}
            Err(e) => panic!("query {q:?} failed: {e:?}"),
        }
    }
    assert_eq!(search(&h, "and").await, ["song"]);
    assert_eq!(search(&h, "NOT jazz").await, ["song"]);
    assert_eq!(search(&h, "near the end").await, ["song"]);
    assert_eq!(search(&h, "\"rock roll\"").await, ["song"]);
    assert!(
        search(&h, "rock -jazzy").await.is_empty(),
        "`-jazzy` is a word, not an exclusion"
    );
    assert_eq!(
        h.db.get_prompt(&h.alice, "song").await.unwrap().name,
        "Song"
    );
}

/// Case and accents do not matter, in the query or in the text.
pub async fn search_folds_case_and_accents(t: TestStore) {
    let h = Harness::new(t).await;
    h.db.save_prompts(
        &h.alice,
        vec![
            prompt("cafe", "Café Crème", "x"),
            prompt("naive", "naive resume", "x"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(search(&h, "CAFE").await, ["cafe"]);
    assert_eq!(search(&h, "crème").await, ["cafe"]);
    assert_eq!(search(&h, "NAÏVE Résumé").await, ["naive"]);
}

/// Updates and deletes are searchable at once.
pub async fn search_reflects_updates_and_deletes(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("p", "Quince", "about apricots"))
        .await;
    assert_eq!(search(&h, "apricots").await, ["p"]);
    h.db.update_prompt(
        &h.alice,
        "p",
        PromptPatch {
            content: Some("about plums".into()),
            tags: Some(vec!["stonefruit".into()]),
            ..PromptPatch::default()
        },
    )
    .await
    .unwrap();
    assert!(search(&h, "apricots").await.is_empty());
    assert_eq!(search(&h, "plums").await, ["p"]);
    assert_eq!(search(&h, "stonefruit").await, ["p"]);
    assert_eq!(search(&h, "#stonefruit").await, ["p"]);
    h.db.delete_prompt(&h.alice, "p").await.unwrap();
    assert!(search(&h, "plums").await.is_empty());
    assert!(search(&h, "quince").await.is_empty());
}

/// Malformed searches are rejected by field.
pub async fn search_rejects_bad_input(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("w1", "W", "w1 w2 w3")).await;
    let s = |q: SearchQuery| h.db.search_prompts(&h.alice, q);
    // The query is free text: nothing to search for finds nothing, words past 16 are left out.
    for nothing in ["", "!!! ...", "#-"] {
        assert!(
            s(SearchQuery::new(nothing)).await.unwrap().items.is_empty(),
            "{nothing}"
        );
    }
    let words: Vec<String> = (0..17).map(|i| format!("w{i}")).collect();
    assert!(
        s(SearchQuery::new(words.join(" ")))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let found = s(SearchQuery::new("w1 w2 w3 w1")).await.unwrap();
    assert_eq!(found.items.len(), 1);
    assert_invalid(s(SearchQuery::new("x".repeat(501))).await, "q");
    assert_invalid(
        s(SearchQuery {
            limit: Some(0),
            ..SearchQuery::new("x")
        })
        .await,
        "limit",
    );
    assert_invalid(
        s(SearchQuery {
            cursor: Some("bogus".into()),
            ..SearchQuery::new("x")
        })
        .await,
        "cursor",
    );
}

/// Broad queries are bounded: only the newest `search_scan_limit` matches are ranked, and at most
/// `search_candidates` of them are returned, the most relevant first.
pub async fn search_caps_broad_queries(t: TestStore) {
    let config = Config {
        search_candidates: 10,
        search_scan_limit: 20,
        ..Config::default()
    };
    let h = Harness::with_config(t, config).await;
    for i in 0..25 {
        let strong = !(3..22).contains(&i);
        let p = if strong {
            prompt(&format!("p{i:02}"), "Guava", "about guava")
        } else {
            prompt(
                &format!("p{i:02}"),
                "Other",
                "a text that also mentions guava",
            )
        };
        h.save(&h.alice, p).await;
    }
    let found = search(&h, "guava").await;
    assert_eq!(found.len(), 10);
    assert_eq!(
        &found[..3],
        ["p22", "p23", "p24"],
        "the strongest scanned matches come first"
    );
    for old in ["p00", "p01", "p02", "p03", "p04"] {
        assert!(
            !found.contains(&old.to_owned()),
            "{old} is older than the newest 20 matches: {found:?}"
        );
    }
}
