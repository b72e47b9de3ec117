//! Releases: labels and their history, protected labels, A/B splits, resolve, includes, folders,
//! chat prompts, config, restore, diffs, per-version uses.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use super::super::*;
use crate::{
    ChatMessage, ChatRole, LabelTarget, PromptKind, PromptPatch, Rendered, ResolveRequest, Scope,
    Variant, release::LATEST,
};

fn split(parts: &[(u32, u8)]) -> LabelTarget {
    LabelTarget::Split {
        split: parts
            .iter()
            .map(|&(version, weight)| Variant { version, weight })
            .collect(),
    }
}

/// A prompt with versions 1..=n (content `v1`, `v2`, …).
async fn versioned(h: &Harness, who: &Principal, slug: &str, n: u32) {
    h.save(who, prompt(slug, slug, "v1")).await;
    for v in 2..=n {
        h.db.update_prompt(
            who,
            slug,
            PromptPatch {
                content: Some(format!("v{v}")),
                commit_message: Some(format!("make it v{v}")),
                ..PromptPatch::default()
            },
        )
        .await
        .expect("update");
    }
}

fn at(slug: &str, label: Option<&str>, version: Option<u32>) -> ResolveRequest {
    ResolveRequest {
        slug: slug.into(),
        label: label.map(Into::into),
        version,
        ..ResolveRequest::default()
    }
}

/// Labels move, every move is recorded with where it came from, and resolve follows them.
pub async fn labels_move_and_are_recorded(t: TestStore) {
    let h = Harness::new(t).await;
    versioned(&h, &h.alice, "greet", 3).await;
    let a = &h.alice;
    assert_not_found(h.db.resolve(a, at("greet", None, None)).await);
    let first =
        h.db.set_label(a, "greet", "production", LabelTarget::version(1))
            .await
            .unwrap();
    assert_eq!(
        (first.from, first.to.clone()),
        (None, Some(LabelTarget::version(1)))
    );
    assert!(first.id > 0);
    let r = h.db.resolve(a, at("greet", None, None)).await.unwrap();
    assert_eq!((r.version, r.content.as_str()), (1, "v1"));
    assert_eq!(r.label.as_deref(), Some("production"));
    assert_eq!(r.labels, vec!["production"]);

    h.clock.advance(chrono::Duration::seconds(1));
    let second =
        h.db.set_label(a, "greet", "production", LabelTarget::version(3))
            .await
            .unwrap();
    assert_eq!(second.from, Some(LabelTarget::version(1)));
    assert_eq!(second.moved_at, h.clock_now());
    let r =
        h.db.resolve(a, at("greet", Some("production"), None))
            .await
            .unwrap();
    assert_eq!(r.version, 3);
    assert_eq!(r.labels, vec![LATEST.to_owned(), "production".to_owned()]);
    assert_eq!(r.commit_message, "make it v3");
    h.db.set_label(a, "greet", "staging", LabelTarget::version(2))
        .await
        .unwrap();

    // Moving to where it already points changes and records nothing.
    let same =
        h.db.set_label(a, "greet", "production", LabelTarget::version(3))
            .await
            .unwrap();
    assert_eq!(same.from, same.to);

    let labels = h.db.labels(a, "greet").await.unwrap();
    let names: Vec<(&str, bool)> = labels
        .iter()
        .map(|l| (l.name.as_str(), l.protected))
        .collect();
    assert_eq!(names, vec![("production", true), ("staging", false)]);
    let history =
        h.db.label_history(a, "greet", None, None, None)
            .await
            .unwrap();
    assert_eq!(history.items.len(), 3, "{:?}", history.items);
    assert_eq!(history.items[0].label, "staging");
    let production =
        h.db.label_history(a, "greet", Some("production"), Some(1), None)
            .await
            .unwrap();
    assert_eq!(production.items[0].to, Some(LabelTarget::version(3)));
    let older =
        h.db.label_history(
            a,
            "greet",
            Some("production"),
            Some(1),
            production.next_cursor.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(older.items[0].to, Some(LabelTarget::version(1)));
    assert!(older.next_cursor.is_none());

    let versions = h.db.prompt_versions(a, "greet", None, None).await.unwrap();
    let by_version: Vec<(u32, Vec<String>)> = versions
        .items
        .iter()
        .map(|v| (v.version, v.labels.clone()))
        .collect();
    assert_eq!(
        by_version,
        vec![
            (3, vec![LATEST.to_owned(), "production".to_owned()]),
            (2, vec!["staging".to_owned()]),
            (1, vec![]),
        ]
    );

    let r =
        h.db.resolve(a, at("greet", Some("latest"), None))
            .await
            .unwrap();
    assert_eq!(r.version, 3);
    let r = h.db.resolve(a, at("greet", None, Some(2))).await.unwrap();
    assert_eq!((r.version, r.label), (2, None));
    assert_invalid(
        h.db.resolve(a, at("greet", Some("production"), Some(2)))
            .await,
        "version",
    );
    assert_not_found(h.db.resolve(a, at("greet", None, Some(9))).await);
    assert_not_found(h.db.resolve(a, at("greet", Some("canary"), None)).await);
    assert_not_found(
        h.db.set_label(a, "greet", "staging", LabelTarget::version(4))
            .await,
    );
    assert_not_found(
        h.db.set_label(a, "nope", "staging", LabelTarget::version(1))
            .await,
    );
    assert_conflict(
        h.db.set_label(a, "greet", "latest", LabelTarget::version(1))
            .await,
        "label",
    );
    assert_invalid(
        h.db.set_label(a, "greet", "Bad Label", LabelTarget::version(1))
            .await,
        "label",
    );

    let removed = h.db.remove_label(a, "greet", "staging").await.unwrap();
    assert_eq!(
        (removed.from, removed.to),
        (Some(LabelTarget::version(2)), None)
    );
    assert_not_found(h.db.remove_label(a, "greet", "staging").await);
    assert_not_found(h.db.resolve(a, at("greet", Some("staging"), None)).await);
}

/// Rollback moves a label back one step, is recorded, and refuses when there is nothing to go
/// back to or the label moved meanwhile.
pub async fn labels_roll_back_and_versions_restore(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    versioned(&h, a, "p", 3).await;
    assert_conflict(h.db.rollback_label(a, "p", "production").await, "label");
    h.db.set_label(a, "p", "production", LabelTarget::version(2))
        .await
        .unwrap();
    h.db.set_label(a, "p", "production", LabelTarget::version(3))
        .await
        .unwrap();
    let back = h.db.rollback_label(a, "p", "production").await.unwrap();
    assert_eq!(
        (back.from, back.to),
        (Some(LabelTarget::version(3)), Some(LabelTarget::version(2)))
    );
    assert_eq!(
        h.db.resolve(a, at("p", None, None)).await.unwrap().version,
        2
    );
    // Once more undoes the rollback.
    h.db.rollback_label(a, "p", "production").await.unwrap();
    assert_eq!(
        h.db.resolve(a, at("p", None, None)).await.unwrap().version,
        3
    );
    // A label created by its last move is removed by a rollback.
    h.db.set_label(a, "p", "canary", LabelTarget::version(1))
        .await
        .unwrap();
    let gone = h.db.rollback_label(a, "p", "canary").await.unwrap();
    assert_eq!(gone.to, None);
    assert_not_found(h.db.resolve(a, at("p", Some("canary"), None)).await);

    // Restoring writes the old content as a new version.
    let restored = h.db.restore_version(a, "p", 1, None).await.unwrap();
    assert_eq!((restored.version, restored.content.as_str()), (4, "v1"));
    assert_eq!(restored.commit_message, "Restore version 1");
    let again =
        h.db.restore_version(a, "p", 1, Some("again"))
            .await
            .unwrap();
    assert_eq!(
        again.version, 4,
        "restoring what is already newest writes nothing"
    );
    assert_not_found(h.db.restore_version(a, "p", 9, None).await);
}

/// Protected labels need the release scope; others need write or release; reading needs read.
pub async fn protected_labels_need_the_release_scope(t: TestStore) {
    let h = Harness::new(t).await;
    versioned(&h, &h.alice, "p", 2).await;
    let id = h.alice.user_id();
    let writer = Principal::new(id, &[Scope::Read, Scope::Write]);
    let releaser = Principal::new(id, &[Scope::Read, Scope::Release]);
    let reader = Principal::new(id, &[Scope::Read]);
    assert_forbidden(
        h.db.set_label(&writer, "p", "production", LabelTarget::version(1))
            .await,
    );
    assert_forbidden(h.db.remove_label(&writer, "p", "production").await);
    h.db.set_label(&writer, "p", "staging", LabelTarget::version(1))
        .await
        .unwrap();
    h.db.set_label(&releaser, "p", "production", LabelTarget::version(2))
        .await
        .unwrap();
    h.db.set_label(&releaser, "p", "staging", LabelTarget::version(2))
        .await
        .unwrap();
    assert_forbidden(
        h.db.set_label(&reader, "p", "staging", LabelTarget::version(1))
            .await,
    );
    assert_forbidden(h.db.rollback_label(&writer, "p", "production").await);
    // A writer cannot sneak a protected label in with a new prompt either, and nothing is saved.
    let mut np = prompt("q", "q", "x");
    np.labels = vec!["production".into()];
    assert_forbidden(h.db.save_prompts(&writer, vec![np.clone()]).await);
    assert_not_found(h.db.get_prompt(&h.alice, "q").await);
    let saved = h.db.save_prompts(&h.alice, vec![np]).await.unwrap();
    assert_eq!(saved[0].version, 1);
    let r = h.db.resolve(&reader, at("q", None, None)).await.unwrap();
    assert_eq!(
        r.version, 1,
        "the label given at save time points at version 1"
    );
    let moves =
        h.db.label_history(&reader, "q", None, None, None)
            .await
            .unwrap();
    assert_eq!(moves.items.len(), 1);
    // Other protected labels, by configuration.
    let config = crate::Config {
        protected_labels: vec!["production".into(), "stable".into()],
        ..crate::Config::default()
    };
    let strict = PromptDb::with_config(h.other_server_store(), config).unwrap();
    assert_forbidden(
        strict
            .set_label(&writer, "p", "stable", LabelTarget::version(1))
            .await,
    );
}

/// Two servers moving one label at once lose no move, and the history chains.
pub async fn concurrent_label_moves_lose_nothing(t: TestStore) {
    let h = Harness::new(t).await;
    versioned(&h, &h.alice, "hot", 5).await;
    let servers = [h.db.clone(), h.other_server()];
    let tasks: Vec<_> = (0..24u32)
        .map(|i| {
            let db = servers[i as usize % 2].clone();
            let who = h.alice.clone();
            tokio::spawn(async move {
                db.set_label(&who, "hot", "staging", LabelTarget::version(1 + i % 5))
                    .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for t in tasks {
        let moved = t.await.expect("task").expect("move");
        if moved.from != moved.to {
            assert!(ids.insert(moved.id), "every move has its own id");
        }
    }
    let history =
        h.db.label_history(&h.alice, "hot", Some("staging"), Some(100), None)
            .await
            .unwrap()
            .items;
    let recorded: HashSet<i64> = history.iter().map(|m| m.id).collect();
    assert_eq!(recorded, ids, "every acknowledged move is in the history");
    // Newest first: each move starts where the one before it ended.
    for pair in history.windows(2) {
        assert_eq!(pair[0].from, pair[1].to, "history chains: {pair:?}");
    }
    assert_eq!(history.last().unwrap().from, None);
    let now = h.db.labels(&h.alice, "hot").await.unwrap();
    assert_eq!(Some(&now[0].target), history[0].to.as_ref());
}

/// A split gives each subject one variant for good, follows the weights, and is validated.
pub async fn splits_are_sticky_and_accurate(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    versioned(&h, a, "ab", 2).await;
    for bad in [
        split(&[(1, 60), (2, 50)]),
        split(&[(1, 100)]),
        split(&[(1, 50), (1, 50)]),
        split(&[(1, 100), (2, 0)]),
    ] {
        let err =
            h.db.set_label(a, "ab", "production", bad)
                .await
                .unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    }
    assert_not_found(
        h.db.set_label(a, "ab", "production", split(&[(1, 50), (3, 50)]))
            .await,
    );
    h.db.set_label(a, "ab", "production", split(&[(1, 90), (2, 10)]))
        .await
        .unwrap();
    let with = |subject: &str| ResolveRequest {
        subject: Some(subject.into()),
        ..at("ab", None, None)
    };
    let first = h.db.resolve(a, with("user-7")).await.unwrap().version;
    for _ in 0..20 {
        assert_eq!(
            h.db.resolve(a, with("user-7")).await.unwrap().version,
            first
        );
    }
    let r = h.db.resolve(a, with("user-7")).await.unwrap();
    assert!(r.labels.contains(&"production".to_owned()));
    // The assignment is core's: 10,000 subjects land within ±2 points of 90/10.
    let target = split(&[(1, 90), (2, 10)]);
    let ones = (0..10_000)
        .filter(|i| {
            crate::release::assign("ab", "production", &target, Some(&format!("s{i}"))) == 1
        })
        .count();
    assert!(
        (8_800..=9_200).contains(&ones),
        "{ones} of 10000 on version 1"
    );
    // And the store serves what core assigns.
    for i in 0..200 {
        let subject = format!("s{i}");
        let expected = crate::release::assign("ab", "production", &target, Some(&subject));
        assert_eq!(
            h.db.resolve(a, with(&subject)).await.unwrap().version,
            expected
        );
    }
    // Without a subject: some random variant of the split.
    let seen: HashSet<u32> = (0..200)
        .map(|_| async { h.db.resolve(a, at("ab", None, None)).await.unwrap().version })
        .collect::<futures::future::JoinAll<_>>()
        .await
        .into_iter()
        .collect();
    assert!(seen.is_subset(&HashSet::from([1, 2])));
    assert_invalid(
        h.db.resolve(
            a,
            ResolveRequest {
                subject: Some(String::new()),
                ..at("ab", None, None)
            },
        )
        .await,
        "subject",
    );
    // Uses count per version, to compare the variants.
    h.db.track_prompt_use(a, "ab", Some(2)).await.unwrap();
    h.db.track_prompt_use(a, "ab", Some(2)).await.unwrap();
    h.db.track_prompt_use(a, "ab", None).await.unwrap();
    assert_not_found(h.db.track_prompt_use(a, "ab", Some(7)).await);
    let versions =
        h.db.prompt_versions(a, "ab", None, None)
            .await
            .unwrap()
            .items;
    let uses: Vec<(u32, u64)> = versions
        .iter()
        .map(|v| (v.version, v.usage_count))
        .collect();
    assert_eq!(uses, vec![(2, 3), (1, 0)]);
    assert_eq!(h.db.get_prompt(a, "ab").await.unwrap().usage_count, 3);
}

/// Resolve renders strictly, in batches, and answers each prompt on its own.
pub async fn resolve_renders_and_batches(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    h.save(a, prompt("hello", "Hello", "Hello {{name}}!")).await;
    h.db.set_label(a, "hello", "production", LabelTarget::version(1))
        .await
        .unwrap();
    let vars = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let r =
        h.db.resolve(
            a,
            ResolveRequest {
                variables: Some(vars(&[("name", "Ada")])),
                ..at("hello", None, None)
            },
        )
        .await
        .unwrap();
    assert_eq!(r.rendered, Some(Rendered::Text("Hello Ada!".into())));
    assert_invalid(
        h.db.resolve(
            a,
            ResolveRequest {
                variables: Some(vars(&[])),
                ..at("hello", None, None)
            },
        )
        .await,
        "variables.name",
    );
    let out =
        h.db.resolve_many(
            a,
            vec![
                at("hello", None, None),
                at("missing", None, None),
                ResolveRequest {
                    variables: Some(vars(&[("x", "1")])),
                    ..at("hello", None, None)
                },
                at("hello", Some("latest"), None),
            ],
        )
        .await
        .unwrap();
    assert_eq!(out.len(), 4);
    assert_eq!(out[0].as_ref().unwrap().version, 1);
    assert!(matches!(out[1], Err(Error::NotFound { .. })));
    assert!(
        matches!(&out[2], Err(Error::Invalid { field, .. }) if field == "prompts[2].variables.x")
    );
    assert!(out[3].is_ok());
    assert_invalid(h.db.resolve_many(a, vec![]).await, "prompts");
    assert_invalid(
        h.db.resolve_many(a, (0..51).map(|_| at("hello", None, None)).collect())
            .await,
        "prompts",
    );
}

/// Includes expand when resolving, at labels and versions; cycles, depth and missing
/// references are refused at save time; dependents are known and protect their target.
pub async fn includes_expand_and_are_checked(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    h.save(a, prompt("tone", "Tone", "Be {{mood}}.")).await;
    h.db.update_prompt(
        a,
        "tone",
        PromptPatch {
            content: Some("Be very {{mood}}.".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    h.db.set_label(a, "tone", "production", LabelTarget::version(1))
        .await
        .unwrap();
    h.save(
        a,
        prompt(
            "reply",
            "Reply",
            "{{> tone}} / {{> tone@production}} / {{> tone@2}} Answer {{question}}",
        ),
    )
    .await;
    let r =
        h.db.resolve(
            a,
            ResolveRequest {
                variables: Some(BTreeMap::from([
                    ("mood".to_owned(), "calm".to_owned()),
                    ("question".to_owned(), "why".to_owned()),
                ])),
                ..at("reply", Some("latest"), None)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        r.rendered,
        Some(Rendered::Text(
            "Be very calm. / Be calm. / Be very calm. Answer why".into()
        ))
    );
    let names: Vec<&str> = r.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        ["question", "mood"],
        "included variables are declared too"
    );
    let rendered =
        h.db.render_prompt(
            a,
            "reply",
            &BTreeMap::from([
                ("mood".to_owned(), "calm".to_owned()),
                ("question".to_owned(), "why".to_owned()),
            ]),
        )
        .await
        .unwrap();
    assert!(rendered.text.starts_with("Be very calm."));

    // Missing references.
    for (content, what) in [
        ("{{> nowhere}}", "nowhere"),
        ("{{> tone@canary}}", "canary"),
        ("{{> tone@9}}", "tone@9"),
    ] {
        let err =
            h.db.save_prompts(a, vec![prompt("bad", "Bad", content)])
                .await
                .unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { field, reason } if field == "prompts[0].content" && reason.contains(what)),
            "{content}: {err:?}"
        );
    }
    // A cycle, at save time, named.
    let err =
        h.db.update_prompt(
            a,
            "tone",
            PromptPatch {
                content: Some("{{> reply}}".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { field, reason } if field == "content" && reason.contains("tone → reply → tone")),
        "{err:?}"
    );
    let err =
        h.db.save_prompts(a, vec![prompt("selfish", "S", "{{> selfish}}")])
            .await
            .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    // Depth: d0 includes d1 … includes d6.
    h.save(a, prompt("d6", "d6", "end")).await;
    for i in (1..6).rev() {
        h.save(
            a,
            prompt(&format!("d{i}"), "d", &format!("{{{{> d{}}}}}", i + 1)),
        )
        .await;
    }
    let err =
        h.db.save_prompts(a, vec![prompt("d0", "d0", "{{> d1}}")])
            .await
            .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { reason, .. } if reason.contains("deeper than 5")),
        "{err:?}"
    );
    // Chat prompts cannot be included.
    h.save(
        a,
        crate::NewPrompt {
            kind: PromptKind::Chat,
            messages: vec![ChatMessage::new(ChatRole::User, "hi")],
            ..prompt("chatty", "Chatty", "")
        },
    )
    .await;
    assert!(
        h.db.save_prompts(a, vec![prompt("inc-chat", "I", "{{> chatty}}")])
            .await
            .is_err()
    );
    // Prompts saved together may include each other (without a cycle).
    h.db.save_prompts(
        a,
        vec![
            prompt("outer", "O", "[{{> inner}}]"),
            prompt("inner", "I", "in"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        h.db.resolve(a, at("outer", Some("latest"), None))
            .await
            .unwrap()
            .content,
        "[in]"
    );

    let deps = h.db.dependents(a, "tone").await.unwrap();
    assert_eq!(
        deps.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>(),
        ["reply"]
    );
    assert_conflict(h.db.delete_prompt(a, "tone").await, "slug");
    h.db.update_prompt(
        a,
        "reply",
        PromptPatch {
            content: Some("no includes".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(h.db.dependents(a, "tone").await.unwrap().is_empty());
    h.db.delete_prompt(a, "tone").await.unwrap();
    assert_not_found(h.db.dependents(a, "tone").await);
}

/// Folders: slugs with `/`, filters by folder prefix, the folder tree with counts.
pub async fn folders_filter_and_count(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    for slug in [
        "support/triage",
        "support/refund",
        "support/billing/late",
        "support-team/x",
        "loose",
    ] {
        h.save(
            a,
            prompt(slug, &format!("{slug} prompt"), "help the customer"),
        )
        .await;
    }
    let list = |folder: &str| crate::ListQuery {
        filters: crate::Filters {
            folder: Some(folder.into()),
            ..Default::default()
        },
        limit: Some(100),
        cursor: None,
    };
    let slugs = |page: crate::Page<crate::PromptSummary>| {
        let mut s: Vec<String> = page.items.into_iter().map(|p| p.slug.to_string()).collect();
        s.sort();
        s
    };
    assert_eq!(
        slugs(h.db.list_prompts(a, list("support")).await.unwrap()),
        ["support/billing/late", "support/refund", "support/triage"]
    );
    assert_eq!(
        slugs(h.db.list_prompts(a, list("support/billing")).await.unwrap()),
        ["support/billing/late"]
    );
    assert_eq!(
        slugs(h.db.list_prompts(a, list("/support/")).await.unwrap()).len(),
        3,
        "slashes around a folder are ignored"
    );
    let found =
        h.db.search_prompts(
            a,
            crate::SearchQuery {
                q: "customer".into(),
                filters: crate::Filters {
                    folder: Some("support".into()),
                    ..Default::default()
                },
                limit: Some(100),
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(slugs(found).len(), 3);
    assert_invalid(h.db.list_prompts(a, list("Bad Folder")).await, "folder");
    let tree = h.db.folders(a).await.unwrap();
    let top: Vec<(&str, u64, u64)> = tree
        .iter()
        .map(|f| (f.path.as_str(), f.prompts, f.total))
        .collect();
    assert_eq!(top, vec![("support", 2, 3), ("support-team", 1, 1)]);
    assert_eq!(tree[0].folders[0].path, "support/billing");
    assert_eq!(tree[0].folders[0].prompts, 1);
    assert!(h.db.folders(&h.bob).await.unwrap().is_empty());
}

/// Chat prompts keep their messages through saves, versions, search and resolve.
pub async fn chat_prompts_round_trip(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    let mut config = crate::PromptConfig::new();
    config.insert("model".into(), json!("gpt-5"));
    config.insert("temperature".into(), json!(0.2));
    let saved = h
        .save(
            a,
            crate::NewPrompt {
                kind: PromptKind::Chat,
                messages: vec![
                    ChatMessage::new(ChatRole::System, "You triage {{product}} tickets."),
                    ChatMessage::new(ChatRole::User, "Ticket: {{ticket}}"),
                ],
                config: config.clone(),
                commit_message: "first cut".into(),
                ..prompt("triage", "Triage", "")
            },
        )
        .await;
    assert_eq!(saved.kind, PromptKind::Chat);
    assert_eq!(saved.content, "");
    let got = h.db.get_prompt(a, "triage").await.unwrap();
    assert_eq!(got.messages.len(), 2);
    assert_eq!(got.config, config);
    assert_eq!(got.commit_message, "first cut");
    let names: Vec<&str> = got.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["product", "ticket"]);
    let r =
        h.db.resolve(
            a,
            ResolveRequest {
                variables: Some(BTreeMap::from([
                    ("product".to_owned(), "PromptDB".to_owned()),
                    ("ticket".to_owned(), "it broke".to_owned()),
                ])),
                ..at("triage", Some("latest"), None)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        r.rendered,
        Some(Rendered::Chat(vec![
            ChatMessage::new(ChatRole::System, "You triage PromptDB tickets."),
            ChatMessage::new(ChatRole::User, "Ticket: it broke"),
        ]))
    );
    assert_eq!(r.config, config);
    let found =
        h.db.search_prompts(a, crate::SearchQuery::new("triage tickets"))
            .await
            .unwrap();
    assert_eq!(found.items.len(), 1, "messages are searched");

    // A new message list is a new version; the old one stays in the history.
    h.db.update_prompt(
        a,
        "triage",
        PromptPatch {
            messages: Some(vec![ChatMessage::new(ChatRole::User, "Just {{ticket}}")]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let v1 = h.db.prompt_version(a, "triage", 1).await.unwrap();
    assert_eq!(
        (v1.kind, v1.messages.len(), v1.config.len()),
        (PromptKind::Chat, 2, 2)
    );
    let diff = h.db.diff_versions(a, "triage", 1, 2).await.unwrap();
    assert!(
        diff.changed.contains(&"messages".to_owned()),
        "{:?}",
        diff.changed
    );
    // Switching to text drops the messages.
    let text =
        h.db.update_prompt(
            a,
            "triage",
            PromptPatch {
                kind: Some(PromptKind::Text),
                content: Some("Triage {{ticket}}".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (text.kind, text.messages.len(), text.version),
        (PromptKind::Text, 0, 3)
    );
    assert_invalid(
        h.db.update_prompt(
            a,
            "triage",
            PromptPatch {
                kind: Some(PromptKind::Chat),
                ..Default::default()
            },
        )
        .await,
        "messages",
    );
}

/// Diffs show the changed lines and fields; config and commit messages are versioned.
pub async fn diffs_and_config_are_versioned(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    h.save(a, prompt("d", "D", "one\ntwo\nthree")).await;
    let mut config = crate::PromptConfig::new();
    config.insert("temperature".into(), json!(0.7));
    h.db.update_prompt(
        a,
        "d",
        PromptPatch {
            content: Some("one\n2\nthree".into()),
            config: Some(config),
            tags: Some(vec!["new".into()]),
            commit_message: Some("tweak".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let diff = h.db.diff_versions(a, "d", 1, 2).await.unwrap();
    assert_eq!(diff.changed, ["tags", "config", "content"]);
    assert!(
        diff.diff.contains("-two") && diff.diff.contains("+2"),
        "{}",
        diff.diff
    );
    let v2 = h.db.prompt_version(a, "d", 2).await.unwrap();
    assert_eq!(v2.commit_message, "tweak");
    assert_eq!(v2.config["temperature"], json!(0.7));
    assert_not_found(h.db.diff_versions(a, "d", 1, 3).await);
    assert_invalid(h.db.diff_versions(a, "d", 0, 1).await, "from");
    let mut big = crate::PromptConfig::new();
    big.insert("x".into(), json!("y".repeat(20_000)));
    assert_invalid(
        h.db.update_prompt(
            a,
            "d",
            PromptPatch {
                config: Some(big),
                ..Default::default()
            },
        )
        .await,
        "config",
    );
    assert_eq!(
        h.db.get_prompt(a, "d").await.unwrap().version,
        2,
        "nothing written"
    );
}

/// Nothing of releases crosses users.
pub async fn isolation_releases(t: TestStore) {
    let h = Harness::new(t).await;
    versioned(&h, &h.alice, "mine", 2).await;
    h.save(&h.bob, prompt("theirs", "T", "x")).await;
    h.db.set_label(&h.alice, "mine", "production", LabelTarget::version(1))
        .await
        .unwrap();
    let b = &h.bob;
    assert_not_found(h.db.labels(b, "mine").await);
    assert_not_found(
        h.db.set_label(b, "mine", "staging", LabelTarget::version(1))
            .await,
    );
    assert_not_found(h.db.remove_label(b, "mine", "production").await);
    assert_not_found(h.db.rollback_label(b, "mine", "production").await);
    assert_not_found(h.db.label_history(b, "mine", None, None, None).await);
    assert_not_found(h.db.resolve(b, at("mine", None, None)).await);
    assert_not_found(h.db.resolve(b, at("mine", None, Some(1))).await);
    assert_not_found(h.db.diff_versions(b, "mine", 1, 2).await);
    assert_not_found(h.db.restore_version(b, "mine", 1, None).await);
    assert_not_found(h.db.dependents(b, "mine").await);
    assert_not_found(h.db.track_prompt_use(b, "mine", Some(1)).await);
    let err =
        h.db.save_prompts(b, vec![prompt("sneaky", "S", "{{> mine}}")])
            .await
            .unwrap_err();
    assert!(
        matches!(err, Error::Invalid { .. }),
        "an include of another user's prompt: {err:?}"
    );
    // Alice's label is untouched.
    let labels = h.db.labels(&h.alice, "mine").await.unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].target, LabelTarget::version(1));
    assert_eq!(
        h.db.label_history(&h.alice, "mine", None, None, None)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

/// Export carries labels, their moves, and every version's config and uses.
pub async fn export_contains_releases(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    versioned(&h, a, "e", 2).await;
    h.db.set_label(a, "e", "production", LabelTarget::version(1))
        .await
        .unwrap();
    h.db.set_label(a, "e", "production", split(&[(1, 50), (2, 50)]))
        .await
        .unwrap();
    h.db.track_prompt_use(a, "e", Some(1)).await.unwrap();
    let export = h.db.export_user(a).await.unwrap();
    let e = &export.prompts[0];
    assert_eq!(e.labels.len(), 1);
    assert!(e.labels[0].protected);
    assert_eq!(e.label_moves.len(), 2);
    assert_eq!(
        e.label_moves[0].to,
        Some(LabelTarget::version(1)),
        "oldest first"
    );
    assert_eq!(e.versions[0].usage_count, 1);
    assert_eq!(e.versions[0].labels, vec!["production"]);
    assert_eq!(
        e.versions[1].labels,
        vec![LATEST.to_owned(), "production".to_owned()]
    );
    assert_eq!(e.versions[1].commit_message, "make it v2");
}

/// A new version is written even when it equals the newest, with labels moved to it; versions
/// can be deleted one by one or by label, the newest remaining one taking over.
pub async fn versions_are_forced_and_deleted(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    versioned(&h, a, "v", 3).await;
    h.db.set_label(a, "v", "staging", LabelTarget::version(2))
        .await
        .unwrap();
    let same = crate::NewVersion {
        content: "v3".into(),
        labels: vec!["production".into(), "latest".into()],
        commit_message: "publish".into(),
        ..Default::default()
    };
    let p = h.db.create_version(a, "v", same.clone()).await.unwrap();
    assert_eq!(
        (p.version, p.content.as_str(), p.commit_message.as_str()),
        (4, "v3", "publish")
    );
    let r = h.db.resolve(a, at("v", None, None)).await.unwrap();
    assert_eq!(r.version, 4, "production moved to the new version");
    let writer = Principal::new(a.user_id(), &[Scope::Read, Scope::Write]);
    assert_forbidden(h.db.create_version(&writer, "v", same).await);
    assert_eq!(
        h.db.get_prompt(a, "v").await.unwrap().version,
        4,
        "nothing written"
    );
    assert_invalid(
        h.db.create_version(
            a,
            "v",
            crate::NewVersion {
                kind: PromptKind::Chat,
                messages: vec![ChatMessage::new(ChatRole::User, "x")],
                ..Default::default()
            },
        )
        .await,
        "type",
    );
    assert_not_found(
        h.db.create_version(
            a,
            "nope",
            crate::NewVersion {
                content: "x".into(),
                ..Default::default()
            },
        )
        .await,
    );

    // Deleting a middle version removes the labels on it.
    h.db.delete_versions(a, "v", crate::VersionsToDelete::Version(2))
        .await
        .unwrap();
    assert_not_found(h.db.prompt_version(a, "v", 2).await);
    assert!(
        h.db.labels(a, "v")
            .await
            .unwrap()
            .iter()
            .all(|l| l.name != "staging")
    );
    let moves =
        h.db.label_history(a, "v", Some("staging"), None, None)
            .await
            .unwrap();
    assert_eq!(moves.items[0].to, None, "the removal is recorded");
    // Deleting the newest: the newest remaining version becomes the prompt.
    h.db.delete_versions(a, "v", crate::VersionsToDelete::Label("production".into()))
        .await
        .unwrap();
    let p = h.db.get_prompt(a, "v").await.unwrap();
    assert_eq!((p.version, p.content.as_str()), (3, "v3"));
    assert_eq!(
        h.db.search_prompts(a, crate::SearchQuery::new("v3"))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_not_found(h.db.resolve(a, at("v", None, None)).await);
    let next =
        h.db.create_version(
            a,
            "v",
            crate::NewVersion {
                content: "v4 again".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        next.version, 4,
        "numbers continue from the newest remaining"
    );
    assert_not_found(
        h.db.delete_versions(a, "v", crate::VersionsToDelete::Version(2))
            .await,
    );
    assert_not_found(
        h.db.delete_versions(a, "v", crate::VersionsToDelete::Label("canary".into()))
            .await,
    );
    // Deleting what is left deletes the prompt.
    for v in [1, 3] {
        h.db.delete_versions(a, "v", crate::VersionsToDelete::Version(v))
            .await
            .unwrap();
    }
    h.db.delete_versions(a, "v", crate::VersionsToDelete::Label("latest".into()))
        .await
        .unwrap();
    assert_not_found(h.db.get_prompt(a, "v").await);
    // Bob touches nothing of Alice's.
    versioned(&h, a, "w", 2).await;
    assert_not_found(
        h.db.delete_versions(&h.bob, "w", crate::VersionsToDelete::Version(1))
            .await,
    );
    assert_not_found(
        h.db.create_version(
            &h.bob,
            "w",
            crate::NewVersion {
                content: "x".into(),
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(
        h.db.prompt_versions(a, "w", None, None)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

/// Pages in slug order with a total, filtered by label, tag, folder and time of change.
pub async fn prompts_page_in_slug_order(t: TestStore) {
    let h = Harness::new(t).await;
    let a = &h.alice;
    for (slug, tag) in [("b", "x"), ("a", "x"), ("c/d", "y"), ("c/e", "x")] {
        h.save(
            a,
            crate::NewPrompt {
                tags: vec![tag.into()],
                ..prompt(slug, slug, "text")
            },
        )
        .await;
        h.clock.advance(chrono::Duration::seconds(10));
    }
    h.db.set_label(a, "c/e", "production", LabelTarget::version(1))
        .await
        .unwrap();
    let page =
        |spec: crate::search::SlugPageSpec| async { h.db.prompts_by_slug(a, spec).await.unwrap() };
    let slugs = |items: &[crate::PromptSummary]| {
        items.iter().map(|p| p.slug.to_string()).collect::<Vec<_>>()
    };
    let (items, total) = page(crate::search::SlugPageSpec {
        limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(
        (slugs(&items), total),
        (vec!["a".to_owned(), "b".to_owned()], 4)
    );
    let (items, _) = page(crate::search::SlugPageSpec {
        limit: 2,
        offset: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&items), ["c/d", "c/e"]);
    let (items, total) = page(crate::search::SlugPageSpec {
        label: Some("production".into()),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!((slugs(&items), total), (vec!["c/e".to_owned()], 1));
    let (items, _) = page(crate::search::SlugPageSpec {
        filters: crate::Filters {
            tags: vec!["x".into()],
            folder: Some("c".into()),
            ..Default::default()
        },
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&items), ["c/e"]);
    let start = h.clock_now() - chrono::Duration::seconds(25);
    let (items, total) = page(crate::search::SlugPageSpec {
        updated_from: Some(start),
        updated_to: Some(start + chrono::Duration::seconds(10)),
        limit: 10,
        ..Default::default()
    })
    .await;
    assert_eq!((slugs(&items), total), (vec!["c/d".to_owned()], 1));
    assert_invalid(
        h.db.prompts_by_slug(
            a,
            crate::search::SlugPageSpec {
                limit: 0,
                ..Default::default()
            },
        )
        .await,
        "limit",
    );
    let (items, total) =
        h.db.prompts_by_slug(
            &h.bob,
            crate::search::SlugPageSpec {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((items.len(), total), (0, 0));
}
