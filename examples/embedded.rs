//! PromptDB embedded in another Rust program, on a SQLite file: no server involved.
//!
//! ```sh
//! cargo run --example embedded -- /tmp/prompts.sqlite3
//! ```

use std::{collections::BTreeMap, sync::Arc};

use promptdb::{
    ListQuery, NewPrompt, Principal, PromptDb, PromptPatch, SearchQuery, Variable,
    sqlite::SqliteStore,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        std::env::temp_dir()
            .join("promptdb-embedded.sqlite3")
            .display()
            .to_string()
    });
    // Opening creates the file if needed and applies migrations.
    let store = SqliteStore::open(&path).await?;
    let db = PromptDb::new(Arc::new(store));
    db.sync_ranking().await?;

    // An application acts as one of its users; here, a fresh one per run.
    let user = db.create_user("embedded example").await?;
    let me = Principal::full(user.id);

    db.save_prompts(
        &me,
        vec![
            NewPrompt {
                slug: Some("summarize".into()),
                name: "Summarize".into(),
                description: "Summaries for busy readers".into(),
                content: "Summarize the following {{kind}} in {{sentences}} sentences:\n\n{{text}}"
                    .into(),
                tags: vec!["writing".into()],
                variables: vec![Variable {
                    name: "sentences".into(),
                    description: "How many sentences".into(),
                    required: false,
                    default: Some("three".into()),
                }],
                ..NewPrompt::default()
            },
            NewPrompt::new("haiku", "Haiku", "Write a haiku about {{topic}}."),
        ],
    )
    .await?;

    // Render with variables: strict about missing and unknown ones.
    let values = BTreeMap::from([
        ("kind".to_owned(), "article".to_owned()),
        (
            "text".to_owned(),
            "PromptDB keeps prompts where people use them.".to_owned(),
        ),
    ]);
    let rendered = db.render_prompt(&me, "summarize", &values).await?;
    println!("rendered v{}:\n{}\n", rendered.version, rendered.text);
    if let Err(e) = db.render_prompt(&me, "haiku", &BTreeMap::new()).await {
        println!("missing variable is an error: {e}\n");
    }

    // Edit: every change to the text is a new immutable version.
    db.update_prompt(
        &me,
        "haiku",
        PromptPatch {
            content: Some("Write a haiku about {{topic}}, in the style of Bashō.".into()),
            ..PromptPatch::default()
        },
    )
    .await?;
    db.track_prompt_use(&me, "haiku", None).await?;
    let history = db.prompt_versions(&me, "haiku", None, None).await?;
    println!("haiku has {} versions", history.items.len());

    let found = db
        .search_prompts(&me, SearchQuery::new("summar #writing"))
        .await?;
    println!(
        "search 'summar #writing': {:?}",
        found
            .items
            .iter()
            .map(|p| p.slug.as_str())
            .collect::<Vec<_>>()
    );

    let ranked = db.list_prompts(&me, ListQuery::default()).await?;
    println!(
        "ranked: {:?}",
        ranked
            .items
            .iter()
            .map(|p| p.slug.as_str())
            .collect::<Vec<_>>()
    );

    // Everything the user owns, as one JSON document; then gone.
    let export = db.export_user(&me).await?;
    println!(
        "export: {} prompts, {} bytes of JSON",
        export.prompts.len(),
        serde_json::to_vec(&export)?.len()
    );
    db.delete_user(&me).await?;
    println!("user deleted; database at {path}");
    Ok(())
}
