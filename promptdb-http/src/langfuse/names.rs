//! Langfuse prompt names ↔ PromptDB slugs.
//!
//! A Langfuse name is free text (`Support Bot`, `support/Triage v2`), a PromptDB slug is not. The
//! rule, segment by segment between `/`:
//!
//! - a segment that is already a slug segment (`triage`, `v2-draft`) stays as it is;
//! - any other segment becomes its slug form (ASCII letters and digits, lower case, other runs
//!   of characters as `-`, at most 40 characters) followed by `-` and the first 12 hex digits
//!   of the SHA-256 of the segment: `Support Bot` → `support-bot-6c2a9b0e5f1d`.
//!
//! The prompt keeps the Langfuse name as its PromptDB name, and a name is found only if the
//! prompt at its slug carries exactly that name (or the name is the slug itself), so two names
//! can never be confused: the rare name whose slug is taken by a prompt of another name is
//! refused with a 400 that says so. A prompt created through PromptDB's own API is seen by
//! Langfuse clients under its slug.

use promptdb_core::{Error, Slug, validate};
use sha2::{Digest, Sha256};

/// Longest slug form of one segment before its hash suffix.
const MAX_SEGMENT_STEM: usize = 40;

fn is_slug_segment(s: &str) -> bool {
    !s.is_empty() && !s.contains('/') && validate::slug(s).is_ok()
}

/// Checks a Langfuse prompt name (the rules Langfuse itself applies, plus PromptDB's length).
pub(crate) fn check(name: &str) -> Result<(), Error> {
    let bad = |reason: &str| Err(Error::invalid("name", reason.to_owned()));
    if name.trim().is_empty() {
        return bad("must not be empty");
    }
    if name != name.trim() {
        return bad("must not start or end with white space");
    }
    if name.chars().count() > validate::MAX_NAME_CHARS {
        return bad(&format!(
            "must be at most {} characters",
            validate::MAX_NAME_CHARS
        ));
    }
    if name.contains('|') {
        return bad("must not contain `|`");
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return bad("folders are separated by single `/`, not at the start or the end");
    }
    if name.chars().any(char::is_control) {
        return bad("must be a single line without control characters");
    }
    if name.split('/').count() > validate::MAX_SLUG_SEGMENTS {
        return bad(&format!(
            "at most {} folders deep",
            validate::MAX_SLUG_SEGMENTS - 1
        ));
    }
    Ok(())
}

/// The slug of a Langfuse name (see the module docs).
pub(crate) fn slug_for(name: &str) -> Result<Slug, Error> {
    check(name)?;
    let segments: Vec<String> = name.split('/').map(segment).collect();
    Slug::parse("name", &segments.join("/"))
}

fn segment(s: &str) -> String {
    if is_slug_segment(s) {
        return s.to_owned();
    }
    let mut stem = String::with_capacity(s.len().min(MAX_SEGMENT_STEM));
    for c in promptdb_core::search::fold(s) {
        if stem.len() >= MAX_SEGMENT_STEM {
            break;
        }
        if c.is_ascii_alphanumeric() {
            stem.push(c.to_ascii_lowercase());
        } else if !stem.is_empty() && !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let stem = stem.trim_end_matches('-');
    let digest = Sha256::digest(s.as_bytes());
    let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    if stem.is_empty() {
        hash
    } else {
        format!("{stem}-{hash}")
    }
}

/// The Langfuse name of a prompt: its PromptDB name when that name maps to its slug, else the
/// slug.
pub(crate) fn name_of(slug: &str, prompt_name: &str) -> String {
    match slug_for(prompt_name) {
        Ok(s) if s.as_str() == slug => prompt_name.to_owned(),
        _ => slug.to_owned(),
    }
}

/// Whether the prompt at `slug` named `prompt_name` is the one Langfuse name `name` means.
pub(crate) fn is_named(name: &str, slug: &str, prompt_name: &str) -> bool {
    name == slug || name == prompt_name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_stay_and_other_names_are_hashed() {
        assert_eq!(
            slug_for("support/triage").unwrap().as_str(),
            "support/triage"
        );
        let s = slug_for("Support Bot").unwrap();
        assert!(s.as_str().starts_with("support-bot-"), "{s}");
        assert_eq!(s.as_str().len(), "support-bot-".len() + 12);
        assert_eq!(slug_for("Support Bot").unwrap(), s, "deterministic");
        assert_ne!(slug_for("support bot").unwrap(), s, "case counts");
        let f = slug_for("team/Greeting Bot").unwrap();
        assert!(f.as_str().starts_with("team/greeting-bot-"), "{f}");
        assert!(slug_for("日本語").unwrap().as_str().len() == 12);
        for bad in ["", " a", "a|b", "/a", "a/", "a//b", "a\nb", "a/b/c/d/e/f/g"] {
            assert!(slug_for(bad).is_err(), "{bad:?}");
        }
        assert!(slug_for(&"x".repeat(201)).is_err());
    }

    #[test]
    fn names_round_trip() {
        for name in ["support/triage", "Support Bot", "a/B c/d", "Ünïcode ✓"] {
            let slug = slug_for(name).unwrap();
            assert_eq!(name_of(slug.as_str(), name), name);
        }
        // A prompt made through PromptDB's API is seen under its slug.
        assert_eq!(name_of("code-review", "Code review"), "code-review");
    }
}
