//! Harvest: the review queue of prompts found in conversations.

use std::time::{Duration as StdDuration, Instant};

use sha2::{Digest, Sha256};
use similar::{Algorithm, DiffOp};

use super::*;
use crate::{
    SearchQuery,
    harvest::{
        AcceptCandidate, Accepted, CANDIDATE_TTL_DAYS, Candidate, CandidateId, CandidateStatus,
        DUPLICATE_SIMILARITY, Harvested, MAX_CANDIDATES_PER_SUBMISSION, MAX_EXCERPT_CHARS,
        MAX_REASON_CHARS, MAX_SIMILAR, MAX_SOURCE_CHARS, NewCandidate, SimilarPrompt, Submission,
    },
    store::CandidatesQueued,
};

/// The most candidates one page of the queue holds.
pub const MAX_CANDIDATE_PAGE: usize = 100;
/// The most proposals one harvest of transcripts queues (the best ones).
pub const MAX_PROPOSALS_PER_HARVEST: usize = 200;
/// The furthest a page of the queue may start.
pub const MAX_CANDIDATE_OFFSET: u32 = 100_000;

/// Words compared when measuring how alike two prompts are.
const SIMILARITY_WORDS: usize = 2_000;

/// The hash that makes the same prompt found twice one candidate: its words, lower-cased.
fn content_hash(content: &str) -> String {
    let normal = content
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ");
    let digest = Sha256::digest(normal.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '{' && c != '}')
        .filter(|w| !w.is_empty())
        .take(SIMILARITY_WORDS)
        .map(str::to_lowercase)
        .collect()
}

/// How alike two texts are: twice the words they share in order over the words of both.
pub(crate) fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (words(a), words(b));
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let deadline = Instant::now() + StdDuration::from_millis(10);
    let ops = similar::capture_diff_slices_deadline(Algorithm::Myers, &a, &b, Some(deadline));
    let equal: usize = ops
        .iter()
        .map(|op| match op {
            DiffOp::Equal { len, .. } => *len,
            _ => 0,
        })
        .sum();
    let s = 2.0 * equal as f64 / (a.len() + b.len()) as f64;
    (s * 100.0).round() / 100.0
}

const STOPWORDS: &[&str] = &[
    "this",
    "that",
    "with",
    "from",
    "your",
    "have",
    "what",
    "when",
    "which",
    "about",
    "into",
    "there",
    "their",
    "them",
    "then",
    "than",
    "each",
    "every",
    "more",
    "most",
    "some",
    "such",
    "only",
    "also",
    "just",
    "very",
    "please",
    "would",
    "could",
    "should",
    "these",
    "those",
    "will",
    "make",
    "using",
    "following",
];

fn check_text(field: String, text: &str, max: usize) -> Result<()> {
    validate::multi_line(text, max).map_err(|r| Error::invalid(field, r))
}

impl PromptDb {
    /// Adds what a harvest found to the caller's review queue, all or nothing: each candidate is
    /// checked, flagged with the caller's most similar prompts, and queued for 30 days. The same
    /// prompt found again is counted again, not queued twice; one already accepted or dismissed
    /// is skipped.
    #[instrument(level = "debug", skip_all)]
    pub async fn submit_candidates(
        &self,
        principal: &Principal,
        submission: Submission,
    ) -> Result<Harvested> {
        require_write(principal)?;
        let n = submission.candidates.len();
        if n == 0 || n > MAX_CANDIDATES_PER_SUBMISSION {
            return Err(Error::invalid(
                "candidates",
                format!("give 1 to {MAX_CANDIDATES_PER_SUBMISSION} candidates"),
            ));
        }
        self.queue(principal, submission).await
    }

    /// Queues what the extractor proposed from transcripts, best first, at most
    /// [`MAX_PROPOSALS_PER_HARVEST`] of them, all or nothing (the submission limit of 50 does not
    /// apply: one harvest of many files is one write).
    #[instrument(level = "debug", skip_all)]
    pub async fn queue_proposals(
        &self,
        principal: &Principal,
        origin: crate::harvest::Origin,
        source: &str,
        proposals: Vec<crate::harvest::extract::Proposal>,
    ) -> Result<Harvested> {
        require_write(principal)?;
        if proposals.is_empty() {
            return Ok(Harvested::default());
        }
        // A proposal the checks refuse is the extractor's fault, not the user's: it is left out
        // (and logged), the rest are queued.
        let candidates: Vec<NewCandidate> = proposals
            .into_iter()
            .take(MAX_PROPOSALS_PER_HARVEST)
            .map(NewCandidate::from)
            .enumerate()
            .filter_map(|(i, c)| match check_candidate(i, &c) {
                Ok(_) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "a harvest proposal failed its checks; left out");
                    None
                }
            })
            .collect();
        if candidates.is_empty() {
            return Ok(Harvested::default());
        }
        self.queue(
            principal,
            Submission {
                origin,
                source: source.chars().take(MAX_SOURCE_CHARS).collect(),
                candidates,
            },
        )
        .await
    }

    async fn queue(&self, principal: &Principal, submission: Submission) -> Result<Harvested> {
        let n = submission.candidates.len();
        validate::single_line(&submission.source, MAX_SOURCE_CHARS, true)
            .map_err(|r| Error::invalid("source", r))?;
        let mut checked: Vec<(NewCandidate, Slug, Vec<String>, String)> = Vec::with_capacity(n);
        for (i, c) in submission.candidates.into_iter().enumerate() {
            let (slug, tags) = check_candidate(i, &c)?;
            let hash = content_hash(&c.content);
            if let Some(same) = checked.iter_mut().find(|(_, _, _, h)| *h == hash) {
                // The same prompt twice in one batch: one candidate, counted twice.
                let more = c.occurrences.unwrap_or(1);
                same.0.occurrences = Some(same.0.occurrences.unwrap_or(1).saturating_add(more));
                continue;
            }
            checked.push((c, slug, tags, hash));
        }
        let now = self.now();
        let mut records = Vec::with_capacity(checked.len());
        for (c, slug, tags, hash) in checked {
            let similar = self.similar_prompts(principal, &c.content).await?;
            let duplicate_of = similar
                .first()
                .filter(|s| s.similarity >= DUPLICATE_SIMILARITY)
                .map(|s| s.slug.clone());
            records.push(Candidate {
                id: CandidateId::new(),
                name: validate::trim(&c.name).to_owned(),
                slug,
                content: c.content,
                description: c.description,
                tags,
                reason: c.reason,
                excerpt: c.excerpt,
                origin: submission.origin,
                source: submission.source.clone(),
                score: c.score,
                occurrences: c.occurrences.unwrap_or(1),
                sessions: c.sessions.unwrap_or(1),
                similar,
                duplicate_of,
                status: CandidateStatus::Pending,
                created_at: now,
                expires_at: now + Duration::days(CANDIDATE_TTL_DAYS),
                content_hash: hash,
            });
        }
        let max = self.inner.config.max_pending_candidates;
        match self
            .store()
            .queue_candidates(principal.user_id(), &records, max, now)
            .await?
        {
            CandidatesQueued::Done(h) => Ok(h),
            CandidatesQueued::TooMany => Err(Error::quota(
                "candidates",
                format!(
                    "at most {max} candidates may wait for review; accept or dismiss some first"
                ),
            )),
        }
    }

    /// The caller's saved prompts most like `content`, most alike first: found by searching for
    /// its most telling words, then compared word by word.
    async fn similar_prompts(
        &self,
        principal: &Principal,
        content: &str,
    ) -> Result<Vec<SimilarPrompt>> {
        let mut telling: Vec<String> = words(content)
            .into_iter()
            .filter(|w| {
                w.chars().count() >= 4 && !w.contains('{') && !STOPWORDS.contains(&w.as_str())
            })
            .collect();
        telling.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
        telling.dedup();
        telling.truncate(3);
        let mut found = Vec::new();
        for n in (1..=telling.len()).rev() {
            let page = self
                .search_prompts(
                    principal,
                    SearchQuery {
                        limit: Some(8),
                        ..SearchQuery::new(telling[..n].join(" "))
                    },
                )
                .await?;
            if !page.items.is_empty() {
                found = page.items;
                break;
            }
        }
        let mut similar = Vec::new();
        for summary in found {
            let Some(prompt) = self
                .store()
                .prompt(principal.user_id(), summary.slug.as_str())
                .await?
            else {
                continue;
            };
            let body = prompt::body_text(prompt.kind, &prompt.content, &prompt.messages);
            let score = similarity(content, &body);
            if score >= 0.3 {
                similar.push(SimilarPrompt {
                    slug: prompt.slug,
                    name: prompt.name,
                    similarity: score,
                });
            }
        }
        similar.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then(a.slug.cmp(&b.slug))
        });
        similar.truncate(MAX_SIMILAR);
        Ok(similar)
    }

    /// Candidates waiting for review, highest score first.
    #[instrument(level = "debug", skip_all)]
    pub async fn list_candidates(
        &self,
        principal: &Principal,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Result<Vec<Candidate>> {
        require_read(principal)?;
        let limit = limit.unwrap_or(validate::DEFAULT_PAGE_LIMIT);
        if limit == 0 || limit as usize > MAX_CANDIDATE_PAGE {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_CANDIDATE_PAGE}"),
            ));
        }
        let offset = offset.unwrap_or(0);
        if offset > MAX_CANDIDATE_OFFSET {
            return Err(Error::invalid(
                "offset",
                format!("must be at most {MAX_CANDIDATE_OFFSET}"),
            ));
        }
        self.store()
            .candidates(
                principal.user_id(),
                self.now(),
                offset as usize,
                limit as usize,
            )
            .await
    }

    /// How many candidates wait for review.
    #[instrument(level = "debug", skip_all)]
    pub async fn pending_candidates(&self, principal: &Principal) -> Result<u64> {
        require_read(principal)?;
        self.store()
            .pending_candidates(principal.user_id(), self.now())
            .await
    }

    /// A candidate, in any status, until it expires.
    #[instrument(level = "debug", skip_all)]
    pub async fn get_candidate(&self, principal: &Principal, id: CandidateId) -> Result<Candidate> {
        require_read(principal)?;
        self.store()
            .candidate(principal.user_id(), id, self.now())
            .await?
            .ok_or_else(|| Error::not_found("candidate", id))
    }

    async fn pending(&self, principal: &Principal, id: CandidateId) -> Result<Candidate> {
        let c = self.get_candidate(principal, id).await?;
        if c.status != CandidateStatus::Pending {
            return Err(Error::conflict(
                "id",
                format!("this candidate was {} already", c.status.name()),
            ));
        }
        Ok(c)
    }

    /// Saves a candidate to the library, with the caller's edits: as a new prompt, or with
    /// `into` as a new version of an existing one. The candidate is claimed first, so two
    /// accepts of one candidate save it once; if saving fails, it is pending again.
    #[instrument(level = "debug", skip_all)]
    pub async fn accept_candidate(
        &self,
        principal: &Principal,
        id: CandidateId,
        edits: AcceptCandidate,
    ) -> Result<Accepted> {
        require_write(principal)?;
        let c = self.pending(principal, id).await?;
        let into = edits
            .into
            .as_deref()
            .map(parse_slug)
            .transpose()
            .map_err(|e| match e {
                Error::Invalid { reason, .. } => Error::invalid("into", reason),
                e => e,
            })?;
        if into.is_some() && edits.slug.is_some() {
            return Err(Error::invalid(
                "slug",
                "give `slug` for a new prompt or `into` for a new version, not both",
            ));
        }
        let content = edits.content.unwrap_or_else(|| c.content.clone());
        let commit_message = {
            let mut m = format!("Harvested ({})", c.origin.name());
            if !c.source.is_empty() {
                m.push_str(" from ");
                m.push_str(&c.source);
            }
            m.chars()
                .take(validate::MAX_COMMIT_MESSAGE_CHARS)
                .collect::<String>()
        };
        let user = principal.user_id();
        let now = self.now();
        if !self
            .store()
            .set_candidate_status(
                user,
                id,
                CandidateStatus::Pending,
                CandidateStatus::Accepted,
                now,
            )
            .await?
        {
            return Err(Error::conflict("id", "this candidate was reviewed already"));
        }
        let saved = match &into {
            Some(slug) => self
                .update_prompt(
                    principal,
                    slug.as_str(),
                    PromptPatch {
                        content: Some(content),
                        name: edits.name,
                        description: edits.description,
                        tags: edits.tags,
                        commit_message: Some(commit_message),
                        ..PromptPatch::default()
                    },
                )
                .await
                .map(|prompt| Accepted {
                    prompt,
                    created: false,
                }),
            None => self
                .save_prompts(
                    principal,
                    vec![NewPrompt {
                        slug: Some(edits.slug.unwrap_or_else(|| c.slug.as_str().to_owned())),
                        name: edits.name.unwrap_or_else(|| c.name.clone()),
                        description: edits.description.unwrap_or_else(|| c.description.clone()),
                        content,
                        tags: edits.tags.unwrap_or_else(|| c.tags.clone()),
                        commit_message,
                        ..NewPrompt::default()
                    }],
                )
                .await
                .map(|mut saved| Accepted {
                    prompt: saved.remove(0),
                    created: true,
                })
                .map_err(|e| unprefix(e, "prompts[0].")),
        };
        if saved.is_err() {
            // Back in the queue: nothing was saved.
            if let Err(e) = self
                .store()
                .set_candidate_status(
                    user,
                    id,
                    CandidateStatus::Accepted,
                    CandidateStatus::Pending,
                    now,
                )
                .await
            {
                tracing::warn!(error = %e, "could not return a candidate to the queue");
            }
        }
        saved
    }

    /// Turns a candidate down: it leaves the queue, and a later harvest does not propose it
    /// again.
    #[instrument(level = "debug", skip_all)]
    pub async fn dismiss_candidate(&self, principal: &Principal, id: CandidateId) -> Result<()> {
        require_write(principal)?;
        self.pending(principal, id).await?;
        if self
            .store()
            .set_candidate_status(
                principal.user_id(),
                id,
                CandidateStatus::Pending,
                CandidateStatus::Dismissed,
                self.now(),
            )
            .await?
        {
            Ok(())
        } else {
            Err(Error::conflict("id", "this candidate was reviewed already"))
        }
    }

    /// Deletes expired candidates of every user (the background sweeper calls this).
    #[instrument(level = "debug", skip_all)]
    pub async fn purge_expired_candidates(&self) -> Result<u64> {
        self.store().purge_expired_candidates(self.now()).await
    }
}

/// The error of saving one prompt, naming the field as the accept call's own.
fn unprefix(e: Error, prefix: &str) -> Error {
    match e {
        Error::Invalid { field, reason } => Error::Invalid {
            field: field
                .strip_prefix(prefix)
                .map(str::to_owned)
                .unwrap_or(field),
            reason,
        },
        Error::Conflict { field, reason } => Error::Conflict {
            field: field
                .strip_prefix(prefix)
                .map(str::to_owned)
                .unwrap_or(field),
            reason,
        },
        e => e,
    }
}

/// Checks a candidate's fields, naming `candidates[i].field`; returns its slug and tags.
fn check_candidate(i: usize, c: &NewCandidate) -> Result<(Slug, Vec<String>)> {
    let field = |f: &str| format!("candidates[{i}].{f}");
    validate::single_line(&c.name, validate::MAX_NAME_CHARS, false)
        .map_err(|r| Error::invalid(field("name"), r))?;
    let slug = match &c.slug {
        Some(s) => Slug::parse(&field("slug"), s)?,
        None => Slug::derive_from(&c.name),
    };
    check_text(field("content"), &c.content, validate::MAX_CONTENT_CHARS)?;
    if validate::trim(&c.content).is_empty() {
        return Err(Error::invalid(field("content"), "must not be empty"));
    }
    let names = template::placeholders(&c.content);
    if names.len() > validate::MAX_VARIABLES {
        return Err(Error::invalid(
            field("content"),
            format!("at most {} variables are allowed", validate::MAX_VARIABLES),
        ));
    }
    for name in names {
        validate::variable_name(name)
            .map_err(|r| Error::invalid(field("content"), format!("variable `{name}`: {r}")))?;
    }
    check_text(
        field("description"),
        &c.description,
        validate::MAX_DESCRIPTION_CHARS,
    )?;
    check_text(field("reason"), &c.reason, MAX_REASON_CHARS)?;
    check_text(field("excerpt"), &c.excerpt, MAX_EXCERPT_CHARS)?;
    let tags =
        prompt::normalize_tags(&c.tags).map_err(|e| e.within(&format!("candidates[{i}]")))?;
    if let Some(s) = c.score
        && !(0.0..=1.0).contains(&s)
    {
        return Err(Error::invalid(field("score"), "must be between 0 and 1"));
    }
    for (name, v) in [("occurrences", c.occurrences), ("sessions", c.sessions)] {
        if v == Some(0) || v.is_some_and(|v| v > 1_000_000_000) {
            return Err(Error::invalid(
                field(name),
                "must be between 1 and 1000000000",
            ));
        }
    }
    Ok((slug, tags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_counts_words_in_order() {
        assert_eq!(similarity("Review this code", "review this code"), 1.0);
        assert_eq!(similarity("a b c d", "a b x y"), 0.5);
        assert_eq!(similarity("", "x"), 0.0);
    }

    #[test]
    fn the_same_words_hash_alike() {
        assert_eq!(
            content_hash("Review  this\ncode"),
            content_hash("review this code")
        );
        assert_ne!(
            content_hash("review this code"),
            content_hash("review that code")
        );
    }
}
