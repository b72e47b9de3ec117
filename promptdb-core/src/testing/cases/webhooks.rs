use std::{sync::Mutex, time::Duration as StdDuration};

use chrono::Duration;

use crate::{
    LabelTarget, PromptPatch, Scope,
    change::ChangeKind,
    testing::{
        Harness, TestStore, assert_forbidden, assert_invalid, assert_not_found, assert_quota,
        prompt,
    },
    webhook::{
        MAX_WEBHOOKS_PER_USER, Message, NewWebhook, WebhookPatch, WebhookPayload, WebhookPolicy,
        sign,
    },
    {Principal, WebhookSender},
};

/// A receiver in the test: records every message, and answers with the statuses it is given
/// (then 200).
#[derive(Default)]
struct Receiver {
    got: Mutex<Vec<(String, Message)>>,
    answers: Mutex<Vec<u16>>,
}

impl Receiver {
    fn answering(answers: &[u16]) -> Self {
        Self {
            answers: Mutex::new(answers.iter().rev().copied().collect()),
            ..Self::default()
        }
    }

    fn payloads(&self) -> Vec<WebhookPayload> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, m)| serde_json::from_str(&m.body).unwrap())
            .collect()
    }
}

#[async_trait::async_trait]
impl WebhookSender for Receiver {
    async fn send(&self, url: &str, message: &Message) -> Result<u16, String> {
        self.got
            .lock()
            .unwrap()
            .push((url.to_owned(), message.clone()));
        Ok(self.answers.lock().unwrap().pop().unwrap_or(200))
    }
}

/// Runs delivery rounds until no hook is due; returns how many hooks were claimed.
async fn deliver_all(h: &Harness, to: &Receiver, policy: &WebhookPolicy) -> usize {
    let mut claimed = 0;
    loop {
        let due = h.db.claim_webhooks(10).await.unwrap();
        if due.is_empty() {
            return claimed;
        }
        claimed += due.len();
        for claim in &due {
            h.db.deliver_webhook(claim, to, policy).await.unwrap();
        }
    }
}

/// Hooks are registered with a secret shown once, listed, changed, paused and deleted; input is
/// checked naming the field; each user sees only their own; a read-only caller cannot register.
pub async fn webhooks_register_change_and_delete(t: TestStore) {
    let h = Harness::new(t).await;
    h.save(&h.alice, prompt("before", "Before", "x")).await;
    let created =
        h.db.create_webhook(
            &h.alice,
            NewWebhook {
                description: "  ci  ".into(),
                ..NewWebhook::new("https://example.com/hook")
            },
        )
        .await
        .unwrap();
    assert!(created.secret.starts_with("whsec_"), "{}", created.secret);
    let hook = created.webhook.clone();
    assert_eq!(hook.description, "ci");
    assert_eq!(hook.events.len(), 3);
    assert!(hook.enabled && hook.failures == 0);
    assert_eq!(
        hook.delivered_seq, 1,
        "deliveries start after the current head"
    );
    assert_eq!(
        h.db.list_webhooks(&h.alice).await.unwrap(),
        vec![hook.clone()]
    );
    assert!(
        !format!("{:?}", h.db.list_webhooks(&h.alice).await.unwrap()).contains(&created.secret),
        "secrets are never listed"
    );

    let changed =
        h.db.update_webhook(
            &h.alice,
            hook.id,
            WebhookPatch {
                url: Some("http://127.0.0.1:9/other".into()),
                events: Some(vec![ChangeKind::LabelMoved, ChangeKind::LabelMoved]),
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.url, "http://127.0.0.1:9/other");
    assert_eq!(changed.events, [ChangeKind::LabelMoved]);
    assert!(!changed.enabled);
    assert_eq!(changed.description, "ci", "fields not given stay");
    assert_eq!(h.db.get_webhook(&h.alice, hook.id).await.unwrap(), changed);

    // Bad input names the field and changes nothing.
    for (patch, field) in [
        (
            WebhookPatch {
                url: Some("ftp://example.com".into()),
                ..Default::default()
            },
            "url",
        ),
        (
            WebhookPatch {
                events: Some(vec![]),
                ..Default::default()
            },
            "events",
        ),
        (
            WebhookPatch {
                description: Some("two\nlines".into()),
                ..Default::default()
            },
            "description",
        ),
    ] {
        assert_invalid(h.db.update_webhook(&h.alice, hook.id, patch).await, field);
    }
    assert_invalid(
        h.db.create_webhook(&h.alice, NewWebhook::new("https://user:pw@example.com"))
            .await,
        "url",
    );
    assert_eq!(h.db.get_webhook(&h.alice, hook.id).await.unwrap(), changed);

    // Another user sees and touches nothing of Alice's.
    assert!(h.db.list_webhooks(&h.bob).await.unwrap().is_empty());
    assert_not_found(h.db.get_webhook(&h.bob, hook.id).await);
    assert_not_found(
        h.db.update_webhook(&h.bob, hook.id, WebhookPatch::default())
            .await,
    );
    assert_not_found(h.db.webhook_deliveries(&h.bob, hook.id, None).await);
    assert_not_found(h.db.delete_webhook(&h.bob, hook.id).await);
    let reader = Principal::new(h.alice.user_id(), &[Scope::Read]);
    assert_forbidden(
        h.db.create_webhook(&reader, NewWebhook::new("https://example.com"))
            .await,
    );
    assert_forbidden(h.db.delete_webhook(&reader, hook.id).await);
    assert_invalid(
        h.db.webhook_deliveries(&h.alice, hook.id, Some(0)).await,
        "limit",
    );

    // At most ten per user.
    for i in 1..MAX_WEBHOOKS_PER_USER {
        h.db.create_webhook(
            &h.alice,
            NewWebhook::new(format!("https://example.com/{i}")),
        )
        .await
        .unwrap();
    }
    assert_quota(
        h.db.create_webhook(&h.alice, NewWebhook::new("https://example.com/last"))
            .await,
        "webhooks",
    );
    h.db.delete_webhook(&h.alice, hook.id).await.unwrap();
    assert_not_found(h.db.get_webhook(&h.alice, hook.id).await);
    assert_eq!(
        h.db.list_webhooks(&h.alice).await.unwrap().len(),
        MAX_WEBHOOKS_PER_USER - 1
    );
}

/// Changes reach the hook once each, in the feed's order, signed; kinds the hook does not want
/// are passed over; a failure holds back later changes and is retried on the schedule with the
/// same message id; every attempt is in the log.
pub async fn webhooks_deliver_in_order_and_retry(t: TestStore) {
    let h = Harness::new(t).await;
    let all =
        h.db.create_webhook(&h.alice, NewWebhook::new("https://example.com/all"))
            .await
            .unwrap();
    let moves =
        h.db.create_webhook(
            &h.alice,
            NewWebhook {
                events: vec![ChangeKind::LabelMoved],
                ..NewWebhook::new("https://example.com/moves")
            },
        )
        .await
        .unwrap();
    let policy = WebhookPolicy::default();
    let idle = Receiver::default();
    assert_eq!(deliver_all(&h, &idle, &policy).await, 0, "nothing to send");

    h.save(&h.alice, prompt("greet", "Greet", "Hi")).await;
    h.db.set_label(&h.alice, "greet", "staging", LabelTarget::version(1))
        .await
        .unwrap();
    h.save(&h.bob, prompt("bobs", "Bob's", "not for Alice's hooks"))
        .await;
    let rx = Receiver::default();
    assert_eq!(deliver_all(&h, &rx, &policy).await, 2);
    let got = rx.got.lock().unwrap().clone();
    let to_all: Vec<&Message> = got
        .iter()
        .filter(|(u, _)| u.ends_with("/all"))
        .map(|(_, m)| m)
        .collect();
    let to_moves: Vec<&Message> = got
        .iter()
        .filter(|(u, _)| u.ends_with("/moves"))
        .map(|(_, m)| m)
        .collect();
    assert_eq!(to_all.len(), 2, "{got:?}");
    assert_eq!(to_moves.len(), 1, "{got:?}");
    let kinds: Vec<String> = rx.payloads().iter().map(|p| p.event.clone()).collect();
    assert!(
        kinds.contains(&"prompt.version_created".to_owned()),
        "{kinds:?}"
    );
    let first: WebhookPayload = serde_json::from_str(&to_all[0].body).unwrap();
    let second: WebhookPayload = serde_json::from_str(&to_all[1].body).unwrap();
    assert_eq!(
        (first.data.seq, first.data.kind, second.data.kind),
        (1, ChangeKind::VersionCreated, ChangeKind::LabelMoved)
    );
    assert_eq!(second.data.label.as_deref(), Some("staging"));
    for (m, secret) in [(to_all[0], &all.secret), (to_moves[0], &moves.secret)] {
        assert_eq!(
            m.signature,
            sign(secret, &m.id, m.timestamp, &m.body).unwrap(),
            "signed with the hook's own secret"
        );
        assert_ne!(
            m.signature,
            sign(&all.secret, "other", m.timestamp, &m.body).unwrap()
        );
    }
    let moves_now = h.db.get_webhook(&h.alice, moves.webhook.id).await.unwrap();
    assert_eq!(moves_now.delivered_seq, 2, "skipped kinds count as handled");
    assert_eq!(deliver_all(&h, &rx, &policy).await, 0, "each change once");

    // The receiver fails: the change is held, later ones wait, and the retry comes on time.
    h.db.update_prompt(
        &h.alice,
        "greet",
        PromptPatch {
            content: Some("Hello".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    h.db.set_label(&h.alice, "greet", "staging", LabelTarget::version(2))
        .await
        .unwrap();
    h.db.delete_webhook(&h.alice, moves.webhook.id)
        .await
        .unwrap();
    let flaky = Receiver::answering(&[500, 503]);
    assert_eq!(deliver_all(&h, &flaky, &policy).await, 1);
    let hook = h.db.get_webhook(&h.alice, all.webhook.id).await.unwrap();
    assert_eq!((hook.delivered_seq, hook.failures), (2, 1));
    assert_eq!(hook.next_attempt_at, h.clock_now() + Duration::seconds(5));
    h.clock.advance(Duration::seconds(4));
    assert_eq!(deliver_all(&h, &flaky, &policy).await, 0, "not due yet");
    h.clock.advance(Duration::seconds(1));
    assert_eq!(deliver_all(&h, &flaky, &policy).await, 1);
    assert_eq!(
        h.db.get_webhook(&h.alice, all.webhook.id)
            .await
            .unwrap()
            .failures,
        2
    );
    h.clock.advance(Duration::minutes(5));
    assert_eq!(deliver_all(&h, &flaky, &policy).await, 1);
    let sent = flaky.got.lock().unwrap().clone();
    let ids: Vec<&str> = sent.iter().map(|(_, m)| m.id.as_str()).collect();
    assert_eq!(
        ids.len(),
        4,
        "3 attempts at change 3, then change 4: {ids:?}"
    );
    assert!(
        ids[0] == ids[1] && ids[1] == ids[2] && ids[2] != ids[3],
        "{ids:?}"
    );
    let hook = h.db.get_webhook(&h.alice, all.webhook.id).await.unwrap();
    assert_eq!((hook.delivered_seq, hook.failures), (4, 0));

    let log =
        h.db.webhook_deliveries(&h.alice, all.webhook.id, Some(100))
            .await
            .unwrap();
    let summary: Vec<(i64, u32, Option<u16>)> =
        log.iter().map(|d| (d.seq, d.attempt, d.status)).collect();
    assert_eq!(
        summary,
        [
            (4, 1, Some(200)),
            (3, 3, Some(200)),
            (3, 2, Some(503)),
            (3, 1, Some(500)),
            (2, 1, Some(200)),
            (1, 1, Some(200)),
        ],
        "newest first"
    );
    assert!(log[2].error.as_deref().unwrap().contains("503"), "{log:?}");
    assert_eq!(
        h.db.webhook_deliveries(&h.alice, all.webhook.id, Some(2))
            .await
            .unwrap()
            .len(),
        2
    );

    // The log is purged with age.
    h.clock.advance(Duration::days(8));
    assert_eq!(h.db.sweep_expired().await.deliveries, 6);
    assert!(
        h.db.webhook_deliveries(&h.alice, all.webhook.id, None)
            .await
            .unwrap()
            .is_empty()
    );
}

/// After the last retry fails the hook is disabled with the reason; enabling it resumes from the
/// change that failed.
pub async fn webhooks_are_disabled_after_repeated_failures(t: TestStore) {
    let h = Harness::new(t).await;
    let hook =
        h.db.create_webhook(&h.alice, NewWebhook::new("https://example.com/down"))
            .await
            .unwrap()
            .webhook;
    let policy = WebhookPolicy {
        retry_after: vec![StdDuration::from_secs(1)],
    };
    h.save(&h.alice, prompt("one", "One", "1")).await;
    let down = Receiver::answering(&[500, 500]);
    deliver_all(&h, &down, &policy).await;
    h.clock.advance(Duration::seconds(1));
    deliver_all(&h, &down, &policy).await;
    let now = h.db.get_webhook(&h.alice, hook.id).await.unwrap();
    assert!(!now.enabled);
    let reason = now.disabled_reason.clone().unwrap();
    assert!(
        reason.contains("2 attempts") && reason.contains("500"),
        "{reason}"
    );
    h.save(&h.alice, prompt("two", "Two", "2")).await;
    h.clock.advance(Duration::hours(1));
    assert_eq!(
        deliver_all(&h, &down, &policy).await,
        0,
        "a disabled hook rests"
    );

    let back =
        h.db.update_webhook(
            &h.alice,
            hook.id,
            WebhookPatch {
                enabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(back.enabled && back.disabled_reason.is_none() && back.failures == 0);
    let up = Receiver::default();
    deliver_all(&h, &up, &policy).await;
    let seqs: Vec<i64> = up.payloads().iter().map(|p| p.data.seq).collect();
    assert_eq!(seqs, [1, 2], "resumes with the change that failed");
}

/// Concurrent workers never claim the same hook; a claim that expired is taken over, and the
/// late worker's results are not recorded.
pub async fn webhook_claims_are_exclusive(t: TestStore) {
    let h = Harness::new(t).await;
    for i in 0..4 {
        h.db.create_webhook(
            &h.alice,
            NewWebhook::new(format!("https://example.com/{i}")),
        )
        .await
        .unwrap();
    }
    h.save(&h.alice, prompt("p", "P", "x")).await;
    let other = h.other_server();
    let (a, b) = tokio::join!(h.db.claim_webhooks(3), other.claim_webhooks(3));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 4, "every due hook claimed once");
    let mut ids: Vec<_> = a.iter().chain(&b).map(|c| c.webhook.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "no hook claimed twice");
    assert!(h.db.claim_webhooks(10).await.unwrap().is_empty());

    // The claim runs out: another worker takes the hook; the first one's report is dropped.
    h.clock
        .advance(Duration::seconds(crate::webhook::DELIVERY_LEASE_SECS + 1));
    let again = h.db.claim_webhooks(10).await.unwrap();
    assert_eq!(again.len(), 4);
    let policy = WebhookPolicy::default();
    let rx = Receiver::default();
    let late = h.db.deliver_webhook(&a[0], &rx, &policy).await.unwrap();
    assert!(!late.recorded);
    let fresh = again
        .iter()
        .find(|c| c.webhook.id == a[0].webhook.id)
        .unwrap();
    let done = h.db.deliver_webhook(fresh, &rx, &policy).await.unwrap();
    assert!(done.recorded && done.delivered == 1);
    let log =
        h.db.webhook_deliveries(&h.alice, fresh.webhook.id, None)
            .await
            .unwrap();
    assert_eq!(log.len(), 1, "only the holder's attempt is kept: {log:?}");
}
