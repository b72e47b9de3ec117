//! The backend conformance suite. Every [`Store`] implementation runs all of it:
//!
//! ```ignore
//! async fn fresh_store() -> promptdb_core::testing::TestStore {
//!     std::sync::Arc::new(MyStore::connect("…").await.unwrap()).into()
//! }
//! promptdb_core::conformance_suite!(fresh_store);
//! ```
//!
//! The macro expands to one `#[tokio::test]` per behaviour, each on a fresh store from the
//! factory, so a failure names the behaviour that broke.

use std::{
    any::Any,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::{Clock, Config, Error, NewPrompt, Principal, PromptDb, Store, User};

pub mod cases;

/// Runs one conformance case on a fresh multi-threaded runtime.
#[doc(hidden)]
pub fn run(case: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(case);
}

/// A fresh store for one test, plus whatever must stay alive while it runs (a temp dir, a
/// throwaway database).
pub struct TestStore {
    /// The store under test.
    pub store: Arc<dyn Store>,
    /// Dropped when the test ends.
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for TestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestStore")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl TestStore {
    /// A store with something to keep alive alongside it.
    pub fn with_guard(store: Arc<dyn Store>, guard: impl Any + Send + Sync) -> Self {
        Self {
            store,
            guard: Some(Box::new(guard)),
        }
    }
}

impl From<Arc<dyn Store>> for TestStore {
    fn from(store: Arc<dyn Store>) -> Self {
        Self { store, guard: None }
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock reading 2026-01-01T00:00:00Z.
    pub fn new() -> Self {
        Self(Mutex::new(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
        ))
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = to;
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A service over the store under test, a manual clock, and two users.
#[derive(Debug)]
pub struct Harness {
    /// The service.
    pub db: PromptDb,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    /// The first user, with read and write scopes.
    pub alice: Principal,
    /// The second user, with read and write scopes.
    pub bob: Principal,
    /// Alice's user record.
    pub alice_user: User,
    store: Arc<dyn Store>,
    config: Config,
    _guard: Option<Box<dyn Any + Send + Sync>>,
}

impl Harness {
    /// A harness with the default configuration.
    pub async fn new(t: TestStore) -> Self {
        Self::with_config(t, Config::default()).await
    }

    /// A harness with the given configuration.
    pub async fn with_config(t: TestStore, config: Config) -> Self {
        let clock = Arc::new(ManualClock::new());
        let store = t.store.clone();
        let db = PromptDb::with_config(t.store, config.clone())
            .expect("valid config")
            .with_clock(clock.clone());
        db.sync_ranking().await.expect("sync ranking");
        let alice_user = db.create_user("Alice").await.expect("create alice");
        let bob = db.create_user("Bob").await.expect("create bob");
        Self {
            db,
            clock,
            alice: Principal::full(alice_user.id),
            bob: Principal::full(bob.id),
            alice_user,
            store,
            config,
            _guard: t.guard,
        }
    }

    /// Another service over the same store and clock, with empty caches: what a second server
    /// process sees.
    pub fn other_server(&self) -> PromptDb {
        PromptDb::with_config(self.store.clone(), self.config.clone())
            .expect("valid config")
            .with_clock(self.clock.clone())
    }

    /// The clock's current reading.
    /// The store under the service, to build services with other settings over it.
    pub fn other_server_store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Saves one prompt for `who`, panicking on failure.
    pub async fn save(&self, who: &Principal, prompt: NewPrompt) -> crate::Prompt {
        self.db
            .save_prompts(who, vec![prompt])
            .await
            .expect("save prompt")
            .remove(0)
    }
}

/// A prompt with a slug, a name and content.
pub fn prompt(slug: &str, name: &str, content: &str) -> NewPrompt {
    NewPrompt::new(slug, name, content)
}

/// Asserts `result` failed as invalid input on `field`.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: crate::Result<T>, field: &str) {
    match result {
        Err(Error::Invalid { field: f, reason }) => {
            assert_eq!(f, field, "wrong field (reason: {reason})");
            assert!(!reason.is_empty(), "an invalid-input error must say why");
        }
        other => panic!("expected invalid `{field}`, got {other:?}"),
    }
}

/// Asserts `result` failed as a conflict on `field`.
#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(result: crate::Result<T>, field: &str) {
    match result {
        Err(Error::Conflict { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected conflict on `{field}`, got {other:?}"),
    }
}

/// Asserts `result` failed on the quota `limit`, with a reason that names the number.
#[track_caller]
pub fn assert_quota<T: std::fmt::Debug>(result: crate::Result<T>, limit: &str) {
    match result {
        Err(e @ Error::QuotaExceeded { .. }) => {
            assert_eq!(e.field(), Some(limit));
            assert_eq!(e.code(), "quota_exceeded");
            assert!(e.to_string().chars().any(|c| c.is_ascii_digit()), "{e}");
        }
        other => panic!("expected the `{limit}` quota, got {other:?}"),
    }
}

/// Asserts `result` failed as not found.
#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: crate::Result<T>) {
    assert!(
        matches!(result, Err(Error::NotFound { .. })),
        "expected not found, got {result:?}"
    );
}

/// Asserts `result` failed as forbidden.
#[track_caller]
pub fn assert_forbidden<T: std::fmt::Debug>(result: crate::Result<T>) {
    assert!(
        matches!(result, Err(Error::Forbidden { .. })),
        "expected forbidden, got {result:?}"
    );
}

/// Expands to one test per conformance case, each on a fresh store from `$factory`, an async
/// function (or closure returning a future) that yields a [`TestStore`].
#[macro_export]
macro_rules! conformance_suite {
    ($factory:expr) => {
        $crate::conformance_suite!(@cases $factory;
            save_and_get_round_trip,
            save_batch_keeps_order,
            get_json_is_the_prompt_serialized,
            save_derives_slug_from_name,
            batch_is_all_or_nothing_on_invalid_prompt,
            batch_is_all_or_nothing_on_taken_slug,
            get_unknown_is_not_found,
            update_changes_only_given_fields,
            update_writes_immutable_versions,
            update_of_flags_or_nothing_writes_no_version,
            invalid_update_changes_nothing,
            update_unknown_is_not_found,
            update_redeclares_variables,
            delete_removes_prompt_history_and_tags,
            tags_are_counted,
            track_use_counts_and_timestamps,
            render_fills_variables_strictly,
            versions_paginate,
            list_puts_pinned_first,
            list_order_matches_core_ranking,
            list_ranks_usage_recency_and_favorite,
            list_filters_by_tag_pinned_and_favorite,
            list_pages_are_stable,
            list_pages_survive_inserts,
            list_rejects_bad_cursor_and_limit,
            ranking_follows_weight_changes,
            search_matches_every_field,
            search_requires_every_word_and_matches_prefixes,
            search_ranks_name_above_content,
            search_blends_ranking_for_equal_relevance,
            search_filters_by_tags_and_flags,
            search_pages_without_overlap,
            search_treats_operators_as_text,
            search_folds_case_and_accents,
            search_reflects_updates_and_deletes,
            search_rejects_bad_input,
            search_caps_broad_queries,
            unicode_text_round_trips,
            limits_slug,
            limits_name_and_description,
            limits_content,
            limits_tags,
            limits_variables,
            limits_batch,
            limits_drafts,
            limits_quotas,
            limits_preferences,
            drafts_save_get_list_delete,
            drafts_expire_unless_touched,
            drafts_purge_removes_only_expired,
            drafts_summary_counts_live_drafts,
            draft_ids_are_per_user,
            preferences_merge_and_remove,
            export_contains_everything,
            export_comes_in_pages_that_add_up,
            delete_user_removes_everything,
            isolation_get_list_search,
            isolation_update_delete_track,
            isolation_versions_tags_render,
            isolation_drafts,
            isolation_preferences_and_export,
            concurrent_updates_lose_nothing,
            concurrent_saves_of_one_slug_conflict,
            read_only_principal_cannot_write,
            api_keys_create_list_revoke,
            api_keys_scopes_and_bad_secrets,
            api_keys_are_per_user,
            api_keys_record_last_use,
            api_keys_limits,
            local_user_is_created_once,
            delete_user_revokes_keys,
            identities_map_to_one_user_each,
            identities_race_to_one_user,
            identities_reject_bad_claims,
            sessions_round_trip_and_end,
            sessions_refresh_keeps_or_rotates_the_token,
            sessions_expire_and_are_purged,
            sessions_and_identities_end_with_their_user,
            sign_in_links_work_once_and_expire,
            labels_move_and_are_recorded,
            labels_roll_back_and_versions_restore,
            protected_labels_need_the_release_scope,
            concurrent_label_moves_lose_nothing,
            splits_are_sticky_and_accurate,
            resolve_renders_and_batches,
            includes_expand_and_are_checked,
            folders_filter_and_count,
            chat_prompts_round_trip,
            diffs_and_config_are_versioned,
            isolation_releases,
            export_contains_releases,
            versions_are_forced_and_deleted,
            prompts_page_in_slug_order,
            harvest_queue_accept_and_dismiss,
            harvest_flags_duplicates_and_merges_repeats,
            harvest_failed_accept_keeps_the_candidate,
            harvest_limits_and_expiry,
            changes_are_recorded_in_commit_order,
            webhooks_register_change_and_delete,
            webhooks_deliver_in_order_and_retry,
            webhooks_are_disabled_after_repeated_failures,
            webhook_claims_are_exclusive,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::testing::run(async {
                    let store: $crate::testing::TestStore = ($factory)().await;
                    $crate::testing::cases::$case(store).await;
                });
            }
        )*
    };
}
