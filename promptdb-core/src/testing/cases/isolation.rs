use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::slugs;
use crate::{
    Filters, ListQuery, NewPrompt, PromptPatch, SaveDraft, SearchQuery,
    testing::{Harness, TestStore, assert_not_found, prompt},
};

/// Alice owns `shared` and `private`; Bob owns his own `shared`.
async fn two_libraries(h: &Harness) {
    h.db.save_prompts(
        &h.alice,
        vec![
            NewPrompt {
                tags: vec!["alice-tag".into(), "common".into()],
                ..prompt("shared", "Alice shared", "walrus secret of alice {{x}}")
            },
            NewPrompt {
                tags: vec!["alice-tag".into()],
                pinned: true,
                ..prompt("private", "Alice private", "walrus private words")
            },
        ],
    )
    .await
    .unwrap();
    h.save(
        &h.bob,
        NewPrompt {
            tags: vec!["common".into()],
            ..prompt("shared", "Bob shared", "walrus of bob")
        },
    )
    .await;
}

/// Reads see only the caller's prompts, even under the same slug.
pub async fn isolation_get_list_search(t: TestStore) {
    let h = Harness::new(t).await;
    two_libraries(&h).await;
    assert_eq!(
        h.db.get_prompt(&h.bob, "shared").await.unwrap().name,
        "Bob shared"
    );
    assert_eq!(
        h.db.get_prompt(&h.alice, "shared").await.unwrap().name,
        "Alice shared"
    );
    assert_not_found(h.db.get_prompt(&h.bob, "private").await);

    let bob_list =
        h.db.list_prompts(&h.bob, ListQuery::default())
            .await
            .unwrap();
    assert_eq!(slugs(&bob_list), ["shared"]);
    let by_tag = ListQuery {
        filters: Filters {
            tags: vec!["alice-tag".into()],
            ..Filters::default()
        },
        ..ListQuery::default()
    };
    assert!(
        h.db.list_prompts(&h.bob, by_tag)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let pinned = ListQuery {
        filters: Filters {
            pinned: Some(true),
            ..Filters::default()
        },
        ..ListQuery::default()
    };
    assert!(
        h.db.list_prompts(&h.bob, pinned)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let found =
        h.db.search_prompts(&h.bob, SearchQuery::new("walrus"))
            .await
            .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].name, "Bob shared");
    for q in ["secret", "alice", "private", "#alice-tag"] {
        let r =
            h.db.search_prompts(&h.bob, SearchQuery::new(q))
                .await
                .unwrap();
        assert!(r.items.is_empty(), "bob found alice's prompt with {q:?}");
    }
    // A cursor from Alice's list shows Bob nothing of Alice's.
    let cursor =
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
        .unwrap();
    let with_cursor = ListQuery {
        cursor: Some(cursor),
        ..ListQuery::default()
    };
    let page = h.db.list_prompts(&h.bob, with_cursor).await.unwrap();
    assert!(page.items.iter().all(|p| p.name.starts_with("Bob")));
}

/// Writes to another user's slug never reach the other user's prompt.
pub async fn isolation_update_delete_track(t: TestStore) {
    let h = Harness::new(t).await;
    two_libraries(&h).await;
    let before = h.db.get_prompt(&h.alice, "private").await.unwrap();
    let patch = PromptPatch {
        content: Some("defaced".into()),
        ..PromptPatch::default()
    };
    assert_not_found(h.db.update_prompt(&h.bob, "private", patch.clone()).await);
    assert_not_found(h.db.delete_prompt(&h.bob, "private").await);
    assert_not_found(h.db.track_prompt_use(&h.bob, "private", None).await);
    assert_eq!(h.db.get_prompt(&h.alice, "private").await.unwrap(), before);

    // Same slug: each change lands in the caller's own prompt only.
    let alice_shared = h.db.get_prompt(&h.alice, "shared").await.unwrap();
    h.db.update_prompt(&h.bob, "shared", patch).await.unwrap();
    h.db.track_prompt_use(&h.bob, "shared", None).await.unwrap();
    assert_eq!(
        h.db.get_prompt(&h.alice, "shared").await.unwrap(),
        alice_shared
    );
    h.db.delete_prompt(&h.bob, "shared").await.unwrap();
    assert_eq!(
        h.db.get_prompt(&h.alice, "shared").await.unwrap(),
        alice_shared
    );
}

/// Versions, tags and rendering are per user.
pub async fn isolation_versions_tags_render(t: TestStore) {
    let h = Harness::new(t).await;
    two_libraries(&h).await;
    assert_not_found(h.db.prompt_versions(&h.bob, "private", None, None).await);
    assert_not_found(h.db.prompt_version(&h.bob, "private", 1).await);
    let bob_versions =
        h.db.prompt_versions(&h.bob, "shared", None, None)
            .await
            .unwrap();
    assert_eq!(bob_versions.items.len(), 1);
    assert_eq!(bob_versions.items[0].content, "walrus of bob");

    let tags: Vec<_> =
        h.db.list_tags(&h.bob)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.tag, t.count))
            .collect();
    assert_eq!(tags, [("common".to_owned(), 1)]);

    let values: BTreeMap<String, String> = BTreeMap::new();
    assert_not_found(h.db.render_prompt(&h.bob, "private", &values).await);
    assert_eq!(
        h.db.render_prompt(&h.bob, "shared", &values)
            .await
            .unwrap()
            .text,
        "walrus of bob"
    );
}

/// Drafts are per user: listing, reading, deleting and summarising.
pub async fn isolation_drafts(t: TestStore) {
    let h = Harness::new(t).await;
    let alice_draft =
        h.db.save_draft(&h.alice, SaveDraft::default())
            .await
            .unwrap();
    assert_not_found(h.db.get_draft(&h.bob, alice_draft.id).await);
    assert_not_found(h.db.delete_draft(&h.bob, alice_draft.id).await);
    assert!(h.db.list_drafts(&h.bob).await.unwrap().is_empty());
    assert_eq!(h.db.draft_summary(&h.bob).await.unwrap().count, 0);
    assert_eq!(
        h.db.get_draft(&h.alice, alice_draft.id).await.unwrap(),
        alice_draft
    );
}

/// Preferences and exports are per user.
pub async fn isolation_preferences_and_export(t: TestStore) {
    let h = Harness::new(t).await;
    two_libraries(&h).await;
    let Value::Object(prefs) = json!({"theme": "light", "secret": "alice"}) else {
        unreachable!()
    };
    h.db.set_preferences(&h.alice, prefs).await.unwrap();
    assert!(h.db.preferences(&h.bob).await.unwrap().0.is_empty());
    let Value::Object(bob_prefs) = json!({"theme": "dark"}) else {
        unreachable!()
    };
    h.db.set_preferences(&h.bob, bob_prefs).await.unwrap();
    assert_eq!(
        h.db.preferences(&h.alice).await.unwrap().get("theme"),
        Some(&json!("light"))
    );
    let export = serde_json::to_string(&h.db.export_user(&h.bob).await.unwrap()).unwrap();
    assert!(
        !export.contains("alice") && !export.contains("Alice"),
        "{export}"
    );
}

/// A read-only principal reads but never writes.
pub async fn read_only_principal_cannot_write(t: TestStore) {
    use crate::{Principal, testing::assert_forbidden};
    let h = Harness::new(t).await;
    two_libraries(&h).await;
    let draft =
        h.db.save_draft(&h.alice, SaveDraft::default())
            .await
            .unwrap();
    let ro = Principal::read_only(h.alice.user_id());
    assert_eq!(
        h.db.get_prompt(&ro, "private").await.unwrap().name,
        "Alice private"
    );
    assert!(
        !h.db
            .list_prompts(&ro, ListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    h.db.export_user(&ro).await.unwrap();

    assert_forbidden(
        h.db.save_prompts(&ro, vec![prompt("new", "New", "x")])
            .await,
    );
    let patch = PromptPatch {
        name: Some("x".into()),
        ..PromptPatch::default()
    };
    assert_forbidden(h.db.update_prompt(&ro, "private", patch).await);
    assert_forbidden(h.db.delete_prompt(&ro, "private").await);
    assert_forbidden(h.db.track_prompt_use(&ro, "private", None).await);
    assert_forbidden(h.db.save_draft(&ro, SaveDraft::default()).await);
    assert_forbidden(h.db.delete_draft(&ro, draft.id).await);
    assert_forbidden(h.db.set_preferences(&ro, serde_json::Map::new()).await);
    assert_forbidden(h.db.delete_user(&ro).await);
    assert_eq!(
        h.db.get_prompt(&h.alice, "private")
            .await
            .unwrap()
            .usage_count,
        0
    );
    assert_not_found(h.db.get_prompt(&h.alice, "new").await);
    assert!(h.db.me(&h.alice).await.is_ok());
}
