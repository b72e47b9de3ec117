//! Webhooks: register, list, change and remove them; the delivery rounds a server's worker runs
//! (see [`crate::webhook`]).

use super::*;
use crate::{
    store::{DueWebhook, WebhookProgress, WebhookUpdate},
    webhook::{
        self, CreatedWebhook, DELIVERY_BATCH, DELIVERY_LEASE_SECS, Delivery, MAX_DELIVERY_PAGE,
        MAX_WEBHOOKS_PER_USER, Message, NewWebhook, Webhook, WebhookId, WebhookPatch,
        WebhookPolicy,
    },
};

/// Delivery attempts one read of the log returns when no limit is given.
const DEFAULT_DELIVERY_PAGE: u32 = 20;

/// Posts signed messages for the delivery worker: the server's HTTP client.
#[async_trait::async_trait]
pub trait WebhookSender: Send + Sync {
    /// Posts `message` to `url` with the Standard Webhooks headers: the receiver's HTTP status,
    /// or why no answer came (refused, timed out, a forbidden address).
    async fn send(&self, url: &str, message: &Message) -> std::result::Result<u16, String>;
}

/// What one delivery round did for one hook.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages the receiver took.
    pub delivered: u32,
    /// Attempts that failed (at most one per round: a failure holds back later changes).
    pub failed: u32,
    /// Changes of kinds the hook does not want, passed over.
    pub skipped: u32,
    /// Whether the hook was disabled (its last retry failed).
    pub disabled: bool,
    /// Whether the round's progress was recorded (`false`: the claim had expired, or the hook
    /// was deleted meanwhile).
    pub recorded: bool,
}

impl PromptDb {
    /// Registers a webhook for the caller. Deliveries start with the next change; the signing
    /// secret is in the result and can be seen only now.
    #[instrument(level = "debug", skip_all)]
    pub async fn create_webhook(
        &self,
        principal: &Principal,
        input: NewWebhook,
    ) -> Result<CreatedWebhook> {
        require_write(principal)?;
        let now = self.now();
        let hook = Webhook {
            id: WebhookId::new(),
            url: webhook::validate_url("url", &input.url)?,
            events: webhook::validate_events("events", &input.events)?,
            description: webhook::validate_description("description", &input.description)?,
            enabled: true,
            disabled_reason: None,
            created_at: now,
            delivered_seq: 0,
            failures: 0,
            next_attempt_at: now,
        };
        let secret = webhook::generate_secret()?;
        let Some(webhook) = self
            .store()
            .insert_webhook(principal.user_id(), &hook, &secret, MAX_WEBHOOKS_PER_USER)
            .await?
        else {
            return Err(Error::quota(
                "webhooks",
                format!("you have {MAX_WEBHOOKS_PER_USER} webhooks already; delete one first"),
            ));
        };
        Ok(CreatedWebhook { webhook, secret })
    }

    /// The caller's webhooks, oldest first (without secrets).
    #[instrument(level = "debug", skip_all)]
    pub async fn list_webhooks(&self, principal: &Principal) -> Result<Vec<Webhook>> {
        require_read(principal)?;
        self.store().webhooks(principal.user_id()).await
    }

    /// One of the caller's webhooks.
    #[instrument(level = "debug", skip_all)]
    pub async fn get_webhook(&self, principal: &Principal, id: WebhookId) -> Result<Webhook> {
        self.list_webhooks(principal)
            .await?
            .into_iter()
            .find(|h| h.id == id)
            .ok_or_else(|| Error::not_found("webhook", id))
    }

    /// Changes one of the caller's webhooks. Enabling a hook resumes deliveries where they
    /// stopped, at once, with a fresh retry count.
    #[instrument(level = "debug", skip_all)]
    pub async fn update_webhook(
        &self,
        principal: &Principal,
        id: WebhookId,
        patch: WebhookPatch,
    ) -> Result<Webhook> {
        require_write(principal)?;
        let update = WebhookUpdate {
            url: patch
                .url
                .map(|u| webhook::validate_url("url", &u))
                .transpose()?,
            events: patch
                .events
                .map(|e| webhook::validate_events("events", &e))
                .transpose()?,
            description: patch
                .description
                .map(|d| webhook::validate_description("description", &d))
                .transpose()?,
            enabled: patch.enabled,
            now: self.now(),
        };
        self.store()
            .update_webhook(principal.user_id(), id, &update)
            .await?
            .ok_or_else(|| Error::not_found("webhook", id))
    }

    /// Deletes one of the caller's webhooks and its delivery log.
    #[instrument(level = "debug", skip_all)]
    pub async fn delete_webhook(&self, principal: &Principal, id: WebhookId) -> Result<()> {
        require_write(principal)?;
        if self.store().delete_webhook(principal.user_id(), id).await? {
            Ok(())
        } else {
            Err(Error::not_found("webhook", id))
        }
    }

    /// A webhook's delivery log, newest attempt first: at most `limit` (default 20, at most
    /// 100), kept for seven days.
    #[instrument(level = "debug", skip_all)]
    pub async fn webhook_deliveries(
        &self,
        principal: &Principal,
        id: WebhookId,
        limit: Option<u32>,
    ) -> Result<Vec<Delivery>> {
        require_read(principal)?;
        let limit = limit.unwrap_or(DEFAULT_DELIVERY_PAGE);
        if !(1..=MAX_DELIVERY_PAGE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_DELIVERY_PAGE}"),
            ));
        }
        self.store()
            .webhook_deliveries(principal.user_id(), id, limit)
            .await?
            .ok_or_else(|| Error::not_found("webhook", id))
    }

    /// Claims up to `limit` webhooks of any user with changes to deliver (a system operation:
    /// the delivery worker). Each claim lasts five minutes; pass it to
    /// [`PromptDb::deliver_webhook`].
    #[instrument(level = "debug", skip_all)]
    pub async fn claim_webhooks(&self, limit: u32) -> Result<Vec<DueWebhook>> {
        let now = self.now();
        self.store()
            .claim_webhooks(
                now,
                crate::truncate_micros(now + Duration::seconds(DELIVERY_LEASE_SECS)),
                limit.max(1),
            )
            .await
    }

    /// Sends a claimed hook its waiting changes, oldest first, and records the attempts: stops
    /// at the first failure and schedules its retry, or disables the hook when it was the last
    /// retry the policy allows.
    #[instrument(level = "debug", skip_all, fields(webhook = %claim.webhook.id))]
    pub async fn deliver_webhook(
        &self,
        claim: &DueWebhook,
        sender: &dyn WebhookSender,
        policy: &WebhookPolicy,
    ) -> Result<DeliveryReport> {
        let hook = &claim.webhook;
        let page = self
            .store()
            .changes(claim.user, hook.delivered_seq, DELIVERY_BATCH)
            .await?;
        if page.is_gap(hook.delivered_seq) {
            // Only a hook disabled for longer than the feed keeps changes gets here.
            tracing::warn!(
                webhook = %hook.id,
                from = hook.delivered_seq,
                oldest = ?page.oldest,
                "changes were purged before this webhook got them; delivering from the oldest kept"
            );
        }
        let mut report = DeliveryReport::default();
        let mut progress = WebhookProgress {
            delivered_seq: hook.delivered_seq,
            failures: hook.failures,
            next_attempt_at: self.now(),
            disable: None,
        };
        if page.changes.is_empty() {
            // Nothing kept after the hook's position: catch up with the head.
            progress.delivered_seq = progress.delivered_seq.max(page.head);
        }
        let mut attempts = Vec::new();
        for change in &page.changes {
            if !hook.events.contains(&change.kind) {
                progress.delivered_seq = change.seq;
                report.skipped += 1;
                continue;
            }
            let at = self.now();
            let message = Message::for_change(hook.id, &claim.secret, change, at)?;
            let started = std::time::Instant::now();
            let answer = sender.send(&hook.url, &message).await;
            let mut attempt = Delivery {
                message_id: message.id,
                event: message.event,
                seq: change.seq,
                attempt: progress.failures.saturating_add(1),
                at,
                status: answer.as_ref().ok().copied(),
                error: answer.err().map(|e| webhook::short_error(&e)),
                duration_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
            };
            if attempt.succeeded() {
                progress.delivered_seq = change.seq;
                progress.failures = 0;
                report.delivered += 1;
                attempts.push(attempt);
                continue;
            }
            let reason = match (&attempt.error, attempt.status) {
                (Some(e), _) => e.clone(),
                (None, Some(status)) => format!("the receiver answered HTTP {status}"),
                (None, None) => "no answer".to_owned(),
            };
            attempt.error = Some(reason.clone());
            progress.failures = progress.failures.saturating_add(1);
            report.failed += 1;
            match policy.retry_delay(progress.failures) {
                Some(wait) => progress.next_attempt_at = self.now() + wait,
                None => {
                    report.disabled = true;
                    progress.disable = Some(webhook::short_error(&format!(
                        "{} attempts to deliver change {} failed; the last: {reason}",
                        progress.failures, change.seq
                    )));
                }
            }
            attempts.push(attempt);
            break;
        }
        report.recorded = self
            .store()
            .finish_webhook(claim, &progress, &attempts)
            .await?;
        if report.disabled && report.recorded {
            tracing::warn!(webhook = %hook.id, "webhook disabled after repeated failures");
        }
        Ok(report)
    }
}
