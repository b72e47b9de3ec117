use chrono::Duration;

use crate::{
    DraftFields, DraftId, SaveDraft,
    testing::{Harness, TestStore, assert_not_found, prompt},
};

fn fields(name: &str) -> DraftFields {
    DraftFields {
        name: Some(name.into()),
        content: Some(format!("{name} body")),
        tags: Some(vec!["Draft".into()]),
        ..DraftFields::default()
    }
}

/// A draft can be created, read, listed, updated in place and discarded.
pub async fn drafts_save_get_list_delete(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("existing", "Existing", "x")).await;
    let created =
        h.db.save_draft(
            &h.alice,
            SaveDraft {
                prompt_slug: Some("existing".into()),
                fields: fields("one"),
                ..SaveDraft::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(created.created_at, h.clock_now());
    assert_eq!(created.expires_at, h.clock_now() + Duration::hours(24));
    assert_eq!(created.fields.tags, Some(vec!["draft".into()]));
    assert_eq!(
        created.prompt_slug.as_ref().map(|s| s.as_str()),
        Some("existing")
    );
    assert_eq!(h.db.get_draft(&h.alice, created.id).await.unwrap(), created);

    h.clock.advance(Duration::minutes(10));
    let second =
        h.db.save_draft(
            &h.alice,
            SaveDraft {
                fields: fields("two"),
                ..SaveDraft::default()
            },
        )
        .await
        .unwrap();
    h.clock.advance(Duration::minutes(10));
    let updated =
        h.db.save_draft(
            &h.alice,
            SaveDraft {
                id: Some(created.id),
                fields: fields("one, edited"),
                ..SaveDraft::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(updated.updated_at, h.clock_now());
    assert_eq!(updated.prompt_slug, None, "a save replaces the whole draft");
    let ids: Vec<DraftId> =
        h.db.list_drafts(&h.alice)
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
    assert_eq!(ids, [created.id, second.id], "most recently saved first");

    h.db.delete_draft(&h.alice, created.id).await.unwrap();
    assert_not_found(h.db.get_draft(&h.alice, created.id).await);
    assert_not_found(h.db.delete_draft(&h.alice, created.id).await);
    assert_eq!(h.db.list_drafts(&h.alice).await.unwrap().len(), 1);

    // A client may choose the id of a new draft (for example after an expiry).
    let chosen = DraftId::new();
    let d =
        h.db.save_draft(
            &h.alice,
            SaveDraft {
                id: Some(chosen),
                ..SaveDraft::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(d.id, chosen);
}

/// Drafts expire 24 hours after the last save, and each save resets the clock.
pub async fn drafts_expire_unless_touched(t: TestStore) {
    let h = Harness::new(t).await;
    let d =
        h.db.save_draft(
            &h.alice,
            SaveDraft {
                fields: fields("a"),
                ..SaveDraft::default()
            },
        )
        .await
        .unwrap();
    h.clock.advance(Duration::hours(23));
    assert!(h.db.get_draft(&h.alice, d.id).await.is_ok());
    let touched =
        h.db.save_draft(
            &h.alice,
            SaveDraft {
                id: Some(d.id),
                fields: fields("a2"),
                ..SaveDraft::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(touched.expires_at, h.clock_now() + Duration::hours(24));
    h.clock.advance(Duration::hours(23));
    assert_eq!(
        h.db.get_draft(&h.alice, d.id).await.unwrap().fields,
        fields("a2").validated().unwrap()
    );
    h.clock.advance(Duration::hours(1));
    assert_not_found(h.db.get_draft(&h.alice, d.id).await);
    assert!(h.db.list_drafts(&h.alice).await.unwrap().is_empty());
    assert_eq!(h.db.draft_summary(&h.alice).await.unwrap().count, 0);
    // Saving an expired draft's id again brings it back with a fresh expiry.
    let revived =
        h.db.save_draft(
            &h.alice,
            SaveDraft {
                id: Some(d.id),
                fields: fields("a3"),
                ..SaveDraft::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(revived.expires_at, h.clock_now() + Duration::hours(24));
    assert_eq!(h.db.list_drafts(&h.alice).await.unwrap().len(), 1);
}

/// The sweeper removes expired drafts of every user and nothing else.
pub async fn drafts_purge_removes_only_expired(t: TestStore) {
    let h = Harness::new(t).await;
    let old_alice =
        h.db.save_draft(&h.alice, SaveDraft::default())
            .await
            .unwrap();
    let old_bob = h.db.save_draft(&h.bob, SaveDraft::default()).await.unwrap();
    h.clock.advance(Duration::hours(12));
    let live_alice =
        h.db.save_draft(&h.alice, SaveDraft::default())
            .await
            .unwrap();
    let live_bob = h.db.save_draft(&h.bob, SaveDraft::default()).await.unwrap();
    assert_eq!(h.db.purge_expired_drafts().await.unwrap(), 0);
    h.clock.advance(Duration::hours(12));
    assert_eq!(h.db.purge_expired_drafts().await.unwrap(), 2);
    assert_eq!(h.db.purge_expired_drafts().await.unwrap(), 0);
    assert_not_found(h.db.get_draft(&h.alice, old_alice.id).await);
    assert_not_found(h.db.get_draft(&h.bob, old_bob.id).await);
    assert_eq!(
        h.db.get_draft(&h.alice, live_alice.id).await.unwrap().id,
        live_alice.id
    );
    assert_eq!(
        h.db.get_draft(&h.bob, live_bob.id).await.unwrap().id,
        live_bob.id
    );
}

/// The summary counts live drafts and reports the latest save and the next expiry.
pub async fn drafts_summary_counts_live_drafts(t: TestStore) {
    let h = Harness::new(t).await;
    let empty = h.db.draft_summary(&h.alice).await.unwrap();
    assert_eq!(
        (empty.count, empty.latest_update, empty.next_expiry),
        (0, None, None)
    );
    let first =
        h.db.save_draft(&h.alice, SaveDraft::default())
            .await
            .unwrap();
    h.clock.advance(Duration::hours(2));
    let second =
        h.db.save_draft(&h.alice, SaveDraft::default())
            .await
            .unwrap();
    h.db.save_draft(&h.bob, SaveDraft::default()).await.unwrap();
    let s = h.db.draft_summary(&h.alice).await.unwrap();
    assert_eq!(s.count, 2);
    assert_eq!(s.latest_update, Some(second.updated_at));
    assert_eq!(s.next_expiry, Some(first.expires_at));
    h.clock.advance(Duration::hours(23));
    let s = h.db.draft_summary(&h.alice).await.unwrap();
    assert_eq!((s.count, s.next_expiry), (1, Some(second.expires_at)));
}

/// A draft id is scoped to its owner: another user can neither read nor overwrite it.
pub async fn draft_ids_are_per_user(t: TestStore) {
    let h = Harness::new(t).await;
    let mine =
        h.db.save_draft(
            &h.alice,
            SaveDraft {
                fields: fields("mine"),
                ..SaveDraft::default()
            },
        )
        .await
        .unwrap();
    let hijack = SaveDraft {
        id: Some(mine.id),
        fields: fields("hijacked"),
        ..SaveDraft::default()
    };
    assert_not_found(h.db.save_draft(&h.bob, hijack).await);
    assert_eq!(h.db.get_draft(&h.alice, mine.id).await.unwrap(), mine);
    assert!(h.db.list_drafts(&h.bob).await.unwrap().is_empty());
}
