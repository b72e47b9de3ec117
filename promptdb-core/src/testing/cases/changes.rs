use std::time::Duration;

use crate::{
    LabelTarget, PromptPatch, Variant,
    change::{ChangeKind, ChangePage},
    testing::{Harness, TestStore, assert_invalid, prompt},
};

type Row<'a> = (i64, ChangeKind, &'a str, Option<&'a str>, Option<u32>);

fn kinds(page: &ChangePage) -> Vec<Row<'_>> {
    page.changes
        .iter()
        .map(|c| {
            (
                c.seq,
                c.kind,
                c.slug.as_str(),
                c.label.as_deref(),
                c.version,
            )
        })
        .collect()
}

/// Versions, label moves and deletions are recorded in the writer's transaction, numbered per
/// user in commit order; a failed write records nothing; the feed pages, is per user, is purged
/// without reusing numbers, and a listener wakes on a commit.
pub async fn changes_are_recorded_in_commit_order(t: TestStore) {
    let h = Harness::new(t).await;
    let (a, b) = (&h.alice, &h.bob);
    let mut listener = h.db.listen_changes().await.unwrap();
    assert_eq!(h.db.changes(a, 0, 10).await.unwrap(), ChangePage::default());

    h.save(a, prompt("greet", "Greet", "v1")).await;
    // A listener set up before the commit wakes for it.
    let woke = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match listener.next().await.unwrap() {
                Some(c) if c.user == a.user_id() => {
                    assert_eq!(c.slug, "greet");
                    return true;
                }
                None => return true,
                Some(_) => {}
            }
        }
    })
    .await;
    assert_eq!(woke, Ok(true), "the listener never woke");
    h.db.update_prompt(
        a,
        "greet",
        PromptPatch {
            content: Some("v2".into()),
            ..PromptPatch::default()
        },
    )
    .await
    .unwrap();
    h.db.set_label(a, "greet", "production", LabelTarget::version(1))
        .await
        .unwrap();
    let split = LabelTarget::Split {
        split: vec![
            Variant {
                version: 1,
                weight: 50,
            },
            Variant {
                version: 2,
                weight: 50,
            },
        ],
    };
    h.db.set_label(a, "greet", "production", split)
        .await
        .unwrap();
    // A write that fails records nothing.
    assert!(
        h.db.save_prompts(a, vec![prompt("greet", "Again", "x")])
            .await
            .is_err()
    );
    h.db.remove_label(a, "greet", "production").await.unwrap();
    h.db.delete_prompt(a, "greet").await.unwrap();

    let all = h.db.changes(a, 0, 100).await.unwrap();
    use ChangeKind::*;
    assert_eq!(
        kinds(&all),
        vec![
            (1, VersionCreated, "greet", None, Some(1)),
            (2, VersionCreated, "greet", None, Some(2)),
            (3, LabelMoved, "greet", Some("production"), Some(1)),
            (4, LabelMoved, "greet", Some("production"), None),
            (5, LabelMoved, "greet", Some("production"), None),
            (6, PromptDeleted, "greet", None, None),
        ]
    );
    assert_eq!((all.head, all.oldest), (6, Some(1)));
    assert!(!all.is_gap(0) && !all.is_gap(6) && all.is_gap(7));
    let page = h.db.changes(a, 2, 2).await.unwrap();
    assert_eq!(
        page.changes.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(page.head, 6);

    // Another user's feed is their own and starts at 1.
    assert_eq!(h.db.changes(b, 0, 100).await.unwrap().head, 0);
    h.save(b, prompt("greet", "Bob's", "b")).await;
    let bobs = h.db.changes(b, 0, 100).await.unwrap();
    assert_eq!(
        kinds(&bobs),
        vec![(1, VersionCreated, "greet", None, Some(1))]
    );

    // Bad positions and limits are refused.
    assert_invalid(h.db.changes(a, -1, 10).await, "after");
    assert_invalid(h.db.changes(a, 0, 0).await, "limit");
    assert_invalid(h.db.changes(a, 0, 501).await, "limit");

    // Purged changes are gone, their numbers are not reused, and a client behind is told.
    h.clock.set(chrono::Utc::now() + chrono::Duration::days(30));
    assert!(h.db.sweep_expired().await.changes >= 7);
    let purged = h.db.changes(a, 0, 100).await.unwrap();
    assert_eq!(
        (purged.changes.len(), purged.head, purged.oldest),
        (0, 6, None)
    );
    assert!(purged.is_gap(0) && !purged.is_gap(6));
    h.save(a, prompt("again", "Again", "x")).await;
    let after = h.db.changes(a, 6, 100).await.unwrap();
    assert_eq!(
        kinds(&after),
        vec![(7, VersionCreated, "again", None, Some(1))]
    );
    assert!(after.is_gap(3) && !after.is_gap(6));
}
