//! The PostgreSQL and SQLite migrations carry the same version numbers and names, one for one,
//! so a database's schema version means the same thing on either backend.

use std::path::Path;

fn versions(dir: &Path) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".sql")?;
            let (version, description) = stem.split_once('_')?;
            Some((version.parse().ok()?, description.to_owned()))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn both_backends_have_the_same_migrations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let postgres = versions(&root.join("promptdb-store-postgres/migrations"));
    let sqlite = versions(&root.join("promptdb-store-sqlite/migrations"));
    assert!(!postgres.is_empty());
    assert_eq!(postgres, sqlite);
    // And they are what the embedded migrator applies.
    let embedded: Vec<(i64, String)> = promptdb_store_postgres::MIGRATOR
        .iter()
        .map(|m| (m.version, m.description.replace(' ', "_")))
        .collect();
    assert_eq!(embedded, postgres);
}
