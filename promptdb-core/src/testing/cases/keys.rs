use chrono::Duration;

use crate::{
    Error, MAX_API_KEYS_PER_USER, NewApiKey, PromptDb, Scope,
    testing::{Harness, TestStore, assert_invalid, assert_not_found, assert_quota},
};

fn assert_unauthorized<T: std::fmt::Debug>(result: crate::Result<T>) {
    assert!(
        matches!(result, Err(Error::Unauthorized)),
        "expected unauthorized, got {result:?}"
    );
}

/// A key is shown once, listed without its secret, authenticates its owner, and stops working
/// when revoked.
pub async fn api_keys_create_list_revoke(t: TestStore) {
    let h = Harness::new(t).await;
    let created =
        h.db.create_api_key(&h.alice, NewApiKey::new("  laptop  "))
            .await
            .unwrap();
    assert!(crate::looks_like_api_key(&created.secret));
    assert_eq!(created.key.name, "laptop");
    assert_eq!(created.key.scopes, [Scope::Read, Scope::Write]);
    assert!(created.secret.starts_with(&created.key.prefix));
    let listed = h.db.list_api_keys(&h.alice).await.unwrap();
    assert_eq!(listed, vec![created.key.clone()]);
    assert!(
        !format!("{listed:?}").contains(&created.secret),
        "secrets are never listed"
    );

    let p = h.db.authenticate_api_key(&created.secret).await.unwrap();
    assert_eq!(p.user_id(), h.alice.user_id());
    assert!(p.can_write());

    h.db.revoke_api_key(&h.alice, created.key.id).await.unwrap();
    assert_unauthorized(h.db.authenticate_api_key(&created.secret).await);
    assert_not_found(h.db.revoke_api_key(&h.alice, created.key.id).await);
    assert!(h.db.list_api_keys(&h.alice).await.unwrap().is_empty());
}

/// A read-only key yields a read-only principal; malformed and unknown secrets are refused.
pub async fn api_keys_scopes_and_bad_secrets(t: TestStore) {
    let h = Harness::new(t).await;
    let ro =
        h.db.create_api_key(
            &h.alice,
            NewApiKey {
                name: "reader".into(),
                scopes: vec![Scope::Read],
            },
        )
        .await
        .unwrap();
    let p = h.db.authenticate_api_key(&ro.secret).await.unwrap();
    assert!(p.can_read() && !p.can_write());
    // A read-only key cannot mint keys.
    assert!(matches!(
        h.db.create_api_key(&p, NewApiKey::new("escalate")).await,
        Err(Error::Forbidden { .. })
    ));
    let mut wrong = ro.secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    for bad in [
        "",
        "pdb_",
        "Bearer x",
        "pdb_short",
        wrong.as_str(),
        &ro.secret.to_uppercase(),
    ] {
        assert_unauthorized(h.db.authenticate_api_key(bad).await);
    }
}

/// Keys are per user: another user can neither list nor revoke them.
pub async fn api_keys_are_per_user(t: TestStore) {
    let h = Harness::new(t).await;
    let alice_key =
        h.db.create_api_key(&h.alice, NewApiKey::new("a"))
            .await
            .unwrap();
    let bob_key =
        h.db.create_api_key(&h.bob, NewApiKey::new("b"))
            .await
            .unwrap();
    assert_not_found(h.db.revoke_api_key(&h.bob, alice_key.key.id).await);
    assert_eq!(h.db.list_api_keys(&h.bob).await.unwrap(), vec![bob_key.key]);
    let p = h.db.authenticate_api_key(&alice_key.secret).await.unwrap();
    assert_eq!(p.user_id(), h.alice.user_id());
}

/// Use is recorded, at most once a minute.
pub async fn api_keys_record_last_use(t: TestStore) {
    let store = t.store.clone();
    let h = Harness::new(t).await;
    let created =
        h.db.create_api_key(&h.alice, NewApiKey::new("k"))
            .await
            .unwrap();
    let used_at = h.clock_now();
    h.db.authenticate_api_key(&created.secret).await.unwrap();
    let last = |db: PromptDb| {
        let alice = h.alice.clone();
        async move { db.list_api_keys(&alice).await.unwrap()[0].last_used_at }
    };
    assert_eq!(last(h.db.clone()).await, Some(used_at));
    // A service without a warm cache, a minute later, records the new use.
    h.clock.advance(Duration::seconds(61));
    let fresh = PromptDb::new(store).with_clock(h.clock.clone());
    fresh.authenticate_api_key(&created.secret).await.unwrap();
    assert_eq!(last(h.db.clone()).await, Some(h.clock_now()));
}

/// Key names and scopes are validated; the number of keys is bounded.
pub async fn api_keys_limits(t: TestStore) {
    let h = Harness::new(t).await;
    assert_invalid(
        h.db.create_api_key(&h.alice, NewApiKey::new("  ")).await,
        "name",
    );
    assert_invalid(
        h.db.create_api_key(&h.alice, NewApiKey::new("x".repeat(101)))
            .await,
        "name",
    );
    let no_scopes = NewApiKey {
        name: "none".into(),
        scopes: vec![],
    };
    assert_invalid(h.db.create_api_key(&h.alice, no_scopes).await, "scopes");
    for i in 0..MAX_API_KEYS_PER_USER {
        h.db.create_api_key(&h.alice, NewApiKey::new(format!("k{i}")))
            .await
            .unwrap();
    }
    assert_quota(
        h.db.create_api_key(&h.alice, NewApiKey::new("one too many"))
            .await,
        "api_keys",
    );
    assert_eq!(
        h.db.list_api_keys(&h.alice).await.unwrap().len(),
        MAX_API_KEYS_PER_USER
    );
}

/// Local mode's user and key are created once; the key authenticates that user.
pub async fn local_user_is_created_once(t: TestStore) {
    let h = Harness::new(t).await;
    let (user, key) = h.db.local_user().await.unwrap();
    let key = key.expect("the first call creates a key");
    let (again, none) = h.db.local_user().await.unwrap();
    assert_eq!(again, user);
    assert!(none.is_none(), "the secret is shown only once");
    let p = h.db.authenticate_api_key(&key.secret).await.unwrap();
    assert_eq!(p.user_id(), user.id);
    assert_ne!(user.id, h.alice.user_id());
}

/// Deleting a user revokes the user's keys.
pub async fn delete_user_revokes_keys(t: TestStore) {
    let h = Harness::new(t).await;
    let key =
        h.db.create_api_key(&h.alice, NewApiKey::new("k"))
            .await
            .unwrap();
    h.db.authenticate_api_key(&key.secret).await.unwrap();
    h.db.delete_user(&h.alice).await.unwrap();
    assert_unauthorized(h.db.authenticate_api_key(&key.secret).await);
    assert!(matches!(
        h.db.create_api_key(&h.alice, NewApiKey::new("zombie"))
            .await,
        Err(Error::NotFound { what: "user", .. })
    ));
}
