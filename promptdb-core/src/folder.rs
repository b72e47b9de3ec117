//! Folders: the `/`-separated prefixes of slugs (`support/triage` is in `support`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::FolderCount;

/// A folder with its prompts and subfolders.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// The folder's full path (`support/billing`): the `folder` filter of lists and searches.
    pub path: String,
    /// Its last segment (`billing`).
    pub name: String,
    /// Prompts directly in it.
    pub prompts: u64,
    /// Prompts in it and every folder below.
    pub total: u64,
    /// Folders directly below it, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<Folder>,
}

/// The tree of folders from the counts of prompts directly in each. Folders that hold only
/// folders appear too (with `prompts: 0`). Folders come sorted by name at every level.
pub fn tree(counts: Vec<FolderCount>) -> Vec<Folder> {
    #[derive(Default)]
    struct Node {
        prompts: u64,
        total: u64,
        children: BTreeMap<String, Node>,
    }
    fn build(path: &str, children: BTreeMap<String, Node>) -> Vec<Folder> {
        children
            .into_iter()
            .map(|(name, node)| {
                let path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}/{name}")
                };
                Folder {
                    folders: build(&path, node.children),
                    path,
                    name,
                    prompts: node.prompts,
                    total: node.total,
                }
            })
            .collect()
    }
    let mut root = BTreeMap::<String, Node>::new();
    for FolderCount { folder, prompts } in counts {
        let mut level = &mut root;
        let mut segments = folder.split('/').peekable();
        while let Some(segment) = segments.next() {
            let node = level.entry(segment.to_owned()).or_default();
            node.total += prompts;
            if segments.peek().is_none() {
                node.prompts += prompts;
            }
            level = &mut node.children;
        }
    }
    build("", root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_become_a_tree_with_totals() {
        let c = |folder: &str, prompts| FolderCount {
            folder: folder.into(),
            prompts,
        };
        let t = tree(vec![
            c("support/billing", 2),
            c("support", 1),
            c("eng/rust/async", 4),
        ]);
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].path.as_str(), t[0].prompts, t[0].total),
            ("eng", 0, 4)
        );
        assert_eq!(t[0].folders[0].folders[0].path, "eng/rust/async");
        assert_eq!(t[0].folders[0].folders[0].prompts, 4);
        assert_eq!(
            (t[1].name.as_str(), t[1].prompts, t[1].total),
            ("support", 1, 3)
        );
        assert_eq!(t[1].folders[0].path, "support/billing");
    }
}
