//! The search query model and the text normalisation every backend indexes with.
//!
//! A query is words and tag filters: `review rust #cli tag:work`. Words match whole words or word
//! prefixes in the slug, name, tags, description and content; every word must match. A
//! one-character word matches only that whole word (as a prefix it would match nearly everything). `#tag` and
//! `tag:name` filter by exact tag. Text is compared after folding: lower case, accents removed,
//! anything that is not a letter or digit treated as a space. Backends index text through
//! [`index_text`] and receive already-folded terms, so the same query means the same thing on
//! every backend.

use serde::{Deserialize, Serialize};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

use crate::{
    Error, Result,
    page::Cursor,
    prompt::normalize_tags,
    validate::{self, MAX_QUERY_CHARS, MAX_QUERY_TERMS, MAX_TAG_FILTERS},
};

/// Decomposes `s` and drops combining marks: `é` becomes `e`.
pub fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
    s.nfd().filter(|c| !is_combining_mark(*c))
}

/// The form of `s` that backends index: folded, lower-case, words separated by single spaces.
pub fn index_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in fold(s) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Filters shared by listing and searching.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Only prompts carrying every one of these tags.
    #[serde(
        deserialize_with = "crate::bounded::vec::<_, _, MAX_TAG_FILTERS>",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_TAG_FILTERS)))]
    pub tags: Vec<String>,
    /// Only pinned (`true`) or unpinned (`false`) prompts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// Only favourites (`true`) or non-favourites (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favorite: Option<bool>,
    /// Only prompts in this folder or below it (`support` finds `support/triage` and
    /// `support/billing/refunds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
}

impl Filters {
    /// No filter at all: every prompt passes.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
            && self.pinned.is_none()
            && self.favorite.is_none()
            && self.folder.is_none()
    }

    /// The slug range a folder filter selects: slugs `>= "folder/"` and `< "folder0"` (`0` sorts
    /// right after `/`). Backends compare slugs bytewise.
    pub fn folder_range(&self) -> Option<(String, String)> {
        self.folder
            .as_deref()
            .map(|f| (format!("{f}/"), format!("{f}0")))
    }

    pub(crate) fn normalized(mut self) -> Result<Self> {
        if let Some(folder) = &self.folder {
            let trimmed = folder.trim_matches('/');
            validate::folder(trimmed).map_err(|r| Error::invalid("folder", r))?;
            if trimmed.len() != folder.len() {
                self.folder = Some(trimmed.to_owned());
            }
        }
        if self.tags.len() > MAX_TAG_FILTERS {
            return Err(Error::invalid(
                "tags",
                format!("at most {MAX_TAG_FILTERS} tag filters are allowed"),
            ));
        }
        self.tags = normalize_tags(&self.tags)?;
        Ok(self)
    }
}

/// A request to list prompts in ranked order.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Filters.
    #[serde(flatten)]
    pub filters: Filters,
    /// Page size, 1 to 100 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A request to search prompts.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words and `#tag` filters.
    #[serde(default)]
    pub q: String,
    /// Further filters.
    #[serde(flatten)]
    pub filters: Filters,
    /// Page size, 1 to 100 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl SearchQuery {
    /// A query for `q` with no other filters.
    pub fn new(q: impl Into<String>) -> Self {
        Self {
            q: q.into(),
            ..Self::default()
        }
    }
}

/// What a backend's list query receives: validated filters and where to continue.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSpec {
    /// Validated filters.
    pub filters: Filters,
    /// Continue after this position (exclusive).
    pub after: Option<ListPosition>,
    /// Rows to return.
    pub limit: u32,
}

/// What a page of prompts in slug order asks for (the Langfuse-compatible list).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SlugPageSpec {
    /// Validated filters.
    pub filters: Filters,
    /// Only prompts that have this label.
    pub label: Option<String>,
    /// Only prompts changed at or after this time.
    pub updated_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Only prompts changed before this time.
    pub updated_to: Option<chrono::DateTime<chrono::Utc>>,
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u32,
}

/// A position in the ranked list order.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPosition {
    /// Pinned flag of the last row seen.
    pub pinned: bool,
    /// Score of the last row seen.
    pub score: f64,
    /// Slug of the last row seen.
    pub slug: String,
}

/// What a backend's search receives: folded terms, validated filters and the work bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchSpec {
    /// Folded words, each matching a whole word or a word prefix. Empty for a tags-only search,
    /// which returns the filtered prompts in ranking order.
    pub terms: Vec<SearchTerm>,
    /// Validated filters, tags from the query text included.
    pub filters: Filters,
    /// Return at most this many candidates, most relevant first.
    pub candidates: usize,
    /// Rank at most this many matches, the most recently created ones; bounds the cost of broad
    /// queries.
    pub scan_limit: usize,
}

/// One folded search word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm {
    /// Lower-case letters and digits only.
    pub word: String,
    /// Whether words that merely start with `word` match too.
    pub prefix: bool,
}

/// Splits a search request into terms and filters and decodes its cursor.
pub(crate) fn parse(
    query: SearchQuery,
    candidates: usize,
    scan_limit: usize,
) -> Result<(SearchSpec, usize)> {
    let chars = query.q.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(Error::invalid(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters (got {chars})"),
        ));
    }
    let mut filters = query.filters.normalized()?;
    let mut terms: Vec<SearchTerm> = Vec::new();
    // The query is free text: a `#tag` that is not a valid tag is searched as words, and words
    // and tags past the limits are left out.
    for token in query.q.split_whitespace() {
        let tag = token
            .strip_prefix('#')
            .or_else(|| token.strip_prefix("tag:"));
        if let Some(tag) = tag {
            if tag.is_empty() {
                continue;
            }
            if let Ok(tag) = validate::tag(tag) {
                if filters.tags.len() < MAX_TAG_FILTERS && !filters.tags.contains(&tag) {
                    filters.tags.push(tag);
                }
                continue;
            }
        }
        for term in index_text(token).split(' ').filter(|t| !t.is_empty()) {
            if terms.len() == MAX_QUERY_TERMS {
                break;
            }
            if !terms.iter().any(|t| t.word == term) {
                terms.push(SearchTerm {
                    word: term.to_owned(),
                    prefix: term.chars().nth(1).is_some(),
                });
            }
        }
    }
    let offset = match query.cursor.as_deref() {
        Some(c) => Cursor::decode(c)?.into_search()?,
        None => 0,
    };
    Ok((
        SearchSpec {
            terms,
            filters,
            candidates,
            scan_limit,
        },
        offset,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_text_folds_and_splits() {
        assert_eq!(index_text("Crème-Brûlée, v2.0!"), "creme brulee v2 0");
        assert_eq!(index_text("  ÅNGSTRÖM  日本語 "), "angstrom 日本語");
        assert_eq!(index_text("user@example.com"), "user example com");
        assert_eq!(index_text("\"*:()^-"), "");
    }

    #[test]
    fn parses_terms_and_tags() {
        let (spec, offset) = parse(
            SearchQuery {
                q: "Code-Review #Rust tag:cli café code X".into(),
                filters: Filters {
                    tags: vec!["Work".into()],
                    ..Filters::default()
                },
                ..SearchQuery::default()
            },
            10,
            10,
        )
        .unwrap();
        let words: Vec<_> = spec
            .terms
            .iter()
            .map(|t| (t.word.as_str(), t.prefix))
            .collect();
        assert_eq!(
            words,
            vec![
                ("code", true),
                ("review", true),
                ("cafe", true),
                ("x", false)
            ]
        );
        assert_eq!(spec.filters.tags, vec!["work", "rust", "cli"]);
        assert_eq!(offset, 0);
    }

    #[test]
    fn free_text_is_never_refused_but_length_is() {
        // Nothing searchable: no terms, no tags (the service answers with no results).
        let (spec, _) = parse(SearchQuery::new("  !!! "), 10, 10).unwrap();
        assert!(spec.terms.is_empty() && spec.filters.tags.is_empty());
        assert_eq!(
            parse(SearchQuery::new("x".repeat(501)), 10, 10)
                .unwrap_err()
                .field(),
            Some("q")
        );
        // Words past the limit are left out.
        let many: Vec<String> = (0..17).map(|i| format!("w{i}")).collect();
        let (spec, _) = parse(SearchQuery::new(many.join(" ")), 10, 10).unwrap();
        assert_eq!(spec.terms.len(), MAX_QUERY_TERMS);
        assert_eq!(spec.terms[15].word, "w15");
        // A `#tag` that is not a tag is searched as words; tags past the limit are left out.
        let (spec, _) = parse(SearchQuery::new("#-bad"), 10, 10).unwrap();
        assert!(spec.filters.tags.is_empty());
        assert_eq!(spec.terms[0].word, "bad");
        let tags: Vec<String> = (0..10).map(|i| format!("#t{i}")).collect();
        let (spec, _) = parse(SearchQuery::new(tags.join(" ")), 10, 10).unwrap();
        assert_eq!(spec.filters.tags.len(), MAX_TAG_FILTERS);
        // Tag-only searches are fine.
        assert!(parse(SearchQuery::new("#rust"), 10, 10).is_ok());
    }
}
