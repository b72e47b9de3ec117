use std::collections::BTreeMap;

use chrono::Duration;

use crate::{
    ListQuery, NewPrompt, PromptPatch, Variable,
    testing::{Harness, TestStore, assert_conflict, assert_invalid, assert_not_found, prompt},
};

fn var(name: &str, description: &str, required: bool, default: Option<&str>) -> Variable {
    Variable {
        name: name.into(),
        description: description.into(),
        required,
        default: default.map(Into::into),
    }
}

/// Every field survives a save and a get.
pub async fn save_and_get_round_trip(t: TestStore) {
    let h = Harness::new(t).await;
    let input = NewPrompt {
        slug: Some("code-review".into()),
        name: "Code review".into(),
        description: "Reviews a diff.\nThoroughly.".into(),
        content: "Review this {{language}} code:\n\n{{code}}".into(),
        tags: vec!["Dev".into(), "review".into()],
        variables: vec![var("language", "Programming language", false, Some("Rust"))],
        pinned: true,
        favorite: true,
        ..NewPrompt::default()
    };
    let saved = h.save(&h.alice, input).await;
    assert_eq!(saved.slug, "code-review");
    assert_eq!(saved.version, 1);
    assert_eq!(saved.usage_count, 0);
    assert_eq!(saved.last_used_at, None);
    assert_eq!(saved.created_at, h.clock_now());
    assert_eq!(saved.updated_at, saved.created_at);
    assert_eq!(saved.tags, vec!["dev", "review"]);
    assert_eq!(
        saved.variables,
        vec![
            var("language", "Programming language", false, Some("Rust")),
            var("code", "", true, None)
        ]
    );
    assert!(saved.pinned && saved.favorite);
    let got = h.db.get_prompt(&h.alice, "code-review").await.unwrap();
    assert_eq!(got, saved);
}

/// The prompt as JSON is exactly the prompt serialized, for the owner only, and follows every
/// write: updates (versioned or not), uses, deletes.
pub async fn get_json_is_the_prompt_serialized(t: TestStore) {
    /// The JSON and the prompt agree; the prompt, to check what changed.
    async fn read(h: &Harness) -> crate::Prompt {
        let json = h.db.get_prompt_json(&h.alice, "p").await.unwrap();
        let prompt = h.db.get_prompt(&h.alice, "p").await.unwrap();
        assert_eq!(*json, serde_json::to_string(&prompt).unwrap());
        prompt
    }
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("p", "P", "Say {{x}}")).await;
    // Twice: the second read may come from a cache.
    assert_eq!(read(&h).await.version, 1);
    assert_eq!(read(&h).await.version, 1);
    assert_not_found(h.db.get_prompt_json(&h.bob, "p").await);
    assert_invalid(h.db.get_prompt_json(&h.alice, "Not a slug").await, "slug");
    h.db.update_prompt(
        &h.alice,
        "p",
        PromptPatch {
            content: Some("Say {{x}} twice".into()),
            ..PromptPatch::default()
        },
    )
    .await
    .unwrap();
    let p = read(&h).await;
    assert_eq!((p.version, p.content.as_str()), (2, "Say {{x}} twice"));
    h.db.update_prompt(
        &h.alice,
        "p",
        PromptPatch {
            pinned: Some(true),
            ..PromptPatch::default()
        },
    )
    .await
    .unwrap();
    assert!(read(&h).await.pinned);
    h.db.track_prompt_use(&h.alice, "p", None).await.unwrap();
    assert_eq!(read(&h).await.usage_count, 1);
    h.db.delete_prompt(&h.alice, "p").await.unwrap();
    assert_not_found(h.db.get_prompt_json(&h.alice, "p").await);
}

/// A batch returns its prompts in input order, all stored.
pub async fn save_batch_keeps_order(t: TestStore) {
    let h = Harness::new(t).await;
    let saved =
        h.db.save_prompts(
            &h.alice,
            vec![
                prompt("c", "C", "c"),
                prompt("a", "A", "a"),
                prompt("b", "B", "b"),
            ],
        )
        .await
        .unwrap();
    let order: Vec<_> = saved.iter().map(|p| p.slug.as_str()).collect();
    assert_eq!(order, ["c", "a", "b"]);
    for p in &saved {
        assert_eq!(
            &h.db.get_prompt(&h.alice, p.slug.as_str()).await.unwrap(),
            p
        );
    }
    let ids: std::collections::HashSet<_> = saved.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), 3);
}

/// Without a slug, one is derived from the name; an underivable one is a clear error.
pub async fn save_derives_slug_from_name(t: TestStore) {
    let h = Harness::new(t).await;
    let p = NewPrompt {
        name: "Crème Brûlée: a Recipe!".into(),
        content: "x".into(),
        ..NewPrompt::default()
    };
    assert_eq!(h.save(&h.alice, p).await.slug, "creme-brulee-a-recipe");
    let p = NewPrompt {
        name: "日本語".into(),
        content: "x".into(),
        ..NewPrompt::default()
    };
    // A name without ASCII letters gets a slug from its hash: the same for the same name.
    let saved = h.save(&h.alice, p.clone()).await;
    assert!(saved.slug.as_str().starts_with("prompt-"), "{}", saved.slug);
    assert_conflict(
        h.db.save_prompts(&h.alice, vec![p]).await,
        "prompts[0].slug",
    );
}

/// One invalid prompt in a batch saves nothing.
pub async fn batch_is_all_or_nothing_on_invalid_prompt(t: TestStore) {
    let h = Harness::new(t).await;
    let mut bad = prompt("third", "", "x");
    bad.tags = vec!["fine".into()];
    let result =
        h.db.save_prompts(
            &h.alice,
            vec![
                NewPrompt {
                    tags: vec!["fine".into()],
                    ..prompt("first", "First", "x")
                },
                prompt("second", "Second", "x"),
                bad,
            ],
        )
        .await;
    assert_invalid(result, "prompts[2].name");
    assert_not_found(h.db.get_prompt(&h.alice, "first").await);
    assert!(
        h.db.list_prompts(&h.alice, ListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(h.db.list_tags(&h.alice).await.unwrap().is_empty());
}

/// A taken slug anywhere in a batch saves nothing, and so does a slug used twice in the batch.
pub async fn batch_is_all_or_nothing_on_taken_slug(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("taken", "Taken", "original")).await;
    let result =
        h.db.save_prompts(
            &h.alice,
            vec![
                NewPrompt {
                    tags: vec!["new".into()],
                    ..prompt("fresh", "Fresh", "x")
                },
                prompt("taken", "Again", "replacement"),
            ],
        )
        .await;
    assert_conflict(result, "prompts[1].slug");
    assert_not_found(h.db.get_prompt(&h.alice, "fresh").await);
    assert_eq!(
        h.db.get_prompt(&h.alice, "taken").await.unwrap().content,
        "original"
    );
    assert!(h.db.list_tags(&h.alice).await.unwrap().is_empty());
    assert!(
        h.db.search_prompts(&h.alice, crate::SearchQuery::new("fresh"))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let result =
        h.db.save_prompts(
            &h.alice,
            vec![prompt("twin", "A", "x"), prompt("twin", "B", "y")],
        )
        .await;
    assert_conflict(result, "prompts[1].slug");
    assert_not_found(h.db.get_prompt(&h.alice, "twin").await);
}

/// Unknown slugs are not found; malformed ones are invalid.
pub async fn get_unknown_is_not_found(t: TestStore) {
    let h = Harness::new(t).await;
    assert_not_found(h.db.get_prompt(&h.alice, "nothing-here").await);
    assert_invalid(h.db.get_prompt(&h.alice, "Not A Slug").await, "slug");
}

/// A patch changes only what it names and writes version 2.
pub async fn update_changes_only_given_fields(t: TestStore) {
    let h = Harness::new(t).await;
    let before = h
        .save(
            &h.alice,
            NewPrompt {
                description: "desc".into(),
                tags: vec!["a".into()],
                pinned: true,
                ..prompt("p", "Old name", "Hello {{who}}")
            },
        )
        .await;
    h.clock.advance(Duration::minutes(5));
    let after =
        h.db.update_prompt(
            &h.alice,
            "p",
            PromptPatch {
                name: Some("New name".into()),
                ..PromptPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(after.name, "New name");
    assert_eq!(after.version, 2);
    assert_eq!(after.updated_at, h.clock_now());
    assert_eq!(after.created_at, before.created_at);
    assert_eq!(after.id, before.id);
    assert_eq!(
        (
            &after.description,
            &after.content,
            &after.tags,
            &after.variables,
            after.pinned
        ),
        (
            &before.description,
            &before.content,
            &before.tags,
            &before.variables,
            before.pinned
        )
    );
    assert_eq!(h.db.get_prompt(&h.alice, "p").await.unwrap(), after);
}

/// Every content change appends an immutable version; history reads newest first.
pub async fn update_writes_immutable_versions(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("p", "P", "v1")).await;
    for n in 2..=4 {
        h.clock.advance(Duration::minutes(1));
        let p =
            h.db.update_prompt(
                &h.alice,
                "p",
                PromptPatch {
                    content: Some(format!("v{n}")),
                    tags: Some(vec![format!("t{n}")]),
                    ..PromptPatch::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(p.version, n);
    }
    let history =
        h.db.prompt_versions(&h.alice, "p", None, None)
            .await
            .unwrap();
    assert!(history.next_cursor.is_none());
    let got: Vec<_> = history
        .items
        .iter()
        .map(|v| (v.version, v.content.as_str()))
        .collect();
    assert_eq!(got, [(4, "v4"), (3, "v3"), (2, "v2"), (1, "v1")]);
    assert!(
        history
            .items
            .windows(2)
            .all(|w| w[0].created_at > w[1].created_at)
    );
    let v2 = h.db.prompt_version(&h.alice, "p", 2).await.unwrap();
    assert_eq!(v2, history.items[2]);
    assert_eq!(v2.tags, ["t2"]);
    let v1 = h.db.prompt_version(&h.alice, "p", 1).await.unwrap();
    assert!(v1.tags.is_empty());
    assert_invalid(h.db.prompt_version(&h.alice, "p", 0).await, "version");
    assert_not_found(h.db.prompt_version(&h.alice, "p", 5).await);
    assert_not_found(h.db.prompt_version(&h.alice, "nope", 1).await);
    assert_not_found(h.db.prompt_versions(&h.alice, "nope", None, None).await);
}

/// Pinning and favouriting change the prompt without a version; a no-op patch changes nothing.
pub async fn update_of_flags_or_nothing_writes_no_version(t: TestStore) {
    let h = Harness::new(t).await;
    let before = h.save(&h.alice, prompt("p", "P", "text")).await;
    h.clock.advance(Duration::minutes(1));
    let pinned =
        h.db.update_prompt(
            &h.alice,
            "p",
            PromptPatch {
                pinned: Some(true),
                favorite: Some(true),
                ..PromptPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(pinned.pinned && pinned.favorite);
    assert_eq!(pinned.version, 1);
    assert_eq!(pinned.updated_at, h.clock_now());
    h.clock.advance(Duration::minutes(1));
    let same =
        h.db.update_prompt(
            &h.alice,
            "p",
            PromptPatch {
                name: Some(" P ".into()),
                content: Some(before.content.clone()),
                pinned: Some(true),
                ..PromptPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        same, pinned,
        "a patch that changes nothing must write nothing"
    );
    let versions =
        h.db.prompt_versions(&h.alice, "p", None, None)
            .await
            .unwrap();
    assert_eq!(versions.items.len(), 1);
    // An empty patch is the prompt as it is, and writes nothing either.
    let unchanged =
        h.db.update_prompt(&h.alice, "p", PromptPatch::default())
            .await
            .unwrap();
    assert_eq!(unchanged, pinned);
}

/// A rejected update leaves the prompt exactly as it was.
pub async fn invalid_update_changes_nothing(t: TestStore) {
    let h = Harness::new(t).await;
    let before = h.save(&h.alice, prompt("p", "P", "text")).await;
    let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    assert_invalid(
        h.db.update_prompt(
            &h.alice,
            "p",
            PromptPatch {
                name: Some("Changed".into()),
                tags: Some(too_many),
                ..PromptPatch::default()
            },
        )
        .await,
        "tags",
    );
    assert_invalid(
        h.db.update_prompt(
            &h.alice,
            "p",
            PromptPatch {
                content: Some("  ".into()),
                ..PromptPatch::default()
            },
        )
        .await,
        "content",
    );
    assert_eq!(h.db.get_prompt(&h.alice, "p").await.unwrap(), before);
    assert_eq!(
        h.db.prompt_versions(&h.alice, "p", None, None)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

/// Updating a prompt that does not exist is not found.
pub async fn update_unknown_is_not_found(t: TestStore) {
    let h = Harness::new(t).await;
    let patch = PromptPatch {
        name: Some("x".into()),
        ..PromptPatch::default()
    };
    assert_not_found(h.db.update_prompt(&h.alice, "ghost", patch).await);
}

/// New placeholders are declared; bare variables the new content no longer uses are dropped;
/// described ones stay.
pub async fn update_redeclares_variables(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(
        &h.alice,
        NewPrompt {
            variables: vec![var("kept", "has a description", true, None)],
            ..prompt("p", "P", "{{a}} {{b}} {{kept}}")
        },
    )
    .await;
    let p =
        h.db.update_prompt(
            &h.alice,
            "p",
            PromptPatch {
                content: Some("{{a}} {{c}}".into()),
                ..PromptPatch::default()
            },
        )
        .await
        .unwrap();
    let names: Vec<_> = p.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["kept", "a", "c"]);
    let p =
        h.db.update_prompt(
            &h.alice,
            "p",
            PromptPatch {
                variables: Some(vec![var("c", "the c", false, Some("C"))]),
                ..PromptPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        p.variables,
        vec![
            var("c", "the c", false, Some("C")),
            var("a", "", true, None)
        ]
    );
}

/// Deleting removes the prompt, its versions and its tags; the slug can be reused afresh.
pub async fn delete_removes_prompt_history_and_tags(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(
        &h.alice,
        NewPrompt {
            tags: vec!["gone".into(), "kept".into()],
            ..prompt("p", "P", "unique-word-zebra")
        },
    )
    .await;
    h.save(
        &h.alice,
        NewPrompt {
            tags: vec!["kept".into()],
            ..prompt("q", "Q", "text")
        },
    )
    .await;
    h.db.update_prompt(
        &h.alice,
        "p",
        PromptPatch {
            content: Some("unique-word-zebra again".into()),
            ..PromptPatch::default()
        },
    )
    .await
    .unwrap();
    h.db.delete_prompt(&h.alice, "p").await.unwrap();
    assert_not_found(h.db.get_prompt(&h.alice, "p").await);
    assert_not_found(h.db.prompt_versions(&h.alice, "p", None, None).await);
    assert_not_found(h.db.delete_prompt(&h.alice, "p").await);
    let tags: Vec<_> =
        h.db.list_tags(&h.alice)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.tag, t.count))
            .collect();
    assert_eq!(tags, [("kept".to_owned(), 1)]);
    assert!(
        h.db.search_prompts(&h.alice, crate::SearchQuery::new("zebra"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let again = h.save(&h.alice, prompt("p", "P again", "fresh")).await;
    assert_eq!(again.version, 1);
    assert_eq!(
        h.db.prompt_versions(&h.alice, "p", None, None)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

/// Tags come with counts, most used first, then alphabetically.
pub async fn tags_are_counted(t: TestStore) {
    let h = Harness::new(t).await;
    let tagged = |slug: &str, tags: &[&str]| NewPrompt {
        tags: tags.iter().map(|s| s.to_string()).collect(),
        ..prompt(slug, slug, "x")
    };
    h.db.save_prompts(
        &h.alice,
        vec![
            tagged("a", &["rust", "cli"]),
            tagged("b", &["rust", "web", "cli"]),
            tagged("c", &["rust", "Alpha"]),
            tagged("d", &[]),
        ],
    )
    .await
    .unwrap();
    let counts = |tags: Vec<crate::TagCount>| {
        tags.into_iter()
            .map(|t| (t.tag, t.count))
            .collect::<Vec<_>>()
    };
    let s = |t: &str, n: u64| (t.to_owned(), n);
    assert_eq!(
        counts(h.db.list_tags(&h.alice).await.unwrap()),
        [s("rust", 3), s("cli", 2), s("alpha", 1), s("web", 1)]
    );
    h.db.update_prompt(
        &h.alice,
        "b",
        PromptPatch {
            tags: Some(vec!["web".into()]),
            ..PromptPatch::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        counts(h.db.list_tags(&h.alice).await.unwrap()),
        [s("rust", 2), s("alpha", 1), s("cli", 1), s("web", 1)]
    );
}

/// Each use raises the count and sets the time, without a new version.
pub async fn track_use_counts_and_timestamps(t: TestStore) {
    let h = Harness::new(t).await;
    let saved = h.save(&h.alice, prompt("p", "P", "x")).await;
    h.clock.advance(Duration::hours(1));
    let first = h.db.track_prompt_use(&h.alice, "p", None).await.unwrap();
    assert_eq!((first.usage_count, first.last_used_at), (1, h.clock_now()));
    h.clock.advance(Duration::hours(1));
    let second = h.db.track_prompt_use(&h.alice, "p", None).await.unwrap();
    assert_eq!(second.usage_count, 2);
    let p = h.db.get_prompt(&h.alice, "p").await.unwrap();
    assert_eq!((p.usage_count, p.last_used_at), (2, Some(h.clock_now())));
    assert_eq!((p.version, p.updated_at), (1, saved.updated_at));
    assert_not_found(h.db.track_prompt_use(&h.alice, "ghost", None).await);
}

/// Rendering fills values and defaults and refuses missing or undeclared variables.
pub async fn render_fills_variables_strictly(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(
        &h.alice,
        NewPrompt {
            variables: vec![var("tone", "", false, Some("warm"))],
            ..prompt(
                "letter",
                "Letter",
                "Dear {{name}}, in a {{ tone }} voice. \\{{literal}}",
            )
        },
    )
    .await;
    let values = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let r =
        h.db.render_prompt(&h.alice, "letter", &values(&[("name", "Ada")]))
            .await
            .unwrap();
    assert_eq!(r.text, "Dear Ada, in a warm voice. {{literal}}");
    assert_eq!(r.version, 1);
    let r =
        h.db.render_prompt(
            &h.alice,
            "letter",
            &values(&[("name", "Ada"), ("tone", "dry")]),
        )
        .await
        .unwrap();
    assert_eq!(r.text, "Dear Ada, in a dry voice. {{literal}}");
    assert_invalid(
        h.db.render_prompt(&h.alice, "letter", &values(&[])).await,
        "variables.name",
    );
    assert_invalid(
        h.db.render_prompt(
            &h.alice,
            "letter",
            &values(&[("name", "A"), ("extra", "x")]),
        )
        .await,
        "variables.extra",
    );
    assert_not_found(h.db.render_prompt(&h.alice, "ghost", &values(&[])).await);
}

/// Version history pages with a cursor, newest first, without gaps or repeats.
pub async fn versions_paginate(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("p", "P", "v1")).await;
    for n in 2..=7 {
        h.db.update_prompt(
            &h.alice,
            "p",
            PromptPatch {
                content: Some(format!("v{n}")),
                ..PromptPatch::default()
            },
        )
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page =
            h.db.prompt_versions(&h.alice, "p", Some(3), cursor.as_deref())
                .await
                .unwrap();
        seen.extend(page.items.iter().map(|v| v.version));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, [7, 6, 5, 4, 3, 2, 1]);
    assert_invalid(
        h.db.prompt_versions(&h.alice, "p", Some(3), Some("garbage"))
            .await,
        "cursor",
    );
    let list_cursor = {
        for s in ["x1", "x2"] {
            h.save(&h.alice, prompt(s, s, "x")).await;
        }
        h.db.list_prompts(
            &h.alice,
            ListQuery {
                limit: Some(1),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap()
        .next_cursor
        .unwrap()
    };
    assert_invalid(
        h.db.prompt_versions(&h.alice, "p", None, Some(&list_cursor))
            .await,
        "cursor",
    );
}

/// Text in any script, emoji and combining marks round-trips exactly and is searchable.
pub async fn unicode_text_round_trips(t: TestStore) {
    let h = Harness::new(t).await;
    let input = NewPrompt {
        description: "Right-to-left: مرحبا بالعالم — and ZWJ emoji 👩‍💻".into(),
        tags: vec!["日本語".into(), "Ελληνικά".into()],
        ..prompt(
            "unicode",
            "Résumé 📄 日本語のプロンプト",
            "Combining: e\u{301} vs é; CJK: 東京 タワー; emoji 🦀 {{名前}} {{ok}}",
        )
    };
    let saved = h.save(&h.alice, input).await;
    assert_eq!(saved.tags, ["日本語", "ελληνικά"]);
    let got = h.db.get_prompt(&h.alice, "unicode").await.unwrap();
    assert_eq!(got, saved);
    assert!(
        got.content.contains("e\u{301} vs é"),
        "text is stored as given, not normalised"
    );
    let names: Vec<_> = got.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["ok"], "only ASCII names are placeholders");
    for q in [
        "résumé",
        "東京",
        "مرحبا",
        "#日本語",
        "#ελληνικά",
        "ΕΛΛΗΝΙΚΆ",
    ] {
        let found =
            h.db.search_prompts(&h.alice, crate::SearchQuery::new(q))
                .await
                .unwrap();
        assert_eq!(found.items.len(), 1, "query {q:?}");
    }
}
