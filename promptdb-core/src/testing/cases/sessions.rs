use chrono::Duration;

use crate::{
    Error, NewSession, Principal, Scope, Session,
    testing::{Harness, TestStore, assert_invalid},
};

const ISSUER: &str = "https://id.example.test";

fn assert_unauthorized<T: std::fmt::Debug>(result: crate::Result<T>) {
    assert!(
        matches!(result, Err(Error::Unauthorized)),
        "expected unauthorized, got {result:?}"
    );
}

/// The first sign-in creates a user; later ones find it. Issuer and subject both count.
pub async fn identities_map_to_one_user_each(t: TestStore) {
    let h = Harness::new(t).await;
    let ada =
        h.db.user_for_identity(ISSUER, "ada", "Ada\nLovelace")
            .await
            .unwrap();
    assert_ne!(ada, h.alice.user_id());
    let me = h.db.me(&Principal::full(ada)).await.unwrap();
    assert_eq!(me.display_name, "Ada Lovelace", "one line");
    // Found again, by this server (cached) and by another (from the store).
    assert_eq!(
        h.db.user_for_identity(ISSUER, "ada", "other name")
            .await
            .unwrap(),
        ada
    );
    assert_eq!(
        h.other_server()
            .user_for_identity(ISSUER, "ada", "")
            .await
            .unwrap(),
        ada
    );
    let other_subject = h.db.user_for_identity(ISSUER, "bob", "").await.unwrap();
    let other_issuer =
        h.db.user_for_identity("https://elsewhere.test", "ada", "")
            .await
            .unwrap();
    assert_ne!(other_subject, ada);
    assert_ne!(other_issuer, ada);
    assert_ne!(other_issuer, other_subject);
    // Subjects are compared exactly.
    assert_ne!(
        h.db.user_for_identity(ISSUER, "Ada", "").await.unwrap(),
        ada
    );
}

/// Concurrent first sign-ins of one identity through separate servers end with one user.
pub async fn identities_race_to_one_user(t: TestStore) {
    let h = Harness::new(t).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let db = h.other_server();
            tokio::spawn(async move { db.user_for_identity(ISSUER, "racer", "Racer").await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every sign-in got the same user: {ids:?}");
    assert_eq!(
        h.other_server()
            .user_for_identity(ISSUER, "racer", "")
            .await
            .unwrap(),
        ids[0]
    );
}

/// Empty or oversized claims are refused and create nothing.
pub async fn identities_reject_bad_claims(t: TestStore) {
    let h = Harness::new(t).await;
    assert_invalid(h.db.user_for_identity("", "ada", "").await, "iss");
    assert_invalid(h.db.user_for_identity(ISSUER, "", "").await, "sub");
    let long = "s".repeat(crate::MAX_SUBJECT_CHARS + 1);
    assert_invalid(h.db.user_for_identity(ISSUER, &long, "").await, "sub");
    assert_invalid(h.db.user_for_identity(ISSUER, "a\u{0}b", "").await, "sub");
    // An overlong display name is cut, not refused.
    let name = "n".repeat(1_000);
    let id = h.db.user_for_identity(ISSUER, "ok", &name).await.unwrap();
    let me = h.db.me(&Principal::full(id)).await.unwrap();
    assert_eq!(
        me.display_name.chars().count(),
        crate::validate::MAX_DISPLAY_NAME_CHARS
    );
}

/// A session is found by its secret on any server, keeps every field, and ends on request.
pub async fn sessions_round_trip_and_end(t: TestStore) {
    let h = Harness::new(t).await;
    let due = h.clock_now() + Duration::minutes(5);
    let created =
        h.db.create_session(
            h.alice.user_id(),
            NewSession {
                refresh_token: Some("rt-1".into()),
                refresh_due_at: Some(due),
                scopes: vec![Scope::Release, Scope::Read, Scope::Read],
            },
        )
        .await
        .unwrap();
    assert!(crate::looks_like_session_secret(&created.secret));
    assert!(!format!("{created:?}").contains(&created.secret));
    let s = &created.session;
    assert_eq!(s.user_id, h.alice.user_id());
    assert_eq!(s.refresh_token.as_deref(), Some("rt-1"));
    assert_eq!(s.refresh_due_at, Some(due));
    assert_eq!(
        s.scopes,
        [Scope::Read, Scope::Release],
        "scopes kept once each, in order"
    );
    assert_eq!(s.created_at, h.clock_now());
    assert_eq!(
        s.expires_at,
        h.clock_now() + Duration::seconds(crate::Config::default().session_ttl_secs as i64)
    );
    let other = h.other_server();
    let found: Session = other.session(&created.secret).await.unwrap();
    assert_eq!(&found, s, "every field survives the store");
    // A second session of the same user is separate.
    let second =
        h.db.create_session(
            h.alice.user_id(),
            NewSession::with_scopes(&[Scope::Read, Scope::Write]),
        )
        .await
        .unwrap();
    assert_ne!(second.secret, created.secret);
    assert_eq!(second.session.scopes, [Scope::Read, Scope::Write]);
    assert_invalid(
        h.db.create_session(h.alice.user_id(), NewSession::with_scopes(&[]))
            .await,
        "scopes",
    );
    assert_ne!(second.session.csrf_token, s.csrf_token);

    let mut wrong = created.secret.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    for bad in ["", "pds_", "pds_short", wrong.as_str(), "pdb_x"] {
        assert_unauthorized(h.db.session(bad).await);
    }

    h.db.end_session(&created.secret).await.unwrap();
    assert_unauthorized(h.db.session(&created.secret).await);
    assert_unauthorized(h.other_server().session(&created.secret).await);
    h.db.end_session(&created.secret).await.unwrap();
    assert!(
        h.db.session(&second.secret).await.is_ok(),
        "ending one session leaves the others"
    );
}

/// A refresh moves the due time; the stored refresh token changes only when a new one is given.
pub async fn sessions_refresh_keeps_or_rotates_the_token(t: TestStore) {
    let h = Harness::new(t).await;
    let created =
        h.db.create_session(
            h.bob.user_id(),
            NewSession {
                refresh_token: Some("rt-1".into()),
                refresh_due_at: Some(h.clock_now() + Duration::minutes(5)),
                scopes: vec![Scope::Read],
            },
        )
        .await
        .unwrap();
    let later = h.clock_now() + Duration::minutes(10);
    let s =
        h.db.refresh_session(&created.secret, None, Some(later))
            .await
            .unwrap();
    assert_eq!(s.refresh_token.as_deref(), Some("rt-1"));
    assert_eq!(s.refresh_due_at, Some(later));
    let stored = h.other_server().session(&created.secret).await.unwrap();
    assert_eq!(stored.refresh_token.as_deref(), Some("rt-1"));
    assert_eq!(stored.refresh_due_at, Some(later));

    let s =
        h.db.refresh_session(&created.secret, Some("rt-2".into()), None)
            .await
            .unwrap();
    assert_eq!(s.refresh_token.as_deref(), Some("rt-2"));
    let stored = h.other_server().session(&created.secret).await.unwrap();
    assert_eq!(stored.refresh_token.as_deref(), Some("rt-2"));
    assert_eq!(stored.refresh_due_at, None);
    assert_eq!(stored.csrf_token, created.session.csrf_token);

    assert_invalid(
        h.db.refresh_session(&created.secret, Some(String::new()), None)
            .await,
        "refresh_token",
    );
    h.db.end_session(&created.secret).await.unwrap();
    assert_unauthorized(h.db.refresh_session(&created.secret, None, None).await);
}

/// A session stops working when its lifetime ends; the sweep deletes only ended sessions.
pub async fn sessions_expire_and_are_purged(t: TestStore) {
    let h = Harness::new(t).await;
    let old =
        h.db.create_session(
            h.alice.user_id(),
            NewSession::with_scopes(&[Scope::Read, Scope::Write]),
        )
        .await
        .unwrap();
    h.clock.advance(Duration::days(6));
    let young =
        h.db.create_session(
            h.alice.user_id(),
            NewSession::with_scopes(&[Scope::Read, Scope::Write]),
        )
        .await
        .unwrap();
    assert_eq!(h.db.purge_expired_sessions().await.unwrap(), 0);
    h.clock.advance(Duration::days(1));
    assert_unauthorized(h.db.session(&old.secret).await);
    assert_unauthorized(h.other_server().session(&old.secret).await);
    assert!(h.db.session(&young.secret).await.is_ok());
    assert_eq!(h.db.purge_expired_sessions().await.unwrap(), 1);
    assert_eq!(h.db.purge_expired_sessions().await.unwrap(), 0);
    assert!(h.other_server().session(&young.secret).await.is_ok());
}

/// Deleting a user ends the user's sessions and forgets the identity: signing in again makes a
/// new, empty account.
pub async fn sessions_and_identities_end_with_their_user(t: TestStore) {
    let h = Harness::new(t).await;
    let id = h.db.user_for_identity(ISSUER, "leaver", "").await.unwrap();
    let me = Principal::full(id);
    let session =
        h.db.create_session(id, NewSession::with_scopes(&[Scope::Read, Scope::Write]))
            .await
            .unwrap();
    h.save(&me, crate::testing::prompt("mine", "Mine", "text"))
        .await;
    h.db.delete_user(&me).await.unwrap();
    assert_unauthorized(h.db.session(&session.secret).await);
    assert_unauthorized(h.other_server().session(&session.secret).await);
    let again = h.db.user_for_identity(ISSUER, "leaver", "").await.unwrap();
    assert_ne!(again, id);
    let page =
        h.db.list_prompts(&Principal::full(again), crate::ListQuery::default())
            .await
            .unwrap();
    assert!(page.items.is_empty());
    // Sessions of unknown users cannot be created.
    assert!(matches!(
        h.db.create_session(id, NewSession::with_scopes(&[Scope::Read, Scope::Write]))
            .await,
        Err(Error::NotFound { what: "user", .. })
    ));
}

/// Sign-in links: made by one service, redeemed by another on the same store, once, before
/// they expire; forged ones never.
pub async fn sign_in_links_work_once_and_expire(t: TestStore) {
    let h = Harness::new(t).await;
    let alice = h.alice.user_id();
    let token = h.db.sign_in_token(alice).await.unwrap();
    let server = h.other_server();
    assert_eq!(server.redeem_sign_in_token(&token).await.unwrap(), alice);
    assert!(matches!(
        server.redeem_sign_in_token(&token).await,
        Err(Error::Unauthorized)
    ));
    let mut forged = token.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let fresh = h.db.sign_in_token(alice).await.unwrap();
    assert!(matches!(
        h.db.redeem_sign_in_token(&forged).await,
        Err(Error::Unauthorized)
    ));
    for junk in ["", "x", "not base64 at all!", &"A".repeat(500)] {
        assert!(matches!(
            h.db.redeem_sign_in_token(junk).await,
            Err(Error::Unauthorized)
        ));
    }
    h.clock
        .advance(chrono::Duration::seconds(crate::SIGN_IN_LINK_SECS + 1));
    assert!(matches!(
        h.db.redeem_sign_in_token(&fresh).await,
        Err(Error::Unauthorized)
    ));
}
