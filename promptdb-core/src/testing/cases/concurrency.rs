use std::collections::HashSet;

use futures::future::join_all;

use crate::{
    Error, PromptPatch,
    testing::{Harness, TestStore, prompt},
};

/// Concurrent edits and uses of one prompt: every edit gets its own version, every use counts.
pub async fn concurrent_updates_lose_nothing(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("hot", "Hot", "v0")).await;
    const EDITS: u32 = 20;
    const USES: u64 = 30;
    let mut tasks = Vec::new();
    for i in 0..EDITS {
        let (db, who) = (h.db.clone(), h.alice.clone());
        tasks.push(tokio::spawn(async move {
            let patch = PromptPatch {
                content: Some(format!("edit {i}")),
                ..PromptPatch::default()
            };
            db.update_prompt(&who, "hot", patch).await.map(|_| ())
        }));
    }
    for _ in 0..USES {
        let (db, who) = (h.db.clone(), h.alice.clone());
        tasks.push(tokio::spawn(async move {
            db.track_prompt_use(&who, "hot", None).await.map(|_| ())
        }));
    }
    for r in join_all(tasks).await {
        r.expect("task panicked").expect("concurrent write failed");
    }
    let p = h.db.get_prompt(&h.alice, "hot").await.unwrap();
    assert_eq!(p.version, EDITS + 1);
    assert_eq!(p.usage_count, USES);
    let history =
        h.db.prompt_versions(&h.alice, "hot", Some(100), None)
            .await
            .unwrap();
    let numbers: Vec<u32> = history.items.iter().map(|v| v.version).collect();
    assert_eq!(numbers, (1..=EDITS + 1).rev().collect::<Vec<_>>());
    let contents: HashSet<&str> = history.items.iter().map(|v| v.content.as_str()).collect();
    assert_eq!(
        contents.len(),
        (EDITS + 1) as usize,
        "every edit is its own version"
    );
    assert_eq!(history.items[0].content, p.content);
}

/// Racing saves of one slug: exactly one wins, the rest conflict.
pub async fn concurrent_saves_of_one_slug_conflict(t: TestStore) {
    let h = Harness::new(t).await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (db, who) = (h.db.clone(), h.alice.clone());
        tasks.push(tokio::spawn(async move {
            db.save_prompts(&who, vec![prompt("race", "Race", &format!("writer {i}"))])
                .await
        }));
    }
    let mut won = 0;
    for r in join_all(tasks).await {
        match r.expect("task panicked") {
            Ok(_) => won += 1,
            Err(Error::Conflict { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        h.db.prompt_versions(&h.alice, "race", None, None)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}
