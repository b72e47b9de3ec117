//! Harvest: prompts worth keeping, found in the user's conversations.
//!
//! Two ways in, one review queue. A chat client's model reviews a conversation and submits what
//! it finds (the MCP tool `harvest_session`); or [`transcript`] reads Claude Code logs, ChatGPT
//! exports and chat logs, and [`extract`] groups and scores the user's messages with no model at
//! all. Either way the results are [`Candidate`]s, kept per user for 30 days, each with the
//! user's closest existing prompts, until the user accepts one (a new prompt, or a new version of
//! the prompt it duplicates) or dismisses it. A candidate already accepted or dismissed is not
//! proposed again by a later harvest of the same conversations.

pub mod extract;
pub mod transcript;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Slug, ids::uuid_id};

uuid_id!(
    /// A harvest candidate's identifier.
    CandidateId,
    "candidate"
);

/// How long a candidate waits for review.
pub const CANDIDATE_TTL_DAYS: i64 = 30;
/// The most candidates one submission may carry.
pub const MAX_CANDIDATES_PER_SUBMISSION: usize = 50;
/// The most candidates a user may have waiting for review.
pub const MAX_PENDING_CANDIDATES: usize = 500;
/// The longest reason.
pub const MAX_REASON_CHARS: usize = 1_000;
/// The longest excerpt.
pub const MAX_EXCERPT_CHARS: usize = 4_000;
/// The longest source description.
pub const MAX_SOURCE_CHARS: usize = 200;
/// How many similar prompts a candidate lists.
pub const MAX_SIMILAR: usize = 3;
/// From this similarity up, a candidate is flagged as a duplicate of the prompt.
pub const DUPLICATE_SIMILARITY: f64 = 0.75;

/// Where a candidate came from.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// A chat client's model, reviewing a conversation.
    #[default]
    Model,
    /// Claude Code session logs.
    ClaudeCode,
    /// A ChatGPT data export.
    Chatgpt,
    /// A Markdown chat log.
    Markdown,
    /// A plain-text chat log.
    Text,
}

impl Origin {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::ClaudeCode => "claude-code",
            Self::Chatgpt => "chatgpt",
            Self::Markdown => "markdown",
            Self::Text => "text",
        }
    }

    /// Parses a stored name.
    pub fn from_name(s: &str) -> Option<Self> {
        [
            Self::Model,
            Self::ClaudeCode,
            Self::Chatgpt,
            Self::Markdown,
            Self::Text,
        ]
        .into_iter()
        .find(|o| o.name() == s)
    }
}

impl From<transcript::Format> for Origin {
    fn from(f: transcript::Format) -> Self {
        match f {
            transcript::Format::ClaudeCode => Self::ClaudeCode,
            transcript::Format::Chatgpt => Self::Chatgpt,
            transcript::Format::Markdown => Self::Markdown,
            transcript::Format::Text => Self::Text,
        }
    }
}

/// A prompt proposed for the library.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCandidate {
    /// A short name.
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::NAME_PATTERN), length(min = 1, max = crate::validate::MAX_NAME_CHARS)))]
    pub name: String,
    /// A slug for it; derived from the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SLUG_PATTERN), length(max = crate::validate::MAX_SLUG_LEN)))]
    pub slug: Option<String>,
    /// The prompt's text, with `{{variables}}` for the parts that change from use to use (at
    /// most 32 distinct ones).
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::CONTENT_PATTERN), length(min = 1, max = crate::validate::MAX_CONTENT_CHARS)))]
    pub content: String,
    /// What it is for.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_DESCRIPTION_CHARS)))]
    pub description: String,
    /// Tags.
    #[serde(
        default,
        deserialize_with = "crate::bounded::vec::<_, _, { crate::validate::MAX_TAGS }>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = crate::validate::MAX_TAGS), inner(pattern(crate::validate::TAG_PATTERN), length(max = crate::validate::MAX_TAG_CHARS))))]
    pub tags: Vec<String>,
    /// Why it is worth keeping.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = MAX_REASON_CHARS)))]
    pub reason: String,
    /// The passage of the conversation it came from.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = MAX_EXCERPT_CHARS)))]
    pub excerpt: String,
    /// How strongly the extractor recommends it, 0 to 1 (a model's submissions have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0.0, max = 1.0)))]
    pub score: Option<f64>,
    /// How many messages it stands for (default 1).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::bounded::opt_whole"
    )]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1_000_000_000)))]
    pub occurrences: Option<u32>,
    /// In how many sessions (default 1).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::bounded::opt_whole"
    )]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1_000_000_000)))]
    pub sessions: Option<u32>,
}

impl From<extract::Proposal> for NewCandidate {
    fn from(p: extract::Proposal) -> Self {
        Self {
            name: p.name,
            slug: None,
            content: p.content,
            description: p.description,
            tags: Vec::new(),
            reason: p.reason,
            excerpt: p.excerpt,
            score: Some(p.score),
            occurrences: Some(p.occurrences),
            sessions: Some(p.sessions),
        }
    }
}

/// A batch of candidates from one harvest.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Where they came from (`model` by default).
    #[serde(default)]
    pub origin: Origin,
    /// Which conversation or files, in a few words.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SINGLE_LINE_PATTERN), length(max = MAX_SOURCE_CHARS)))]
    pub source: String,
    /// The candidates, 1 to 50.
    #[serde(deserialize_with = "crate::bounded::objects::<_, _, MAX_CANDIDATES_PER_SUBMISSION>")]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = MAX_CANDIDATES_PER_SUBMISSION)))]
    pub candidates: Vec<NewCandidate>,
}

/// A saved prompt that resembles a candidate.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarPrompt {
    /// The prompt.
    pub slug: Slug,
    /// Its name.
    pub name: String,
    /// How alike their texts are, 0 to 1 (the share of words in common, in order).
    pub similarity: f64,
}

/// Where a candidate is in its review.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateStatus {
    /// Waiting for the user.
    Pending,
    /// Saved to the library.
    Accepted,
    /// Turned down.
    Dismissed,
}

impl CandidateStatus {
    /// Its stored name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Dismissed => "dismissed",
        }
    }

    /// Parses a stored name.
    pub fn from_name(s: &str) -> Option<Self> {
        [Self::Pending, Self::Accepted, Self::Dismissed]
            .into_iter()
            .find(|o| o.name() == s)
    }
}

/// A prompt waiting in the review queue.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Identifier.
    pub id: CandidateId,
    /// Suggested name.
    pub name: String,
    /// Suggested slug.
    pub slug: Slug,
    /// The prompt's text.
    pub content: String,
    /// What it is for.
    pub description: String,
    /// Suggested tags.
    pub tags: Vec<String>,
    /// Why it is worth keeping.
    pub reason: String,
    /// Where in the conversation it came from.
    pub excerpt: String,
    /// Who found it.
    pub origin: Origin,
    /// Which conversation or files.
    pub source: String,
    /// The extractor's score, 0 to 1 (none for a model's).
    pub score: Option<f64>,
    /// Messages it stands for, over every harvest that found it.
    pub occurrences: u32,
    /// Sessions it was found in, over every harvest that found it.
    pub sessions: u32,
    /// The user's saved prompts most like it, most alike first.
    pub similar: Vec<SimilarPrompt>,
    /// The prompt it duplicates, when one is at least 75 % alike: accepting it into that prompt
    /// adds a version instead of a near copy.
    pub duplicate_of: Option<Slug>,
    /// Where it is in its review.
    pub status: CandidateStatus,
    /// When it was first found.
    pub created_at: DateTime<Utc>,
    /// When it leaves the queue unless reviewed.
    pub expires_at: DateTime<Utc>,
    /// A hash of its normalised content: the same prompt found again is the same candidate.
    #[serde(skip)]
    pub content_hash: String,
}

/// What a harvest added to the queue.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Harvested {
    /// Candidates new to the queue.
    pub added: Vec<Candidate>,
    /// Candidates already waiting, now counted again (more occurrences, more sessions).
    pub merged: Vec<Candidate>,
    /// Candidates the user already accepted or dismissed: not proposed again.
    pub skipped: u32,
}

/// A user's choices when accepting a candidate; absent fields keep the candidate's.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptCandidate {
    /// Add the candidate as a new version of this saved prompt instead of saving a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SLUG_PATTERN), length(max = crate::validate::MAX_SLUG_LEN)))]
    pub into: Option<String>,
    /// The new prompt's slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SLUG_PATTERN), length(max = crate::validate::MAX_SLUG_LEN)))]
    pub slug: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::NAME_PATTERN), length(min = 1, max = crate::validate::MAX_NAME_CHARS)))]
    pub name: Option<String>,
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::CONTENT_PATTERN), length(min = 1, max = crate::validate::MAX_CONTENT_CHARS)))]
    pub content: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::MULTI_LINE_PATTERN), length(max = crate::validate::MAX_DESCRIPTION_CHARS)))]
    pub description: Option<String>,
    /// Tags.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::bounded::opt_vec::<_, _, { crate::validate::MAX_TAGS }>"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = crate::validate::MAX_TAGS), inner(pattern(crate::validate::TAG_PATTERN), length(max = crate::validate::MAX_TAG_CHARS))))]
    pub tags: Option<Vec<String>>,
}

/// What accepting a candidate saved.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accepted {
    /// The prompt, as saved.
    pub prompt: crate::Prompt,
    /// `true` for a new prompt, `false` for a new version of an existing one.
    pub created: bool,
}

/// Everything one harvest of transcripts found, before it is submitted.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// The proposals, best first.
    pub proposals: Vec<extract::Proposal>,
    /// What reading found.
    pub read: transcript::ReadStats,
    /// What grouping found.
    pub extract: extract::ExtractStats,
}

/// Reads transcripts and proposes prompts: the whole pipeline without a store. `files` are
/// (format, reader, source name).
pub fn extract_from<R: std::io::BufRead>(
    files: impl IntoIterator<Item = (transcript::Format, R, String)>,
) -> std::io::Result<Extracted> {
    extract_within(files, None)
}

/// [`extract_from`] within limits: at most `budget` spent comparing messages word by word and
/// `max_groups` groups kept (see [`extract::Harvester::with_limits`]); a server passes them.
pub fn extract_within<R: std::io::BufRead>(
    files: impl IntoIterator<Item = (transcript::Format, R, String)>,
    limits: Option<(std::time::Duration, usize)>,
) -> std::io::Result<Extracted> {
    let mut harvester = limits.map_or_else(extract::Harvester::new, |(budget, groups)| {
        extract::Harvester::with_limits(budget, groups)
    });
    let mut read = transcript::ReadStats::default();
    for (format, reader, source) in files {
        let stats = transcript::read(format, reader, &source, &mut |m| harvester.add(&m))?;
        read.add(stats);
    }
    let extract = harvester.stats();
    Ok(Extracted {
        proposals: harvester.finish(),
        read,
        extract,
    })
}
