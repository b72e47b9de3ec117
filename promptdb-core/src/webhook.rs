//! Webhooks: URLs a user registers to be told when their prompts change.
//!
//! Deliveries read the change feed ([`crate::change`]), which the backends write in the
//! transaction of each change: each hook keeps its own position in the feed, so a change is
//! delivered at least once, in the order of the feed, however often the receiver fails or the
//! server restarts. A failed delivery is retried on a schedule ([`WebhookPolicy`]) and holds back
//! the hook's later changes until it succeeds; after the last retry fails the hook is disabled,
//! with the reason, until its owner enables it again.
//!
//! Every delivery is signed as [Standard Webhooks](https://www.standardwebhooks.com/) describe:
//! headers `webhook-id` (the same on every retry of a message), `webhook-timestamp` (seconds
//! since the epoch, of this attempt) and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of
//! `id.timestamp.body` under the hook's secret), so receivers verify them with any Standard
//! Webhooks library.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{
    Error, Result,
    change::{Change, ChangeKind},
    validate,
};

crate::ids::uuid_id!(
    /// A webhook's identifier.
    WebhookId,
    "webhook"
);

/// Most webhooks one user may have.
pub const MAX_WEBHOOKS_PER_USER: usize = 10;
/// Longest webhook URL, in characters.
pub const MAX_WEBHOOK_URL_LEN: usize = 2_000;
/// Longest description, in characters.
pub const MAX_WEBHOOK_DESCRIPTION_CHARS: usize = 200;
/// The prefix of a signing secret (Standard Webhooks' convention).
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";
/// Random characters after the prefix: base-62 characters are base64 digits too, so the secret
/// is a valid Standard Webhooks secret of 24 bytes (190 bits of entropy).
const SECRET_CHARS: usize = 32;
/// Most delivery attempts one read of the log returns.
pub const MAX_DELIVERY_PAGE: u32 = 100;
/// How long the delivery log keeps an attempt.
pub const DELIVERY_RETENTION_DAYS: i64 = 7;
/// Most changes one hook is sent per claim (the hook is claimed again when more are waiting).
pub const DELIVERY_BATCH: u32 = 20;
/// How long a claim lasts: a worker that dies mid-delivery leaves the hook to another after
/// this long (its deliveries are then sent again: at least once).
pub const DELIVERY_LEASE_SECS: i64 = 300;
/// Longest error text kept in the delivery log, in characters.
const MAX_ERROR_CHARS: usize = 500;

/// A registered webhook (without its secret).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// Identifier.
    pub id: WebhookId,
    /// Where deliveries are posted.
    pub url: String,
    /// The changes delivered.
    pub events: Vec<ChangeKind>,
    /// What the hook is for.
    pub description: String,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why PromptDB disabled the hook (absent when it is enabled or its owner disabled it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// The last change of the feed handled: delivered, or not among `events`. Deliveries start
    /// after the change that was last when the hook was registered.
    pub delivered_seq: i64,
    /// Failed attempts to deliver the next change, since the last success.
    pub failures: u32,
    /// When the next attempt is due (after a failure: the retry).
    pub next_attempt_at: DateTime<Utc>,
}

/// Input for registering a webhook.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to post deliveries: an `http` or `https` URL without credentials.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::webhook::MAX_WEBHOOK_URL_LEN), pattern(crate::webhook::URL_PATTERN)))]
    pub url: String,
    /// The changes to deliver; every kind when absent.
    #[serde(
        default = "all_events",
        deserialize_with = "crate::bounded::vec::<_, _, 3>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 3)))]
    pub events: Vec<ChangeKind>,
    /// What the hook is for.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SINGLE_LINE_PATTERN), length(max = crate::webhook::MAX_WEBHOOK_DESCRIPTION_CHARS)))]
    pub description: String,
}

impl NewWebhook {
    /// A hook for every kind of change.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            events: all_events(),
            description: String::new(),
        }
    }
}

/// Changes to a webhook; absent fields stay as they are.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    /// Where to post deliveries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::webhook::MAX_WEBHOOK_URL_LEN), pattern(crate::webhook::URL_PATTERN)))]
    pub url: Option<String>,
    /// The changes to deliver.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::bounded::opt_vec::<_, _, 3>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 3)))]
    pub events: Option<Vec<ChangeKind>>,
    /// What the hook is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SINGLE_LINE_PATTERN), length(max = crate::webhook::MAX_WEBHOOK_DESCRIPTION_CHARS)))]
    pub description: Option<String>,
    /// `true` resumes deliveries where they stopped (and clears a failure count); `false`
    /// pauses them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A newly registered webhook and its signing secret, shown this once.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    /// The hook.
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The secret deliveries are signed with (`whsec_…`): give it to the receiver's Standard
    /// Webhooks verifier.
    pub secret: String,
}

/// One attempt to deliver a message, as the delivery log keeps it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The message (`webhook-id`; the same on every attempt).
    pub message_id: String,
    /// The event type (`prompt.label_moved`, …).
    pub event: String,
    /// The change delivered.
    pub seq: i64,
    /// 1 for the first attempt, 2 for the first retry, ….
    pub attempt: u32,
    /// When the attempt was made.
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why the attempt failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u32,
}

impl Delivery {
    /// Whether the receiver took the message (a 2xx answer).
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// When failed deliveries are retried, and when a hook is given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// Waits before each retry: the first retry after `retry_after[0]`, …; when every retry has
    /// failed the hook is disabled.
    pub retry_after: Vec<std::time::Duration>,
}

impl Default for WebhookPolicy {
    /// Eight attempts over about 28 hours: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h,
    /// 10 h and 10 h (the schedule Standard Webhooks' authors use).
    fn default() -> Self {
        Self {
            retry_after: [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]
                .into_iter()
                .map(std::time::Duration::from_secs)
                .collect(),
        }
    }
}

impl WebhookPolicy {
    /// Attempts made at most for one message.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.retry_after.len()).unwrap_or(u32::MAX - 1) + 1
    }

    /// The wait before the retry that follows `failures` failed attempts, or `None` when the
    /// hook should be disabled.
    pub fn retry_delay(&self, failures: u32) -> Option<chrono::Duration> {
        let wait = self
            .retry_after
            .get(usize::try_from(failures).ok()?.checked_sub(1)?)?;
        chrono::Duration::from_std(*wait).ok()
    }
}

/// A message ready to post: the body and the Standard Webhooks headers' values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp`: seconds since the epoch.
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: String,
    /// The JSON body.
    pub body: String,
    /// The event type, for the log.
    pub event: String,
}

/// The body of a delivery.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPayload {
    /// `prompt.version_created`, `prompt.label_moved` or `prompt.prompt_deleted`.
    #[serde(rename = "type")]
    pub event: String,
    /// When the message was made (the change's time).
    pub timestamp: DateTime<Utc>,
    /// The change, as the change feed shows it.
    pub data: Change,
}

/// The event type of a change kind.
pub fn event_type(kind: ChangeKind) -> String {
    format!("prompt.{}", kind.as_str())
}

impl Message {
    /// The message for `change` to hook `hook`, signed with `secret` at `now`.
    pub fn for_change(
        hook: WebhookId,
        secret: &str,
        change: &Change,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let payload = WebhookPayload {
            event: event_type(change.kind),
            timestamp: change.at,
            data: change.clone(),
        };
        let body = serde_json::to_string(&payload).map_err(Error::backend)?;
        let id = format!("msg_{}_{}", hook.as_uuid().simple(), change.seq);
        let timestamp = now.timestamp();
        Ok(Self {
            signature: sign(secret, &id, timestamp, &body)?,
            id,
            timestamp,
            body,
            event: payload.event,
        })
    }
}

/// The `webhook-signature` value of a message: `v1,` and the base64 HMAC-SHA256 of
/// `id.timestamp.body`, keyed by the base64-decoded part of `secret` after `whsec_`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(WEBHOOK_SECRET_PREFIX).unwrap_or(secret))
        .map_err(|e| Error::backend(format!("a webhook secret is not base64: {e}")))?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).map_err(Error::backend)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// A fresh signing secret.
pub(crate) fn generate_secret() -> Result<String> {
    crate::generate_token(WEBHOOK_SECRET_PREFIX, SECRET_CHARS)
}

/// Every kind of change.
pub fn all_events() -> Vec<ChangeKind> {
    vec![
        ChangeKind::VersionCreated,
        ChangeKind::LabelMoved,
        ChangeKind::PromptDeleted,
    ]
}

/// What a webhook URL must look like (the schema's summary; [`validate_url`] has the rest).
pub const URL_PATTERN: &str = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s]+$";

/// Checks a webhook URL: `http` or `https`, a host, no user name or password, no fragment.
pub fn validate_url(field: &str, url: &str) -> Result<String> {
    if url.len() > 4 * MAX_WEBHOOK_URL_LEN || url.chars().count() > MAX_WEBHOOK_URL_LEN {
        return Err(Error::invalid(
            field,
            format!("at most {MAX_WEBHOOK_URL_LEN} characters"),
        ));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\u{feff}')
    {
        return Err(Error::invalid(
            field,
            "must not contain spaces or control characters",
        ));
    }
    // The parser also reads `http:host` and `http:\\host`; the document's pattern does not.
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(Error::invalid(
            field,
            "must be an http or https URL (`https://…`)",
        ));
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::invalid(field, format!("not a valid URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::invalid(field, "must be an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(field, "must name a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid(
            field,
            "must not carry a user name or password (authenticate the signature instead)",
        ));
    }
    if parsed.fragment().is_some() {
        return Err(Error::invalid(field, "must not have a fragment (`#…`)"));
    }
    Ok(parsed.into())
}

/// Checks a list of event kinds: at least one; the result is in canonical order, each once.
pub(crate) fn validate_events(field: &str, events: &[ChangeKind]) -> Result<Vec<ChangeKind>> {
    if events.is_empty() {
        return Err(Error::invalid(
            field,
            "name at least one of `version_created`, `label_moved`, `prompt_deleted`",
        ));
    }
    Ok(all_events()
        .into_iter()
        .filter(|k| events.contains(k))
        .collect())
}

/// Checks a description: one line, within the limit; returned trimmed.
pub(crate) fn validate_description(field: &str, description: &str) -> Result<String> {
    validate::single_line(description, MAX_WEBHOOK_DESCRIPTION_CHARS, true)
        .map_err(|r| Error::invalid(field, r))?;
    Ok(validate::trim(description).to_owned())
}

/// An error text for the log, within its limit.
pub(crate) fn short_error(e: &str) -> String {
    e.chars().take(MAX_ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_reference() {
        // The test vector of the Standard Webhooks reference libraries.
        let sig = sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn generated_secrets_are_valid_standard_webhooks_secrets() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert_ne!(a, b);
        let key = STANDARD.decode(a.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 24);
        sign(&a, "msg_1", 1, "{}").unwrap();
    }

    #[test]
    fn urls_are_checked_naming_the_field() {
        assert_eq!(
            validate_url("url", "https://example.com/hook?x=1").unwrap(),
            "https://example.com/hook?x=1"
        );
        validate_url("url", "http://127.0.0.1:9000").unwrap();
        for bad in [
            "ftp://example.com",
            "example.com/hook",
            "https://user:pw@example.com",
            "https://example.com/#frag",
            "https://exa mple.com",
            "http://",
            "http:example.com",
            "https:\\\\example.com",
        ] {
            let err = validate_url("url", bad).unwrap_err();
            assert!(
                matches!(&err, Error::Invalid { field, .. } if field == "url"),
                "{bad}: {err:?}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_WEBHOOK_URL_LEN));
        assert!(validate_url("url", &long).is_err());
    }

    #[test]
    fn the_policy_retries_then_gives_up() {
        let p = WebhookPolicy::default();
        assert_eq!(p.attempts(), 8);
        assert_eq!(p.retry_delay(1), Some(chrono::Duration::seconds(5)));
        assert_eq!(p.retry_delay(7), Some(chrono::Duration::hours(10)));
        assert_eq!(p.retry_delay(8), None);
        assert_eq!(p.retry_delay(0), None);
    }
}
