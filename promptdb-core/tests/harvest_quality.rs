//! The extractor against labelled transcripts: Claude Code session logs, a ChatGPT export and
//! chat logs in Markdown and text, with the noise real logs have, in which every reusable prompt
//! is labelled (`labels.json`, by its rule). Two sets by two different users: `harvest` (a
//! developer who blogs), which the extractor was developed against, and `harvest-holdout` (a
//! support engineer and analyst), written separately and held out. Precision and recall must
//! both reach 0.8 on each.

use std::{
    fs::File,
    io::{BufReader, Read},
    path::{Path, PathBuf},
};

use promptdb_core::harvest::{extract_from, transcript::Format};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if path.file_name().is_some_and(|n| n != "labels.json") {
            out.push(path);
        }
    }
}

fn normal(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[test]
fn extractor_precision_and_recall_on_the_development_set() {
    quality("harvest");
}

#[test]
fn extractor_precision_and_recall_on_the_held_out_set() {
    quality("harvest-holdout");
}

fn quality(set: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(set);
    let labels: serde_json::Value =
        serde_json::from_reader(File::open(root.join("labels.json")).unwrap()).unwrap();
    let keys: Vec<String> = labels["reusable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| normal(r["key"].as_str().unwrap()))
        .collect();
    let mut paths = Vec::new();
    files(&root, &mut paths);
    let inputs = paths.iter().map(|path| {
        let mut head = Vec::new();
        File::open(path)
            .unwrap()
            .take(4096)
            .read_to_end(&mut head)
            .unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let format = Format::detect(&name, &head).unwrap_or_else(|| panic!("{name}: format"));
        (format, BufReader::new(File::open(path).unwrap()), name)
    });
    let found = extract_from(inputs).unwrap();
    assert_eq!(
        found.read.malformed, 1,
        "the one truncated line: {:?}",
        found.read
    );

    let mut matched = vec![false; keys.len()];
    let mut true_positives = 0;
    for p in &found.proposals {
        let content = normal(&p.content);
        match keys.iter().position(|k| content.contains(k.as_str())) {
            Some(i) if !matched[i] => {
                matched[i] = true;
                true_positives += 1;
                println!("hit  {:.2} {:?}", p.score, p.content);
            }
            Some(_) => println!("DUP  {:.2} {:?}", p.score, p.content),
            None => println!("MISS {:.2} {:?} ({})", p.score, p.content, p.reason),
        }
    }
    for (k, m) in keys.iter().zip(&matched) {
        if !m {
            println!("NOT FOUND {k:?}");
        }
    }
    let precision = true_positives as f64 / found.proposals.len().max(1) as f64;
    let recall = true_positives as f64 / keys.len() as f64;
    println!(
        "{set}: {} messages, {} proposals: precision {precision:.2}, recall {recall:.2}",
        found.extract.messages,
        found.proposals.len()
    );
    assert!(precision >= 0.8, "precision {precision:.2}");
    assert!(recall >= 0.8, "recall {recall:.2}");
}
