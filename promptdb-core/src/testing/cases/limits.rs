use serde_json::{Map, Value, json};

use crate::{
    Config, DraftFields, ListQuery, NewPrompt, PromptPatch, SaveDraft, Variable, VersionsToDelete,
    testing::{Harness, TestStore, assert_invalid, assert_quota, prompt},
    validate::{
        MAX_CONTENT_CHARS, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_PREFERENCES_BYTES,
        MAX_SLUG_LEN, MAX_TAG_CHARS, MAX_TAGS, MAX_VARIABLE_DEFAULT_CHARS, MAX_VARIABLES,
    },
};

/// Asserts that saving `p` fails on `field` and leaves the library empty.
async fn rejects(h: &Harness, p: NewPrompt, field: &str) {
    assert_invalid(h.db.save_prompts(&h.alice, vec![p]).await, field);
    let page =
        h.db.list_prompts(&h.alice, ListQuery::default())
            .await
            .unwrap();
    assert!(page.items.is_empty(), "a rejected save must write nothing");
}

/// Accepts `p` (at the limit), then deletes it again.
async fn accepts(h: &Harness, p: NewPrompt) -> crate::Prompt {
    let saved = h.save(&h.alice, p).await;
    assert_eq!(
        h.db.get_prompt(&h.alice, saved.slug.as_str())
            .await
            .unwrap(),
        saved
    );
    h.db.delete_prompt(&h.alice, saved.slug.as_str())
        .await
        .unwrap();
    saved
}

/// Slugs: length and shape.
pub async fn limits_slug(t: TestStore) {
    let h = Harness::new(t).await;
    accepts(&h, prompt(&"a".repeat(MAX_SLUG_LEN), "x", "x")).await;
    rejects(
        &h,
        prompt(&"a".repeat(MAX_SLUG_LEN + 1), "x", "x"),
        "prompts[0].slug",
    )
    .await;
    for bad in [
        "",
        "UPPER",
        "with space",
        "under_score",
        "-lead",
        "trail-",
        "dou--ble",
        "ünï",
        "/a",
        "a/",
        "a//b",
        "a/-b",
        "a/b/c/d/e/f/g",
    ] {
        rejects(&h, prompt(bad, "x", "x"), "prompts[0].slug").await;
    }
    // Folders: up to five deep.
    accepts(&h, prompt("a/b/c/d/e/f", "x", "x")).await;
}

/// Names: one line, bounded; descriptions bounded.
pub async fn limits_name_and_description(t: TestStore) {
    let h = Harness::new(t).await;
    accepts(&h, prompt("n", &"é".repeat(MAX_NAME_CHARS), "x")).await;
    rejects(
        &h,
        prompt("n", &"é".repeat(MAX_NAME_CHARS + 1), "x"),
        "prompts[0].name",
    )
    .await;
    rejects(&h, prompt("n", "   ", "x"), "prompts[0].name").await;
    rejects(&h, prompt("n", "two\nlines", "x"), "prompts[0].name").await;
    let with_description = |d: String| NewPrompt {
        description: d,
        ..prompt("d", "x", "x")
    };
    accepts(&h, with_description("ü".repeat(MAX_DESCRIPTION_CHARS))).await;
    rejects(
        &h,
        with_description("ü".repeat(MAX_DESCRIPTION_CHARS + 1)),
        "prompts[0].description",
    )
    .await;
    rejects(
        &h,
        with_description("bell \u{7}".into()),
        "prompts[0].description",
    )
    .await;
}

/// Content: non-empty, bounded in bytes, no stray control characters.
pub async fn limits_content(t: TestStore) {
    let h = Harness::new(t).await;
    let big = "x".repeat(MAX_CONTENT_CHARS);
    let saved = accepts(&h, prompt("big", "Big", &big)).await;
    assert_eq!(saved.content.len(), MAX_CONTENT_CHARS);
    rejects(
        &h,
        prompt("big", "Big", &format!("{big}x")),
        "prompts[0].content",
    )
    .await;
    rejects(&h, prompt("big", "Big", ""), "prompts[0].content").await;
    rejects(
        &h,
        prompt("big", "Big", "nul \u{0} inside"),
        "prompts[0].content",
    )
    .await;
    accepts(&h, prompt("ok", "Ok", "tabs\tand\r\nnewlines")).await;
}

/// Tags: count, length, shape.
pub async fn limits_tags(t: TestStore) {
    let h = Harness::new(t).await;
    let tagged = |tags: Vec<String>| NewPrompt {
        tags,
        ..prompt("t", "x", "x")
    };
    accepts(&h, tagged((0..MAX_TAGS).map(|i| format!("t{i}")).collect())).await;
    rejects(
        &h,
        tagged((0..=MAX_TAGS).map(|i| format!("t{i}")).collect()),
        "prompts[0].tags",
    )
    .await;
    accepts(&h, tagged(vec!["t".repeat(MAX_TAG_CHARS)])).await;
    rejects(
        &h,
        tagged(vec!["ok".into(), "t".repeat(MAX_TAG_CHARS + 1)]),
        "prompts[0].tags[1]",
    )
    .await;
    rejects(&h, tagged(vec!["has space".into()]), "prompts[0].tags[0]").await;
    rejects(&h, tagged(vec!["".into()]), "prompts[0].tags[0]").await;
}

/// Variables: count (declared plus placeholders), names, duplicates, default size.
pub async fn limits_variables(t: TestStore) {
    let h = Harness::new(t).await;
    let v = |name: &str| Variable {
        name: name.into(),
        description: String::new(),
        required: true,
        default: None,
    };
    let with_vars = |vars: Vec<Variable>, content: &str| NewPrompt {
        variables: vars,
        ..prompt("v", "x", content)
    };
    accepts(
        &h,
        with_vars(
            (0..MAX_VARIABLES).map(|i| v(&format!("v{i}"))).collect(),
            "x",
        ),
    )
    .await;
    rejects(
        &h,
        with_vars(
            (0..=MAX_VARIABLES).map(|i| v(&format!("v{i}"))).collect(),
            "x",
        ),
        "prompts[0].variables",
    )
    .await;
    let placeholders: String = (0..=MAX_VARIABLES)
        .map(|i| format!("{{{{p{i}}}}}"))
        .collect();
    rejects(&h, with_vars(vec![], &placeholders), "prompts[0].variables").await;
    rejects(
        &h,
        with_vars(vec![v("ok"), v("not-ok")], "x"),
        "prompts[0].variables[1].name",
    )
    .await;
    rejects(
        &h,
        with_vars(vec![v("dup"), v("dup")], "x"),
        "prompts[0].variables[1].name",
    )
    .await;
    let long_default = Variable {
        default: Some("d".repeat(MAX_VARIABLE_DEFAULT_CHARS + 1)),
        ..v("d")
    };
    rejects(
        &h,
        with_vars(vec![long_default], "x"),
        "prompts[0].variables[0].default",
    )
    .await;
}

/// Batches: at least one, at most 100.
pub async fn limits_batch(t: TestStore) {
    let h = Harness::new(t).await;
    assert_invalid(h.db.save_prompts(&h.alice, vec![]).await, "prompts");
    let batch = |n: usize| {
        (0..n)
            .map(|i| prompt(&format!("p{i}"), "x", "x"))
            .collect::<Vec<_>>()
    };
    assert_invalid(h.db.save_prompts(&h.alice, batch(101)).await, "prompts");
    assert!(
        h.db.list_prompts(&h.alice, ListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        h.db.save_prompts(&h.alice, batch(100)).await.unwrap().len(),
        100
    );
}

/// Prompts, versions per prompt and stored bytes are per-user quotas: the write that would pass
/// one is refused with `quota_exceeded` naming it, writes nothing, and room made by deleting
/// counts at once.
pub async fn limits_quotas(t: TestStore) {
    let config = Config {
        max_prompts_per_user: 3,
        max_versions_per_prompt: 3,
        max_stored_bytes_per_user: 20_000,
        ..Config::default()
    };
    let h = Harness::with_config(t, config).await;
    let db = &h.db;
    let count = |p| async move {
        db.list_prompts(p, ListQuery::default())
            .await
            .unwrap()
            .items
            .len()
    };
    h.db.save_prompts(&h.alice, vec![prompt("a", "A", "x"), prompt("b", "B", "x")])
        .await
        .unwrap();
    assert_quota(
        h.db.save_prompts(&h.alice, vec![prompt("c", "C", "x"), prompt("d", "D", "x")])
            .await,
        "prompts",
    );
    assert_eq!(count(&h.alice).await, 2, "a refused batch writes nothing");
    h.db.save_prompts(&h.alice, vec![prompt("c", "C", "x")])
        .await
        .unwrap();
    assert_quota(
        h.db.save_prompts(&h.alice, vec![prompt("d", "D", "x")])
            .await,
        "prompts",
    );
    h.db.save_prompts(&h.bob, vec![prompt("d", "D", "x")])
        .await
        .unwrap();

    // Versions: three kept, then no fourth; pinning makes no version and still works.
    let edit = |content: &str| PromptPatch {
        content: Some(content.into()),
        ..PromptPatch::default()
    };
    h.db.update_prompt(&h.alice, "a", edit("x2")).await.unwrap();
    h.db.update_prompt(&h.alice, "a", edit("x3")).await.unwrap();
    assert_quota(
        h.db.update_prompt(&h.alice, "a", edit("x4")).await,
        "versions",
    );
    assert_quota(
        h.db.restore_version(&h.alice, "a", 1, None).await,
        "versions",
    );
    let pin = PromptPatch {
        pinned: Some(true),
        ..PromptPatch::default()
    };
    assert_eq!(
        h.db.update_prompt(&h.alice, "a", pin)
            .await
            .unwrap()
            .version,
        3
    );
    h.db.delete_versions(&h.alice, "a", VersionsToDelete::Version(1))
        .await
        .unwrap();
    assert_eq!(
        h.db.update_prompt(&h.alice, "a", edit("x4"))
            .await
            .unwrap()
            .version,
        4,
        "deleting a version makes room"
    );

    // Stored bytes, counted over every version.
    h.db.delete_prompt(&h.alice, "b").await.unwrap();
    let big = "y".repeat(12_000);
    h.db.save_prompts(&h.alice, vec![prompt("big", "Big", &big)])
        .await
        .unwrap();
    assert_quota(
        h.db.update_prompt(&h.alice, "big", edit(&"z".repeat(9_000)))
            .await,
        "stored_bytes",
    );
    assert_eq!(
        h.db.get_prompt(&h.alice, "big").await.unwrap().content,
        big,
        "a refused edit changes nothing"
    );
    h.db.delete_prompt(&h.alice, "big").await.unwrap();
    h.db.save_prompts(&h.alice, vec![prompt("big", "Big", &"z".repeat(15_000))])
        .await
        .unwrap();
    // Bob has an allowance of his own.
    h.db.save_prompts(&h.bob, vec![prompt("e", "E", &"w".repeat(15_000))])
        .await
        .unwrap();
}

/// Drafts: per-user count, and the same field limits as prompts.
pub async fn limits_drafts(t: TestStore) {
    let config = Config {
        max_drafts_per_user: 3,
        ..Config::default()
    };
    let h = Harness::with_config(t, config).await;
    let mut first = None;
    for _ in 0..3 {
        let d =
            h.db.save_draft(&h.alice, SaveDraft::default())
                .await
                .unwrap();
        first.get_or_insert(d.id);
    }
    assert_quota(
        h.db.save_draft(&h.alice, SaveDraft::default()).await,
        "drafts",
    );
    // Updating an existing draft is still fine at the limit, and Bob has his own allowance.
    let update = SaveDraft {
        id: first,
        ..SaveDraft::default()
    };
    h.db.save_draft(&h.alice, update).await.unwrap();
    h.db.save_draft(&h.bob, SaveDraft::default()).await.unwrap();
    assert_eq!(h.db.list_drafts(&h.alice).await.unwrap().len(), 3);

    let with = |fields: DraftFields| SaveDraft {
        id: first,
        fields,
        ..SaveDraft::default()
    };
    let cases = [
        (
            DraftFields {
                content: Some("x".repeat(MAX_CONTENT_CHARS + 1)),
                ..DraftFields::default()
            },
            "fields.content",
        ),
        (
            DraftFields {
                name: Some("n".repeat(MAX_NAME_CHARS + 1)),
                ..DraftFields::default()
            },
            "fields.name",
        ),
        (
            DraftFields {
                tags: Some(vec!["bad tag".into()]),
                ..DraftFields::default()
            },
            "fields.tags[0]",
        ),
        (
            DraftFields {
                slug: Some("s".repeat(MAX_SLUG_LEN + 1)),
                ..DraftFields::default()
            },
            "fields.slug",
        ),
    ];
    for (fields, field) in cases {
        assert_invalid(h.db.save_draft(&h.alice, with(fields)).await, field);
    }
    let bad_slug = SaveDraft {
        prompt_slug: Some("Not A Slug".into()),
        ..SaveDraft::default()
    };
    assert_invalid(h.db.save_draft(&h.alice, bad_slug).await, "prompt_slug");
    let d = h.db.get_draft(&h.alice, first.unwrap()).await.unwrap();
    assert_eq!(
        d.fields,
        DraftFields::default(),
        "rejected saves leave the draft alone"
    );
}

/// Preferences: key shape, known values, size.
pub async fn limits_preferences(t: TestStore) {
    let h = Harness::new(t).await;
    let set = |v: Value| {
        let Value::Object(map) = v else {
            unreachable!()
        };
        h.db.set_preferences(&h.alice, map)
    };
    set(json!({"theme": "dark"})).await.unwrap();
    assert_invalid(set(json!({"theme": "purple"})).await, "preferences.theme");
    assert_invalid(
        set(json!({"default_limit": 0})).await,
        "preferences.default_limit",
    );
    assert_invalid(set(json!({"Bad Key": 1})).await, "preferences.Bad Key");
    let mut many = Map::new();
    for i in 0..65 {
        many.insert(format!("k{i}"), json!(i));
    }
    assert_invalid(h.db.set_preferences(&h.alice, many).await, "preferences");
    assert_invalid(
        set(json!({"blob": "x".repeat(MAX_PREFERENCES_BYTES)})).await,
        "preferences",
    );
    let prefs = h.db.preferences(&h.alice).await.unwrap();
    assert_eq!(
        Value::Object(prefs.0),
        json!({"theme": "dark"}),
        "rejected sets change nothing"
    );
}
