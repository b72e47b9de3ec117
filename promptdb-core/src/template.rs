//! Prompt templates: `{{name}}` placeholders filled from declared variables.
//!
//! - A placeholder is `{{`, optional spaces, a variable name (`[A-Za-z_][A-Za-z0-9_]*`), optional
//!   spaces, `}}`. Anything else between braces (`{{#each}}`, `{{ a b }}`) is plain text, so
//!   prompts that quote other template languages survive unchanged.
//! - A backslash right before `{{` writes a literal `{{`: `\{{name}}` renders as `{{name}}`.
//! - Rendering is strict: a value for a variable the prompt does not declare is an error, and so
//!   is a missing required variable without a default. An optional variable without a value or
//!   default renders as the empty string.

use std::collections::BTreeMap;

use crate::{
    Error, Result,
    prompt::Variable,
    validate::{self, MAX_RENDERED_BYTES, MAX_VARIABLE_VALUE_BYTES},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Splits `content` into text and placeholders without allocating per segment.
fn segments(content: &str) -> impl Iterator<Item = Segment<'_>> {
    let mut rest = content;
    let mut pending: Option<Segment<'_>> = None;
    std::iter::from_fn(move || {
        if let Some(seg) = pending.take() {
            return Some(seg);
        }
        if rest.is_empty() {
            return None;
        }
        let Some(open) = rest.find("{{") else {
            let text = rest;
            rest = "";
            return Some(Segment::Text(text));
        };
        // `\{{` escapes: emit the text before the backslash, then a literal `{{`.
        if open > 0 && rest.as_bytes()[open - 1] == b'\\' {
            let before = &rest[..open - 1];
            let literal = &rest[open..open + 2];
            rest = &rest[open + 2..];
            return Some(if before.is_empty() {
                Segment::Text(literal)
            } else {
                pending = Some(Segment::Text(literal));
                Segment::Text(before)
            });
        }
        let after = &rest[open + 2..];
        let (consumed, seg) = match parse_placeholder(after) {
            Some((name, len)) => (open + 2 + len, Segment::Var(name)),
            None => (open + 2, Segment::Text(&rest[open..open + 2])),
        };
        let before = &rest[..open];
        rest = &rest[consumed..];
        Some(if before.is_empty() {
            seg
        } else {
            pending = Some(seg);
            Segment::Text(before)
        })
    })
}

/// Parses `  name  }}` at the start of `s`; returns the name and the bytes consumed.
fn parse_placeholder(s: &str) -> Option<(&str, usize)> {
    let trimmed = s.trim_start_matches(' ');
    let lead = s.len() - trimmed.len();
    let name_len = trimmed
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let name = &trimmed[..name_len];
    if !validate::is_variable_name(name) {
        return None;
    }
    let tail = &trimmed[name_len..];
    let tail_trimmed = tail.trim_start_matches(' ');
    let spaces = tail.len() - tail_trimmed.len();
    tail_trimmed
        .starts_with("}}")
        .then_some((name, lead + name_len + spaces + 2))
}

/// The distinct variable names used in `content`, in order of first appearance.
pub fn placeholders(content: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for seg in segments(content) {
        if let Segment::Var(name) = seg
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    names
}

/// Escapes every `{{` in `text` so that it renders literally.
pub fn escape(text: &str) -> String {
    text.replace("{{", "\\{{")
}

/// Renders `content` with `values`, checked against the `declared` variables.
///
/// Errors name the variable: `variables.topic: required by this prompt and not given`.
pub fn render(
    content: &str,
    declared: &[Variable],
    values: &BTreeMap<String, String>,
) -> Result<String> {
    for (name, value) in values {
        if !declared.iter().any(|v| v.name == *name) {
            let known: Vec<&str> = declared.iter().map(|v| v.name.as_str()).collect();
            let reason = if known.is_empty() {
                "this prompt declares no variables".to_owned()
            } else {
                format!(
                    "not declared by this prompt (it declares: {})",
                    known.join(", ")
                )
            };
            return Err(Error::invalid(format!("variables.{name}"), reason));
        }
        if value.len() > MAX_VARIABLE_VALUE_BYTES {
            return Err(Error::invalid(
                format!("variables.{name}"),
                format!("must be at most {MAX_VARIABLE_VALUE_BYTES} bytes"),
            ));
        }
    }
    let missing: Vec<&str> = declared
        .iter()
        .filter(|v| v.required && v.default.is_none() && !values.contains_key(&v.name))
        .map(|v| v.name.as_str())
        .collect();
    match missing.as_slice() {
        [] => {}
        [one] => {
            return Err(Error::invalid(
                format!("variables.{one}"),
                "required by this prompt and not given",
            ));
        }
        many => {
            return Err(Error::invalid(
                "variables",
                format!("required by this prompt and not given: {}", many.join(", ")),
            ));
        }
    }

    let mut out = String::with_capacity(content.len());
    for seg in segments(content) {
        match seg {
            Segment::Text(text) => out.push_str(text),
            Segment::Var(name) => {
                let value = values
                    .get(name)
                    .map(String::as_str)
                    .or_else(|| {
                        declared
                            .iter()
                            .find(|v| v.name == name)
                            .and_then(|v| v.default.as_deref())
                    })
                    .unwrap_or("");
                out.push_str(value);
            }
        }
        if out.len() > MAX_RENDERED_BYTES {
            return Err(Error::invalid(
                "variables",
                format!("the rendered prompt would exceed {MAX_RENDERED_BYTES} bytes"),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, required: bool, default: Option<&str>) -> Variable {
        Variable {
            name: name.into(),
            description: String::new(),
            required,
            default: default.map(Into::into),
        }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn finds_placeholders_in_order() {
        let c = "Hi {{name}}, {{ topic }} and {{name}} {{#each}} {{ a b }} {{2x}} \\{{lit}}";
        assert_eq!(placeholders(c), vec!["name", "topic"]);
    }

    #[test]
    fn renders_values_defaults_and_escapes() {
        let declared = [
            var("name", true, None),
            var("tone", false, Some("kind")),
            var("x", false, None),
        ];
        let out = render(
            "Dear {{ name }}, be {{tone}}.{{x}} Literal: \\{{name}} and {{#if}}",
            &declared,
            &values(&[("name", "Ada")]),
        )
        .unwrap();
        assert_eq!(out, "Dear Ada, be kind. Literal: {{name}} and {{#if}}");
    }

    #[test]
    fn strict_about_missing_and_undeclared() {
        let declared = [var("a", true, None), var("b", true, None)];
        let err = render("{{a}}{{b}}", &declared, &values(&[("a", "1")])).unwrap_err();
        assert_eq!(err.field(), Some("variables.b"));
        let err = render("{{a}}{{b}}", &declared, &values(&[])).unwrap_err();
        assert_eq!(err.field(), Some("variables"));
        assert!(err.to_string().contains("a, b"));
        let err = render(
            "{{a}}",
            &declared[..1],
            &values(&[("a", "1"), ("zzz", "2")]),
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("variables.zzz"));
    }

    #[test]
    fn text_without_placeholders_is_untouched() {
        for s in [
            "",
            "plain",
            "{{",
            "}}",
            "{{{",
            "a {{ b",
            "\\",
            "\\{",
            "emoji 🦀 {{x}",
        ] {
            assert_eq!(
                render(s, &[], &values(&[])).unwrap(),
                s.replace("\\{{", "{{")
            );
        }
    }

    #[test]
    fn escape_round_trips() {
        let text = "Use {{name}} in Handlebars";
        assert_eq!(render(&escape(text), &[], &values(&[])).unwrap(), text);
        assert!(placeholders(&escape(text)).is_empty());
    }
}
