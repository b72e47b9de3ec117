//! Prompts: save, read, list, search, change, delete, versions, render.

use super::*;

/// The length of a value's JSON text.
pub(super) fn json_len<T: Serialize>(v: &T) -> u64 {
    serde_json::to_vec(v).map_or(0, |v| v.len() as u64)
}

/// Bytes of text a version of `p` stores, as the stores count them (close: JSON may be spaced
/// differently).
pub(super) fn version_bytes(p: &Prompt) -> u64 {
    (p.name.len() + p.description.len() + p.content.len() + p.commit_message.len()) as u64
        + json_len(&p.tags)
        + json_len(&p.variables)
        + json_len(&p.messages)
        + json_len(&p.config)
}

impl PromptDb {
    /// Refuses a write that would take `user` past a quota: `new_prompts` more prompts,
    /// `new_bytes` more bytes of text, and with `slug` one more version of that prompt. Checked
    /// before the write, so writes running at the same moment may overshoot by what they carry.
    pub(super) async fn check_quotas(
        &self,
        user: UserId,
        new_prompts: u64,
        new_bytes: u64,
        slug: Option<&str>,
    ) -> Result<()> {
        let c = &self.inner.config;
        let usage = self.store().usage(user, slug).await?;
        if new_prompts > 0 && usage.prompts + new_prompts > c.max_prompts_per_user {
            return Err(Error::quota(
                "prompts",
                format!(
                    "you have {} prompts and the limit is {}; delete some first",
                    usage.prompts, c.max_prompts_per_user
                ),
            ));
        }
        if let Some(slug) = slug
            && usage.versions >= c.max_versions_per_prompt
        {
            return Err(Error::quota(
                "versions",
                format!(
                    "`{slug}` keeps {} versions, the limit; delete old versions first",
                    usage.versions
                ),
            ));
        }
        if usage.stored_bytes + new_bytes > c.max_stored_bytes_per_user {
            return Err(Error::quota(
                "stored_bytes",
                format!(
                    "you store {} bytes of prompts and the limit is {}; this would add {}",
                    usage.stored_bytes, c.max_stored_bytes_per_user, new_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Saves new prompts: all of them, or — if any is invalid or its slug is taken — none.
    #[instrument(level = "debug", skip_all, fields(count = prompts.len()))]
    pub async fn save_prompts(
        &self,
        principal: &Principal,
        prompts: Vec<NewPrompt>,
    ) -> Result<Vec<Prompt>> {
        require_write(principal)?;
        if prompts.is_empty() {
            return Err(Error::invalid("prompts", "give at least one prompt"));
        }
        if prompts.len() > MAX_BATCH {
            return Err(Error::invalid(
                "prompts",
                format!(
                    "at most {MAX_BATCH} prompts per batch (got {})",
                    prompts.len()
                ),
            ));
        }
        let now = self.now();
        let actor = principal.actor().unwrap_or_default().to_owned();
        let mut records: Vec<PromptRecord> = Vec::with_capacity(prompts.len());
        let mut slugs: HashMap<Slug, usize> = HashMap::with_capacity(prompts.len());
        for (i, p) in prompts.into_iter().enumerate() {
            let at = format!("prompts[{i}]");
            let body = PromptBody::build(BodyInput {
                name: &p.name,
                description: &p.description,
                kind: p.kind,
                content: p.content,
                messages: p.messages,
                config: p.config,
                tags: &p.tags,
                variables: p.variables,
            })
            .map_err(|e| e.within(&at))?;
            let commit_message = prompt::commit_message("commit_message", &p.commit_message)
                .map_err(|e| e.within(&at))?;
            let labels = self
                .labels_to_set(principal, &p.labels)
                .map_err(|e| e.within(&at))?;
            let slug = match p.slug.as_deref() {
                Some(s) => Slug::parse("slug", s),
                None => Ok(Slug::derive_from(&p.name)),
            }
            .map_err(|e| e.within(&at))?;
            if let Some(j) = slugs.insert(slug.clone(), i) {
                return Err(Error::conflict(
                    format!("{at}.slug"),
                    format!("`{slug}` is used twice in this batch (also prompts[{j}])"),
                ));
            }
            let prompt = Prompt {
                id: crate::PromptId::new(),
                slug,
                name: body.name,
                description: body.description,
                kind: body.kind,
                content: body.content,
                messages: body.messages,
                config: body.config,
                tags: body.tags,
                variables: body.variables,
                commit_message,
                pinned: p.pinned,
                favorite: p.favorite,
                usage_count: 0,
                last_used_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            let score = self.weights().score_prompt(&prompt);
            records.push(PromptRecord {
                prompt,
                score,
                labels,
                actor: actor.clone(),
            });
        }
        let bytes = records.iter().map(|r| version_bytes(&r.prompt)).sum();
        self.check_quotas(principal.user_id(), records.len() as u64, bytes, None)
            .await?;
        let batch: HashMap<&str, &Prompt> = records
            .iter()
            .map(|r| (r.prompt.slug.as_str(), &r.prompt))
            .collect();
        for (i, r) in records.iter().enumerate() {
            self.check_includes(principal.user_id(), &r.prompt, &batch)
                .await
                .map_err(|e| e.within(&format!("prompts[{i}]")))?;
        }
        match self
            .store()
            .insert_prompts(principal.user_id(), &records)
            .await?
        {
            Inserted::All => Ok(records.into_iter().map(|r| r.prompt).collect()),
            Inserted::SlugTaken { index } => Err(Error::conflict(
                format!("prompts[{index}].slug"),
                format!(
                    "you already have a prompt with slug `{}`; update it instead, or pick another slug",
                    records[index].prompt.slug
                ),
            )),
        }
    }

    /// A prompt by slug.
    #[instrument(level = "debug", skip_all)]
    pub async fn get_prompt(&self, principal: &Principal, slug: &str) -> Result<Prompt> {
        require_read(principal)?;
        parse_slug(slug)?;
        self.store()
            .prompt(principal.user_id(), slug)
            .await?
            .ok_or_else(|| prompt_not_found(slug))
    }

    /// [`PromptDb::get_prompt`] as JSON, exactly what `serde_json` writes for the [`Prompt`].
    /// A cached prompt is served from the JSON kept with it: no copy of the prompt, no
    /// serialization. For frontends that send the prompt on unchanged (REST).
    #[instrument(level = "debug", skip_all)]
    pub async fn get_prompt_json(
        &self,
        principal: &Principal,
        slug: &str,
    ) -> Result<std::sync::Arc<str>> {
        require_read(principal)?;
        parse_slug(slug)?;
        self.store()
            .prompt_json(principal.user_id(), slug)
            .await?
            .ok_or_else(|| prompt_not_found(slug))
    }

    /// Prompts in ranked order: pinned first, then by score. Paginated with a stable cursor.
    #[instrument(level = "debug", skip_all)]
    pub async fn list_prompts(
        &self,
        principal: &Principal,
        query: ListQuery,
    ) -> Result<Page<PromptSummary>> {
        require_read(principal)?;
        let limit = page::limit(query.limit)?;
        let filters = query.filters.normalized()?;
        let after = query
            .cursor
            .as_deref()
            .map(|c| Cursor::decode(c).and_then(Cursor::into_list))
            .transpose()?;
        let spec = ListSpec {
            filters,
            after,
            limit: limit + 1,
        };
        let mut rows = self
            .store()
            .list_prompts(principal.user_id(), &spec)
            .await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|last| {
                Cursor::List(search::ListPosition {
                    pinned: last.item.pinned,
                    score: last.score,
                    slug: last.item.slug.as_str().to_owned(),
                })
                .encode()
            })
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|r| r.item).collect(),
            next_cursor,
        })
    }

    /// Searches by words and tags; relevance blended with the ranking score.
    #[instrument(level = "debug", skip_all)]
    pub async fn search_prompts(
        &self,
        principal: &Principal,
        query: SearchQuery,
    ) -> Result<Page<PromptSummary>> {
        require_read(principal)?;
        let limit = page::limit(query.limit)? as usize;
        let config = &self.inner.config;
        let (spec, offset) =
            search::parse(query, config.search_candidates, config.search_scan_limit)?;
        // Nothing to search for (only punctuation, say), or a cursor past the end: no results.
        if (spec.terms.is_empty() && spec.filters.tags.is_empty())
            || offset > config.search_candidates
        {
            return Ok(Page::last(Vec::new()));
        }
        let user = principal.user_id();
        let mut candidates = self.store().search_prompts(user, &spec).await?;
        ranking::blend(self.weights(), &mut candidates);
        let end = (offset + limit).min(candidates.len());
        let page = candidates.get(offset..end).unwrap_or_default();
        let ids: Vec<_> = page.iter().map(|c| c.id).collect();
        let mut summaries = self.store().prompt_summaries(user, &ids).await?;
        // Restore the blended order; a row deleted in between simply drops out.
        summaries.sort_by_key(|s| ids.iter().position(|id| *id == s.id));
        let next_cursor = (end < candidates.len()).then(|| Cursor::Search { offset: end }.encode());
        Ok(Page {
            items: summaries,
            next_cursor,
        })
    }

    /// Changes some fields of a prompt. A change to the name, description, content, tags or
    /// variables writes a new immutable version; pinning and favouriting do not. A patch that
    /// changes nothing writes nothing.
    ///
    /// When the content changes and `variables` is not in the patch, declared variables that the
    /// new content no longer uses are dropped unless they carry a description, a default, or
    /// are optional.
    #[instrument(level = "debug", skip_all)]
    pub async fn update_prompt(
        &self,
        principal: &Principal,
        slug: &str,
        patch: PromptPatch,
    ) -> Result<Prompt> {
        require_write(principal)?;
        parse_slug(slug)?;
        if patch.is_empty() {
            // Nothing to change (`{}`, or only nulls): the prompt as it is.
            return self.get_prompt(principal, slug).await;
        }
        let commit = patch
            .commit_message
            .as_deref()
            .map(|m| prompt::commit_message("commit_message", m))
            .transpose()?;
        let versioned = patch.name.is_some()
            || patch.description.is_some()
            || patch.kind.is_some()
            || patch.content.is_some()
            || patch.messages.is_some()
            || patch.config.is_some()
            || patch.tags.is_some()
            || patch.variables.is_some();
        if versioned {
            // A new version: about the size of the patch's text on top of what is stored.
            let bytes = json_len(&patch);
            self.check_quotas(principal.user_id(), 0, bytes, Some(slug))
                .await?;
        }
        if patch.content.is_some() || patch.messages.is_some() {
            // Includes in the new text must exist and must not lead back here; checked before
            // the write, on exactly the text that will be written.
            let probe = Prompt {
                slug: Slug::parse("slug", slug)?,
                kind: patch.kind.unwrap_or(if patch.messages.is_some() {
                    PromptKind::Chat
                } else {
                    PromptKind::Text
                }),
                content: patch.content.clone().unwrap_or_default(),
                messages: patch.messages.clone().unwrap_or_default(),
                ..Prompt::placeholder()
            };
            self.check_includes(principal.user_id(), &probe, &HashMap::new())
                .await?;
        }
        let now = self.now();
        let weights = *self.weights();
        let apply = move |current: Prompt| -> Result<Option<PromptChange>> {
            let kind = patch.kind.unwrap_or(current.kind);
            // Switching kind drops the other kind's body.
            let content = match (kind, &patch.content) {
                (PromptKind::Text, Some(c)) => c.clone(),
                (PromptKind::Text, None) if current.kind == PromptKind::Text => {
                    current.content.clone()
                }
                (PromptKind::Chat, Some(c)) => c.clone(),
                _ => String::new(),
            };
            let messages = match (kind, &patch.messages) {
                (_, Some(m)) => m.clone(),
                (PromptKind::Chat, None) if current.kind == PromptKind::Chat => {
                    current.messages.clone()
                }
                _ => Vec::new(),
            };
            let text_changed = content != current.content || messages != current.messages;
            let variables = match &patch.variables {
                Some(v) => v.clone(),
                None if text_changed => {
                    let mut used = std::collections::HashSet::new();
                    used.extend(template::placeholders(&content));
                    for m in &messages {
                        used.extend(template::placeholders(&m.content));
                    }
                    current
                        .variables
                        .iter()
                        .filter(|v| {
                            used.contains(v.name.as_str())
                                || !v.description.is_empty()
                                || v.default.is_some()
                                || !v.required
                        })
                        .cloned()
                        .collect::<Vec<Variable>>()
                }
                None => current.variables.clone(),
            };
            let body = PromptBody::build(BodyInput {
                name: patch.name.as_deref().unwrap_or(&current.name),
                description: patch.description.as_deref().unwrap_or(&current.description),
                kind,
                content,
                messages,
                config: patch
                    .config
                    .clone()
                    .unwrap_or_else(|| current.config.clone()),
                tags: patch.tags.as_deref().unwrap_or(&current.tags),
                variables,
            })?;
            let pinned = patch.pinned.unwrap_or(current.pinned);
            let favorite = patch.favorite.unwrap_or(current.favorite);
            let new_version = body.name != current.name
                || body.description != current.description
                || body.kind != current.kind
                || body.content != current.content
                || body.messages != current.messages
                || body.config != current.config
                || body.tags != current.tags
                || body.variables != current.variables;
            if !new_version && pinned == current.pinned && favorite == current.favorite {
                return Ok(None);
            }
            let commit_message = if new_version {
                commit.clone().unwrap_or_default()
            } else {
                current.commit_message.clone()
            };
            let prompt = Prompt {
                name: body.name,
                description: body.description,
                kind: body.kind,
                content: body.content,
                messages: body.messages,
                config: body.config,
                tags: body.tags,
                variables: body.variables,
                commit_message,
                pinned,
                favorite,
                updated_at: now,
                version: current.version + u32::from(new_version),
                ..current
            };
            let score = weights.score_prompt(&prompt);
            Ok(Some(PromptChange {
                prompt,
                score,
                new_version,
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

    /// Deletes a prompt and its history.
    #[instrument(level = "debug", skip_all)]
    pub async fn delete_prompt(&self, principal: &Principal, slug: &str) -> Result<()> {
        require_write(principal)?;
        parse_slug(slug)?;
        let dependents = self.store().dependents(principal.user_id(), slug).await?;
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
        if self
            .store()
            .delete_prompt(principal.user_id(), slug)
            .await?
        {
            Ok(())
        } else {
            Err(prompt_not_found(slug))
        }
    }

    /// The caller's tags with counts, most used first.
    #[instrument(level = "debug", skip_all)]
    pub async fn list_tags(&self, principal: &Principal) -> Result<Vec<TagCount>> {
        require_read(principal)?;
        self.store().tags(principal.user_id()).await
    }

    /// Records that a prompt was used: raises its use count and recency.
    #[instrument(level = "debug", skip_all)]
    /// When `version` is given (the version a resolve served), the use also counts for that
    /// version, so that the variants of a split can be compared; otherwise for the newest.
    pub async fn track_prompt_use(
        &self,
        principal: &Principal,
        slug: &str,
        version: Option<u32>,
    ) -> Result<PromptUsage> {
        require_write(principal)?;
        parse_slug(slug)?;
        if version == Some(0) {
            return Err(Error::invalid("version", "versions start at 1"));
        }
        let now = self.now();
        let weights = *self.weights();
        let apply = move |current: Prompt| -> Result<Option<PromptChange>> {
            let used_version = version.unwrap_or(current.version);
            if used_version > current.version {
                return Err(Error::not_found(
                    "version",
                    format!("{}@{used_version}", current.slug),
                ));
            }
            let prompt = Prompt {
                usage_count: current.usage_count + 1,
                last_used_at: Some(now),
                ..current
            };
            let score = weights.score_prompt(&prompt);
            Ok(Some(PromptChange {
                prompt,
                score,
                new_version: false,
                used_version: Some(used_version),
                labels: Vec::new(),
                actor: String::new(),
            }))
        };
        let prompt = self
            .store()
            .modify_prompt(principal.user_id(), slug, &apply)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?;
        Ok(PromptUsage {
            slug: prompt.slug,
            usage_count: prompt.usage_count,
            version: version.unwrap_or(prompt.version),
            last_used_at: now,
        })
    }

    /// A prompt's versions, newest first.
    #[instrument(level = "debug", skip_all)]
    pub async fn prompt_versions(
        &self,
        principal: &Principal,
        slug: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<PromptVersion>> {
        require_read(principal)?;
        parse_slug(slug)?;
        let limit = page::limit(limit)?;
        let before = cursor
            .map(|c| Cursor::decode(c).and_then(Cursor::into_versions))
            .transpose()?;
        let mut versions = self
            .store()
            .versions(principal.user_id(), slug, before, limit + 1)
            .await?
            .ok_or_else(|| prompt_not_found(slug))?;
        let next_cursor = if versions.len() > limit as usize {
            versions.truncate(limit as usize);
            versions
                .last()
                .map(|v| Cursor::Versions { before: v.version }.encode())
        } else {
            None
        };
        self.label_versions(principal.user_id(), slug, &mut versions)
            .await?;
        Ok(Page {
            items: versions,
            next_cursor,
        })
    }

    /// One version of a prompt.
    #[instrument(level = "debug", skip_all)]
    pub async fn prompt_version(
        &self,
        principal: &Principal,
        slug: &str,
        version: u32,
    ) -> Result<PromptVersion> {
        require_read(principal)?;
        parse_slug(slug)?;
        if version == 0 {
            return Err(Error::invalid("version", "versions start at 1"));
        }
        let found = self
            .store()
            .version(principal.user_id(), slug, version)
            .await?
            .ok_or_else(|| Error::not_found("version", format!("{slug}@{version}")))?;
        let mut one = [found];
        self.label_versions(principal.user_id(), slug, &mut one)
            .await?;
        let [found] = one;
        Ok(found)
    }

    /// Renders a prompt's newest version with `values` for its variables (strictly: see
    /// [`template`]), includes expanded. A chat prompt renders as its messages, one after
    /// another (use [`PromptDb::resolve`] for them one by one).
    #[instrument(level = "debug", skip_all)]
    pub async fn render_prompt(
        &self,
        principal: &Principal,
        slug: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<RenderedPrompt> {
        let resolved = self
            .resolve(
                principal,
                ResolveRequest {
                    slug: slug.to_owned(),
                    label: Some(crate::release::LATEST.to_owned()),
                    variables: Some(values.clone()),
                    ..ResolveRequest::default()
                },
            )
            .await?;
        let text = resolved.text();
        Ok(RenderedPrompt {
            slug: resolved.slug,
            version: resolved.version,
            text,
        })
    }
}
