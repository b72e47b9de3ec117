//! A service that resolves its prompts from a PromptDB server, with a snapshot to start from
//! when the server is unreachable.
//!
//! ```sh
//! # with a server running (`promptdb serve`) and a prompt released to production:
//! PROMPTDB_API_KEY=pdb_… cargo run --example resolver -- http://127.0.0.1:5001 support/triage ticket="My export is empty"
//! ```
//!
//! On each start it loads the last snapshot (if there is one), follows the server's change feed,
//! and saves a fresh snapshot when the server answers. Stop the server and run it again: it
//! still answers, from the snapshot.

use std::collections::BTreeMap;

use promptdb_core::resolver::{At, Resolver, read_snapshot, write_snapshot};
use promptdb_http::client::RemoteSource;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:5001".into());
    let slug = args.next().unwrap_or_else(|| "support/triage".into());
    let values: BTreeMap<String, String> = args
        .filter_map(|a| a.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let key = std::env::var("PROMPTDB_API_KEY").ok();
    let snapshot_file = std::env::var("PROMPTDB_SNAPSHOT").unwrap_or_else(|_| {
        std::env::temp_dir()
            .join("promptdb-example.snapshot.json")
            .display()
            .to_string()
    });

    promptdb_http::install_tls_provider();
    let resolver = Resolver::new(RemoteSource::new(&url, key)?);

    // Start from the last snapshot: the service answers even if the server is down.
    match read_snapshot(&snapshot_file) {
        Ok(snapshot) => eprintln!(
            "loaded {} prompts from {snapshot_file}",
            resolver.load_snapshot(&snapshot)?
        ),
        Err(e) => eprintln!("no snapshot yet ({e})"),
    }
    // Label moves on the server reach the cache within milliseconds.
    let _following = resolver.follow();
    // A fresh snapshot for the next start; the old one stays when the server is down.
    match resolver.fetch_snapshot("production").await {
        Ok(snapshot) => write_snapshot(&snapshot, &snapshot_file)?,
        Err(e) => eprintln!("server unreachable, keeping the old snapshot ({e})"),
    }

    let served = resolver
        .render(&slug, At::PRODUCTION, Some("user-42"), &values)
        .await?;
    println!(
        "{slug} v{}: {}",
        served.prompt.version,
        served.rendered.to_text()
    );
    eprintln!("{:?}", resolver.stats());
    Ok(())
}
