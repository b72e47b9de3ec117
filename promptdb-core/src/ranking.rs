//! Ranking: pinned first, then a score from usage, recency and favourite.
//!
//! ```text
//! score = usage_weight    · ln(1 + usage_count)
//!       + favorite_weight · favorite (0 or 1)
//!       + recency_weight  · ln 2 · last_activity / half_life
//! ```
//!
//! `last_activity` is the latest of creation, edit and use, in seconds since the Unix epoch.
//! The recency term is anchored to the epoch rather than to "now", which makes the order of two
//! prompts independent of when the list is read: it is the same order an exponential decay of
//! `usage` and `favorite` with that half-life would give (activity one half-life newer is worth
//! doubling `1 + usage_count` at unit weights). Because the score never drifts, backends store it
//! as a column, index it, and paginate over it without surprises.
//!
//! Ties are broken by slug, ascending, so every order is total and deterministic.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Prompt, Result};

/// Weights of the ranking score; see the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingWeights {
    /// Weight of `ln(1 + usage_count)`.
    pub usage: f64,
    /// Weight of recency (activity one half-life newer adds `recency · ln 2`).
    pub recency: f64,
    /// Added to favourites.
    pub favorite: f64,
    /// Recency half-life in days.
    pub recency_half_life_days: f64,
    /// Share of text relevance in the order of search results (the rest is the ranking score),
    /// between 0 and 1.
    pub search_relevance: f64,
}

impl Default for RankingWeights {
    fn default() -> Self {
        Self {
            usage: 1.0,
            recency: 1.0,
            favorite: 2.0,
            recency_half_life_days: 14.0,
            search_relevance: 0.7,
        }
    }
}

/// What the ranking score is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankFeatures {
    /// Uses so far.
    pub usage_count: u64,
    /// Favourite or not.
    pub favorite: bool,
    /// Latest of creation, edit and use.
    pub last_activity: DateTime<Utc>,
}

impl RankFeatures {
    /// The features from a prompt's counters and times; activity is the latest of the times.
    pub fn new(
        usage_count: u64,
        favorite: bool,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        last_used_at: Option<DateTime<Utc>>,
    ) -> Self {
        let last_activity = last_used_at
            .map_or(updated_at, |used| used.max(updated_at))
            .max(created_at);
        Self {
            usage_count,
            favorite,
            last_activity,
        }
    }

    /// The features of a prompt as it is now.
    pub fn of(prompt: &Prompt) -> Self {
        Self::new(
            prompt.usage_count,
            prompt.favorite,
            prompt.created_at,
            prompt.updated_at,
            prompt.last_used_at,
        )
    }
}

impl RankingWeights {
    /// Checks that every weight is finite and in range, naming the field otherwise.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("ranking.usage", self.usage),
            ("ranking.recency", self.recency),
            ("ranking.favorite", self.favorite),
            (
                "ranking.recency_half_life_days",
                self.recency_half_life_days,
            ),
            ("ranking.search_relevance", self.search_relevance),
        ];
        for (field, value) in fields {
            if !value.is_finite() || value < 0.0 {
                return Err(Error::invalid(field, "must be a finite number ≥ 0"));
            }
        }
        if self.recency_half_life_days == 0.0 {
            return Err(Error::invalid(
                "ranking.recency_half_life_days",
                "must be greater than 0",
            ));
        }
        if self.search_relevance > 1.0 {
            return Err(Error::invalid(
                "ranking.search_relevance",
                "must be between 0 and 1",
            ));
        }
        Ok(())
    }

    /// The ranking score of a prompt with these features. Higher ranks first.
    pub fn score(&self, f: &RankFeatures) -> f64 {
        let secs = f.last_activity.timestamp() as f64
            + f64::from(f.last_activity.timestamp_subsec_micros()) / 1e6;
        let half_life_secs = self.recency_half_life_days * 86_400.0;
        self.usage * (f.usage_count as f64).ln_1p()
            + if f.favorite { self.favorite } else { 0.0 }
            + self.recency * std::f64::consts::LN_2 * secs / half_life_secs
    }

    /// The ranking score of `prompt` as it is now.
    pub fn score_prompt(&self, prompt: &Prompt) -> f64 {
        self.score(&RankFeatures::of(prompt))
    }
}

/// The list order: pinned first, then score descending, then slug ascending.
pub fn list_order(a: (bool, f64, &str), b: (bool, f64, &str)) -> Ordering {
    b.0.cmp(&a.0)
        .then_with(|| b.1.total_cmp(&a.1))
        .then_with(|| a.2.cmp(b.2))
}

/// A search match as a backend reports it, before blending.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchCandidate {
    /// The matching prompt.
    pub id: crate::PromptId,
    /// Its slug (the final tie-break).
    pub slug: String,
    /// Backend text relevance, higher is better, > 0.
    pub relevance: f64,
    /// The stored ranking score.
    pub score: f64,
}

/// Orders candidates by `search_relevance · relevance' + (1 − search_relevance) · score'`, where
/// both parts are scaled to 0..=1 over the candidates, so backends with different relevance
/// scales order results the same way.
pub fn blend(weights: &RankingWeights, candidates: &mut [SearchCandidate]) {
    if candidates.is_empty() {
        return;
    }
    let max_rel = candidates
        .iter()
        .map(|c| c.relevance)
        .fold(f64::MIN_POSITIVE, f64::max);
    let (lo, hi) = candidates
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
            (lo.min(c.score), hi.max(c.score))
        });
    let span = hi - lo;
    let w = weights.search_relevance;
    let blended = |c: &SearchCandidate| {
        let rel = (c.relevance / max_rel).clamp(0.0, 1.0);
        let rank = if span > 0.0 {
            (c.score - lo) / span
        } else {
            0.0
        };
        w * rel + (1.0 - w) * rank
    };
    candidates.sort_by(|a, b| {
        blended(b)
            .total_cmp(&blended(a))
            .then_with(|| a.slug.cmp(&b.slug))
    });
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(days: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(days)
    }

    fn features(usage: u64, favorite: bool, day: i64) -> RankFeatures {
        RankFeatures {
            usage_count: usage,
            favorite,
            last_activity: at(day),
        }
    }

    #[test]
    fn one_half_life_newer_equals_doubling_usage() {
        let w = RankingWeights::default();
        let old_busy = w.score(&features(3, false, 0)); // 1 + 3 = 4
        let new_quiet = w.score(&features(1, false, 14)); // 1 + 1 = 2, one half-life newer
        assert!(
            (old_busy - new_quiet).abs() < 1e-9,
            "{old_busy} vs {new_quiet}"
        );
    }

    #[test]
    fn each_feature_raises_the_score() {
        let w = RankingWeights::default();
        let base = w.score(&features(0, false, 0));
        assert!(w.score(&features(5, false, 0)) > base);
        assert!(w.score(&features(0, true, 0)) > base);
        assert!(w.score(&features(0, false, 1)) > base);
        let no_recency = RankingWeights { recency: 0.0, ..w };
        assert_eq!(
            no_recency.score(&features(0, false, 0)),
            no_recency.score(&features(0, false, 900))
        );
    }

    #[test]
    fn list_order_is_pinned_then_score_then_slug() {
        let mut rows = vec![
            (false, 5.0, "b"),
            (true, 1.0, "z"),
            (false, 5.0, "a"),
            (false, 9.0, "c"),
        ];
        rows.sort_by(|a, b| list_order(*a, *b));
        assert_eq!(
            rows,
            vec![
                (true, 1.0, "z"),
                (false, 9.0, "c"),
                (false, 5.0, "a"),
                (false, 5.0, "b")
            ]
        );
    }

    #[test]
    fn weights_are_validated() {
        assert!(RankingWeights::default().validate().is_ok());
        let bad = RankingWeights {
            usage: f64::NAN,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().field(), Some("ranking.usage"));
        let bad = RankingWeights {
            recency_half_life_days: 0.0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn blend_mixes_relevance_and_score() {
        let c = |slug: &str, relevance, score| SearchCandidate {
            id: crate::PromptId::new(),
            slug: slug.into(),
            relevance,
            score,
        };
        let mut v = vec![
            c("low-rel-high-rank", 1.0, 10.0),
            c("high-rel", 10.0, 0.0),
            c("tie-b", 5.0, 5.0),
            c("tie-a", 5.0, 5.0),
        ];
        blend(&RankingWeights::default(), &mut v);
        let order: Vec<_> = v.iter().map(|c| c.slug.as_str()).collect();
        assert_eq!(
            order,
            vec!["high-rel", "tie-a", "tie-b", "low-rel-high-rank"]
        );
        // Only ranking when relevance has no weight.
        let mut v2 = v.clone();
        blend(
            &RankingWeights {
                search_relevance: 0.0,
                ..Default::default()
            },
            &mut v2,
        );
        assert_eq!(v2[0].slug, "low-rel-high-rank");
    }
}
