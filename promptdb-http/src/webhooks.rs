//! Webhook delivery for a long-running server: a worker that wakes when changes are committed
//! (by any server sharing the database) and every second for retries, claims due hooks, and
//! posts their changes with [`HttpSender`]. Hooks are claimed with a lease, so any number of
//! servers can run workers over one database.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use promptdb_core::{PromptDb, WebhookSender, webhook::Message};
use tokio_util::sync::CancellationToken;

use crate::settings::Settings;

/// How often the worker looks for due retries when no change wakes it.
const TICK: Duration = Duration::from_secs(1);

/// Posts Standard Webhooks messages over HTTP: no redirects followed, a timeout, the body of
/// the answer never read; loopback, private and link-local addresses refused unless allowed.
#[derive(Debug, Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    allow_private: bool,
}

impl HttpSender {
    /// A sender with `timeout` per delivery.
    pub fn new(timeout: Duration, allow_private: bool) -> anyhow::Result<Self> {
        crate::install_tls_provider();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("PromptDB-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            client: builder.build()?,
            allow_private,
        })
    }
}

#[async_trait::async_trait]
impl WebhookSender for HttpSender {
    async fn send(&self, url: &str, message: &Message) -> Result<u16, String> {
        if !self.allow_private
            && let Ok(parsed) = url::Url::parse(url)
            && let Some(ip) = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            }
            && !is_public(ip)
        {
            return Err(private_refused(ip));
        }
        let answer = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", message.timestamp.to_string())
            .header("webhook-signature", &message.signature)
            .body(message.body.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(answer.status().as_u16())
    }
}

fn private_refused(ip: IpAddr) -> String {
    format!(
        "refused: {ip} is a loopback, private or link-local address (set PROMPTDB_WEBHOOK_ALLOW_PRIVATE=on to allow)"
    )
}

/// A delivery error in one line, with its cause (reqwest's own message stops at "error sending
/// request").
fn describe(e: reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Whether `ip` is on the public internet (not loopback, private, link-local, shared,
/// documentation, multicast or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Resolves host names with the system resolver and keeps public addresses only, so that a
/// name pointing at the server's own network is refused however it resolves.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                all.iter().copied().filter(|a| is_public(a.ip())).collect();
            match (public.is_empty(), all.first()) {
                (true, Some(a)) => Err(private_refused(a.ip()).into()),
                _ => Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// Runs the delivery worker until `stop` is cancelled.
pub async fn run(db: PromptDb, settings: &Settings, stop: CancellationToken) {
    let sender = match HttpSender::new(
        Duration::from_secs(settings.webhooks.timeout_secs),
        settings.webhooks_allow_private(),
    ) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            tracing::error!(error = %e, "webhooks: no HTTP client; deliveries are off");
            return;
        }
    };
    let policy = Arc::new(settings.webhooks.policy());
    let limit = u32::try_from(settings.webhooks.concurrency).unwrap_or(8);
    let mut listener = None;
    loop {
        if listener.is_none() {
            // A lost listener is retried every tick; meanwhile the tick delivers.
            listener = db.listen_changes().await.ok();
        }
        deliver_due(&db, &sender, &policy, limit).await;
        let woke = async {
            match listener.as_mut() {
                Some(l) => l.next().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            ok = woke => if !ok { listener = None },
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

/// Delivers to every due hook, `limit` at a time, until none is due.
async fn deliver_due(
    db: &PromptDb,
    sender: &Arc<HttpSender>,
    policy: &Arc<promptdb_core::webhook::WebhookPolicy>,
    limit: u32,
) {
    loop {
        let claims = match db.claim_webhooks(limit).await {
            Ok(c) if c.is_empty() => return,
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "webhooks: could not claim due hooks");
                return;
            }
        };
        let rounds = claims.into_iter().map(|claim| {
            let (db, sender, policy) = (db.clone(), sender.clone(), policy.clone());
            tokio::spawn(async move {
                if let Err(e) = db.deliver_webhook(&claim, &*sender, &policy).await {
                    tracing::warn!(error = %e, webhook = %claim.webhook.id, "webhooks: delivery round failed");
                }
            })
        });
        for round in rounds.collect::<Vec<_>>() {
            let _ = round.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_addresses_are_refused_unless_allowed() {
        let message = Message {
            id: "msg_1".into(),
            timestamp: 1,
            signature: "v1,x".into(),
            body: "{}".into(),
            event: "prompt.label_moved".into(),
        };
        let strict = HttpSender::new(Duration::from_secs(2), false).unwrap();
        for url in [
            "http://127.0.0.1:9/hook",
            "http://[::1]:9/hook",
            "http://localhost:9/hook",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let e = strict.send(url, &message).await.unwrap_err();
            assert!(
                e.contains("refused") && e.contains("PROMPTDB_WEBHOOK_ALLOW_PRIVATE"),
                "{url}: {e}"
            );
        }
        // Allowed: the request is made (nothing listens on port 9).
        let open = HttpSender::new(Duration::from_secs(2), true).unwrap();
        let e = open
            .send("http://127.0.0.1:9/hook", &message)
            .await
            .unwrap_err();
        assert!(e.starts_with("could not connect"), "{e}");
    }

    #[test]
    fn private_addresses_are_told_apart() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1", "1.1.1.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
