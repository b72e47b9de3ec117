//! Versions as a unit: writing a new one whatever it holds, deleting some, listing prompts in
//! slug order (what the Langfuse-compatible API needs).

use super::*;
use crate::{release::LATEST, search::SlugPageSpec, store::VersionDeletion};

/// A new version of an existing prompt, written even when it equals the newest (a release
/// pipeline's "publish this" step), with labels moved to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewVersion {
    /// `text` or `chat`; it must stay what the prompt is.
    pub kind: PromptKind,
    /// The text (text prompts).
    pub content: String,
    /// The messages (chat prompts).
    pub messages: Vec<ChatMessage>,
    /// The config.
    pub config: crate::PromptConfig,
    /// New tags; the current ones are kept when absent.
    pub tags: Option<Vec<String>>,
    /// Why.
    pub commit_message: String,
    /// Labels to move to the new version.
    pub labels: Vec<String>,
}

/// Which versions to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionsToDelete {
    /// The whole prompt.
    All,
    /// One version.
    Version(u32),
    /// Every version a label names (`latest`: the newest).
    Label(String),
}

impl PromptDb {
    /// Writes `input` as the prompt's next version, even when it equals the newest, and moves
    /// `input.labels` to it, atomically. Variables are redeclared from the new text, keeping the
    /// descriptions and defaults of those still used.
    #[instrument(level = "debug", skip_all)]
    pub async fn create_version(
        &self,
        principal: &Principal,
        slug: &str,
        input: NewVersion,
    ) -> Result<Prompt> {
        require_write(principal)?;
        let labels = self.labels_to_set(principal, &input.labels)?;
        let commit = prompt::commit_message("commit_message", &input.commit_message)?;
        let probe = Prompt {
            slug: Slug::parse("slug", slug)?,
            kind: input.kind,
            content: input.content.clone(),
            messages: input.messages.clone(),
            ..Prompt::placeholder()
        };
        self.check_includes(principal.user_id(), &probe, &HashMap::new())
            .await?;
        self.check_quotas(
            principal.user_id(),
            0,
            super::prompts::version_bytes(&probe),
            Some(slug),
        )
        .await?;
        let now = self.now();
        let weights = *self.weights();
        let actor = principal.actor().unwrap_or_default().to_owned();
        let apply = move |current: Prompt| -> Result<Option<PromptChange>> {
            if current.kind != input.kind {
                return Err(Error::invalid(
                    "type",
                    format!(
                        "`{}` is a {} prompt; a new version must be one too",
                        current.slug,
                        current.kind.as_str()
                    ),
                ));
            }
            let mut used = std::collections::HashSet::new();
            used.extend(template::placeholders(&input.content));
            for m in &input.messages {
                used.extend(template::placeholders(&m.content));
            }
            let variables: Vec<Variable> = current
                .variables
                .iter()
                .filter(|v| used.contains(v.name.as_str()))
                .cloned()
                .collect();
            let body = PromptBody::build(BodyInput {
                name: &current.name,
                description: &current.description,
                kind: input.kind,
                content: input.content.clone(),
                messages: input.messages.clone(),
                config: input.config.clone(),
                tags: input.tags.as_deref().unwrap_or(&current.tags),
                variables,
            })?;
            let prompt = Prompt {
                kind: body.kind,
                content: body.content,
                messages: body.messages,
                config: body.config,
                tags: body.tags,
                variables: body.variables,
                commit_message: commit.clone(),
                updated_at: now,
                version: current.version + 1,
                ..current
            };
            let score = weights.score_prompt(&prompt);
            Ok(Some(PromptChange {
                prompt,
                score,
                new_version: true,
                used_version: None,
                labels: labels.clone(),
                actor: actor.clone(),
            }))
        };
        self.store()
            .modify_prompt(principal.user_id(), slug, &apply)
            .await?
            .ok_or_else(|| prompt_not_found(slug))
    }

    /// Deletes the whole prompt, one version, or the versions a label names. Labels that named
    /// a deleted version are removed (recorded); when the newest version goes, the newest
    /// remaining one becomes the prompt's current state; deleting every version deletes the
    /// prompt. A prompt that others include is not touched.
    #[instrument(level = "debug", skip_all)]
    pub async fn delete_versions(
        &self,
        principal: &Principal,
        slug: &str,
        which: VersionsToDelete,
    ) -> Result<()> {
        require_write(principal)?;
        parse_slug(slug)?;
        let user = principal.user_id();
        if which == VersionsToDelete::All {
            return self.delete_prompt(principal, slug).await;
        }
        let current = self
            .store()
            .prompt(user, slug)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?;
        let labels = self.store().labels(user, slug).await?.unwrap_or_default();
        let doomed: Vec<u32> = match &which {
            VersionsToDelete::Version(0) => {
                return Err(Error::invalid("version", "versions start at 1"));
            }
            VersionsToDelete::Version(v) => vec![*v],
            VersionsToDelete::Label(l) if l == LATEST => vec![current.version],
            VersionsToDelete::Label(l) => {
                validate::label(l).map_err(|r| Error::invalid("label", r))?;
                labels
                    .iter()
                    .find(|x| &x.name == l)
                    .map(|x| x.target.versions())
                    .ok_or_else(|| Error::not_found("label", format!("{slug}@{l}")))?
            }
            VersionsToDelete::All => unreachable!("handled above"),
        };
        // Every version the prompt has, newest first (bounded by how many it can have).
        let all = self
            .store()
            .versions(user, slug, None, u32::MAX)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?;
        for v in &doomed {
            if !all.iter().any(|x| x.version == *v) {
                return Err(Error::not_found("version", format!("{slug}@{v}")));
            }
        }
        let remaining: Vec<&PromptVersion> = all
            .iter()
            .filter(|v| !doomed.contains(&v.version))
            .collect();
        let Some(head) = remaining.first() else {
            return self.delete_prompt(principal, slug).await;
        };
        let dependents = self.store().dependents(user, slug).await?;
        if !dependents.is_empty() {
            let names: Vec<&str> = dependents.iter().map(|d| d.slug.as_str()).collect();
            return Err(Error::conflict(
                "slug",
                format!(
                    "`{slug}` is included by {}; remove those includes first",
                    names.join(", ")
                ),
            ));
        }
        let remove_labels: Vec<String> = labels
            .iter()
            .filter(|l| doomed.iter().any(|v| l.target.names(*v)))
            .map(|l| l.name.clone())
            .collect();
        for l in &remove_labels {
            self.require_label_move(principal, l)?;
        }
        let new_head = doomed.contains(&current.version).then(|| {
            let prompt = Prompt {
                name: head.name.clone(),
                description: head.description.clone(),
                kind: head.kind,
                content: head.content.clone(),
                messages: head.messages.clone(),
                config: head.config.clone(),
                tags: head.tags.clone(),
                variables: head.variables.clone(),
                commit_message: head.commit_message.clone(),
                version: head.version,
                updated_at: self.now(),
                ..current.clone()
            };
            let score = self.weights().score_prompt(&prompt);
            (prompt, score)
        });
        let plan = VersionDeletion {
            expected_newest: current.version,
            versions: doomed,
            new_head,
            remove_labels,
            actor: principal.actor().unwrap_or_default().to_owned(),
            now: self.now(),
        };
        self.store()
            .delete_versions(user, slug, &plan)
            .await?
            .ok_or_else(|| prompt_not_found(slug))
    }

    /// A page of the caller's prompts in slug order with the total count: by folder, tag,
    /// label and time of the last change.
    #[instrument(level = "debug", skip_all)]
    pub async fn prompts_by_slug(
        &self,
        principal: &Principal,
        mut spec: SlugPageSpec,
    ) -> Result<(Vec<PromptSummary>, u64)> {
        require_read(principal)?;
        spec.filters = spec.filters.normalized()?;
        if let Some(l) = &spec.label
            && l != LATEST
        {
            validate::label(l).map_err(|r| Error::invalid("label", r))?;
        }
        if spec.label.as_deref() == Some(LATEST) {
            // Every prompt has a newest version.
            spec.label = None;
        }
        if !(1..=validate::MAX_PAGE_LIMIT).contains(&spec.limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {}", validate::MAX_PAGE_LIMIT),
            ));
        }
        self.store().page_by_slug(principal.user_id(), &spec).await
    }

    /// The version numbers of a prompt, oldest first, with the labels that name each
    /// (`latest` included).
    pub async fn version_labels(
        &self,
        principal: &Principal,
        slug: &str,
    ) -> Result<Vec<(u32, Vec<String>)>> {
        require_read(principal)?;
        parse_slug(slug)?;
        let user = principal.user_id();
        let versions = self
            .store()
            .versions(user, slug, None, u32::MAX)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?;
        let labels = self.store().labels(user, slug).await?.unwrap_or_default();
        let newest = versions.first().map_or(0, |v| v.version);
        Ok(versions
            .iter()
            .rev()
            .map(|v| {
                let mut names: Vec<String> = labels
                    .iter()
                    .filter(|l| l.target.names(v.version))
                    .map(|l| l.name.clone())
                    .collect();
                if v.version == newest {
                    names.push(LATEST.to_owned());
                }
                (v.version, names)
            })
            .collect())
    }
}
