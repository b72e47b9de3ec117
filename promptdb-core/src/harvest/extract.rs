//! From user messages to proposed prompts, without a model.
//!
//! 1. **Noise out.** System reminders are cut from a message; slash commands, command output,
//!    interruptions and continuation notices are dropped; so is a message whose instruction
//!    (what is left once pasted material is taken out) has fewer than three words or more than
//!    [`MAX_INSTRUCTION_CHARS`] characters.
//! 2. **Pasted material becomes a variable.** Fenced code blocks, everything after a line that
//!    ends with `:` (`Review this code:` and the code), and paragraphs that look like code or
//!    logs are the parts that change from use to use: each becomes a `{{variable}}` named after
//!    the last noun the instruction uses for it (`code`, `error`, `diff`, `text`, …; else
//!    `input`).
//! 3. **Near-identical messages are grouped.** Messages with the same instruction join one group;
//!    so do messages that share their first two words and most of their words (a word-level
//!    diff: at least four words and half the longer one's in common, or three and 60 %). Words one message
//!    replaces with others become a `{{variable}}` too (`Write a haiku about {{topic}}`), unless
//!    nearly every use had the same words (a typo is not a variable).
//! 4. **Scored.** A group's score, from 0 to 1 (kept from [`MIN_SCORE`] up):
//!
//!    | signal | points |
//!    |---|---|
//!    | used in 2 sessions or more | +0.45, +0.1 per further session (up to 3 more) |
//!    | used twice or more in one session only | +0.15 |
//!    | sets up a role (`You are…`, `Act as…`), 15 words or more | +0.5 |
//!    | structured (a list of rules or steps), 25 words or more | +0.3 |
//!    | opens with an instruction verb (`Write`, `Review`, `Summarize`, …) | +0.1 |
//!    | has variables | +0.1 |
//!    | fewer than 5 words | −0.3 |
//!    | leans on the conversation (`yes`, `continue`, `the error above`, `try again`, …) | −0.35 |
//!    | names this project's files or identifiers (`src/cart.rs`, `OrderLine`, `line_item`) | −0.2 (three or more: −0.35) |
//!    | a short question without pasted material | −0.15 |
//!
//!    Repetition across sessions counts most: it is the surest sign a user will want the prompt
//!    again. A prompt used once is proposed only when it stands on its own as a role or a
//!    structured task.
//!
//! Memory is bounded: at most [`MAX_GROUPS`] groups are kept (later messages that would start a
//! new group are counted and dropped), and a group keeps its template, a short excerpt and
//! counters. Work per message is bounded too: it is compared word by word with at most 8 groups
//! (of the 64 latest sharing its first two words, those whose words overlap enough and whose
//! length is within a factor of two), instructions over 300 words only when identical, and all
//! of it within 2 ms.

use std::{
    collections::{HashMap, hash_map::DefaultHasher},
    hash::{Hash, Hasher},
    time::Duration,
};

use similar::{Algorithm, DiffOp};

use super::transcript::UserMessage;
use crate::template;

/// A group's lowest score to be proposed.
pub const MIN_SCORE: f64 = 0.5;
/// The longest instruction (pasted material not counted) considered a prompt.
pub const MAX_INSTRUCTION_CHARS: usize = 4_000;
/// The most groups kept in memory.
pub const MAX_GROUPS: usize = 10_000;
/// How many groups sharing a message's first two words are considered for it.
const SCAN: usize = 64;
/// How many of those it is compared with word by word, at most.
const DIFFS: usize = 8;
/// Instructions longer than this (in words) are grouped only when identical.
const MAX_COMPARED_WORDS: usize = 300;
/// The longest excerpt kept of a group's first message.
const EXCERPT_CHARS: usize = 600;
/// The most distinct values remembered per variable.
const MAX_VALUES: usize = 8;
/// The most time spent comparing one message with the groups it might join.
const DIFF_DEADLINE: Duration = Duration::from_millis(2);

/// A prompt the extractor proposes.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// A name made from the instruction's first words.
    pub name: String,
    /// The template: the instruction, with `{{variables}}` for what changes.
    pub content: String,
    /// Where it was found, in a sentence.
    pub description: String,
    /// Why it is proposed: the signals that scored.
    pub reason: String,
    /// The start of the first message it came from.
    pub excerpt: String,
    /// The score, 0 to 1.
    pub score: f64,
    /// Messages in its group.
    pub occurrences: u32,
    /// Distinct sessions those came from.
    pub sessions: u32,
}

/// What the extractor saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ExtractStats {
    /// User messages considered.
    pub messages: u64,
    /// Of those, dropped as noise (commands, reminders, replies too short to be prompts,
    /// documents too long to be).
    pub noise: u64,
    /// Of those, dropped because [`MAX_GROUPS`] groups were already kept.
    pub dropped: u64,
    /// Groups formed.
    pub groups: u64,
}

#[derive(Debug, Clone)]
enum Piece {
    Word { text: String, key: u64, sep: Sep },
    Payload { name: &'static str, sep: Sep },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    None,
    Space,
    Line,
    Paragraph,
}

impl Sep {
    fn as_str(self) -> &'static str {
        match self {
            Self::None => "",
            Self::Space => " ",
            Self::Line => "\n",
            Self::Paragraph => "\n\n",
        }
    }
}

#[derive(Debug, Clone)]
enum Slot {
    Word { text: String, key: u64, sep: Sep },
    Var { var: usize, sep: Sep },
}

#[derive(Debug, Clone)]
struct Var {
    name: &'static str,
    payload: bool,
    values: Vec<(String, u32)>,
    overflow: u32,
}

impl Var {
    fn count(&mut self, value: String, n: u32) {
        if let Some(v) = self.values.iter_mut().find(|(s, _)| *s == value) {
            v.1 += n;
        } else if self.values.len() < MAX_VALUES {
            self.values.push((value, n));
        } else {
            self.overflow += n;
        }
    }
}

#[derive(Debug, Clone)]
struct Group {
    slots: Vec<Slot>,
    vars: Vec<Var>,
    keyset: Vec<u64>,
    occurrences: u32,
    sessions: Vec<u64>,
    excerpt: String,
}

/// Groups and scores user messages as they stream in; [`Harvester::finish`] proposes prompts.
#[derive(Debug, Default)]
pub struct Harvester {
    groups: Vec<Group>,
    exact: HashMap<u64, usize>,
    buckets: HashMap<u64, Vec<usize>>,
    stats: ExtractStats,
    /// Time left for word-level comparisons; `None`: no limit.
    budget: Option<Duration>,
    /// The most groups kept; 0 means [`MAX_GROUPS`].
    max_groups: usize,
}

fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

impl Harvester {
    /// An empty harvester.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty harvester that spends at most `budget` comparing messages word by word (once it
    /// is spent, only identical instructions are grouped) and keeps at most `max_groups` groups
    /// (at most [`MAX_GROUPS`]): a server bounds its work and memory per upload this way.
    pub fn with_limits(budget: Duration, max_groups: usize) -> Self {
        Self {
            budget: Some(budget),
            max_groups: max_groups.min(MAX_GROUPS),
            ..Self::default()
        }
    }

    /// What it has seen so far.
    pub fn stats(&self) -> ExtractStats {
        ExtractStats {
            groups: self.groups.len() as u64,
            ..self.stats
        }
    }

    /// Takes in one user message.
    pub fn add(&mut self, message: &UserMessage) {
        self.stats.messages += 1;
        let Some(pieces) = clean(&message.text).and_then(|t| pieces(&t)) else {
            self.stats.noise += 1;
            return;
        };
        let session = hash(&message.session);
        let keys: Vec<u64> = pieces.iter().map(piece_key).collect();
        let exact = hash(&keys);
        if let Some(&g) = self.exact.get(&exact) {
            self.join_exact(g, &pieces, session);
            return;
        }
        let bucket = hash(&keys[..keys.len().min(2)]);
        let keyset = keyset(&pieces);
        let candidates: Vec<usize> = self
            .buckets
            .get(&bucket)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .rev()
            .take(SCAN)
            .copied()
            .collect();
        // Near matches: long instructions (used verbatim, as role prompts are) and a spent budget
        // skip them; at most DIFFS comparisons per message, all within one deadline.
        let comparable =
            pieces.len() <= MAX_COMPARED_WORDS && self.budget.is_none_or(|b| !b.is_zero());
        if comparable {
            let started = std::time::Instant::now();
            let deadline = started + DIFF_DEADLINE;
            let mut diffs = 0;
            let mut joined_to = None;
            for g in candidates {
                let group = &self.groups[g];
                if group.slots.len() > MAX_COMPARED_WORDS
                    || group.slots.len() > 2 * pieces.len()
                    || pieces.len() > 2 * group.slots.len()
                    || jaccard(&group.keyset, &keyset) < 0.3
                {
                    continue;
                }
                if diffs == DIFFS || std::time::Instant::now() >= deadline {
                    break;
                }
                diffs += 1;
                if self.join_near(g, &pieces, session, deadline) {
                    joined_to = Some(g);
                    break;
                }
            }
            if let Some(b) = &mut self.budget {
                *b = b.saturating_sub(started.elapsed());
            }
            if let Some(g) = joined_to {
                self.exact.insert(exact, g);
                return;
            }
        }
        let max = if self.max_groups == 0 {
            MAX_GROUPS
        } else {
            self.max_groups
        };
        if self.groups.len() >= max {
            self.stats.dropped += 1;
            return;
        }
        let g = self.groups.len();
        self.groups
            .push(Group::new(&pieces, keyset, session, &message.text));
        self.exact.insert(exact, g);
        self.buckets.entry(bucket).or_default().push(g);
    }

    fn join_exact(&mut self, g: usize, pieces: &[Piece], session: u64) {
        let group = &mut self.groups[g];
        group.occurrences += 1;
        group.add_session(session);
        // Same words: every variable takes the same text as its slot's words here.
        for (i, slot) in group.slots.iter().enumerate() {
            if let Slot::Var { var, .. } = slot
                && let Some(Piece::Word { text, .. }) = pieces.get(i)
            {
                let value = text.clone();
                group.vars[*var].count(value, 1);
            }
        }
    }

    /// Joins `pieces` to group `g` if they are near enough; `false` if not.
    fn join_near(
        &mut self,
        g: usize,
        pieces: &[Piece],
        session: u64,
        deadline: std::time::Instant,
    ) -> bool {
        let group = &mut self.groups[g];
        let old: Vec<u64> = group.slots.iter().map(slot_key).collect();
        let new: Vec<u64> = pieces.iter().map(piece_key).collect();
        let ops =
            similar::capture_diff_slices_deadline(Algorithm::Myers, &old, &new, Some(deadline));
        let equal: usize = ops
            .iter()
            .map(|op| match op {
                DiffOp::Equal { len, .. } => *len,
                _ => 0,
            })
            .sum();
        let longer = old.len().max(new.len()) as f64;
        let near = (equal >= 4 && equal as f64 >= 0.5 * longer)
            || (equal >= 3 && equal as f64 >= 0.6 * longer);
        if !near {
            return false;
        }
        let before = group.occurrences;
        let mut slots = Vec::with_capacity(group.slots.len());
        for op in &ops {
            match *op {
                DiffOp::Equal { old_index, len, .. }
                | DiffOp::Delete {
                    old_index,
                    old_len: len,
                    ..
                } => {
                    slots.extend_from_slice(&group.slots[old_index..old_index + len]);
                }
                DiffOp::Insert { .. } => {}
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    let old_range = &group.slots[old_index..old_index + old_len];
                    let new_text = words_text(&pieces[new_index..new_index + new_len]);
                    let sep = match old_range.last() {
                        Some(Slot::Word { sep, .. } | Slot::Var { sep, .. }) => *sep,
                        None => Sep::Space,
                    };
                    let existing = old_range.iter().find_map(|s| match s {
                        Slot::Var { var, .. } => Some(*var),
                        Slot::Word { .. } => None,
                    });
                    let var = match existing {
                        Some(v) => v,
                        None => {
                            let old_text = slots_text(old_range);
                            let name = span_name(slots.last());
                            group.vars.push(Var {
                                name,
                                payload: false,
                                values: vec![(old_text, before)],
                                overflow: 0,
                            });
                            group.vars.len() - 1
                        }
                    };
                    if let Some(text) = new_text {
                        group.vars[var].count(text, 1);
                    }
                    slots.push(Slot::Var { var, sep });
                }
            }
        }
        group.slots = slots;
        group.keyset = slots_keyset(&group.slots);
        group.occurrences += 1;
        group.add_session(session);
        true
    }

    /// The groups worth proposing, best first.
    pub fn finish(self) -> Vec<Proposal> {
        let mut out: Vec<Proposal> = self
            .groups
            .into_iter()
            .filter_map(|g| g.propose())
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.occurrences.cmp(&a.occurrences))
                .then_with(|| a.content.cmp(&b.content))
        });
        out
    }
}

impl Group {
    fn new(pieces: &[Piece], keyset: Vec<u64>, session: u64, raw: &str) -> Self {
        let mut vars = Vec::new();
        let slots = pieces
            .iter()
            .map(|p| match p {
                Piece::Word { text, key, sep } => Slot::Word {
                    text: text.clone(),
                    key: *key,
                    sep: *sep,
                },
                Piece::Payload { name, sep } => {
                    vars.push(Var {
                        name,
                        payload: true,
                        values: Vec::new(),
                        overflow: 0,
                    });
                    Slot::Var {
                        var: vars.len() - 1,
                        sep: *sep,
                    }
                }
            })
            .collect();
        Self {
            slots,
            vars,
            keyset,
            occurrences: 1,
            sessions: vec![session],
            excerpt: excerpt(raw),
        }
    }

    fn add_session(&mut self, session: u64) {
        if self.sessions.len() < 64 && !self.sessions.contains(&session) {
            self.sessions.push(session);
        }
    }

    /// The template: words, and `{{name}}` for each variable (a variable nearly every use
    /// filled the same way is that text instead).
    fn template(&self) -> (String, usize) {
        let collapsed: Vec<Option<&str>> = self
            .vars
            .iter()
            .map(|v| {
                let total: u32 = v.values.iter().map(|(_, n)| n).sum::<u32>() + v.overflow;
                let top = v.values.iter().max_by_key(|(_, n)| *n);
                match top {
                    Some((text, n))
                        if !v.payload
                            && v.overflow == 0
                            && v.values.len() <= 2
                            && total >= 3
                            && f64::from(*n) >= 0.6 * f64::from(total) =>
                    {
                        Some(text.as_str())
                    }
                    _ => None,
                }
            })
            .collect();
        let mut names: Vec<String> = Vec::new();
        let mut name_of = vec![String::new(); self.vars.len()];
        for (i, v) in self.vars.iter().enumerate() {
            if collapsed[i].is_some() {
                continue;
            }
            let mut name = v.name.to_owned();
            let mut n = 2;
            while names.contains(&name) {
                name = format!("{}_{n}", v.name);
                n += 1;
            }
            names.push(name.clone());
            name_of[i] = name;
        }
        let mut out = String::new();
        let mut last_var: Option<usize> = None;
        for slot in &self.slots {
            match slot {
                Slot::Word { text, sep, .. } => {
                    out.push_str(&template::escape(text));
                    out.push_str(sep.as_str());
                    last_var = None;
                }
                Slot::Var { var, sep } => {
                    if let Some(text) = collapsed[*var] {
                        out.push_str(&template::escape(text));
                    } else if last_var == Some(*var) {
                        // The same variable twice in a row (a merged span): once is enough.
                        trim_end_in_place(&mut out);
                    } else {
                        out.push_str("{{");
                        out.push_str(&name_of[*var]);
                        out.push_str("}}");
                    }
                    out.push_str(sep.as_str());
                    last_var = Some(*var);
                }
            }
        }
        (out.trim().to_owned(), names.len())
    }

    /// The words, as they compare (lower-cased, punctuation trimmed).
    fn words(&self) -> Vec<String> {
        self.slots
            .iter()
            .filter_map(|s| match s {
                Slot::Word { text, .. } => Some(normal_word(text)),
                Slot::Var { .. } => None,
            })
            .collect()
    }

    fn propose(&self) -> Option<Proposal> {
        let (content, vars) = self.template();
        if vars > crate::validate::MAX_VARIABLES {
            return None;
        }
        let owned = self.words();
        let words: Vec<&str> = owned.iter().map(String::as_str).collect();
        let text: String = words.join(" ");
        let sessions = u32::try_from(self.sessions.len()).unwrap_or(u32::MAX);
        let mut score = 0.0;
        let mut why: Vec<String> = Vec::new();
        if sessions >= 2 {
            score += 0.45 + 0.1 * f64::from((sessions - 2).min(3));
            why.push(format!("used in {sessions} sessions"));
        } else if self.occurrences >= 2 {
            score += 0.15;
            why.push(format!("used {} times in one session", self.occurrences));
        }
        let lead = strip_politeness(&words);
        if is_role(lead) && words.len() >= 15 {
            score += 0.5;
            why.push("sets up a role".to_owned());
        } else if sets_up_inputs(&text) && words.len() >= 15 {
            score += 0.5;
            why.push("says how to handle what the user will paste".to_owned());
        }
        if is_structured(&content) && words.len() >= 25 {
            score += 0.3;
            why.push("a structured task (rules or steps)".to_owned());
        }
        if lead.first().is_some_and(|w| VERBS.contains(&trim_punct(w))) {
            score += 0.1;
            why.push("opens with an instruction".to_owned());
        }
        if vars > 0 {
            score += 0.1;
            why.push(format!(
                "{vars} part{} that change{} from use to use",
                if vars == 1 { "" } else { "s" },
                if vars == 1 { "s" } else { "" }
            ));
        }
        if self.slots.len() < 5 {
            score -= 0.3;
        }
        if leans_on_conversation(&words, &text) {
            score -= 0.35;
        }
        match self
            .slots
            .iter()
            .filter(|s| matches!(s, Slot::Word { text, .. } if is_project_specific(text)))
            .count()
        {
            0 => {}
            1 | 2 => score -= 0.2,
            _ => score -= 0.35,
        }
        if vars == 0 && words.len() < 15 && content.ends_with('?') {
            score -= 0.15;
        }
        let score: f64 = (score.clamp(0.0, 1.0) * 100.0).round() / 100.0;
        if score < MIN_SCORE || content.is_empty() {
            return None;
        }
        let mut reason = why.join("; ");
        if let Some(first) = reason.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        reason.push('.');
        Some(Proposal {
            name: name_from(&self.slots),
            description: format!(
                "Typed {} time{} in {} session{}.",
                self.occurrences,
                if self.occurrences == 1 { "" } else { "s" },
                sessions,
                if sessions == 1 { "" } else { "s" },
            ),
            content,
            reason,
            excerpt: self.excerpt.clone(),
            score,
            occurrences: self.occurrences,
            sessions,
        })
    }
}

fn trim_end_in_place(s: &mut String) {
    let len = s.trim_end().len();
    s.truncate(len);
}

/// The key of pasted material and of variables (no word hashes to it in practice).
const VAR_KEY: u64 = 0x5041_594c_4f41_4400;

fn piece_key(p: &Piece) -> u64 {
    match p {
        Piece::Word { key, .. } => *key,
        Piece::Payload { .. } => VAR_KEY,
    }
}

fn slot_key(s: &Slot) -> u64 {
    match s {
        Slot::Word { key, .. } => *key,
        Slot::Var { .. } => VAR_KEY,
    }
}

fn keyset(pieces: &[Piece]) -> Vec<u64> {
    let mut k: Vec<u64> = pieces.iter().map(piece_key).collect();
    k.sort_unstable();
    k.dedup();
    k
}

fn slots_keyset(slots: &[Slot]) -> Vec<u64> {
    let mut k: Vec<u64> = slots.iter().map(slot_key).collect();
    k.sort_unstable();
    k.dedup();
    k
}

fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    }
}

fn words_text(pieces: &[Piece]) -> Option<String> {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Word { text, sep, .. } => {
                out.push_str(text);
                out.push_str(sep.as_str());
            }
            Piece::Payload { .. } => return None,
        }
    }
    Some(out.trim().to_owned())
}

fn slots_text(slots: &[Slot]) -> String {
    let mut out = String::new();
    for s in slots {
        if let Slot::Word { text, sep, .. } = s {
            out.push_str(text);
            out.push_str(sep.as_str());
        }
    }
    out.trim().to_owned()
}

/// A name for words that change, from the word before them.
fn span_name(before: Option<&Slot>) -> &'static str {
    match before {
        Some(Slot::Word { text, .. }) => match normal_word(text).as_str() {
            "about" | "on" => "topic",
            "to" | "into" => "target",
            "in" => "language",
            "for" => "audience",
            _ => "value",
        },
        _ => "value",
    }
}

/// The text without control characters (terminal colour codes in pasted output, stray NULs),
/// which no prompt field accepts; line breaks and tabs stay.
fn printable(text: &str) -> String {
    text.chars()
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect()
}

fn excerpt(raw: &str) -> String {
    let raw = printable(raw);
    let raw = raw.trim();
    match raw.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &raw[..end]),
        None => raw.to_owned(),
    }
}

/// Removes what is not the user's own typing; `None` when nothing of it is.
fn clean(text: &str) -> Option<String> {
    let mut s = printable(text);
    while let Some(start) = s.find("<system-reminder>") {
        match s[start..].find("</system-reminder>") {
            Some(end) => s.replace_range(start..start + end + "</system-reminder>".len(), ""),
            None => s.truncate(start),
        }
    }
    let t = s.trim();
    const NOT_TYPED: &[&str] = &[
        "<command-name>",
        "<command-message>",
        "<command-args>",
        "<local-command-stdout>",
        "<local-command-stderr>",
        "<bash-input>",
        "<bash-stdout>",
        "<bash-stderr>",
        "<user-prompt-submit-hook>",
        "Caveat: The messages below were generated",
        "[Request interrupted by user",
        "This session is being continued from a previous conversation",
    ];
    if t.is_empty() || NOT_TYPED.iter().any(|p| t.starts_with(p)) {
        return None;
    }
    if t.starts_with('/') && !t.contains('\n') && t.split_whitespace().count() <= 3 {
        return None;
    }
    Some(t.to_owned())
}

/// What pasted material is called, by the last of these words the instruction uses before it.
const PAYLOAD_NAMES: &[(&str, &str)] = &[
    ("stack trace", "error"),
    ("traceback", "error"),
    ("error", "error"),
    ("panic", "error"),
    ("exception", "error"),
    ("log", "log"),
    ("logs", "log"),
    ("output", "output"),
    ("diff", "diff"),
    ("patch", "diff"),
    ("function", "code"),
    ("code", "code"),
    ("snippet", "code"),
    ("script", "code"),
    ("query", "query"),
    ("sql", "query"),
    ("json", "data"),
    ("csv", "data"),
    ("data", "data"),
    ("email", "email"),
    ("paragraph", "text"),
    ("text", "text"),
    ("article", "text"),
    ("essay", "text"),
    ("post", "text"),
    ("draft", "text"),
    ("passage", "text"),
    ("document", "text"),
    ("notes", "notes"),
    ("regex", "regex"),
    ("body", "text"),
    ("thread", "thread"),
    ("transcript", "transcript"),
];

fn payload_name(instruction_before: &str, fenced: bool) -> &'static str {
    let lower = instruction_before.to_lowercase();
    // What the instruction points at ("this function", "the following text") names it best.
    let mut pointed: Option<(usize, &'static str)> = None;
    for det in ["this ", "these ", "the following ", "my ", "the "] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(det) {
            let at = from + i + det.len();
            let bounded = from + i == 0 || !lower.as_bytes()[from + i - 1].is_ascii_alphanumeric();
            if bounded {
                // The noun is one of the next three words.
                let window: String = lower[at..]
                    .split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ");
                if let Some((_, name)) = PAYLOAD_NAMES.iter().find(|(w, _)| {
                    window
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|x| x == *w || x.strip_suffix('s') == Some(w))
                        || (w.contains(' ') && window.contains(w))
                }) && pointed.is_none_or(|(b, _)| at >= b)
                    && det != "the "
                {
                    pointed = Some((at, name));
                }
            }
            from = at;
        }
    }
    if let Some((_, name)) = pointed {
        return name;
    }
    let mut best: Option<(usize, &'static str)> = None;
    for (word, name) in PAYLOAD_NAMES {
        let mut from = 0;
        while let Some(i) = lower[from..].find(word) {
            let at = from + i;
            let end = at + word.len();
            let bounded_before = at == 0 || !lower.as_bytes()[at - 1].is_ascii_alphanumeric();
            let bounded_after = end == lower.len()
                || !lower.as_bytes()[end].is_ascii_alphanumeric()
                || lower.as_bytes()[end] == b's';
            if bounded_before && bounded_after && best.is_none_or(|(b, _)| at >= b) {
                best = Some((at, name));
            }
            from = end;
        }
    }
    best.map_or(if fenced { "code" } else { "input" }, |(_, n)| n)
}

fn looks_like_code_line(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    if is_list_item(line) && !line.starts_with("    ") {
        return false;
    }
    let indented = line.starts_with("    ") || line.starts_with('\t');
    let symbols = t.contains(['{', '}', '[', ']', ';', '=', '<', '>', '(']);
    let ends = t.ends_with([';', '{', '}', '(', '[', ']']) || (t.ends_with([',', ')']) && symbols);
    const STARTS: &[&str] = &[
        "fn ",
        "def ",
        "let ",
        "const ",
        "import ",
        "#include",
        "</",
        "return ",
        "pub ",
        "class ",
        "func ",
        "var ",
        "at ",
        "Traceback",
        "error[",
        "File \"",
        "use ",
        "#!",
        "@",
    ];
    const ANYWHERE: &[&str] = &["=>", "->", "::", " = ", "panicked at", "();", "){", "</"];
    let marked = STARTS.iter().any(|m| t.starts_with(m)) || ANYWHERE.iter().any(|m| t.contains(m));
    let timestamp =
        t.len() > 10 && t.as_bytes()[..4].iter().all(u8::is_ascii_digit) && t.as_bytes()[4] == b'-';
    indented || ends || marked || timestamp
}

fn looks_like_code(lines: &[&str]) -> bool {
    let non_empty: Vec<&&str> = lines.iter().filter(|l| !l.trim().is_empty()).collect();
    if non_empty.is_empty() {
        return false;
    }
    let code = non_empty.iter().filter(|l| looks_like_code_line(l)).count();
    (non_empty.len() >= 2 && code * 2 >= non_empty.len())
        || (non_empty.len() == 1 && code == 1 && non_empty[0].len() > 120)
}

/// The message as instruction words and payload markers; `None` when it is not a prompt.
fn pieces(text: &str) -> Option<Vec<Piece>> {
    // Lines of the instruction, with `None` standing for a stretch of pasted material.
    let mut lines: Vec<Option<&str>> = Vec::new();
    let mut fenced: Vec<bool> = Vec::new();
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(f) = fence {
            if t.starts_with(f) {
                fence = None;
            }
            continue;
        }
        if t.starts_with("```") || t.starts_with("~~~") {
            fence = Some(&t[..3]);
            lines.push(None);
            fenced.push(true);
            continue;
        }
        lines.push(Some(line));
        fenced.push(false);
    }
    // An opening that points at something ("Summarize this thread …", "Classify the following
    // tickets …") followed by more than a line of something else: that is the thing pointed at.
    // The opening is the first paragraph, or the first line when it ends a sentence.
    if !lines.iter().any(Option::is_none) {
        let blank = lines
            .iter()
            .position(|l| l.is_some_and(|l| l.trim().is_empty()));
        let first_sentence = lines
            .first()
            .copied()
            .flatten()
            .is_some_and(|l| l.trim_end().ends_with(['.', '!', '?']));
        let cut = match blank {
            Some(b) => Some(b),
            None if first_sentence && lines.len() > 1 => Some(1),
            None => None,
        };
        if let Some(cut) = cut {
            let head: String = lines[..cut]
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            let rest: usize = lines[cut..].iter().flatten().map(|l| l.trim().len()).sum();
            let lower = format!(" {} ", head.to_lowercase());
            let points = [
                " this ",
                " these ",
                " the following ",
                " below",
                " here's ",
                " here is ",
            ]
            .iter()
            .any(|d| lower.contains(d));
            let rest_goes_on = lines[cut..]
                .iter()
                .flatten()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| is_list_item(l) || l.trim_end().ends_with(':') || continues(l));
            if points && rest >= 40 && !rest_goes_on {
                lines.truncate(cut);
                fenced.truncate(cut);
                lines.push(None);
                fenced.push(false);
            }
        }
    }
    // Everything after an early line that ends with a colon is the material it introduces.
    let mut seen = 0;
    for i in 0..lines.len() {
        let Some(line) = lines[i] else { continue };
        if line.trim().is_empty() {
            continue;
        }
        seen += 1;
        if seen > 6 {
            break;
        }
        let next = lines[i + 1..]
            .iter()
            .find(|l| l.is_none_or(|l| !l.trim().is_empty()));
        let introduces = match next {
            // A list after the colon is the instruction's own (rules, steps), not material.
            Some(Some(l)) => !is_list_item(l),
            Some(None) => true,
            None => false,
        };
        if line.trim_end().ends_with(':') && introduces {
            let any_fenced = fenced[i + 1..].iter().any(|f| *f);
            lines.truncate(i + 1);
            fenced.truncate(i + 1);
            lines.push(None);
            fenced.push(any_fenced);
            break;
        }
    }
    // Paragraphs that look like code or logs are pasted too.
    let mut out_lines: Vec<Option<&str>> = Vec::new();
    let mut out_fenced: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        match lines[i] {
            None => {
                out_lines.push(None);
                out_fenced.push(fenced[i]);
                i += 1;
            }
            Some(_) => {
                let start = i;
                while i < lines.len() && lines[i].is_some_and(|l| !l.trim().is_empty()) {
                    i += 1;
                }
                let para: Vec<&str> = lines[start..i].iter().map(|l| l.unwrap_or("")).collect();
                if looks_like_code(&para) {
                    out_lines.push(None);
                    out_fenced.push(false);
                } else {
                    out_lines.extend(lines[start..i].iter().copied());
                    out_fenced.extend(std::iter::repeat_n(false, i - start));
                }
                while i < lines.len() && lines[i].is_some_and(|l| l.trim().is_empty()) {
                    out_lines.push(lines[i]);
                    out_fenced.push(false);
                    i += 1;
                }
            }
        }
    }
    // Tokens.
    let mut pieces: Vec<Piece> = Vec::new();
    let mut instruction = String::new();
    let mut blank_run = 0;
    for (line, fenced) in out_lines.iter().zip(out_fenced) {
        let sep_before = if blank_run > 0 {
            Sep::Paragraph
        } else {
            Sep::Line
        };
        match line {
            None => {
                if matches!(pieces.last(), Some(Piece::Payload { .. })) {
                    continue;
                }
                set_last_sep(&mut pieces, sep_before);
                pieces.push(Piece::Payload {
                    name: payload_name(&instruction, fenced),
                    sep: Sep::Line,
                });
                blank_run = 0;
            }
            Some(l) if l.trim().is_empty() => blank_run += 1,
            Some(l) => {
                set_last_sep(&mut pieces, sep_before);
                blank_run = 0;
                for w in l.split_whitespace() {
                    instruction.push_str(w);
                    instruction.push(' ');
                    pieces.push(Piece::Word {
                        text: w.to_owned(),
                        key: word_key(w),
                        sep: Sep::Space,
                    });
                }
            }
        }
    }
    set_last_sep(&mut pieces, Sep::None);
    let words = pieces
        .iter()
        .filter(|p| matches!(p, Piece::Word { .. }))
        .count();
    if words < 3 || instruction.chars().count() > MAX_INSTRUCTION_CHARS {
        return None;
    }
    Some(pieces)
}

/// A line that goes on instructing ("Keep it short.", "Use British spelling.").
fn continues(line: &str) -> bool {
    const STARTS: &[&str] = &[
        "keep", "use", "don't", "do", "make", "avoid", "always", "never", "be", "output", "return",
        "format", "include", "add", "write", "explain", "list", "only", "then", "and", "also",
        "please", "answer", "reply", "respond", "focus", "ignore", "assume", "end", "start",
        "give", "mark", "rate", "sort", "group",
    ];
    let first = line.split_whitespace().next().unwrap_or("").to_lowercase();
    STARTS.contains(&trim_punct(&first))
}

fn is_list_item(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("- ")
        || t.starts_with("* ")
        || t.split_once(['.', ')']).is_some_and(|(n, _)| {
            !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit())
        })
}

/// How words compare: lower-cased, without the punctuation around them (`is.` and `is:` are the
/// same word); kept as a hash, so a group holds each word once.
fn word_key(w: &str) -> u64 {
    hash(&normal_word(w))
}

fn normal_word(w: &str) -> String {
    let trimmed = w.trim_matches(|c: char| c.is_ascii_punctuation() && c != '{' && c != '}');
    if trimmed.is_empty() {
        w.to_owned()
    } else {
        trimmed.to_lowercase()
    }
}

fn set_last_sep(pieces: &mut [Piece], sep: Sep) {
    if let Some(Piece::Word { sep: s, .. } | Piece::Payload { sep: s, .. }) = pieces.last_mut() {
        *s = sep;
    }
}

fn trim_punct(w: &str) -> &str {
    w.trim_matches(|c: char| !c.is_alphanumeric())
}

fn strip_politeness<'a, 'b>(words: &'b [&'a str]) -> &'b [&'a str] {
    let mut w = words;
    loop {
        match w {
            [first, rest @ ..]
                if matches!(trim_punct(first), "please" | "hey" | "hi" | "ok" | "okay") =>
            {
                w = rest
            }
            [a, b, rest @ ..]
                if matches!(trim_punct(a), "can" | "could" | "would" | "will")
                    && trim_punct(b) == "you" =>
            {
                w = rest
            }
            _ => return w,
        }
    }
}

fn is_role(words: &[&str]) -> bool {
    let first: Vec<&str> = words.iter().take(5).map(|w| trim_punct(w)).collect();
    matches!(
        first.as_slice(),
        ["you", "are", ..]
            | ["you're", ..]
            | ["act", "as", ..]
            | ["i", "want", "you", "to", "act", ..]
            | ["pretend", "you", ..]
            | ["imagine", "you", ..]
            | ["your", "role", ..]
            | ["your", "task", ..]
            | ["from", "now", "on", ..]
    )
}

/// A set-up for inputs to come ("I'll paste a formula …", "For every draft I paste …").
fn sets_up_inputs(text: &str) -> bool {
    const MARKS: &[&str] = &[
        "i'll paste",
        "i will paste",
        "i'll give you",
        "i will give you",
        "i'll send you",
        "i will send you",
        "when i paste",
        "when i send",
        "when i give you",
        "every time i",
        "each time i",
        "for every",
        "for each",
    ];
    MARKS.iter().any(|m| text.contains(m))
}

fn is_structured(content: &str) -> bool {
    let items = content
        .lines()
        .map(str::trim_start)
        .filter(|l| {
            l.starts_with("- ")
                || l.starts_with("* ")
                || l.split_once(['.', ')']).is_some_and(|(n, _)| {
                    !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit())
                })
        })
        .count();
    const HEADS: &[&str] = &[
        "rules:",
        "requirements:",
        "constraints:",
        "format:",
        "output format:",
        "steps:",
        "guidelines:",
        "instructions:",
    ];
    items >= 2
        || content
            .lines()
            .any(|l| HEADS.contains(&l.trim().to_lowercase().as_str()))
}

const VERBS: &[&str] = &[
    "write",
    "review",
    "explain",
    "summarize",
    "summarise",
    "translate",
    "refactor",
    "rewrite",
    "generate",
    "create",
    "draft",
    "convert",
    "find",
    "list",
    "give",
    "suggest",
    "analyze",
    "analyse",
    "check",
    "improve",
    "proofread",
    "edit",
    "compose",
    "outline",
    "brainstorm",
    "describe",
    "compare",
    "critique",
    "optimize",
    "optimise",
    "document",
    "design",
    "plan",
    "make",
    "turn",
    "extract",
    "classify",
    "identify",
    "evaluate",
    "simplify",
    "shorten",
    "expand",
    "polish",
    "format",
    "produce",
    "propose",
    "tell",
    "teach",
    "debug",
    "audit",
    "rate",
    "prepare",
    "build",
    "fix",
    "add",
    "help",
    "answer",
    "reply",
    "respond",
    "recommend",
    "name",
];

const LEANING_STARTS: &[&str] = &[
    "yes", "yeah", "yep", "no", "nope", "ok", "okay", "thanks", "thank", "continue", "go", "now",
    "also", "again", "same", "and", "but", "so", "then", "great", "perfect", "hmm", "cool", "nice",
    "sure", "wait", "actually", "still", "that", "it", "lgtm", "looks", "good",
];

const LEANING_PHRASES: &[&str] = &[
    " above",
    " earlier",
    " previous ",
    " you just ",
    " that error",
    " the error you",
    " same thing",
    " same for ",
    " the other one",
    " the other function",
    " try again",
    " as before",
    " like before",
    " it still ",
    " still fail",
    " doesn't work",
    " didn't work",
    " not working",
    " you said",
    " you wrote",
    " your last ",
    " last answer",
    " go ahead",
    " do it",
    " that one",
    " this one",
    " those ",
    " that file",
    " that function",
    " that test",
    " the failing test",
    " the tests pass",
    " what you did",
    " undo ",
];

fn leans_on_conversation(words: &[&str], text: &str) -> bool {
    let lead = strip_politeness(words);
    if lead
        .first()
        .is_some_and(|w| LEANING_STARTS.contains(&trim_punct(w)))
    {
        return true;
    }
    let padded = format!(" {text} ");
    LEANING_PHRASES.iter().any(|p| padded.contains(p))
}

const COMMON_CAMEL: &[&str] = &[
    "javascript",
    "typescript",
    "postgresql",
    "github",
    "gitlab",
    "macos",
    "ios",
    "iphone",
    "ipad",
    "openai",
    "chatgpt",
    "youtube",
    "linkedin",
    "wordpress",
    "graphql",
    "nodejs",
    "powershell",
    "mysql",
    "sqlite",
    "fastapi",
    "vscode",
    "devops",
    "mongodb",
    "onedrive",
    "sharepoint",
    "powerpoint",
    "paypal",
    "tiktok",
    "webassembly",
    "pytorch",
    "tensorflow",
];

const EXTENSIONS: &[&str] = &[
    ".rs", ".py", ".ts", ".tsx", ".js", ".jsx", ".go", ".toml", ".json", ".yaml", ".yml", ".md",
    ".sql", ".sh", ".css", ".html", ".java", ".kt", ".c", ".h", ".cpp", ".rb", ".php", ".swift",
    ".lock", ".txt", ".env",
];

/// A word that names something of the user's project: a path, a file, an identifier.
fn is_project_specific(word: &str) -> bool {
    let w = word.trim_matches(|c: char| {
        matches!(
            c,
            ',' | '.' | ';' | ':' | '!' | '?' | '(' | ')' | '"' | '\''
        )
    });
    if w.len() < 3 {
        return false;
    }
    if w.starts_with('`') && w.ends_with('`') && w.len() > 2 {
        return true;
    }
    let lower = w.to_lowercase();
    if (w.contains('/') && (w.contains('.') || lower.starts_with("src") || w.ends_with('/')))
        || EXTENSIONS
            .iter()
            .any(|e| lower.ends_with(e) && lower.len() > e.len())
    {
        return true;
    }
    let letters = w.trim_matches(|c: char| !c.is_alphanumeric());
    if letters.contains('_') && letters.chars().any(char::is_alphabetic) {
        return true;
    }
    let chars: Vec<char> = letters.chars().collect();
    let camel = chars
        .windows(2)
        .skip(1)
        .any(|p| p[0].is_lowercase() && p[1].is_uppercase());
    camel && !COMMON_CAMEL.contains(&lower.as_str())
}

fn name_from(slots: &[Slot]) -> String {
    let mut words: Vec<&str> = Vec::new();
    for s in slots {
        match s {
            Slot::Word { text, sep, .. } => {
                let stop = text.ends_with([':', '.', '?', '!']);
                words.push(text.trim_end_matches([':', '.', '?', '!', ',', ';']));
                if stop || *sep == Sep::Line || *sep == Sep::Paragraph {
                    break;
                }
            }
            Slot::Var { .. } => break,
        }
    }
    let mut lead: &[&str] = &words;
    loop {
        match lead {
            [first, rest @ ..]
                if matches!(first.to_lowercase().as_str(), "please" | "hey" | "hi") =>
            {
                lead = rest
            }
            [a, b, rest @ ..]
                if matches!(a.to_lowercase().as_str(), "can" | "could" | "would")
                    && b.eq_ignore_ascii_case("you") =>
            {
                lead = rest
            }
            _ => break,
        }
    }
    let mut name = String::new();
    for w in lead {
        if !name.is_empty() && name.chars().count() + w.chars().count() + 1 > 60 {
            break;
        }
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(w);
    }
    let name = name.trim().trim_end_matches([',', ';', '-']).to_owned();
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Harvested prompt".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(session: &str, text: &str) -> UserMessage {
        UserMessage {
            session: session.into(),
            text: text.into(),
        }
    }

    fn harvest(messages: &[UserMessage]) -> Vec<Proposal> {
        let mut h = Harvester::new();
        for m in messages {
            h.add(m);
        }
        h.finish()
    }

    #[test]
    fn pasted_code_becomes_a_variable_named_for_it() {
        let codes = [
            "fn a<'x>(v: &'x str) -> &'x str {\n    v\n}",
            "struct S<'a> {\n    r: &'a mut Vec<u8>,\n}",
            "impl<'a> Iterator for It<'a> {\n    type Item = &'a u8;\n}",
            "let r;\n{\n    let x = 5;\n    r = &x;\n}",
            "fn longest(x: &str, y: &str) -> &str {\n    x\n}",
        ];
        let messages: Vec<_> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                msg(
                    &format!("s{}", i % 4),
                    &format!("Review this Rust code for lifetime bugs:\n{c}"),
                )
            })
            .collect();
        let out = harvest(&messages);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(
            out[0].content,
            "Review this Rust code for lifetime bugs:\n{{code}}"
        );
        assert_eq!(out[0].occurrences, 5);
        assert_eq!(out[0].sessions, 4);
        assert_eq!(out[0].name, "Review this Rust code for lifetime bugs");
        assert!(out[0].score >= 0.8, "{}", out[0].score);
    }

    #[test]
    fn words_that_change_become_a_variable_and_typos_do_not() {
        let out = harvest(&[
            msg("a", "Write a haiku about autumn leaves falling"),
            msg("b", "Write a haiku about the sea at night"),
            msg("c", "Write a haiku about winter"),
        ]);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].content, "Write a haiku about {{topic}}");

        let out = harvest(&[
            msg(
                "a",
                "Summarize the following meeting notes as five bullet points please",
            ),
            msg(
                "b",
                "Summarize the following meeting notes as five bullet points please",
            ),
            msg(
                "c",
                "Summarize the following meeting notes as five bullet points please",
            ),
            msg(
                "d",
                "Summarize the following meeting notes as 5 bullet points please",
            ),
        ]);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(
            out[0].content,
            "Summarize the following meeting notes as five bullet points please"
        );
    }

    #[test]
    fn replies_commands_and_project_chores_are_not_proposed() {
        let out = harvest(&[
            msg("a", "continue"),
            msg("b", "continue"),
            msg("a", "yes, go ahead and do it"),
            msg("b", "yes, go ahead and do it"),
            msg(
                "a",
                "<command-name>/clear</command-name>\n<command-message>clear</command-message>",
            ),
            msg(
                "a",
                "Rename the OrderLine struct to LineItem across src/cart/ and update the tests",
            ),
            msg("a", "why does line 40 panic?"),
            msg(
                "c",
                "<system-reminder>Be careful</system-reminder>fix the failing test",
            ),
            msg("d", "fix the failing test"),
        ]);
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn a_standalone_role_prompt_is_proposed_once() {
        let out = harvest(&[msg(
            "a",
            "You are a meticulous technical editor. Rewrite the text I give you for clarity and \
             concision, keep the author's voice, and list every change you made at the end.",
        )]);
        assert_eq!(out.len(), 1);
        assert!(out[0].reason.contains("role"), "{}", out[0].reason);
    }

    #[test]
    fn payload_names_follow_the_instruction() {
        assert_eq!(
            payload_name("Explain this error and suggest a fix:", false),
            "error"
        );
        assert_eq!(
            payload_name("Write a commit message for this diff:", false),
            "diff"
        );
        assert_eq!(payload_name("Summarize:", false), "input");
        assert_eq!(payload_name("Look at this:", true), "code");
    }

    #[test]
    fn control_characters_never_reach_a_proposal() {
        let out = harvest(&[
            msg(
                "a",
                "Explain this error like I'm new to Rust:\n\u{1b}[31merror\u{1b}[0m: borrow",
            ),
            msg(
                "b",
                "Explain this error like I'm new to Rust:\n\u{7}panic\u{0}",
            ),
        ]);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert!(
            !out[0].excerpt.chars().any(|c| c.is_control() && c != '\n'),
            "{:?}",
            out[0].excerpt
        );
        assert!(!out[0].content.chars().any(|c| c.is_control() && c != '\n'));
    }

    #[test]
    fn a_spent_budget_groups_only_identical_instructions() {
        let messages = [
            msg("a", "Write a haiku about autumn leaves falling"),
            msg("b", "Write a haiku about the sea at night"),
        ];
        let mut h = Harvester::with_limits(Duration::ZERO, MAX_GROUPS);
        for m in &messages {
            h.add(m);
        }
        assert_eq!(h.stats().groups, 2);
        let mut h = Harvester::with_limits(Duration::from_secs(1), MAX_GROUPS);
        for m in &messages {
            h.add(m);
        }
        assert_eq!(h.stats().groups, 1);
    }

    #[test]
    fn groups_are_bounded() {
        let mut h = Harvester::new();
        for i in 0..(MAX_GROUPS + 10) {
            h.add(&msg("s", &format!("w{i} x{i} y{i} z{i}")));
        }
        let s = h.stats();
        assert_eq!(s.groups, MAX_GROUPS as u64);
        assert_eq!(s.dropped, 10);
    }
}
