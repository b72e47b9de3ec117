//! One public async function per behaviour; [`crate::conformance_suite!`] runs each on a fresh store.

mod changes;
mod concurrency;
mod drafts;
mod harvest;
mod isolation;
mod keys;
mod limits;
mod privacy;
mod prompts;
mod ranking;
mod releases;
mod search;
mod sessions;
mod webhooks;

pub use changes::*;
pub use concurrency::*;
pub use drafts::*;
pub use harvest::*;
pub use isolation::*;
pub use keys::*;
pub use limits::*;
pub use privacy::*;
pub use prompts::*;
pub use ranking::*;
pub use releases::*;
pub use search::*;
pub use sessions::*;
pub use webhooks::*;

use crate::{Page, PromptSummary};

/// The slugs on a page, in order.
fn slugs(page: &Page<PromptSummary>) -> Vec<String> {
    page.items.iter().map(|p| p.slug.to_string()).collect()
}
