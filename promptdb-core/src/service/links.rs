//! One-time sign-in links for local mode: the server prints one at start, `promptdb open` makes
//! a fresh one. A link carries the user, an expiry and a nonce, signed with HMAC-SHA256 under a
//! secret kept in the database (so the CLI and the server, sharing the database, agree); each
//! link works once, for ten minutes.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::*;

const SECRET_META_KEY: &str = "sign_in_link_secret";
/// How long a sign-in link works.
pub const SIGN_IN_LINK_SECS: i64 = 600;
const TOKEN_BYTES: usize = 16 + 8 + 8 + 32;

impl PromptDb {
    async fn link_secret(&self) -> Result<Vec<u8>> {
        if let Some(s) = self.store().meta(SECRET_META_KEY).await?
            && let Ok(bytes) = URL_SAFE_NO_PAD.decode(s)
            && bytes.len() == 32
        {
            return Ok(bytes);
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(Error::backend)?;
        self.store()
            .set_meta(SECRET_META_KEY, &URL_SAFE_NO_PAD.encode(secret))
            .await?;
        Ok(secret.to_vec())
    }

    fn mac(secret: &[u8], payload: &[u8]) -> Result<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(Error::backend)?;
        mac.update(payload);
        Ok(mac)
    }

    /// A one-time sign-in token for `user` (a system operation: local mode's owner at the
    /// machine), valid for ten minutes.
    pub async fn sign_in_token(&self, user: UserId) -> Result<String> {
        let secret = self.link_secret().await?;
        let expiry = (self.now() + Duration::seconds(SIGN_IN_LINK_SECS)).timestamp();
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(Error::backend)?;
        let mut payload = Vec::with_capacity(TOKEN_BYTES);
        payload.extend_from_slice(user.as_uuid().as_bytes());
        payload.extend_from_slice(&expiry.to_be_bytes());
        payload.extend_from_slice(&nonce);
        let tag = Self::mac(&secret, &payload)?.finalize().into_bytes();
        payload.extend_from_slice(&tag);
        Ok(URL_SAFE_NO_PAD.encode(payload))
    }

    /// The user a sign-in token stands for, once: a second use, an expired or a forged token
    /// fails with [`Error::Unauthorized`].
    pub async fn redeem_sign_in_token(&self, token: &str) -> Result<UserId> {
        if token.len() > 2 * TOKEN_BYTES {
            return Err(Error::Unauthorized);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| Error::Unauthorized)?;
        if bytes.len() != TOKEN_BYTES {
            return Err(Error::Unauthorized);
        }
        let (payload, tag) = bytes.split_at(TOKEN_BYTES - 32);
        let secret = self.link_secret().await?;
        Self::mac(&secret, payload)?
            .verify_slice(tag)
            .map_err(|_| Error::Unauthorized)?;
        let mut expiry = [0u8; 8];
        expiry.copy_from_slice(&payload[16..24]);
        if i64::from_be_bytes(expiry) <= self.now().timestamp() {
            return Err(Error::Unauthorized);
        }
        let nonce = hash_secret(token);
        if self.inner.used_links.contains_key(&nonce) {
            return Err(Error::Unauthorized);
        }
        self.inner.used_links.insert(nonce, ());
        let uuid = uuid::Uuid::from_slice(&payload[..16]).map_err(|_| Error::Unauthorized)?;
        Ok(UserId::from_uuid(uuid))
    }
}
