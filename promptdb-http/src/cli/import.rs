//! `promptdb import`: a PromptDB export file, or a folder of Markdown prompts (such as Claude
//! Code's `.claude/commands/`).

use std::path::{Path, PathBuf};

use promptdb_core::{Error, Export, NewPrompt, Slug, Variable, template, validate::MAX_BATCH};

use super::{client::Client, markdown};

/// The outcome of an import.
#[derive(Debug, Default, serde::Serialize)]
pub struct ImportReport {
    /// Prompts saved.
    pub imported: Vec<String>,
    /// Prompts skipped because the slug was already taken.
    pub skipped: Vec<String>,
}

/// Reads the prompts to import from `path`: an export file (`.json`) or a directory of `.md`
/// files. Errors name the file.
pub fn read_source(path: &Path) -> anyhow::Result<Vec<NewPrompt>> {
    if path.is_dir() {
        let mut files = Vec::new();
        collect_markdown(path, &mut files)?;
        files.sort();
        files.iter().map(|f| from_markdown_file(path, f)).collect()
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let export: Export = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a PromptDB export: {e}", path.display()))?;
        if export.format != promptdb_core::EXPORT_FORMAT {
            anyhow::bail!(
                "{} is not a PromptDB export (format `{}`)",
                path.display(),
                export.format
            );
        }
        Ok(export
            .prompts
            .into_iter()
            .map(|e| NewPrompt {
                slug: Some(e.prompt.slug.to_string()),
                name: e.prompt.name,
                description: e.prompt.description,
                kind: e.prompt.kind,
                content: e.prompt.content,
                messages: e.prompt.messages,
                config: e.prompt.config,
                tags: e.prompt.tags,
                variables: e.prompt.variables,
                commit_message: e.prompt.commit_message,
                labels: Vec::new(),
                pinned: e.prompt.pinned,
                favorite: e.prompt.favorite,
            })
            .collect())
    }
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in
        std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?
    {
        let path = entry?.path();
        if path.is_dir() {
            collect_markdown(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// One Markdown file as a prompt. The slug comes from the path below `root` (`frontend/fix.md`
/// → `frontend-fix`, as Claude Code names it `/frontend:fix`); the name from `name` or `title`,
/// else the file name. Literal `{{` in the text is kept literal, and Claude Code's `$ARGUMENTS`
/// becomes the optional variable `arguments`.
fn from_markdown_file(root: &Path, file: &Path) -> anyhow::Result<NewPrompt> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let doc = markdown::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let relative = file.strip_prefix(root).unwrap_or(file).with_extension("");
    let stem = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let slug = match doc.front.get("slug") {
        Some(s) => s.text(),
        None => Slug::derive_from(&stem).to_string(),
    };
    let name = doc
        .front
        .get("name")
        .or_else(|| doc.front.get("title"))
        .map(markdown::FrontValue::text)
        .unwrap_or_else(|| stem.clone());
    let mut content = template::escape(&doc.body);
    let mut variables = Vec::new();
    if content.contains("$ARGUMENTS") {
        content = content.replace("$ARGUMENTS", "{{arguments}}");
        variables.push(Variable {
            name: "arguments".into(),
            description: doc
                .front
                .get("argument-hint")
                .map(markdown::FrontValue::text)
                .unwrap_or_default(),
            required: false,
            default: None,
        });
    }
    Ok(NewPrompt {
        slug: Some(slug),
        name,
        description: doc
            .front
            .get("description")
            .map(markdown::FrontValue::text)
            .unwrap_or_default(),
        content,
        tags: doc
            .front
            .get("tags")
            .map(markdown::FrontValue::list)
            .unwrap_or_default(),
        variables,
        pinned: doc
            .front
            .get("pinned")
            .and_then(markdown::FrontValue::flag)
            .unwrap_or(false),
        favorite: doc
            .front
            .get("favorite")
            .and_then(markdown::FrontValue::flag)
            .unwrap_or(false),
        ..NewPrompt::default()
    })
}

/// The batch index a conflict error points at (`prompts[3].slug`).
fn conflict_index(e: &Error) -> Option<usize> {
    let Error::Conflict { field, .. } = e else {
        return None;
    };
    field
        .strip_prefix("prompts[")?
        .split(']')
        .next()?
        .parse()
        .ok()
}

/// How many of `prompts` go in the next batch: at most [`MAX_BATCH`], and few enough that the
/// request stays well under the server's body limit.
fn batch_len(prompts: &[NewPrompt]) -> usize {
    const BUDGET: usize = crate::MAX_BODY_BYTES / 2;
    let mut bytes = 0;
    let mut n = 0;
    for p in prompts.iter().take(MAX_BATCH) {
        bytes += serde_json::to_vec(p).map_or(BUDGET, |v| v.len());
        if n > 0 && bytes > BUDGET {
            break;
        }
        n += 1;
    }
    n
}

/// Saves `prompts` in batches, skipping (or, with `fail_on_conflict`, stopping at) slugs that are
/// taken. `progress` is called with the number of prompts handled so far.
pub async fn import(
    client: &Client,
    prompts: Vec<NewPrompt>,
    fail_on_conflict: bool,
    mut progress: impl FnMut(usize),
) -> Result<ImportReport, Error> {
    let mut report = ImportReport::default();
    let mut done = 0;
    let mut rest = prompts;
    while !rest.is_empty() {
        let tail = rest.split_off(batch_len(&rest));
        let mut batch = std::mem::replace(&mut rest, tail);
        let batch_len = batch.len();
        loop {
            if batch.is_empty() {
                break;
            }
            match client.save_prompts(batch.clone()).await {
                Ok(saved) => {
                    report
                        .imported
                        .extend(saved.into_iter().map(|p| p.slug.to_string()));
                    break;
                }
                Err(e) => match conflict_index(&e) {
                    Some(i) if !fail_on_conflict && i < batch.len() => {
                        let skipped = batch.remove(i);
                        report.skipped.push(skipped.slug.unwrap_or(skipped.name));
                    }
                    _ => return Err(e),
                },
            }
        }
        done += batch_len;
        progress(done);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_folders_become_prompts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("frontend")).unwrap();
        std::fs::write(
            dir.path().join("frontend/fix-bug.md"),
            "---\ndescription: Fix a bug\nargument-hint: issue number\nallowed-tools: Bash\n---\nFix issue $ARGUMENTS. Keep {{this}} literal.\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("Plain Note.md"), "Just text.\n").unwrap();
        std::fs::write(dir.path().join("ignored.txt"), "not markdown").unwrap();
        let prompts = read_source(dir.path()).unwrap();
        assert_eq!(prompts.len(), 2);
        let fix = prompts
            .iter()
            .find(|p| p.slug.as_deref() == Some("frontend-fix-bug"))
            .unwrap();
        assert_eq!(fix.description, "Fix a bug");
        assert_eq!(
            fix.content,
            "Fix issue {{arguments}}. Keep \\{{this}} literal.\n"
        );
        assert_eq!(fix.variables[0].name, "arguments");
        assert_eq!(fix.variables[0].description, "issue number");
        assert!(!fix.variables[0].required);
        let plain = prompts
            .iter()
            .find(|p| p.slug.as_deref() == Some("plain-note"))
            .unwrap();
        assert_eq!(plain.name, "Plain Note");
    }

    #[test]
    fn conflict_indexes_are_read_from_the_field() {
        assert_eq!(
            conflict_index(&Error::conflict("prompts[7].slug", "taken")),
            Some(7)
        );
        assert_eq!(
            conflict_index(&Error::invalid("prompts[7].slug", "bad")),
            None
        );
    }
}
