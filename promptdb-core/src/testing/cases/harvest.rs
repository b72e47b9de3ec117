use chrono::Duration;

use crate::{
    Config, Principal,
    harvest::{AcceptCandidate, CandidateStatus, NewCandidate, Origin, Submission},
    testing::{
        Harness, TestStore, assert_conflict, assert_forbidden, assert_invalid, assert_not_found,
        assert_quota, prompt,
    },
};

fn candidate(name: &str, content: &str) -> NewCandidate {
    NewCandidate {
        name: name.into(),
        content: content.into(),
        description: "Found in a conversation".into(),
        reason: "Used in 3 sessions.".into(),
        excerpt: content.into(),
        tags: vec!["Harvested".into()],
        ..NewCandidate::default()
    }
}

fn submission(candidates: Vec<NewCandidate>) -> Submission {
    Submission {
        origin: Origin::ClaudeCode,
        source: "session logs".into(),
        candidates,
    }
}

/// Candidates are queued, listed best first, accepted as new prompts or dismissed, and a later
/// harvest of the same prompts does not bring reviewed ones back.
pub async fn harvest_queue_accept_and_dismiss(t: TestStore) {
    let h = Harness::new(t).await;
    let low = NewCandidate {
        score: Some(0.6),
        ..candidate(
            "Explain an error",
            "Explain this error and suggest a fix:\n{{error}}",
        )
    };
    let high = NewCandidate {
        score: Some(0.9),
        occurrences: Some(5),
        sessions: Some(4),
        ..candidate(
            "Lifetime review",
            "Review this Rust code for lifetime bugs:\n{{code}}",
        )
    };
    let done =
        h.db.submit_candidates(&h.alice, submission(vec![low, high]))
            .await
            .unwrap();
    assert_eq!(done.added.len(), 2);
    assert!(done.merged.is_empty());
    let first = &done.added[0];
    assert_eq!(first.slug.as_str(), "explain-an-error");
    assert_eq!(first.tags, ["harvested"]);
    assert_eq!(first.origin, Origin::ClaudeCode);
    assert_eq!(first.status, CandidateStatus::Pending);
    assert_eq!(first.expires_at, h.clock_now() + Duration::days(30));

    let queue = h.db.list_candidates(&h.alice, None, None).await.unwrap();
    let names: Vec<_> = queue.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Lifetime review", "Explain an error"]);
    assert_eq!(queue[0].occurrences, 5);
    assert_eq!(h.db.pending_candidates(&h.alice).await.unwrap(), 2);
    assert!(
        h.db.list_candidates(&h.bob, None, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(h.db.get_candidate(&h.bob, queue[0].id).await);

    // Accepting saves a prompt with the caller's edits; the candidate leaves the queue.
    let accepted =
        h.db.accept_candidate(
            &h.alice,
            queue[0].id,
            AcceptCandidate {
                slug: Some("rust/lifetimes".into()),
                ..AcceptCandidate::default()
            },
        )
        .await
        .unwrap();
    assert!(accepted.created);
    assert_eq!(accepted.prompt.slug.as_str(), "rust/lifetimes");
    assert_eq!(accepted.prompt.name, "Lifetime review");
    assert_eq!(accepted.prompt.variables[0].name, "code");
    assert!(accepted.prompt.commit_message.contains("claude-code"));
    let saved = h.db.get_prompt(&h.alice, "rust/lifetimes").await.unwrap();
    assert_eq!(
        saved.content,
        "Review this Rust code for lifetime bugs:\n{{code}}"
    );
    assert_eq!(
        h.db.get_candidate(&h.alice, queue[0].id)
            .await
            .unwrap()
            .status,
        CandidateStatus::Accepted
    );
    assert_conflict(
        h.db.accept_candidate(&h.alice, queue[0].id, AcceptCandidate::default())
            .await,
        "id",
    );

    h.db.dismiss_candidate(&h.alice, queue[1].id).await.unwrap();
    assert_conflict(h.db.dismiss_candidate(&h.alice, queue[1].id).await, "id");
    assert!(
        h.db.list_candidates(&h.alice, None, None)
            .await
            .unwrap()
            .is_empty()
    );

    // Found again: both were reviewed, so neither comes back.
    let again =
        h.db.submit_candidates(
            &h.alice,
            submission(vec![
                candidate("x", "Explain this error and suggest a fix:\n{{error}}"),
                candidate("y", "review  this rust code for lifetime bugs:\n{{code}}"),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(again.skipped, 2);
    assert!(again.added.is_empty());
    assert_eq!(h.db.pending_candidates(&h.alice).await.unwrap(), 0);
}

/// A candidate like a saved prompt is flagged as its duplicate and can become its next version;
/// the same candidate found again is counted again, not queued twice.
pub async fn harvest_flags_duplicates_and_merges_repeats(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(
        &h.alice,
        prompt(
            "lifetimes",
            "Lifetimes",
            "Review this Rust code for lifetime bugs and explain each one:\n{{code}}",
        ),
    )
    .await;
    h.save(
        &h.alice,
        prompt("haiku", "Haiku", "Write a haiku about {{topic}}"),
    )
    .await;
    let found = NewCandidate {
        occurrences: Some(2),
        sessions: Some(2),
        ..candidate(
            "Review lifetimes",
            "Review this Rust code for lifetime bugs:\n{{code}}",
        )
    };
    let done =
        h.db.submit_candidates(&h.alice, submission(vec![found.clone()]))
            .await
            .unwrap();
    let c = &done.added[0];
    assert_eq!(c.similar[0].slug.as_str(), "lifetimes");
    assert!(c.similar[0].similarity >= 0.75, "{:?}", c.similar);
    assert!(c.similar.iter().all(|s| s.slug.as_str() != "haiku"));
    assert_eq!(
        c.duplicate_of.as_ref().map(|s| s.as_str()),
        Some("lifetimes")
    );
    // Another user's library is not searched.
    let bobs =
        h.db.submit_candidates(&h.bob, submission(vec![found.clone()]))
            .await
            .unwrap();
    assert!(bobs.added[0].similar.is_empty());

    let again =
        h.db.submit_candidates(
            &h.alice,
            submission(vec![NewCandidate {
                score: Some(0.7),
                ..found.clone()
            }]),
        )
        .await
        .unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.merged.len(), 1);
    assert_eq!(again.merged[0].id, c.id);
    assert_eq!(again.merged[0].occurrences, 4);
    assert_eq!(again.merged[0].sessions, 4);
    assert_eq!(again.merged[0].score, Some(0.7));
    assert_eq!(h.db.pending_candidates(&h.alice).await.unwrap(), 1);

    // Into the prompt it duplicates: a new version, not a new prompt.
    let accepted =
        h.db.accept_candidate(
            &h.alice,
            c.id,
            AcceptCandidate {
                into: Some("lifetimes".into()),
                ..AcceptCandidate::default()
            },
        )
        .await
        .unwrap();
    assert!(!accepted.created);
    assert_eq!(accepted.prompt.slug.as_str(), "lifetimes");
    assert_eq!(accepted.prompt.version, 2);
    assert_eq!(accepted.prompt.content, found.content);
}

/// A failed accept saves nothing and leaves the candidate in the queue.
pub async fn harvest_failed_accept_keeps_the_candidate(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("taken", "Taken", "x")).await;
    let done =
        h.db.submit_candidates(
            &h.alice,
            submission(vec![candidate(
                "Taken",
                "Summarize this text in three bullets:\n{{text}}",
            )]),
        )
        .await
        .unwrap();
    let id = done.added[0].id;
    assert_conflict(
        h.db.accept_candidate(&h.alice, id, AcceptCandidate::default())
            .await,
        "slug",
    );
    assert_not_found(
        h.db.accept_candidate(
            &h.alice,
            id,
            AcceptCandidate {
                into: Some("missing".into()),
                ..AcceptCandidate::default()
            },
        )
        .await,
    );
    assert_invalid(
        h.db.accept_candidate(
            &h.alice,
            id,
            AcceptCandidate {
                slug: Some("Not A Slug".into()),
                ..AcceptCandidate::default()
            },
        )
        .await,
        "slug",
    );
    let c = h.db.get_candidate(&h.alice, id).await.unwrap();
    assert_eq!(c.status, CandidateStatus::Pending);
    assert_eq!(
        h.db.list_prompts(&h.alice, Default::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let ok =
        h.db.accept_candidate(
            &h.alice,
            id,
            AcceptCandidate {
                slug: Some("summaries".into()),
                name: Some("Three bullets".into()),
                ..AcceptCandidate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ok.prompt.name, "Three bullets");
}

/// Bad submissions are refused whole, naming the field; the queue has a maximum; readers may
/// not write; candidates expire after 30 days and the sweep deletes them.
pub async fn harvest_limits_and_expiry(t: TestStore) {
    let config = Config {
        max_pending_candidates: 3,
        ..Config::default()
    };
    let h = Harness::with_config(t, config).await;
    assert_invalid(
        h.db.submit_candidates(&h.alice, submission(vec![])).await,
        "candidates",
    );
    let too_many_vars: String = (0..33).map(|i| format!("{{{{v{i}}}}} ")).collect();
    let bad_name = candidate("", "text");
    assert_invalid(
        h.db.submit_candidates(
            &h.alice,
            submission(vec![candidate("ok", "a b c"), bad_name]),
        )
        .await,
        "candidates[1].name",
    );
    assert_invalid(
        h.db.submit_candidates(&h.alice, submission(vec![candidate("ok", "   ")]))
            .await,
        "candidates[0].content",
    );
    assert_invalid(
        h.db.submit_candidates(&h.alice, submission(vec![candidate("ok", &too_many_vars)]))
            .await,
        "candidates[0].content",
    );
    let bad_score = NewCandidate {
        score: Some(1.5),
        ..candidate("ok", "a b c")
    };
    assert_invalid(
        h.db.submit_candidates(&h.alice, submission(vec![bad_score]))
            .await,
        "candidates[0].score",
    );
    let bad_source = Submission {
        source: "line\nbreak".into(),
        ..submission(vec![candidate("ok", "a b c")])
    };
    assert_invalid(h.db.submit_candidates(&h.alice, bad_source).await, "source");
    assert_eq!(h.db.pending_candidates(&h.alice).await.unwrap(), 0);
    assert_invalid(h.db.list_candidates(&h.alice, None, Some(0)).await, "limit");
    assert_invalid(
        h.db.list_candidates(&h.alice, None, Some(101)).await,
        "limit",
    );

    let reader = Principal::read_only(h.alice.user_id());
    assert_forbidden(
        h.db.submit_candidates(&reader, submission(vec![candidate("ok", "a b c")]))
            .await,
    );

    let three: Vec<_> = (0..3)
        .map(|i| {
            candidate(
                &format!("c{i}"),
                &format!("prompt number {i} for the queue"),
            )
        })
        .collect();
    let done =
        h.db.submit_candidates(&h.alice, submission(three))
            .await
            .unwrap();
    assert_eq!(done.added.len(), 3);
    // Full: a new one is refused whole, but one already queued is still counted again.
    assert_quota(
        h.db.submit_candidates(
            &h.alice,
            submission(vec![
                candidate("c0", "prompt number 0 for the queue"),
                candidate("c9", "prompt number 9 for the queue"),
            ]),
        )
        .await,
        "candidates",
    );
    let again =
        h.db.submit_candidates(
            &h.alice,
            submission(vec![candidate("c0", "prompt number 0 for the queue")]),
        )
        .await
        .unwrap();
    assert_eq!(again.merged[0].occurrences, 2);
    assert_eq!(h.db.pending_candidates(&h.alice).await.unwrap(), 3);
    // Paging.
    let page =
        h.db.list_candidates(&h.alice, Some(1), Some(1))
            .await
            .unwrap();
    assert_eq!(page.len(), 1);
    let all = h.db.list_candidates(&h.alice, None, None).await.unwrap();
    assert_eq!(page[0].id, all[1].id);

    // Thirty days on, they are gone, and the sweep deletes them.
    h.clock.advance(Duration::days(30) + Duration::seconds(1));
    assert!(
        h.db.list_candidates(&h.alice, None, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(h.db.get_candidate(&h.alice, all[0].id).await);
    assert_eq!(h.db.sweep_expired().await.candidates, 3);
    // And the same prompt may be proposed afresh.
    let fresh =
        h.db.submit_candidates(
            &h.alice,
            submission(vec![candidate("c0", "prompt number 0 for the queue")]),
        )
        .await
        .unwrap();
    assert_eq!(fresh.added.len(), 1);
}
