//! `promptdb harvest PATH…` (reusable prompts from transcripts, without a model) and
//! `promptdb harvest review` (the review queue, one candidate at a time).

use std::{
    fs::File,
    io::{BufRead, BufReader, IsTerminal, Read, Write},
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Args, Subcommand};
use promptdb_core::{
    Error,
    harvest::{
        AcceptCandidate, Candidate, Extracted, Origin, extract_from,
        transcript::{Format, ReadStats},
    },
};

use super::{client::Client, print_json};

/// `promptdb harvest`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct HarvestArgs {
    #[command(subcommand)]
    pub(super) command: Option<HarvestCommand>,
    /// Transcript files or directories: Claude Code session logs (~/.claude/projects), a
    /// ChatGPT export's conversations.json, Markdown or text chat logs. Directories are searched
    /// for them.
    pub(super) paths: Vec<PathBuf>,
    /// Read every file as this format instead of detecting it.
    #[arg(long, value_parser = ["claude-code", "chatgpt", "markdown", "text"])]
    pub(super) format: Option<String>,
    /// Only show what would be proposed; queue nothing (needs no database).
    #[arg(long)]
    pub(super) dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub(super) enum HarvestCommand {
    /// Go through the candidates waiting for review: accept, add to a similar prompt, dismiss,
    /// or skip each.
    Review,
}

/// The files under `paths` that hold transcripts, with their formats. A file named on the
/// command line must be one; in a directory, other files are passed over.
fn transcripts(paths: &[PathBuf], forced: Option<Format>) -> Result<Vec<(PathBuf, Format)>, Error> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::invalid("path", format!("cannot read {}: {e}", path.display())))?;
        if meta.is_dir() {
            walk(path, forced, &mut out)?;
        } else {
            let format = match forced {
                Some(f) => f,
                None => detect(path)?.ok_or_else(|| {
                    Error::invalid(
                        "path",
                        format!(
                            "{}: not a transcript PromptDB can read (a Claude Code .jsonl session log, a ChatGPT conversations.json, a Markdown or text chat log); pass --format to say which",
                            path.display()
                        ),
                    )
                })?,
            };
            out.push((path.clone(), format));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, forced: Option<Format>, out: &mut Vec<(PathBuf, Format)>) -> Result<(), Error> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::invalid("path", format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, forced, out)?;
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let likely = [".jsonl", ".json", ".md", ".markdown", ".txt"]
            .iter()
            .any(|e| name.ends_with(e));
        if !likely {
            continue;
        }
        let format = match forced {
            Some(f) => Some(f),
            None => detect(&path)?,
        };
        if let Some(f) = format {
            out.push((path, f));
        }
    }
    Ok(())
}

fn detect(path: &Path) -> Result<Option<Format>, Error> {
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .map_err(|e| Error::invalid("path", format!("cannot read {}: {e}", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Format::detect(&name, &head))
}

fn extract(files: &[(PathBuf, Format)]) -> Result<Extracted, Error> {
    let mut opened = Vec::with_capacity(files.len());
    for (path, format) in files {
        let file = File::open(path)
            .map_err(|e| Error::invalid("path", format!("cannot read {}: {e}", path.display())))?;
        opened.push((
            *format,
            BufReader::with_capacity(256 * 1024, file),
            path.display().to_string(),
        ));
    }
    extract_from(opened).map_err(|e| Error::invalid("path", e.to_string()))
}

/// The format most of the files have: the candidates' origin.
fn origin(files: &[(PathBuf, Format)]) -> Origin {
    Format::ALL
        .into_iter()
        .max_by_key(|f| files.iter().filter(|(_, g)| g == f).count())
        .map_or(Origin::Text, Origin::from)
}

fn read_line(stats: &ReadStats, files: usize) -> String {
    let mut s = format!(
        "Read {files} file{}: {} user messages in {} records",
        if files == 1 { "" } else { "s" },
        stats.messages,
        stats.records
    );
    if stats.malformed > 0 {
        s.push_str(&format!("; skipped {} malformed", stats.malformed));
    }
    if stats.oversized > 0 {
        s.push_str(&format!("; skipped {} over 16 MiB", stats.oversized));
    }
    s
}

/// `promptdb harvest PATH… --dry-run`: needs no database.
pub(super) fn dry_run(args: &HarvestArgs, json: bool) -> Result<ExitCode, Error> {
    let files = files_of(args)?;
    let found = extract(&files)?;
    if json {
        let proposals: Vec<_> = found
            .proposals
            .iter()
            .cloned()
            .map(promptdb_core::harvest::NewCandidate::from)
            .collect();
        print_json(&serde_json::json!({
            "read": found.read,
            "extract": found.extract,
            "proposals": proposals,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{}.", read_line(&found.read, files.len()));
    println!(
        "{} prompt{} worth keeping:",
        found.proposals.len(),
        if found.proposals.len() == 1 { "" } else { "s" }
    );
    for p in &found.proposals {
        println!(
            "\n{} (score {:.2}; {})\n  {}",
            p.name,
            p.score,
            p.reason,
            p.content.replace('\n', "\n  ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn files_of(args: &HarvestArgs) -> Result<Vec<(PathBuf, Format)>, Error> {
    if args.paths.is_empty() {
        return Err(Error::invalid(
            "path",
            "name transcript files or directories (for example ~/.claude/projects)",
        ));
    }
    let forced = args.format.as_deref().and_then(Format::from_name);
    let files = transcripts(&args.paths, forced)?;
    if files.is_empty() {
        return Err(Error::invalid("path", "found no transcripts there"));
    }
    Ok(files)
}

/// `promptdb harvest PATH…`: extract, then queue for review.
pub(super) async fn harvest(
    client: &Client,
    args: &HarvestArgs,
    json: bool,
) -> Result<ExitCode, Error> {
    let files = files_of(args)?;
    let moved = files.clone();
    let found = tokio::task::spawn_blocking(move || extract(&moved))
        .await
        .map_err(Error::backend)??;
    let source = match files.as_slice() {
        [(one, _)] => one.display().to_string(),
        many => format!("{} files", many.len()),
    };
    let proposed = found.proposals.len();
    let done = client
        .queue_proposals(origin(&files), &source, found.proposals)
        .await?;
    if json {
        print_json(&serde_json::json!({
            "read": found.read,
            "extract": found.extract,
            "harvested": done,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{}.", read_line(&found.read, files.len()));
    println!(
        "Found {proposed} prompt{} worth keeping: {} new in the review queue, {} already there, {} reviewed before.",
        if proposed == 1 { "" } else { "s" },
        done.added.len(),
        done.merged.len(),
        done.skipped
    );
    if !done.added.is_empty() || !done.merged.is_empty() {
        println!("Review them with `promptdb harvest review` (or in the web app).");
    }
    Ok(ExitCode::SUCCESS)
}

fn show(c: &Candidate, n: usize, of: usize) {
    let mut facts = Vec::new();
    if let Some(score) = c.score {
        facts.push(format!("score {score:.2}"));
    }
    facts.push(format!(
        "{} use{} in {} session{}",
        c.occurrences,
        if c.occurrences == 1 { "" } else { "s" },
        c.sessions,
        if c.sessions == 1 { "" } else { "s" }
    ));
    facts.push(c.origin.name().to_owned());
    println!("\n[{n}/{of}] {}  ({})", c.name, facts.join(", "));
    if !c.reason.is_empty() {
        println!("  Why: {}", c.reason);
    }
    for s in &c.similar {
        println!("  Resembles `{}` ({:.0} %)", s.slug, s.similarity * 100.0);
    }
    println!("  ----");
    for line in c.content.lines() {
        println!("  {line}");
    }
    println!("  ----");
}

/// `promptdb harvest review`: one candidate at a time, answers from standard input.
pub(super) async fn review(client: &Client) -> Result<ExitCode, Error> {
    let queue = client.pending_candidates().await?;
    if queue.is_empty() {
        println!("No candidates wait for review. Harvest some with `promptdb harvest PATH…`.");
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut lines = stdin.lock().lines();
    let (mut saved, mut dismissed, mut skipped) = (0, 0, 0);
    let total = queue.len();
    'queue: for (i, c) in queue.iter().enumerate() {
        show(c, i + 1, total);
        let into = c
            .duplicate_of
            .clone()
            .or_else(|| c.similar.first().map(|s| s.slug.clone()));
        loop {
            let mut menu = format!("  [a] save as `{}`", c.slug);
            if let Some(slug) = &into {
                menu.push_str(&format!("  [u] add as a new version of `{slug}`"));
            }
            menu.push_str("  [d] dismiss  [s] skip  [q] quit\n  (`a other-slug` saves under another slug)\n> ");
            print!("{menu}");
            std::io::stdout().flush().map_err(Error::backend)?;
            let Some(line) = lines.next() else {
                break 'queue;
            };
            let line = line.map_err(Error::backend)?;
            if !interactive {
                println!("{line}");
            }
            let (choice, arg) = match line.trim().split_once(char::is_whitespace) {
                Some((c, a)) => (c.to_owned(), Some(a.trim().to_owned())),
                None => (line.trim().to_owned(), None),
            };
            let result = match (choice.as_str(), &into) {
                ("a", _) => client
                    .accept_candidate(
                        c.id,
                        AcceptCandidate {
                            slug: arg,
                            ..AcceptCandidate::default()
                        },
                    )
                    .await
                    .map(|a| {
                        saved += 1;
                        println!("  Saved `{}`.", a.prompt.slug);
                    }),
                ("u", Some(slug)) => client
                    .accept_candidate(
                        c.id,
                        AcceptCandidate {
                            into: Some(slug.as_str().to_owned()),
                            ..AcceptCandidate::default()
                        },
                    )
                    .await
                    .map(|a| {
                        saved += 1;
                        println!(
                            "  Saved as version {} of `{}`.",
                            a.prompt.version, a.prompt.slug
                        );
                    }),
                ("d", _) => client.dismiss_candidate(c.id).await.map(|()| {
                    dismissed += 1;
                    println!("  Dismissed.");
                }),
                ("s", _) | ("", _) => {
                    skipped += 1;
                    Ok(())
                }
                ("q", _) => break 'queue,
                _ => {
                    println!("  Answer a, u, d, s or q.");
                    continue;
                }
            };
            match result {
                Ok(()) => break,
                // A slug taken, a bad slug: say so and ask again.
                Err(e) if e.is_client_error() => println!("  Not saved: {e}"),
                Err(e) => return Err(e),
            }
        }
    }
    println!("\nSaved {saved}, dismissed {dismissed}, skipped {skipped}.");
    Ok(ExitCode::SUCCESS)
}
