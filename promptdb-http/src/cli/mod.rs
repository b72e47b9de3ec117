//! The `promptdb` command line: the server commands and a client for the prompt library, which
//! talks to a server (`--url`) or directly to the local database.
//!
//! Exit codes scripts can rely on: 0 success; 1 unexpected failure; 2 usage error; 3 not found;
//! 4 invalid input; 5 conflict (slug taken); 6 not authenticated or not allowed; 7 server or
//! database unavailable.

use std::{
    collections::BTreeMap,
    io::{IsTerminal, Read, Write},
    net::SocketAddr,
    path::PathBuf,
    process::ExitCode,
    time::Duration,
};

use clap::{Args, Parser, Subcommand};
use promptdb_core::{
    ApiKeyId, Error, Filters, ListQuery, NewApiKey, NewPrompt, PromptPatch, PromptSummary, Scope,
    SearchQuery,
};

use crate::{LogFormat, Settings};

pub mod client;
#[cfg(feature = "harvest")]
mod harvest;
pub mod import;
pub mod markdown;
mod server;

use client::Client;

/// PromptDB: your prompt library, from every chat surface.
#[derive(Debug, Parser)]
#[command(name = "promptdb", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Server to talk to (for example http://127.0.0.1:5001); without it, commands use the local
    /// database directly.
    #[arg(long, env = "PROMPTDB_URL", global = true)]
    url: Option<String>,
    /// API key for --url.
    #[arg(long, env = "PROMPTDB_API_KEY", global = true, hide_env_values = true)]
    api_key: Option<String>,
    /// Database URL (`sqlite://path` or `postgres://…`) for the server and for local commands
    /// [env: PROMPTDB_DATABASE_URL].
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Directory of the default SQLite database [env: PROMPTDB_DATA_DIR].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Settings file (TOML); environment variables and flags override it [env: PROMPTDB_CONFIG].
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: REST API, MCP over streamable HTTP, health checks.
    Serve(ServeArgs),
    /// Serve MCP over standard input and output, as the local user.
    #[cfg(feature = "stdio")]
    Stdio,
    /// Apply database migrations and exit.
    Migrate,
    /// Write a consistent copy of the SQLite database to FILE, while the server runs.
    ///
    /// For PostgreSQL use `pg_dump` (see the README).
    #[cfg(feature = "sqlite")]
    Backup {
        /// Where to write it (must not exist).
        file: PathBuf,
    },
    /// Replace the SQLite database with the backup in FILE. Stop the server first.
    ///
    /// The backup is checked before anything changes; the database it replaces is kept next to
    /// it as `promptdb.sqlite3.before-restore-<time>`.
    #[cfg(feature = "sqlite")]
    Restore {
        /// A file written by `promptdb backup`.
        file: PathBuf,
    },
    /// Open the web app, signed in: prints a one-time sign-in link (local mode) and opens it.
    Open {
        /// Only print the link.
        #[arg(long)]
        print: bool,
    },
    /// Save a new prompt (content from --content, --file, or standard input).
    Add(AddArgs),
    /// Show a prompt, or render it with --var.
    Get {
        /// The prompt's slug.
        slug: String,
        /// A variable value, `name=value` (repeatable); prints the rendered text.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Print only the content (or the rendered text).
        #[arg(long)]
        raw: bool,
    },
    /// List prompts, best first.
    Ls(LsArgs),
    /// Search prompts by words and #tags.
    Search {
        /// Words and #tags.
        #[arg(required = true)]
        query: Vec<String>,
        /// Only prompts with this tag (repeatable).
        #[arg(long)]
        tag: Vec<String>,
        /// How many results.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Edit a prompt in $EDITOR.
    Edit {
        /// The prompt's slug.
        slug: String,
        /// Why: the new version's commit message.
        #[arg(short = 'm', long)]
        message: Option<String>,
    },
    /// Delete a prompt and its history.
    Rm {
        /// The prompt's slug.
        slug: String,
    },
    /// List tags with counts.
    Tags,
    /// Export everything as one JSON document.
    Export {
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Find reusable prompts in chat transcripts (Claude Code logs, a ChatGPT export, Markdown
    /// or text chat logs) and queue them for review; `promptdb harvest review` goes through the
    /// queue.
    #[cfg(feature = "harvest")]
    Harvest(harvest::HarvestArgs),
    /// Import a PromptDB export file or a folder of Markdown prompts.
    Import {
        /// An export (.json) or a directory of .md files (such as .claude/commands).
        path: PathBuf,
        /// Stop at the first prompt whose slug is taken (default: skip it).
        #[arg(long)]
        fail_on_conflict: bool,
    },
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage webhooks: URLs told when your prompts change (`promptdb serve` delivers them).
    #[cfg(feature = "webhooks")]
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// List a prompt's versions, newest first, with their labels.
    Versions {
        /// The prompt's slug.
        slug: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show what changed between two versions.
    Diff {
        /// The prompt's slug.
        slug: String,
        /// The older version.
        from: u32,
        /// The newer version.
        to: u32,
    },
    /// Show, move, split, remove or roll back a prompt's labels.
    ///
    /// `promptdb label support/triage` lists the labels; `… production 3` points `production` at
    /// version 3; `… production --split 3:90,4:10` splits it for an A/B test; `--remove`,
    /// `--rollback` and `--history` do what they say.
    Label(LabelArgs),
    /// Resolve a prompt as an application would: at a label (`production` by default) or a
    /// version, rendered with --var.
    Resolve {
        /// The prompt's slug.
        slug: String,
        /// The label.
        #[arg(long, conflicts_with = "version")]
        label: Option<String>,
        /// The version.
        #[arg(long)]
        version: Option<u32>,
        /// Who it is for (a split gives the same subject the same variant).
        #[arg(long)]
        subject: Option<String>,
        /// A variable value, `name=value` (repeatable).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct LabelArgs {
    /// The prompt's slug.
    slug: String,
    /// The label; without it, the prompt's labels are listed.
    label: Option<String>,
    /// The version to point the label at.
    version: Option<u32>,
    /// An A/B split instead: `VERSION:WEIGHT,…` with weights summing to 100 (`3:90,4:10`).
    #[arg(long, conflicts_with_all = ["version", "remove", "rollback", "history"])]
    split: Option<String>,
    /// Remove the label.
    #[arg(long, conflicts_with_all = ["version", "rollback", "history"])]
    remove: bool,
    /// Move the label back to where it was before its last move.
    #[arg(long, conflicts_with_all = ["version", "history"])]
    rollback: bool,
    /// Show the label's moves (every label's without a label).
    #[arg(long, conflicts_with = "version")]
    history: bool,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on [env: PROMPTDB_BIND].
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// Log format [env: PROMPTDB_LOG_FORMAT].
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
    /// Host names the MCP endpoint accepts besides loopback (repeatable; `*` for any)
    /// [env: PROMPTDB_MCP_ALLOWED_HOSTS, comma-separated].
    #[arg(long = "mcp-allowed-host", value_delimiter = ',')]
    mcp_allowed_hosts: Vec<String>,
    /// Test only: serve the MCP conformance suite's fixtures and let unauthenticated requests act
    /// as the local user. Refused unless in local mode on a loopback address.
    #[cfg(feature = "conformance")]
    #[arg(long, hide = true)]
    conformance_test_mode: bool,
}

#[derive(Debug, Args)]
struct AddArgs {
    /// Slug; derived from the name when absent.
    #[arg(long)]
    slug: Option<String>,
    /// Name.
    #[arg(long)]
    name: String,
    /// Description.
    #[arg(long, default_value = "")]
    description: String,
    /// Tag (repeatable).
    #[arg(long)]
    tag: Vec<String>,
    /// Content; read from --file or standard input when absent.
    #[arg(long, conflicts_with = "file")]
    content: Option<String>,
    /// Read the content from this file.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Pin it.
    #[arg(long)]
    pinned: bool,
    /// Mark it favourite.
    #[arg(long)]
    favorite: bool,
    /// Why: the first version's commit message.
    #[arg(short = 'm', long)]
    message: Option<String>,
    /// A label to point at the first version (repeatable; protected ones need the release scope).
    #[arg(long)]
    label: Vec<String>,
}

#[derive(Debug, Args)]
struct LsArgs {
    /// Only prompts with this tag (repeatable).
    #[arg(long)]
    tag: Vec<String>,
    /// Only pinned prompts.
    #[arg(long)]
    pinned: bool,
    /// Only favourites.
    #[arg(long)]
    favorite: bool,
    /// Only prompts in this folder or below (`support`).
    #[arg(long)]
    folder: Option<String>,
    /// Page size.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Every prompt, not just the first page.
    #[arg(long)]
    all: bool,
}

#[cfg(feature = "webhooks")]
#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    /// List webhooks with their state.
    Ls,
    /// Register a URL and print its signing secret (shown once).
    Add {
        /// Where to post deliveries (http or https). (Not named `url`: that is the global
        /// `--url` of the server.)
        #[arg(value_name = "URL")]
        target: String,
        /// A kind of change to deliver (repeat for several; every kind when absent).
        #[arg(long = "event", value_parser = ["version_created", "label_moved", "prompt_deleted"])]
        events: Vec<String>,
        /// What the hook is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Resume deliveries where they stopped (after a pause or repeated failures).
    Enable {
        /// The webhook's id.
        id: String,
    },
    /// Pause deliveries (changes wait in the feed, for seven days).
    Disable {
        /// The webhook's id.
        id: String,
    },
    /// Delete a webhook and its delivery log.
    Rm {
        /// The webhook's id.
        id: String,
    },
    /// Show a webhook's delivery attempts, newest first.
    Deliveries {
        /// The webhook's id.
        id: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[cfg(feature = "webhooks")]
async fn webhooks(client: &Client, command: WebhooksCommand, json: bool) -> Result<(), Error> {
    use promptdb_core::{
        change::ChangeKind,
        webhook::{NewWebhook, WebhookId, WebhookPatch},
    };
    let id = |id: &str| WebhookId::parse("id", id);
    match command {
        WebhooksCommand::Ls => {
            let hooks = client.webhooks().await?;
            if json {
                return print_json(&hooks);
            }
            for h in hooks {
                let events: Vec<&str> = h.events.iter().map(|k| k.as_str()).collect();
                let state = match (&h.disabled_reason, h.enabled, h.failures) {
                    (Some(reason), _, _) => format!("disabled: {reason}"),
                    (None, false, _) => "paused".to_owned(),
                    (None, true, 0) => "ok".to_owned(),
                    (None, true, n) => format!(
                        "failing ({n} attempts; next {})",
                        h.next_attempt_at.format("%Y-%m-%d %H:%M:%S")
                    ),
                };
                println!(
                    "{}  {}  [{}]  after #{}  {state}",
                    h.id,
                    h.url,
                    events.join(","),
                    h.delivered_seq
                );
            }
        }
        WebhooksCommand::Add {
            target: url,
            events,
            description,
        } => {
            let events = if events.is_empty() {
                promptdb_core::webhook::all_events()
            } else {
                events.iter().filter_map(|e| ChangeKind::parse(e)).collect()
            };
            let created = client
                .create_webhook(NewWebhook {
                    url,
                    events,
                    description,
                })
                .await?;
            if json {
                return print_json(&created);
            }
            println!("{}", created.secret);
            eprintln!(
                "Webhook {} registered. This is the only time its signing secret is shown: give it to your receiver's Standard Webhooks verifier.",
                created.webhook.id
            );
        }
        WebhooksCommand::Enable { id: ref raw } | WebhooksCommand::Disable { id: ref raw } => {
            let enabled = matches!(command, WebhooksCommand::Enable { .. });
            let hook = client
                .update_webhook(
                    id(raw)?,
                    WebhookPatch {
                        enabled: Some(enabled),
                        ..WebhookPatch::default()
                    },
                )
                .await?;
            if json {
                return print_json(&hook);
            }
            println!(
                "{} {}.",
                if enabled { "Enabled" } else { "Paused" },
                hook.id
            );
        }
        WebhooksCommand::Rm { id: raw } => {
            client.delete_webhook(id(&raw)?).await?;
            if !json {
                println!("Deleted {raw}.");
            }
        }
        WebhooksCommand::Deliveries { id: raw, limit } => {
            let attempts = client.webhook_deliveries(id(&raw)?, limit).await?;
            if json {
                return print_json(&attempts);
            }
            for a in attempts {
                let outcome = match (a.status, &a.error) {
                    (Some(s), _) if (200..300).contains(&s) => format!("HTTP {s}"),
                    (_, Some(e)) => format!("failed: {e}"),
                    (Some(s), None) => format!("HTTP {s}"),
                    (None, None) => "failed".to_owned(),
                };
                println!(
                    "{}  #{:<6} {:<24} attempt {}  {:>5} ms  {outcome}",
                    a.at.format("%Y-%m-%d %H:%M:%S"),
                    a.seq,
                    a.event,
                    a.attempt,
                    a.duration_ms
                );
            }
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List API keys.
    Ls,
    /// Create an API key and print its secret (shown once).
    Create {
        /// What the key is for.
        name: String,
        /// Only allow reading.
        #[arg(long, conflicts_with = "release")]
        read_only: bool,
        /// Also allow moving protected labels (releasing to `production`).
        #[arg(long)]
        release: bool,
        /// Print the key as a Langfuse key pair (`LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY`,
        /// `LANGFUSE_BASE_URL`), for existing Langfuse SDK code. Implies --release unless
        /// --read-only: Langfuse code labels versions `production`.
        #[arg(long)]
        langfuse: bool,
    },
    /// Revoke an API key by id.
    Revoke {
        /// The key's id.
        id: String,
    },
}

/// Exit code for an error.
fn exit_code(e: &Error) -> u8 {
    match e {
        Error::NotFound { .. } => 3,
        Error::Invalid { .. } => 4,
        Error::Conflict { .. } | Error::QuotaExceeded { .. } => 5,
        Error::Unauthorized | Error::Forbidden { .. } => 6,
        Error::Unavailable(_) | Error::StorageFull(_) => 7,
        _ => 1,
    }
}

fn fail(e: &Error) -> ExitCode {
    let message = match e {
        // A server's "not found" comes back as its own sentence.
        Error::NotFound {
            what: "resource",
            key,
        } => key.clone(),
        Error::Unauthorized => {
            "not authenticated: pass --api-key or set PROMPTDB_API_KEY".to_owned()
        }
        Error::Unavailable(source) => format!("unavailable: {source}"),
        other => other.to_string(),
    };
    eprintln!("error: {message}");
    ExitCode::from(exit_code(e))
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(Error::backend)?;
    writeln!(out).map_err(Error::backend)
}

fn summary_line(p: &PromptSummary) -> String {
    let mark = format!(
        "{}{}",
        if p.pinned { "📌" } else { "" },
        if p.favorite { "★" } else { "" }
    );
    let tags = if p.tags.is_empty() {
        String::new()
    } else {
        format!("  [{}]", p.tags.join(", "))
    };
    format!(
        "{:<32} {}{}{}",
        p.slug.as_str(),
        if mark.is_empty() {
            String::new()
        } else {
            format!("{mark} ")
        },
        p.name,
        tags
    )
}

/// Settings from the file and the environment ([`Settings::load`]), then the flags.
fn settings(global: &Global, command: &Command) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(global.config.as_deref(), |name| std::env::var(name).ok())?;
    if global.database_url.is_some() {
        settings.database_url.clone_from(&global.database_url);
    }
    if global.data_dir.is_some() {
        settings.data_dir.clone_from(&global.data_dir);
    }
    if let Command::Serve(args) = command {
        if let Some(bind) = args.bind {
            settings.bind = bind;
        }
        if let Some(format) = args.log_format {
            settings.log_format = format;
        }
        settings
            .mcp_allowed_hosts
            .extend(args.mcp_allowed_hosts.iter().cloned());
    }
    settings.validate()?;
    Ok(settings)
}

/// Runs the command line.
pub async fn run(cli: Cli) -> ExitCode {
    let settings = match settings(&cli.global, &cli.command) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Serve(args) => server::serve(settings, args).await,
        #[cfg(feature = "stdio")]
        Command::Stdio => server::stdio(settings).await,
        Command::Migrate => server::migrate(settings).await,
        #[cfg(feature = "sqlite")]
        Command::Backup { file } => server::backup(settings, &file).await,
        #[cfg(feature = "sqlite")]
        Command::Restore { file } => server::restore(settings, &file).await,
        Command::Open { print } => server::open(settings, cli.global.url.clone(), print).await,
        #[cfg(feature = "harvest")]
        Command::Harvest(args) if args.dry_run && args.command.is_none() => {
            match harvest::dry_run(&args, cli.global.json) {
                Ok(code) => code,
                Err(e) => fail(&e),
            }
        }
        command => {
            let client = match connect(&cli.global, &settings).await {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            let base_url = cli
                .global
                .url
                .clone()
                .or_else(|| settings.auth.public_url().map(str::to_owned))
                .unwrap_or_else(|| format!("http://{}", settings.bind));
            match client_command(&client, command, cli.global.json, &base_url).await {
                Ok(code) => code,
                Err(e) => fail(&e),
            }
        }
    }
}

async fn connect(global: &Global, settings: &Settings) -> Result<Client, Error> {
    if let Some(url) = &global.url {
        return Ok(Client::Remote(client::Remote::new(
            url,
            global.api_key.clone(),
        )?));
    }
    let store = crate::open_store(&settings.database_url(), settings, Duration::ZERO).await?;
    let db = promptdb_core::PromptDb::with_config(store, settings.core.clone())?;
    let (user, _) = db.local_user().await?;
    Ok(Client::Local {
        db,
        me: promptdb_core::Principal::full(user.id).with_actor("cli"),
    })
}

fn parse_vars(vars: &[String]) -> Result<BTreeMap<String, String>, Error> {
    vars.iter()
        .map(|v| {
            v.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| Error::invalid("--var", format!("`{v}` is not NAME=VALUE")))
        })
        .collect()
}

fn read_stdin() -> Result<String, Error> {
    if std::io::stdin().is_terminal() {
        eprintln!("Reading the prompt's content from standard input; end with Ctrl-D.");
    }
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(Error::backend)?;
    Ok(s)
}

async fn client_command(
    client: &Client,
    command: Command,
    json: bool,
    base_url: &str,
) -> Result<ExitCode, Error> {
    match command {
        Command::Add(a) => {
            let content = match (a.content, a.file) {
                (Some(c), _) => c,
                (None, Some(path)) => std::fs::read_to_string(&path).map_err(|e| {
                    Error::invalid("--file", format!("cannot read {}: {e}", path.display()))
                })?,
                (None, None) => read_stdin()?,
            };
            let prompt = NewPrompt {
                slug: a.slug,
                name: a.name,
                description: a.description,
                content,
                tags: a.tag,
                commit_message: a.message.unwrap_or_default(),
                labels: a.label,
                pinned: a.pinned,
                favorite: a.favorite,
                ..NewPrompt::default()
            };
            let saved = client.save_prompts(vec![prompt]).await?.remove(0);
            if json {
                print_json(&saved)?;
            } else {
                println!("Saved `{}` (version {}).", saved.slug, saved.version);
            }
        }
        Command::Get { slug, vars, raw } => {
            if vars.is_empty() {
                let p = client.get_prompt(&slug).await?;
                if json {
                    print_json(&p)?;
                } else if raw {
                    print!("{}", p.content);
                } else {
                    print!("{}", markdown::render(&p));
                }
            } else {
                let rendered = client.render_prompt(&slug, parse_vars(&vars)?).await?;
                if json {
                    print_json(&rendered)?;
                } else {
                    print!("{}", rendered.text);
                    if !raw && !rendered.text.ends_with('\n') {
                        println!();
                    }
                }
            }
        }
        Command::Ls(a) => {
            let filters = Filters {
                tags: a.tag,
                pinned: a.pinned.then_some(true),
                favorite: a.favorite.then_some(true),
                folder: a.folder,
            };
            let mut items = Vec::new();
            let mut cursor = None;
            loop {
                let page = client
                    .list_prompts(ListQuery {
                        filters: filters.clone(),
                        limit: Some(a.limit),
                        cursor,
                    })
                    .await?;
                items.extend(page.items);
                match page.next_cursor {
                    Some(c) if a.all => cursor = Some(c),
                    _ => break,
                }
            }
            if json {
                print_json(&items)?;
            } else if items.is_empty() {
                eprintln!("No prompts.");
            } else {
                items.iter().for_each(|p| println!("{}", summary_line(p)));
            }
        }
        Command::Search { query, tag, limit } => {
            let page = client
                .search_prompts(SearchQuery {
                    q: query.join(" "),
                    filters: Filters {
                        tags: tag,
                        ..Filters::default()
                    },
                    limit: Some(limit),
                    cursor: None,
                })
                .await?;
            if json {
                print_json(&page.items)?;
            } else if page.items.is_empty() {
                eprintln!("No matches.");
            } else {
                page.items
                    .iter()
                    .for_each(|p| println!("{}", summary_line(p)));
            }
        }
        Command::Edit { slug, message } => edit(client, &slug, message, json).await?,
        Command::Rm { slug } => {
            client.delete_prompt(&slug).await?;
            if json {
                print_json(&serde_json::json!({ "deleted": slug }))?;
            } else {
                println!("Deleted `{slug}`.");
            }
        }
        Command::Tags => {
            let tags = client.tags().await?;
            if json {
                print_json(&tags)?;
            } else {
                tags.iter()
                    .for_each(|t| println!("{:<24} {}", t.tag, t.count));
            }
        }
        Command::Export { output } => {
            let spinner = indicatif::ProgressBar::new_spinner().with_message("Exporting…");
            spinner.enable_steady_tick(Duration::from_millis(120));
            let export = client.export().await;
            spinner.finish_and_clear();
            let export = export?;
            let bytes = serde_json::to_vec_pretty(&export).map_err(Error::backend)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &bytes).map_err(|e| {
                        Error::invalid("--output", format!("cannot write {}: {e}", path.display()))
                    })?;
                    eprintln!(
                        "Exported {} prompts to {}.",
                        export.prompts.len(),
                        path.display()
                    );
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&bytes)
                        .and_then(|()| writeln!(out))
                        .map_err(Error::backend)?;
                }
            }
        }
        Command::Import {
            path,
            fail_on_conflict,
        } => {
            let prompts =
                import::read_source(&path).map_err(|e| Error::invalid("path", format!("{e:#}")))?;
            let bar = indicatif::ProgressBar::new(prompts.len() as u64).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} prompts {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = import::import(client, prompts, fail_on_conflict, |n| {
                bar.set_position(n as u64)
            })
            .await;
            bar.finish_and_clear();
            let report = report?;
            if json {
                print_json(&report)?;
            } else {
                println!(
                    "Imported {} prompts; skipped {} whose slug was taken.",
                    report.imported.len(),
                    report.skipped.len()
                );
                for s in &report.skipped {
                    println!("  skipped: {s}");
                }
            }
        }
        Command::Versions { slug, limit } => {
            let page = client.versions(&slug, Some(limit), None).await?;
            if json {
                print_json(&page)?;
            } else {
                for v in &page.items {
                    let labels = if v.labels.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", v.labels.join(", "))
                    };
                    let message = v.commit_message.lines().next().unwrap_or_default();
                    println!(
                        "v{:<4} {}  {:>5} uses{labels}  {message}",
                        v.version,
                        v.created_at.format("%Y-%m-%d %H:%M"),
                        v.usage_count
                    );
                }
            }
        }
        Command::Diff { slug, from, to } => {
            let diff = client.diff(&slug, from, to).await?;
            if json {
                print_json(&diff)?;
            } else if diff.changed.is_empty() {
                println!("Versions {from} and {to} are the same.");
            } else {
                for f in &diff.fields {
                    println!("{}: {} → {}", f.field, f.from, f.to);
                }
                print!("{}", diff.diff);
            }
        }
        Command::Label(a) => label_command(client, a, json).await?,
        Command::Resolve {
            slug,
            label,
            version,
            subject,
            vars,
        } => {
            let variables = if vars.is_empty() {
                None
            } else {
                Some(parse_vars(&vars)?)
            };
            let resolved = client
                .resolve(promptdb_core::ResolveRequest {
                    slug,
                    label,
                    version,
                    subject,
                    variables,
                })
                .await?;
            if json {
                print_json(&resolved)?;
            } else {
                eprintln!(
                    "{} version {}{}",
                    resolved.slug,
                    resolved.version,
                    resolved
                        .label
                        .as_deref()
                        .map(|l| format!(" (label {l})"))
                        .unwrap_or_default()
                );
                let text = resolved.text();
                print!("{text}");
                if !text.ends_with('\n') {
                    println!();
                }
            }
        }
        #[cfg(feature = "harvest")]
        Command::Harvest(args) => {
            return match args.command {
                Some(harvest::HarvestCommand::Review) => harvest::review(client).await,
                None => harvest::harvest(client, &args, json).await,
            };
        }
        Command::Keys(KeysCommand::Ls) => {
            let keys = client.keys().await?;
            if json {
                print_json(&keys)?;
            } else {
                for k in keys {
                    let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
                    let used = k.last_used_at.map_or("never used".to_owned(), |t| {
                        format!("last used {}", t.format("%Y-%m-%d %H:%M"))
                    });
                    println!(
                        "{}  {}…  {:<24} {}  {}",
                        k.id,
                        k.prefix,
                        k.name,
                        scopes.join("+"),
                        used
                    );
                }
            }
        }
        Command::Keys(KeysCommand::Create {
            name,
            read_only,
            release,
            langfuse,
        }) => {
            let scopes = match (read_only, release || langfuse) {
                (true, _) => vec![Scope::Read],
                (false, true) => vec![Scope::Read, Scope::Write, Scope::Release],
                (false, false) => vec![Scope::Read, Scope::Write],
            };
            let created = client.create_key(NewApiKey { name, scopes }).await?;
            if langfuse {
                let public = format!("{}{}", crate::auth::LANGFUSE_PUBLIC_PREFIX, created.key.id);
                if json {
                    print_json(&serde_json::json!({
                        "LANGFUSE_PUBLIC_KEY": public,
                        "LANGFUSE_SECRET_KEY": created.secret,
                        "LANGFUSE_BASE_URL": base_url,
                    }))?;
                } else {
                    println!("LANGFUSE_PUBLIC_KEY={public}");
                    println!("LANGFUSE_SECRET_KEY={}", created.secret);
                    println!("LANGFUSE_BASE_URL={base_url}");
                    eprintln!(
                        "This is the only time the secret is shown. Put these three lines where your Langfuse code reads its settings."
                    );
                }
            } else if json {
                print_json(&created)?;
            } else {
                println!("{}", created.secret);
                eprintln!(
                    "This is the only time the key is shown. Id: {}",
                    created.key.id
                );
            }
        }
        #[cfg(feature = "webhooks")]
        Command::Webhooks(command) => webhooks(client, command, json).await?,
        Command::Keys(KeysCommand::Revoke { id }) => {
            client.revoke_key(ApiKeyId::parse("id", &id)?).await?;
            if !json {
                println!("Revoked {id}.");
            }
        }
        #[cfg(feature = "stdio")]
        Command::Stdio => unreachable!("handled by run"),
        Command::Serve(_) | Command::Migrate | Command::Open { .. } => {
            unreachable!("handled by run")
        }
        #[cfg(feature = "sqlite")]
        Command::Backup { .. } | Command::Restore { .. } => unreachable!("handled by run"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `promptdb label`.
async fn label_command(client: &Client, a: LabelArgs, json: bool) -> Result<(), Error> {
    let Some(label) = a.label.as_deref() else {
        if a.history {
            return print_moves(client.label_moves(&a.slug, None).await?, json);
        }
        let labels = client.labels(&a.slug).await?;
        if json {
            return print_json(&labels);
        }
        if labels.is_empty() {
            eprintln!("`{}` has no labels yet (besides `latest`).", a.slug);
        }
        for l in labels {
            println!(
                "{:<24} {}{}",
                l.name,
                l.target,
                if l.protected { "  (protected)" } else { "" }
            );
        }
        return Ok(());
    };
    if a.history {
        return print_moves(client.label_moves(&a.slug, Some(label)).await?, json);
    }
    let moved = if a.rollback {
        client.rollback_label(&a.slug, label).await?
    } else if a.remove {
        client.move_label(&a.slug, label, None).await?
    } else {
        let target = match (a.version, a.split.as_deref()) {
            (Some(version), None) => promptdb_core::LabelTarget::version(version),
            (None, Some(split)) => promptdb_core::LabelTarget::Split {
                split: parse_split(split)?,
            },
            _ => {
                return Err(Error::invalid(
                    "version",
                    "give a version, --split, --remove, --rollback or --history",
                ));
            }
        };
        client.move_label(&a.slug, label, Some(target)).await?
    };
    if json {
        return print_json(&moved);
    }
    match (&moved.from, &moved.to) {
        (from, to) if from == to => println!("`{label}` already points at that; nothing changed."),
        (None, Some(to)) => println!("`{label}` now points at {to}."),
        (Some(from), Some(to)) => println!("`{label}` moved from {from} to {to}."),
        (_, None) => println!("`{label}` removed."),
    }
    Ok(())
}

fn print_moves(
    page: promptdb_core::Page<promptdb_core::LabelMove>,
    json: bool,
) -> Result<(), Error> {
    if json {
        return print_json(&page.items);
    }
    let show = |t: &Option<promptdb_core::LabelTarget>| {
        t.as_ref().map_or("—".to_owned(), ToString::to_string)
    };
    for m in &page.items {
        println!(
            "{}  {:<16} {} → {}  {}",
            m.moved_at.format("%Y-%m-%d %H:%M:%S"),
            m.label,
            show(&m.from),
            show(&m.to),
            m.actor
        );
    }
    Ok(())
}

/// `3:90,4:10` → variants.
fn parse_split(s: &str) -> Result<Vec<promptdb_core::Variant>, Error> {
    s.split(',')
        .map(|part| {
            let (v, w) = part.trim().split_once(':').ok_or_else(|| {
                Error::invalid("--split", format!("`{part}` is not VERSION:WEIGHT"))
            })?;
            Ok(promptdb_core::Variant {
                version: v
                    .trim()
                    .parse()
                    .map_err(|_| Error::invalid("--split", format!("`{v}` is not a version")))?,
                weight: w
                    .trim()
                    .parse()
                    .map_err(|_| Error::invalid("--split", format!("`{w}` is not a weight")))?,
            })
        })
        .collect()
}

/// Opens the prompt as Markdown in `$VISUAL`/`$EDITOR` (default `vi`) and saves what changed.
async fn edit(
    client: &Client,
    slug: &str,
    message: Option<String>,
    json: bool,
) -> Result<(), Error> {
    let before = client.get_prompt(slug).await?;
    if before.kind == promptdb_core::PromptKind::Chat {
        return Err(Error::invalid(
            "slug",
            format!(
                "`{slug}` is a chat prompt; change its messages through the REST API, MCP or the web app"
            ),
        ));
    }
    let dir = std::env::temp_dir();
    // Folder slugs (`support/triage`) hold slashes; the file name must not.
    let path = dir.join(format!(
        "promptdb-{}-{}.md",
        slug.replace('/', "__"),
        std::process::id()
    ));
    std::fs::write(&path, markdown::render(&before)).map_err(Error::backend)?;
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    // The editor may carry arguments (`code --wait`).
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(parts)
        .arg(&path)
        .status()
        .map_err(|e| Error::invalid("EDITOR", format!("cannot start `{editor}`: {e}")))?;
    if !status.success() {
        return Err(Error::invalid(
            "EDITOR",
            format!(
                "`{editor}` exited with {status}; nothing saved (your text is in {})",
                path.display()
            ),
        ));
    }
    let text = std::fs::read_to_string(&path).map_err(Error::backend)?;
    let doc = markdown::parse(&text)
        .map_err(|e| Error::invalid("file", format!("{e}; your text is in {}", path.display())))?;
    let field = |k: &str| doc.front.get(k);
    let patch = PromptPatch {
        name: field("name")
            .map(markdown::FrontValue::text)
            .filter(|v| *v != before.name),
        description: field("description")
            .map(markdown::FrontValue::text)
            .filter(|v| *v != before.description),
        content: Some(doc.body.clone())
            .filter(|b| *b != before.content && b.trim_end() != before.content.trim_end()),
        tags: field("tags")
            .map(markdown::FrontValue::list)
            .filter(|t| *t != before.tags),
        variables: None,
        pinned: field("pinned")
            .and_then(markdown::FrontValue::flag)
            .filter(|v| *v != before.pinned),
        favorite: field("favorite")
            .and_then(markdown::FrontValue::flag)
            .filter(|v| *v != before.favorite),
        commit_message: message,
        ..PromptPatch::default()
    };
    if patch.is_empty() {
        let _ = std::fs::remove_file(&path);
        eprintln!("No changes.");
        return Ok(());
    }
    let after = client.update_prompt(slug, patch).await.inspect_err(|_| {
        eprintln!("Your edited text is kept in {}", path.display());
    })?;
    let _ = std::fs::remove_file(&path);
    if json {
        print_json(&after)?;
    } else {
        println!("Saved `{}` (version {}).", after.slug, after.version);
    }
    Ok(())
}
