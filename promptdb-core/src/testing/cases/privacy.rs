use serde_json::json;

use crate::{
    EXPORT_FORMAT, Error, ListQuery, NewPrompt, PromptPatch, SaveDraft, SearchQuery,
    testing::{Harness, TestStore, assert_not_found, prompt},
};

async fn fill(h: &Harness, who: &crate::Principal, word: &str) {
    h.db.save_prompts(
        who,
        vec![
            NewPrompt {
                tags: vec![word.into()],
                ..prompt("first", "First", &format!("{word} one"))
            },
            prompt("second", "Second", &format!("{word} two")),
        ],
    )
    .await
    .unwrap();
    h.db.update_prompt(
        who,
        "first",
        PromptPatch {
            content: Some(format!("{word} one, revised")),
            ..PromptPatch::default()
        },
    )
    .await
    .unwrap();
    h.db.save_draft(who, SaveDraft::default()).await.unwrap();
    let serde_json::Value::Object(prefs) = json!({"theme": "dark", "word": word}) else {
        unreachable!()
    };
    h.db.set_preferences(who, prefs).await.unwrap();
}

/// The export holds every prompt with its history, the drafts, the preferences and the user.
pub async fn export_contains_everything(t: TestStore) {
    let h = Harness::new(t).await;
    fill(&h, &h.alice, "alpaca").await;
    fill(&h, &h.bob, "bison").await;
    let export = h.db.export_user(&h.alice).await.unwrap();
    assert_eq!(export.format, EXPORT_FORMAT);
    assert_eq!(export.user, h.alice_user);
    let slugs: Vec<_> = export
        .prompts
        .iter()
        .map(|p| p.prompt.slug.as_str())
        .collect();
    assert_eq!(slugs, ["first", "second"]);
    let first = &export.prompts[0];
    assert_eq!(
        first.prompt,
        h.db.get_prompt(&h.alice, "first").await.unwrap()
    );
    let versions: Vec<_> = first
        .versions
        .iter()
        .map(|v| (v.version, v.content.as_str()))
        .collect();
    assert_eq!(versions, [(1, "alpaca one"), (2, "alpaca one, revised")]);
    assert_eq!(export.drafts.len(), 1);
    assert_eq!(export.preferences.get("word"), Some(&json!("alpaca")));
    let text = serde_json::to_string(&export).unwrap();
    assert!(
        !text.contains("bison"),
        "nothing of another user's leaks into an export"
    );
    let back: crate::Export = serde_json::from_str(&text).unwrap();
    assert_eq!(back, export);
}

/// Deleting a user removes every row the user owns and nothing of anyone else's.
pub async fn delete_user_removes_everything(t: TestStore) {
    let h = Harness::new(t).await;
    fill(&h, &h.alice, "alpaca").await;
    fill(&h, &h.bob, "alpaca").await;
    let bob_before = h.db.export_user(&h.bob).await.unwrap();
    h.db.delete_user(&h.alice).await.unwrap();

    assert_not_found(h.db.me(&h.alice).await);
    assert_not_found(h.db.export_user(&h.alice).await);
    assert_not_found(h.db.get_prompt(&h.alice, "first").await);
    assert!(
        h.db.list_prompts(&h.alice, ListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        h.db.search_prompts(&h.alice, SearchQuery::new("alpaca"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(h.db.list_tags(&h.alice).await.unwrap().is_empty());
    assert!(h.db.list_drafts(&h.alice).await.unwrap().is_empty());
    assert!(h.db.preferences(&h.alice).await.unwrap().0.is_empty());
    assert_not_found(h.db.prompt_versions(&h.alice, "first", None, None).await);
    assert_not_found(h.db.delete_user(&h.alice).await);
    // Writes for a deleted user fail cleanly instead of resurrecting rows.
    let write =
        h.db.save_prompts(&h.alice, vec![prompt("again", "Again", "x")])
            .await;
    assert!(
        matches!(write, Err(Error::NotFound { what: "user", .. })),
        "{write:?}"
    );

    let mut bob_after = h.db.export_user(&h.bob).await.unwrap();
    bob_after.exported_at = bob_before.exported_at;
    assert_eq!(bob_after, bob_before);
    let found =
        h.db.search_prompts(&h.bob, SearchQuery::new("alpaca"))
            .await
            .unwrap();
    assert_eq!(found.items.len(), 2);
}

/// Setting preferences merges keys; `null` removes one; reads return what was set.
pub async fn preferences_merge_and_remove(t: TestStore) {
    let h = Harness::new(t).await;
    assert!(h.db.preferences(&h.alice).await.unwrap().0.is_empty());
    let set = |v: serde_json::Value| {
        let serde_json::Value::Object(map) = v else {
            unreachable!()
        };
        h.db.set_preferences(&h.alice, map)
    };
    set(json!({"theme": "dark", "default_limit": 50, "editor.font": {"size": 14}}))
        .await
        .unwrap();
    let merged = set(json!({"theme": "light", "default_limit": null}))
        .await
        .unwrap();
    let expected = json!({"theme": "light", "editor.font": {"size": 14}});
    assert_eq!(serde_json::Value::Object(merged.0), expected);
    let read = h.db.preferences(&h.alice).await.unwrap();
    assert_eq!(serde_json::Value::Object(read.0), expected);
    set(json!({"never-set": null})).await.unwrap();
    assert_eq!(
        serde_json::Value::Object(h.db.preferences(&h.alice).await.unwrap().0),
        expected
    );
}

/// An export comes in pages of `EXPORT_PAGE` prompts in slug order, each prompt whole (every
/// version, its labels) also at a page's edge; the pages add up to the whole export, and hold
/// only the caller's prompts.
pub async fn export_comes_in_pages_that_add_up(t: TestStore) {
    use crate::{EXPORT_PAGE, LabelTarget};
    let h = Harness::new(t).await;
    let total = EXPORT_PAGE * 2 + EXPORT_PAGE / 2;
    let slugs: Vec<String> = (0..total).map(|i| format!("p-{i:04}")).collect();
    for chunk in slugs.chunks(100) {
        let batch = chunk.iter().map(|s| prompt(s, s, "v1")).collect();
        h.db.save_prompts(&h.alice, batch).await.unwrap();
    }
    h.db.save_prompts(&h.bob, vec![prompt("bobs", "Bob's", "x")])
        .await
        .unwrap();
    let edge = [&slugs[EXPORT_PAGE - 1], &slugs[EXPORT_PAGE]];
    for s in edge {
        let patch = PromptPatch {
            content: Some("v2".into()),
            ..PromptPatch::default()
        };
        h.db.update_prompt(&h.alice, s, patch).await.unwrap();
    }
    h.db.set_label(&h.alice, edge[1], "staging", LabelTarget::version(1))
        .await
        .unwrap();

    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = h.db.export_page(&h.alice, after.as_deref()).await.unwrap();
        assert!(page.len() <= EXPORT_PAGE);
        after = page.last().map(|p| p.prompt.slug.to_string());
        let last = page.len() < EXPORT_PAGE;
        pages.push(page);
        if last {
            break;
        }
    }
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [EXPORT_PAGE, EXPORT_PAGE, EXPORT_PAGE / 2]
    );
    let all: Vec<_> = pages.into_iter().flatten().collect();
    let got: Vec<&str> = all.iter().map(|p| p.prompt.slug.as_str()).collect();
    assert_eq!(got, slugs, "every prompt once, in slug order");
    for p in &all {
        let edited = edge.contains(&&p.prompt.slug.to_string());
        assert_eq!(
            p.versions.len(),
            if edited { 2 } else { 1 },
            "{}",
            p.prompt.slug
        );
        assert_eq!(p.versions[0].content, "v1");
    }
    let labelled = &all[EXPORT_PAGE];
    assert_eq!(labelled.labels.len(), 1);
    assert_eq!(labelled.labels[0].name, "staging");
    assert_eq!(labelled.label_moves.len(), 1);
    assert_eq!(labelled.versions[0].labels, ["staging"]);
    let whole = h.db.export_user(&h.alice).await.unwrap();
    assert_eq!(whole.prompts, all, "the pages add up to the export");
    assert_eq!(
        h.db.export_page(&h.alice, Some(&slugs[total - 1]))
            .await
            .unwrap()
            .len(),
        0
    );
    let bobs = h.db.export_page(&h.bob, None).await.unwrap();
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].prompt.slug.as_str(), "bobs");
}
