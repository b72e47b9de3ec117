//! Limits and shape rules for every input. Each check returns the reason in words; callers attach
//! the field path, so every rejection says which field and why.

/// Longest slug, folders included, in bytes (slugs are ASCII).
pub const MAX_SLUG_LEN: usize = 128;
/// Longest slug derived from a name.
pub const MAX_DERIVED_SLUG_LEN: usize = 64;
/// Most `/`-separated segments in a slug: a prompt five folders deep.
pub const MAX_SLUG_SEGMENTS: usize = 6;
/// The slug rule as a regular expression (the OpenAPI document and tool schemas state it).
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*){0,5}$";
/// A folder as a filter: a slug of at most five segments, with `/` around it allowed.
pub const FOLDER_PATTERN: &str = "^/*[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*){0,4}/*$";
/// Longest label name.
pub const MAX_LABEL_LEN: usize = 36;
/// The label rule as a regular expression.
pub const LABEL_PATTERN: &str = "^[a-z0-9_.-]{1,36}$";
/// Most messages in a chat prompt.
pub const MAX_MESSAGES: usize = 50;
/// Largest `config` object, in bytes of JSON.
pub const MAX_CONFIG_BYTES: usize = 16 * 1024;
/// How deep a `config` object may nest.
pub const MAX_CONFIG_DEPTH: usize = 16;
/// Longest commit message, in characters.
pub const MAX_COMMIT_MESSAGE_CHARS: usize = 1_000;
/// Most variants in an A/B split.
pub const MAX_VARIANTS: usize = 10;
/// Most prompts resolved in one batch.
pub const MAX_RESOLVE_BATCH: usize = 50;
/// Most bytes of text (content, messages, renderings) one resolve batch answers with; prompts
/// past it answer with an error, to be resolved in another call.
pub const MAX_RESOLVE_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Most top-level entries in a `config` object.
pub const MAX_CONFIG_ENTRIES: usize = 1_024;
/// Most values given for rendering (variables of the prompt and of the prompts it includes).
pub const MAX_RENDER_VALUES: usize = 1_024;
/// Longest A/B subject (a user or session id), in bytes.
pub const MAX_SUBJECT_LEN: usize = 256;
/// One line of text without control characters (names, variable descriptions), as a JSON
/// Schema pattern: what [`single_line`] accepts.
pub const SINGLE_LINE_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f]*$";
/// One line of text with at least one character that is not a space (names).
pub const NAME_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";
/// Text of several lines: tabs and line breaks, no other control characters ([`multi_line`]).
pub const MULTI_LINE_PATTERN: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";
/// Prompt content: several lines with at least one character that is not a space ([`content`]).
pub const CONTENT_PATTERN: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*[^ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\x00-\x1f\x7f-\x9f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";
/// A tag as given: no spaces, control characters or ASCII punctuation other than `-` and `_`,
/// which may not come first; spaces around it are allowed (they are trimmed, and the tag
/// lower-cased). Letters and digits of any script, and symbols such as emoji, are fine.
pub const TAG_PATTERN: &str = concat!(
    r"^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*",
    r"[^\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]",
    r"[^\x00-\x2c\x2e\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*",
    r"[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*$"
);
/// A variable name.
pub const VARIABLE_NAME_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]*$";
/// Longest prompt name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest prompt description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Longest prompt content (and all of a chat prompt's messages together), in characters.
pub const MAX_CONTENT_CHARS: usize = 128 * 1024;
/// Most tags on one prompt.
pub const MAX_TAGS: usize = 20;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 40;
/// Most declared variables on one prompt.
pub const MAX_VARIABLES: usize = 32;
/// Longest variable name, in bytes (names are ASCII).
pub const MAX_VARIABLE_NAME_LEN: usize = 64;
/// Longest variable description, in characters.
pub const MAX_VARIABLE_DESCRIPTION_CHARS: usize = 500;
/// Longest variable default value, in characters.
pub const MAX_VARIABLE_DEFAULT_CHARS: usize = 10_000;
/// Longest value passed for one variable when rendering, in characters.
pub const MAX_VARIABLE_VALUE_CHARS: usize = 128 * 1024;
/// Largest rendered prompt, in bytes.
pub const MAX_RENDERED_BYTES: usize = 1024 * 1024;
/// Most prompts saved in one batch.
pub const MAX_BATCH: usize = 100;
/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most words in one search query.
pub const MAX_QUERY_TERMS: usize = 16;
/// Most tag filters in one query.
pub const MAX_TAG_FILTERS: usize = 8;
/// Largest page.
pub const MAX_PAGE_LIMIT: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_LIMIT: u32 = 20;
/// Longest pagination cursor, in bytes.
pub const MAX_CURSOR_LEN: usize = 512;
/// Most live drafts one user may keep.
pub const MAX_DRAFTS_PER_USER: usize = 100;
/// Most preference keys.
pub const MAX_PREFERENCE_KEYS: usize = 64;
/// Longest preference key, in bytes (keys are ASCII).
pub const MAX_PREFERENCE_KEY_LEN: usize = 64;
/// Largest preferences document, in bytes of JSON.
pub const MAX_PREFERENCES_BYTES: usize = 16 * 1024;
/// Longest user display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;

pub(crate) type Reason = String;

/// Slug rule ([`SLUG_PATTERN`]): segments of lower-case letters and digits joined by single
/// hyphens, separated by `/` into at most [`MAX_SLUG_SEGMENTS`] parts, at most [`MAX_SLUG_LEN`]
/// bytes in all.
pub fn slug(s: &str) -> Result<(), Reason> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > MAX_SLUG_LEN {
        return Err(format!(
            "must be at most {MAX_SLUG_LEN} characters (got {})",
            s.len()
        ));
    }
    let segment_ok = |seg: &str| {
        let bytes = seg.as_bytes();
        !bytes.is_empty()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-'
            && !seg.contains("--")
    };
    if !s.split('/').all(segment_ok) {
        return Err(format!(
            "`{}` is not a valid slug: use lower-case letters, digits and single hyphens between them (like `code-review`), with `/` between folders (like `support/triage`)",
            truncate_for_message(s)
        ));
    }
    if s.split('/').count() > MAX_SLUG_SEGMENTS {
        return Err(format!("at most {} folders deep", MAX_SLUG_SEGMENTS - 1));
    }
    Ok(())
}

/// A folder: a slug's folder part, `support` or `support/billing`.
pub fn folder(s: &str) -> Result<(), Reason> {
    if s.split('/').count() >= MAX_SLUG_SEGMENTS {
        return Err(format!("at most {} folders deep", MAX_SLUG_SEGMENTS - 1));
    }
    slug(s).map_err(|_| {
        format!(
            "`{}` is not a valid folder: use lower-case words joined by hyphens, with `/` between folders (like `support/billing`)",
            truncate_for_message(s)
        )
    })
}

/// Label rule ([`LABEL_PATTERN`]): lower-case letters, digits, `_`, `.` and `-`, at most
/// [`MAX_LABEL_LEN`] characters.
pub fn label(s: &str) -> Result<(), Reason> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > MAX_LABEL_LEN {
        return Err(format!(
            "must be at most {MAX_LABEL_LEN} characters (got {})",
            s.len()
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err(format!(
            "`{}` is not a valid label: use lower-case letters, digits, `_`, `.` and `-` (like `production`)",
            truncate_for_message(s)
        ));
    }
    Ok(())
}

/// A `config` object: at most [`MAX_CONFIG_BYTES`] of JSON, nested at most
/// [`MAX_CONFIG_DEPTH`] deep.
pub(crate) fn config(c: &serde_json::Map<String, serde_json::Value>) -> Result<(), Reason> {
    fn depth(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
            serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    let bytes = serde_json::to_vec(c).map(|v| v.len()).unwrap_or(usize::MAX);
    if bytes > MAX_CONFIG_BYTES {
        return Err(format!(
            "must be at most {MAX_CONFIG_BYTES} bytes of JSON (got {bytes})"
        ));
    }
    if c.values().map(depth).max().unwrap_or(0) + 1 > MAX_CONFIG_DEPTH {
        return Err(format!("must nest at most {MAX_CONFIG_DEPTH} levels deep"));
    }
    Ok(())
}

/// A space for [`trim`] and for "must not be empty": Unicode white space and the byte-order mark,
/// as JSON Schema's `\s` has them.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// `s` without the spaces around it. Control characters (tabs, line breaks) are not trimmed: a
/// one-line text with them is refused, whatever their place.
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| is_space(c) && !c.is_control())
}

fn is_blank(s: &str) -> bool {
    s.chars().all(is_space)
}

/// A one-line text such as a name, as given (the caller trims it afterwards): at most
/// `max_chars`, no control characters ([`SINGLE_LINE_PATTERN`]), and unless `allow_empty` at
/// least one character that is not a space ([`NAME_PATTERN`]).
pub(crate) fn single_line(s: &str, max_chars: usize, allow_empty: bool) -> Result<(), Reason> {
    check_chars(s, max_chars)?;
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "must be a single line without control characters (found U+{:04X})",
            c as u32
        ));
    }
    if !allow_empty && is_blank(s) {
        return Err("must not be empty".into());
    }
    Ok(())
}

/// Multi-line text: newlines and tabs are fine, other control characters are not
/// ([`MULTI_LINE_PATTERN`]).
pub(crate) fn multi_line(s: &str, max_chars: usize) -> Result<(), Reason> {
    check_chars(s, max_chars)?;
    no_stray_controls(s)
}

/// Prompt content: multi-line, at most [`MAX_CONTENT_CHARS`], not only spaces
/// ([`CONTENT_PATTERN`]).
pub(crate) fn content(s: &str) -> Result<(), Reason> {
    check_chars(s, MAX_CONTENT_CHARS)?;
    no_stray_controls(s)?;
    if is_blank(s) {
        return Err("must not be empty".into());
    }
    Ok(())
}

/// Checks a tag as given ([`TAG_PATTERN`], at most [`MAX_TAG_CHARS`] with its spaces) and
/// normalises it: trimmed, lower-cased.
pub(crate) fn tag(raw: &str) -> Result<String, Reason> {
    check_chars(raw, MAX_TAG_CHARS)?;
    let t = trim(raw);
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    // Space characters (a space, a tab, a no-break space), control characters and ASCII
    // punctuation other than `-` and `_` are out.
    let allowed = |c: char| {
        !(c.is_control() || is_space(c) || (c.is_ascii_punctuation() && c != '-' && c != '_'))
    };
    let mut chars = t.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| allowed(c) && c != '-' && c != '_');
    if !first_ok || !chars.all(allowed) {
        return Err(format!(
            "`{}` is not a valid tag: use letters, digits and symbols, with `-` or `_` inside (no spaces or other punctuation)",
            truncate_for_message(t)
        ));
    }
    Ok(t.to_lowercase())
}

/// Variable names: `^[A-Za-z_][A-Za-z0-9_]*$`, at most [`MAX_VARIABLE_NAME_LEN`] bytes.
pub fn variable_name(s: &str) -> Result<(), Reason> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > MAX_VARIABLE_NAME_LEN {
        return Err(format!(
            "must be at most {MAX_VARIABLE_NAME_LEN} characters"
        ));
    }
    if !is_variable_name(s) {
        return Err(format!(
            "`{}` is not a valid variable name: use letters, digits and `_`, not starting with a digit",
            truncate_for_message(s)
        ));
    }
    Ok(())
}

pub(crate) fn is_variable_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_VARIABLE_NAME_LEN
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn check_chars(s: &str, max_chars: usize) -> Result<(), Reason> {
    // Byte length bounds the char count from above, so most strings skip the count.
    if s.len() > max_chars {
        let n = s.chars().count();
        if n > max_chars {
            return Err(format!("must be at most {max_chars} characters (got {n})"));
        }
    }
    Ok(())
}

fn no_stray_controls(s: &str) -> Result<(), Reason> {
    match s
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Some(c) => Err(format!(
            "must not contain control characters (found U+{:04X})",
            c as u32
        )),
        None => Ok(()),
    }
}

/// Shortens user input quoted back in an error message.
pub(crate) fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_normalise_and_reject() {
        assert_eq!(tag("  Rust ").unwrap(), "rust");
        assert_eq!(tag("日本語").unwrap(), "日本語");
        assert_eq!(tag("code-review_2").unwrap(), "code-review_2");
        assert!(tag("-x").is_err());
        assert!(tag("a b").is_err());
        assert!(tag("").is_err());
        assert!(tag(&"x".repeat(MAX_TAG_CHARS + 1)).is_err());
        assert!(tag("ɛa").is_ok());
        assert!(tag("🚀").is_ok());
        assert!(tag("a.b").is_err());
        assert!(tag("_a").is_err());
        assert!(tag("a\u{3000}b").is_err());
        assert!(tag("\ta").is_err());
    }

    #[test]
    fn text_rules() {
        assert!(single_line("hello", 10, false).is_ok());
        assert!(single_line("", 10, false).is_err());
        assert!(single_line("a\nb", 10, false).is_err());
        assert!(single_line(&"é".repeat(10), 10, false).is_ok());
        assert!(single_line(&"é".repeat(11), 10, false).is_err());
        assert!(multi_line("a\nb\tc", 10).is_ok());
        assert!(multi_line("a\u{0}b", 10).is_err());
        assert!(content("   ").is_err());
        assert!(content(&"é".repeat(MAX_CONTENT_CHARS)).is_ok());
        assert!(content(&"x".repeat(MAX_CONTENT_CHARS + 1)).is_err());
        assert!(content("\u{feff} \n").is_err());
        assert!(single_line("\u{feff}", 10, false).is_err());
        assert!(single_line("\ta", 10, false).is_err());
        assert_eq!(trim(" \u{3000}a b\u{feff} "), "a b");
        assert_eq!(trim("\ta"), "\ta");
    }

    #[test]
    fn variable_names() {
        for ok in ["a", "_x", "topic_2", "Language"] {
            assert!(variable_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "2x", "a-b", "a b", "é"] {
            assert!(variable_name(bad).is_err(), "{bad}");
        }
    }
}
