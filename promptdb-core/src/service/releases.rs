//! Releases: labels and their history, resolving a prompt for an application (labels, versions,
//! A/B splits, includes), diffs, restoring old versions, dependents and folders.

use std::{future::Future, pin::Pin};

use super::*;
use crate::{
    change::{ChangeListener, ChangePage, MAX_CHANGE_PAGE},
    diff::{self, VersionDiff},
    folder::{self, Folder},
    release::{
        self, LATEST, Label, LabelMove, LabelTarget, MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_PROMPTS,
        PRODUCTION, Release, Rendered, ResolveRequest, Resolved, Snapshot,
    },
    search::SlugPageSpec,
    store::{LabelDecision, LabelState, Resolution, ResolvedVersion, Selector},
    template::{Include, MAX_INCLUDE_DEPTH, MAX_INCLUDES},
    validate::{MAX_RESOLVE_BATCH, MAX_RESOLVE_BATCH_BYTES, MAX_TAGS},
};

/// Most prompts one expansion of includes may fetch.
const MAX_INCLUDE_FETCHES: usize = 100;

impl PromptDb {
    /// Whether `label` is protected (moving it needs the release scope).
    pub fn is_protected(&self, label: &str) -> bool {
        self.inner
            .config
            .protected_labels
            .iter()
            .any(|l| l == label)
    }

    /// Checks that `principal` may move `label`: protected labels need the release scope, the
    /// others write or release.
    pub(super) fn require_label_move(&self, principal: &Principal, label: &str) -> Result<()> {
        if self.is_protected(label) {
            if principal.can_release() {
                return Ok(());
            }
            return Err(Error::forbidden(format!(
                "`{label}` is a protected label: moving it needs the release scope"
            )));
        }
        if principal.can_write() || principal.can_release() {
            Ok(())
        } else {
            Err(Error::forbidden("this credential is read-only"))
        }
    }

    /// Validates labels to point at a new version: names, no duplicates, permission for each.
    pub(super) fn labels_to_set(
        &self,
        principal: &Principal,
        labels: &[String],
    ) -> Result<Vec<String>> {
        if labels.len() > MAX_TAGS {
            return Err(Error::invalid(
                "labels",
                format!("at most {MAX_TAGS} labels at once (got {})", labels.len()),
            ));
        }
        let mut out: Vec<String> = Vec::with_capacity(labels.len());
        for (i, l) in labels.iter().enumerate() {
            let field = format!("labels[{i}]");
            if l == LATEST {
                // `latest` moves by itself; asking for it is harmless.
                continue;
            }
            release::settable_label(&field, l)?;
            self.require_label_move(principal, l)?;
            if !out.contains(l) {
                out.push(l.clone());
            }
        }
        Ok(out)
    }

    /// Fills in each version's `labels` from the prompt's labels (and `latest`).
    pub(super) async fn label_versions(
        &self,
        user: UserId,
        slug: &str,
        versions: &mut [PromptVersion],
    ) -> Result<()> {
        if versions.is_empty() {
            return Ok(());
        }
        let labels = self.store().labels(user, slug).await?.unwrap_or_default();
        let newest = self
            .store()
            .prompt(user, slug)
            .await?
            .map_or(0, |p| p.version);
        for v in versions {
            v.labels = labels_of(v.version, newest, &labels);
        }
        Ok(())
    }

    /// The prompt's labels (not `latest`, which always names the newest version).
    #[instrument(level = "debug", skip_all)]
    pub async fn labels(&self, principal: &Principal, slug: &str) -> Result<Vec<Label>> {
        require_read(principal)?;
        parse_slug(slug)?;
        let mut labels = self
            .store()
            .labels(principal.user_id(), slug)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?;
        for l in &mut labels {
            l.protected = self.is_protected(&l.name);
        }
        Ok(labels)
    }

    /// Points `label` at `target` (a version or a split), recording the move.
    #[instrument(level = "debug", skip_all)]
    pub async fn set_label(
        &self,
        principal: &Principal,
        slug: &str,
        label: &str,
        target: LabelTarget,
    ) -> Result<LabelMove> {
        parse_slug(slug)?;
        release::settable_label("label", label)?;
        target.validate("target")?;
        self.require_label_move(principal, label)?;
        let change = move |state: LabelState| -> Result<LabelDecision> {
            if let Some(v) = target.versions().into_iter().find(|v| *v > state.newest) {
                return Err(Error::not_found("version", format!("{slug}@{v}")));
            }
            Ok(if state.current.as_ref() == Some(&target) {
                LabelDecision::Keep
            } else {
                LabelDecision::Set(target.clone())
            })
        };
        self.move_label(principal, slug, label, &change).await
    }

    /// Removes `label` from the prompt, recording the move.
    #[instrument(level = "debug", skip_all)]
    pub async fn remove_label(
        &self,
        principal: &Principal,
        slug: &str,
        label: &str,
    ) -> Result<LabelMove> {
        parse_slug(slug)?;
        release::settable_label("label", label)?;
        self.require_label_move(principal, label)?;
        let change = move |state: LabelState| -> Result<LabelDecision> {
            match state.current {
                Some(_) => Ok(LabelDecision::Remove),
                None => Err(Error::not_found("label", format!("{slug}@{label}"))),
            }
        };
        self.move_label(principal, slug, label, &change).await
    }

    /// Moves `label` back to where it pointed before its last move (one step: calling it again
    /// undoes the rollback). The rollback is itself recorded.
    #[instrument(level = "debug", skip_all)]
    pub async fn rollback_label(
        &self,
        principal: &Principal,
        slug: &str,
        label: &str,
    ) -> Result<LabelMove> {
        parse_slug(slug)?;
        release::settable_label("label", label)?;
        self.require_label_move(principal, label)?;
        let last = self
            .store()
            .label_moves(principal.user_id(), slug, Some(label), None, 1)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::conflict(
                    "label",
                    format!(
                        "`{label}` of `{slug}` has never moved; there is nothing to roll back to"
                    ),
                )
            })?;
        let change = move |state: LabelState| -> Result<LabelDecision> {
            if state.current != last.to {
                return Err(Error::conflict(
                    "label",
                    format!("`{label}` moved meanwhile; look at its history and try again"),
                ));
            }
            Ok(match &last.from {
                Some(target) => LabelDecision::Set(target.clone()),
                None => LabelDecision::Remove,
            })
        };
        self.move_label(principal, slug, label, &change).await
    }

    async fn move_label(
        &self,
        principal: &Principal,
        slug: &str,
        label: &str,
        change: &crate::store::LabelMutator<'_>,
    ) -> Result<LabelMove> {
        let now = self.now();
        let actor = principal.actor().unwrap_or_default();
        match self
            .store()
            .move_label(principal.user_id(), slug, label, actor, now, change)
            .await?
        {
            None => Err(prompt_not_found(slug)),
            Some(Some(moved)) => Ok(moved),
            // Nothing changed: answer with the label as it stands.
            Some(None) => {
                let current = self
                    .labels(principal, slug)
                    .await?
                    .into_iter()
                    .find(|l| l.name == label);
                Ok(LabelMove {
                    id: 0,
                    label: label.to_owned(),
                    from: current.as_ref().map(|l| l.target.clone()),
                    to: current.map(|l| l.target),
                    actor: actor.to_owned(),
                    moved_at: now,
                })
            }
        }
    }

    /// The recorded moves of the prompt's labels (of one label when `label` is given), newest
    /// first.
    #[instrument(level = "debug", skip_all)]
    pub async fn label_history(
        &self,
        principal: &Principal,
        slug: &str,
        label: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<LabelMove>> {
        require_read(principal)?;
        parse_slug(slug)?;
        if let Some(l) = label {
            validate::label(l).map_err(|r| Error::invalid("label", r))?;
        }
        let limit = page::limit(limit)?;
        let before = cursor
            .map(|c| Cursor::decode(c).and_then(Cursor::into_moves))
            .transpose()?;
        let mut moves = self
            .store()
            .label_moves(principal.user_id(), slug, label, before, limit + 1)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?;
        let next_cursor = if moves.len() > limit as usize {
            moves.truncate(limit as usize);
            moves
                .last()
                .map(|m| Cursor::Moves { before: m.id }.encode())
        } else {
            None
        };
        Ok(Page {
            items: moves,
            next_cursor,
        })
    }

    /// Writes an old version's content as a new version (name, description, body, config, tags
    /// and variables; flags and uses stay). A version equal to the newest writes nothing.
    #[instrument(level = "debug", skip_all)]
    pub async fn restore_version(
        &self,
        principal: &Principal,
        slug: &str,
        version: u32,
        commit_message: Option<&str>,
    ) -> Result<Prompt> {
        require_write(principal)?;
        let old = self.prompt_version(principal, slug, version).await?;
        self.check_quotas(
            principal.user_id(),
            0,
            super::prompts::json_len(&old),
            Some(slug),
        )
        .await?;
        let commit = prompt::commit_message(
            "commit_message",
            commit_message.unwrap_or(&format!("Restore version {version}")),
        )?;
        let now = self.now();
        let weights = *self.weights();
        let apply = move |current: Prompt| -> Result<Option<PromptChange>> {
            let same = old.name == current.name
                && old.description == current.description
                && old.kind == current.kind
                && old.content == current.content
                && old.messages == current.messages
                && old.config == current.config
                && old.tags == current.tags
                && old.variables == current.variables;
            if same {
                return Ok(None);
            }
            let prompt = Prompt {
                name: old.name.clone(),
                description: old.description.clone(),
                kind: old.kind,
                content: old.content.clone(),
                messages: old.messages.clone(),
                config: old.config.clone(),
                tags: old.tags.clone(),
                variables: old.variables.clone(),
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
                labels: Vec::new(),
                actor: String::new(),
            }))
        };
        self.store()
            .modify_prompt(principal.user_id(), slug, &apply)
            .await?
            .ok_or_else(|| prompt_not_found(slug))
    }

    /// A prompt as an application gets it: at a label (`production` when none is named; a
    /// split picks by `subject`), a version, or `latest`; includes expanded; rendered strictly
    /// when variables are given. The answer names the version served.
    #[instrument(level = "debug", skip_all)]
    pub async fn resolve(&self, principal: &Principal, req: ResolveRequest) -> Result<Resolved> {
        require_read(principal)?;
        check_resolve_request(&req)?;
        let label = match (&req.label, req.version) {
            (_, Some(_)) => None,
            (Some(l), None) => Some(l.as_str()),
            (None, None) => Some(PRODUCTION),
        };
        let selector = match (label, req.version) {
            (_, Some(v)) => Selector::Version(v),
            (Some(LATEST), _) => Selector::Latest,
            (Some(l), _) => Selector::Label(l),
            (None, None) => Selector::Latest,
        };
        let user = principal.user_id();
        let found = self
            .fetch(user, &req.slug, selector, req.subject.as_deref())
            .await?;
        let newest = found.newest;
        let v = found.version;
        let labels = labels_of(v.version, newest, &found.labels);
        let mut expander = Expander::new(self, user, req.subject.as_deref());
        let mut variables = v.variables.clone();
        let (content, messages) = match v.kind {
            PromptKind::Text => {
                let (text, vars) = expander
                    .expand(&v.content, &mut vec![found.slug.as_str().to_owned()])
                    .await?;
                add_variables(&mut variables, vars);
                (text, Vec::new())
            }
            PromptKind::Chat => {
                let mut out = Vec::with_capacity(v.messages.len());
                for m in &v.messages {
                    let (text, vars) = expander
                        .expand(&m.content, &mut vec![found.slug.as_str().to_owned()])
                        .await?;
                    add_variables(&mut variables, vars);
                    out.push(ChatMessage::new(m.role, text));
                }
                (String::new(), out)
            }
        };
        let mut resolved = Resolved {
            slug: found.slug,
            name: v.name,
            kind: v.kind,
            version: v.version,
            label: label.map(str::to_owned),
            labels,
            content,
            messages,
            config: v.config,
            tags: v.tags,
            variables,
            commit_message: v.commit_message,
            created_at: v.created_at,
            rendered: None,
        };
        if let Some(values) = &req.variables {
            resolved.rendered = Some(resolved.render(values)?);
        }
        Ok(resolved)
    }

    /// Resolves up to 50 prompts in one call; each answer succeeds or fails on its own.
    #[instrument(level = "debug", skip_all, fields(count = requests.len()))]
    pub async fn resolve_many(
        &self,
        principal: &Principal,
        requests: Vec<ResolveRequest>,
    ) -> Result<Vec<Result<Resolved>>> {
        require_read(principal)?;
        if requests.is_empty() {
            return Err(Error::invalid("prompts", "give at least one prompt"));
        }
        if requests.len() > MAX_RESOLVE_BATCH {
            return Err(Error::invalid(
                "prompts",
                format!(
                    "at most {MAX_RESOLVE_BATCH} prompts per call (got {})",
                    requests.len()
                ),
            ));
        }
        // A malformed item refuses the whole request; what depends on the data (a prompt or
        // label that does not exist, missing variables) answers item by item.
        for (i, req) in requests.iter().enumerate() {
            check_resolve_request(req).map_err(|e| e.within(&format!("prompts[{i}]")))?;
        }
        let mut out = Vec::with_capacity(requests.len());
        let mut bytes = 0;
        for (i, req) in requests.into_iter().enumerate() {
            let within = |e: Error| e.within(&format!("prompts[{i}]"));
            let result = self.resolve(principal, req).await.and_then(|r| {
                let size = r.content.len()
                    + r.messages.iter().map(|m| m.content.len()).sum::<usize>()
                    + r.rendered.as_ref().map_or(0, Rendered::len);
                if bytes + size > MAX_RESOLVE_BATCH_BYTES {
                    return Err(Error::invalid(
                        "prompts",
                        format!(
                            "the answer to one call holds at most {MAX_RESOLVE_BATCH_BYTES} bytes of text; resolve this prompt in another call"
                        ),
                    ));
                }
                bytes += size;
                Ok(r)
            });
            out.push(result.map_err(within));
        }
        Ok(out)
    }

    /// A prompt's release at a label (`production` when neither label nor version is given,
    /// `latest` included) or at a version: the target and every version it names, resolved.
    /// What a client-side resolver caches.
    #[instrument(level = "debug", skip_all)]
    pub async fn release(
        &self,
        principal: &Principal,
        slug: &str,
        label: Option<&str>,
        version: Option<u32>,
    ) -> Result<Release> {
        require_read(principal)?;
        check_resolve_request(&ResolveRequest {
            slug: slug.to_owned(),
            label: label.map(str::to_owned),
            version,
            ..ResolveRequest::default()
        })?;
        let user = principal.user_id();
        let label = match version {
            Some(_) => None,
            None => Some(label.unwrap_or(PRODUCTION)),
        };
        let target = match (label, version) {
            (_, Some(v)) => LabelTarget::version(v),
            (Some(LATEST) | None, None) => {
                let found = self.fetch(user, slug, Selector::Latest, None).await?;
                LabelTarget::version(found.version.version)
            }
            (Some(l), None) => {
                let labels = self
                    .store()
                    .labels(user, slug)
                    .await?
                    .ok_or_else(|| prompt_not_found(slug))?;
                match labels.into_iter().find(|x| x.name == l) {
                    Some(found) => found.target,
                    None => {
                        // The same answer resolve gives.
                        return Err(self
                            .fetch(user, slug, Selector::Label(l), None)
                            .await
                            .err()
                            .unwrap_or_else(|| Error::not_found("label", format!("{slug}@{l}"))));
                    }
                }
            }
        };
        let mut versions = Vec::new();
        for v in target.versions() {
            let mut r = self
                .resolve(
                    principal,
                    ResolveRequest {
                        slug: slug.to_owned(),
                        version: Some(v),
                        ..ResolveRequest::default()
                    },
                )
                .await?;
            r.label = label.map(str::to_owned);
            versions.push(r);
        }
        let slug = versions
            .first()
            .map(|r| r.slug.clone())
            .map_or_else(|| parse_slug(slug), Ok)?;
        Ok(Release {
            slug,
            label: label.map(str::to_owned),
            target,
            versions,
        })
    }

    /// Every prompt that has `label` (`latest`: every prompt), in slug order, optionally only
    /// those in `folder`, as one [`Snapshot`]: at most [`MAX_SNAPSHOT_PROMPTS`] prompts and
    /// [`MAX_SNAPSHOT_BYTES`] of text.
    #[instrument(level = "debug", skip_all)]
    pub async fn snapshot(
        &self,
        principal: &Principal,
        label: &str,
        folder: Option<String>,
    ) -> Result<Snapshot> {
        require_read(principal)?;
        if label != LATEST {
            validate::label(label).map_err(|r| Error::invalid("label", r))?;
        }
        let filters = crate::Filters {
            folder: folder.clone(),
            ..crate::Filters::default()
        };
        let mut spec = SlugPageSpec {
            filters,
            label: Some(label.to_owned()),
            limit: validate::MAX_PAGE_LIMIT,
            ..SlugPageSpec::default()
        };
        let mut slugs = Vec::new();
        loop {
            let (page, total) = self.prompts_by_slug(principal, spec.clone()).await?;
            // The count comes before any per-prompt work.
            if total > MAX_SNAPSHOT_PROMPTS as u64 {
                return Err(Error::invalid(
                    "label",
                    format!(
                        "{total} prompts are at `{label}`; a snapshot holds at most {MAX_SNAPSHOT_PROMPTS}: take one folder at a time (`folder`)"
                    ),
                ));
            }
            let n = page.len();
            slugs.extend(page.into_iter().map(|p| p.slug));
            if n < spec.limit as usize || slugs.len() >= MAX_SNAPSHOT_PROMPTS {
                break;
            }
            spec.offset += n as u64;
        }
        let mut releases = Vec::with_capacity(slugs.len());
        let mut bytes = 0;
        for slug in slugs {
            let release = match self
                .release(principal, slug.as_str(), Some(label), None)
                .await
            {
                Ok(r) => r,
                // Deleted, or its label removed, since the page was read.
                Err(Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            bytes += release
                .versions
                .iter()
                .map(|r| {
                    r.content.len() + r.messages.iter().map(|m| m.content.len()).sum::<usize>()
                })
                .sum::<usize>();
            if bytes > MAX_SNAPSHOT_BYTES {
                return Err(Error::invalid(
                    "label",
                    format!(
                        "the prompts at `{label}` hold more than {MAX_SNAPSHOT_BYTES} bytes of text; take one folder at a time (`folder`)"
                    ),
                ));
            }
            releases.push(release);
        }
        Ok(Snapshot::new(label, folder, self.now(), releases))
    }

    /// The caller's changes after `after` (a `seq`; 0: from the start), oldest first, at most
    /// `limit` (1 to [`MAX_CHANGE_PAGE`]), with the feed's head and oldest kept position.
    #[instrument(level = "debug", skip_all)]
    pub async fn changes(
        &self,
        principal: &Principal,
        after: i64,
        limit: u32,
    ) -> Result<ChangePage> {
        require_read(principal)?;
        if after < 0 {
            return Err(Error::invalid("after", "must be 0 or a change's seq"));
        }
        if !(1..=MAX_CHANGE_PAGE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_CHANGE_PAGE}"),
            ));
        }
        self.store()
            .changes(principal.user_id(), after, limit)
            .await
    }

    /// A listener that wakes when any user's changes are committed, by this process or
    /// another one sharing the database (see [`crate::change`]).
    pub async fn listen_changes(&self) -> Result<Box<dyn ChangeListener>> {
        self.store().listen_changes().await
    }

    /// Forgets what this process caches about a prompt that another process changed
    /// (`None`: about every prompt).
    pub fn evict_cached(&self, changed: Option<&crate::change::Changed>) {
        match changed {
            Some(c) => self.store().evict(c.user, &c.slug),
            None => self.store().evict_all(),
        }
    }

    /// The version `selector` names, or the error that says why there is none.
    async fn fetch(
        &self,
        user: UserId,
        slug: &str,
        selector: Selector<'_>,
        subject: Option<&str>,
    ) -> Result<ResolvedVersion> {
        let label = match selector {
            Selector::Label(l) => l,
            _ => LATEST,
        };
        let pick = |t: &LabelTarget| release::assign(slug, label, t, subject);
        match self.store().resolve(user, slug, selector, &pick).await? {
            Resolution::Found(found) => Ok(*found),
            Resolution::NoPrompt => Err(prompt_not_found(slug)),
            Resolution::NoLabel => Err(Error::not_found(
                "label",
                format!(
                    "{slug}@{label} (the prompt has no `{label}` label; set one, or ask for `latest` or a version)"
                ),
            )),
            Resolution::NoVersion(v) => Err(Error::not_found("version", format!("{slug}@{v}"))),
        }
    }

    /// Checks the includes of a prompt about to be saved: each names an existing text prompt
    /// (and label or version), there are not too many, they nest at most five deep, and none
    /// leads back to the prompt. `batch` holds prompts saved together with it.
    pub(super) async fn check_includes<'b>(
        &'b self,
        user: UserId,
        prompt: &Prompt,
        batch: &'b HashMap<&'b str, &'b Prompt>,
    ) -> Result<()> {
        let field = match prompt.kind {
            PromptKind::Text => "content",
            PromptKind::Chat => "messages",
        };
        // Most prompts include nothing: skip building the expander.
        if !prompt.texts().iter().any(|text| text.contains("{{>")) {
            return Ok(());
        }
        let mut expander = Expander::new(self, user, None);
        expander.batch = Some(batch);
        for text in prompt.texts() {
            expander
                .expand(text, &mut vec![prompt.slug.as_str().to_owned()])
                .await
                .map_err(|e| match e {
                    Error::Invalid { reason, .. } => Error::invalid(field, reason),
                    Error::NotFound { what, key } => Error::invalid(
                        field,
                        format!("includes {what} `{key}`, which does not exist"),
                    ),
                    other => other,
                })?;
        }
        Ok(())
    }

    /// A line diff of two versions' bodies and the other fields that changed.
    #[instrument(level = "debug", skip_all)]
    pub async fn diff_versions(
        &self,
        principal: &Principal,
        slug: &str,
        from: u32,
        to: u32,
    ) -> Result<VersionDiff> {
        let a = self
            .prompt_version(principal, slug, from)
            .await
            .map_err(|e| with_field(e, "from"))?;
        let b = self
            .prompt_version(principal, slug, to)
            .await
            .map_err(|e| with_field(e, "to"))?;
        Ok(diff::versions(slug, &a, &b))
    }

    /// The prompts whose newest version includes `slug`.
    #[instrument(level = "debug", skip_all)]
    pub async fn dependents(
        &self,
        principal: &Principal,
        slug: &str,
    ) -> Result<Vec<PromptSummary>> {
        require_read(principal)?;
        parse_slug(slug)?;
        let user = principal.user_id();
        if self.store().prompt(user, slug).await?.is_none() {
            return Err(prompt_not_found(slug));
        }
        self.store().dependents(user, slug).await
    }

    /// The caller's folders as a tree, with prompt counts.
    #[instrument(level = "debug", skip_all)]
    pub async fn folders(&self, principal: &Principal) -> Result<Vec<Folder>> {
        require_read(principal)?;
        let counts = self.store().folders(principal.user_id()).await?;
        Ok(folder::tree(counts))
    }
}

fn with_field(e: Error, field: &str) -> Error {
    match e {
        Error::Invalid { reason, .. } => Error::invalid(field, reason),
        other => other,
    }
}

/// The labels that name `version`: `latest` for the newest, and every label whose target
/// names it.
fn labels_of(version: u32, newest: u32, labels: &[Label]) -> Vec<String> {
    let mut out = Vec::new();
    if version == newest {
        out.push(LATEST.to_owned());
    }
    out.extend(
        labels
            .iter()
            .filter(|l| l.target.names(version))
            .map(|l| l.name.clone()),
    );
    out
}

/// Adds variables of included prompts that the including text does not declare itself.
fn add_variables(into: &mut Vec<Variable>, more: Vec<Variable>) {
    for v in more {
        if !into.iter().any(|w| w.name == v.name) {
            into.push(v);
        }
    }
}

/// Expands includes, fetching each included prompt once.
struct Expander<'a> {
    db: &'a PromptDb,
    user: UserId,
    subject: Option<&'a str>,
    /// Expanded text and the variables it declares, by slug and selector.
    memo: HashMap<(String, Option<String>), (String, Vec<Variable>)>,
    /// Prompts being saved together, by slug (found before the store is asked).
    batch: Option<&'a HashMap<&'a str, &'a Prompt>>,
    fetches: usize,
}

impl<'a> Expander<'a> {
    fn new(db: &'a PromptDb, user: UserId, subject: Option<&'a str>) -> Self {
        Self {
            db,
            user,
            subject,
            memo: HashMap::new(),
            batch: None,
            fetches: 0,
        }
    }

    /// `text` with its includes expanded, and the variables of what it includes. `path` is the
    /// chain of slugs that led here, for cycle detection and messages.
    fn expand<'s>(
        &'s mut self,
        text: &'s str,
        path: &'s mut Vec<String>,
    ) -> BoxedFuture<'s, Result<(String, Vec<Variable>)>> {
        Box::pin(async move {
            let includes = template::includes(text);
            if includes.is_empty() {
                return Ok((text.to_owned(), Vec::new()));
            }
            if includes.len() > MAX_INCLUDES {
                return Err(Error::invalid(
                    "content",
                    format!(
                        "at most {MAX_INCLUDES} includes in one text (got {})",
                        includes.len()
                    ),
                ));
            }
            if path.len() > MAX_INCLUDE_DEPTH {
                return Err(Error::invalid(
                    "content",
                    format!(
                        "includes nest deeper than {MAX_INCLUDE_DEPTH}: {}",
                        path.join(" → ")
                    ),
                ));
            }
            let mut variables = Vec::new();
            for include in &includes {
                let key = key_of(include);
                if !self.memo.contains_key(&key) {
                    let expanded = self.fetch_expanded(include, path).await?;
                    self.memo.insert(key.clone(), expanded);
                }
                if let Some((_, vars)) = self.memo.get(&key) {
                    add_variables(&mut variables, vars.clone());
                }
            }
            let out = template::expand(text, |include| {
                self.memo.get(&key_of(&include)).map(|(t, _)| t.as_str())
            });
            Ok((out, variables))
        })
    }

    async fn fetch_expanded(
        &mut self,
        include: &Include<'_>,
        path: &mut Vec<String>,
    ) -> Result<(String, Vec<Variable>)> {
        let slug = include.slug;
        if path.iter().any(|p| p == slug) {
            return Err(Error::invalid(
                "content",
                format!("includes form a cycle: {} → {slug}", path.join(" → ")),
            ));
        }
        self.fetches += 1;
        if self.fetches > MAX_INCLUDE_FETCHES {
            return Err(Error::invalid(
                "content",
                format!("includes reach more than {MAX_INCLUDE_FETCHES} prompts"),
            ));
        }
        let selector = match include.selector {
            None | Some(LATEST) => Selector::Latest,
            Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
                Selector::Version(s.parse().map_err(|_| {
                    Error::invalid("content", format!("`{slug}@{s}`: no such version"))
                })?)
            }
            Some(label) => Selector::Label(label),
        };
        let (kind, text, variables) = match (self.batch.and_then(|b| b.get(slug)), selector) {
            (Some(p), Selector::Latest | Selector::Version(1)) => {
                (p.kind, p.content.clone(), p.variables.clone())
            }
            _ => {
                let found = self
                    .db
                    .fetch(self.user, slug, selector, self.subject)
                    .await?;
                let v = found.version;
                (v.kind, v.content, v.variables)
            }
        };
        if kind == PromptKind::Chat {
            return Err(Error::invalid(
                "content",
                format!("includes `{slug}`, a chat prompt; only text prompts can be included"),
            ));
        }
        path.push(slug.to_owned());
        let (expanded, more) = self.expand(&text, path).await?;
        path.pop();
        let mut vars = variables;
        add_variables(&mut vars, more);
        Ok((expanded, vars))
    }
}

fn key_of(include: &Include<'_>) -> (String, Option<String>) {
    (include.slug.to_owned(), include.selector.map(str::to_owned))
}

/// A boxed future, for the recursion of [`Expander::expand`].
type BoxedFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The checks of a resolve request that do not depend on stored data.
fn check_resolve_request(req: &ResolveRequest) -> Result<()> {
    parse_slug(&req.slug)?;
    if let Some(subject) = &req.subject {
        release::validate_subject(subject)?;
    }
    match (&req.label, req.version) {
        (Some(_), Some(_)) => Err(Error::invalid(
            "version",
            "give a label or a version, not both",
        )),
        (None, Some(0)) => Err(Error::invalid("version", "versions start at 1")),
        (Some(l), None) => validate::label(l).map_err(|r| Error::invalid("label", r)),
        _ => Ok(()),
    }
}
