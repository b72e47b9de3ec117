//! Reading chat transcripts: the user's own messages, one at a time, from Claude Code session
//! logs, a ChatGPT data export, and Markdown or plain-text chat logs.
//!
//! Everything streams: a JSON Lines log is read a line at a time (a line over
//! [`MAX_LINE_BYTES`] is skipped and counted), a ChatGPT export a conversation at a time, a text
//! log a line at a time; so memory grows with the longest line or conversation, not the file.
//! What is not the user's own typing (assistant turns, tool calls and results, system and meta
//! messages, sub-agent prompts) is skipped; a line that is not valid JSON is skipped and counted
//! in [`ReadStats::malformed`].

use std::{
    borrow::Cow,
    collections::HashMap,
    fmt,
    io::{self, BufRead},
};

use serde::{Deserialize, de};
use serde_json::value::RawValue;

/// The longest line (or ChatGPT conversation) read; longer ones are skipped and counted.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// The longest user message kept; the rest of a longer one is cut off.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// A transcript format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Claude Code session logs (`~/.claude/projects/**/*.jsonl`), one JSON object per line.
    ClaudeCode,
    /// A ChatGPT data export's `conversations.json`.
    Chatgpt,
    /// A Markdown chat log: `## User` / `## Assistant` headings or `**User:**` paragraphs.
    Markdown,
    /// A plain-text chat log: turns that start with `User:` / `Assistant:`.
    Text,
}

impl Format {
    /// Every format.
    pub const ALL: [Self; 4] = [Self::ClaudeCode, Self::Chatgpt, Self::Markdown, Self::Text];

    /// Its name (`claude-code`, `chatgpt`, `markdown`, `text`).
    pub fn name(self) -> &'static str {
        match self {
            Self::ClaudeCode => "claude-code",
            Self::Chatgpt => "chatgpt",
            Self::Markdown => "markdown",
            Self::Text => "text",
        }
    }

    /// A format by name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Guesses the format of a file from its name and its first bytes; `None` when it is none
    /// of them.
    pub fn detect(file_name: &str, head: &[u8]) -> Option<Self> {
        let lower = file_name.to_ascii_lowercase();
        let text = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]);
        let first = text.trim_start_matches('\u{feff}').trim_start();
        if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            return first.starts_with('{').then_some(Self::ClaudeCode);
        }
        if lower.ends_with(".json") {
            return first.starts_with('[').then_some(Self::Chatgpt);
        }
        if first.starts_with('{') && (first.contains("\"sessionId\"") || first.contains("\"type\""))
        {
            return Some(Self::ClaudeCode);
        }
        if first.starts_with('[') && first.contains("\"mapping\"") {
            return Some(Self::Chatgpt);
        }
        let mut turns_md = 0;
        let mut turns_text = 0;
        for line in text.lines().take(400) {
            match turn_marker(line) {
                Some((_, Marker::Heading | Marker::Bold)) => turns_md += 1,
                Some((_, Marker::Plain)) => turns_text += 1,
                None => {}
            }
        }
        if lower.ends_with(".md") || lower.ends_with(".markdown") || turns_md > 0 {
            return (turns_md + turns_text > 0).then_some(Self::Markdown);
        }
        (turns_text > 0).then_some(Self::Text)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One message the user typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMessage {
    /// The session or conversation it belongs to (repetition across sessions counts most).
    pub session: String,
    /// What the user typed.
    pub text: String,
}

/// What reading a transcript found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReadStats {
    /// Records read: lines of a log, conversations of an export.
    pub records: u64,
    /// User messages passed on.
    pub messages: u64,
    /// Records that could not be parsed, skipped.
    pub malformed: u64,
    /// Records over the size limit, skipped.
    pub oversized: u64,
}

impl ReadStats {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: Self) {
        self.records += other.records;
        self.messages += other.messages;
        self.malformed += other.malformed;
        self.oversized += other.oversized;
    }
}

/// Reads `reader` as `format`, handing each user message to `sink`. `source` names the session
/// when the format has no session ids (a text log is one session). Fails only on an I/O error or,
/// for a ChatGPT export, when the file is not a JSON array at all.
pub fn read(
    format: Format,
    reader: impl BufRead,
    source: &str,
    sink: &mut dyn FnMut(UserMessage),
) -> io::Result<ReadStats> {
    match format {
        Format::ClaudeCode => read_claude_code(reader, source, sink),
        Format::Chatgpt => read_chatgpt(reader, source, sink),
        Format::Markdown | Format::Text => read_chat_log(reader, source, sink),
    }
}

/// Reads one line into `buf` (without its line ending), at most `max` bytes: `Some(true)` for a
/// whole line, `Some(false)` for one that was longer (the rest is skipped), `None` at the end.
fn read_line_capped(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<bool>> {
    buf.clear();
    let mut whole = true;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(whole));
        }
        any = true;
        let (chunk, used, done) = match memchr_newline(available) {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if whole {
            if buf.len() + chunk.len() > max {
                whole = false;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        reader.consume(used);
        if done {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(whole));
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[derive(Deserialize)]
struct ClaudeLine<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "isMeta", default)]
    is_meta: Option<bool>,
    #[serde(rename = "isSidechain", default)]
    is_sidechain: Option<bool>,
    #[serde(rename = "isCompactSummary", default)]
    is_compact_summary: Option<bool>,
    #[serde(rename = "sessionId", borrow, default)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ClaudeMessage<'a> {
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ClaudeBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
}

/// The text of a Claude Code user message's content: a string, or the text blocks of an array
/// (`None` when it carries a tool result: that is the tool's output, not the user's words).
fn claude_content(raw: &RawValue) -> Result<Option<String>, serde_json::Error> {
    let s = raw.get().trim_start();
    if s.starts_with('"') {
        return serde_json::from_str::<String>(s).map(Some);
    }
    let blocks: Vec<ClaudeBlock<'_>> = serde_json::from_str(s)?;
    if blocks.iter().any(|b| b.kind == "tool_result") {
        return Ok(None);
    }
    let mut text = String::new();
    for b in blocks.iter().filter(|b| b.kind == "text") {
        if let Some(t) = &b.text {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(t);
        }
    }
    Ok((!text.is_empty()).then_some(text))
}

fn read_claude_code(
    mut reader: impl BufRead,
    source: &str,
    sink: &mut dyn FnMut(UserMessage),
) -> io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut buf = Vec::new();
    while let Some(whole) = read_line_capped(&mut reader, &mut buf, MAX_LINE_BYTES)? {
        if !whole {
            stats.records += 1;
            stats.oversized += 1;
            continue;
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        stats.records += 1;
        let Ok(line) = serde_json::from_slice::<ClaudeLine<'_>>(&buf) else {
            stats.malformed += 1;
            continue;
        };
        if line.kind.as_deref() != Some("user")
            || line.is_meta == Some(true)
            || line.is_sidechain == Some(true)
            || line.is_compact_summary == Some(true)
        {
            continue;
        }
        let Some(raw) = line.message else { continue };
        let text = match serde_json::from_str::<ClaudeMessage<'_>>(raw.get()) {
            Ok(m) if m.role.as_deref().is_none_or(|r| r == "user") => match m.content {
                Some(c) => match claude_content(c) {
                    Ok(t) => t,
                    Err(_) => {
                        stats.malformed += 1;
                        continue;
                    }
                },
                None => None,
            },
            Ok(_) => None,
            Err(_) => {
                stats.malformed += 1;
                continue;
            }
        };
        if let Some(text) = text {
            stats.messages += 1;
            sink(UserMessage {
                session: line
                    .session_id
                    .map_or_else(|| source.to_owned(), Cow::into_owned),
                text: cap(text),
            });
        }
    }
    Ok(stats)
}

fn cap(mut text: String) -> String {
    if text.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[derive(Deserialize)]
struct Conversation {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    current_node: Option<String>,
    #[serde(default)]
    mapping: HashMap<String, Node>,
}

#[derive(Deserialize)]
struct Node {
    #[serde(default)]
    message: Option<GptMessage>,
    #[serde(default)]
    parent: Option<String>,
}

#[derive(Deserialize)]
struct GptMessage {
    author: Author,
    #[serde(default)]
    create_time: Option<f64>,
    #[serde(default)]
    content: Option<GptContent>,
    #[serde(default)]
    metadata: Option<GptMetadata>,
}

#[derive(Deserialize)]
struct Author {
    role: String,
}

#[derive(Deserialize)]
struct GptContent {
    content_type: String,
    #[serde(default)]
    parts: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct GptMetadata {
    #[serde(default)]
    is_visually_hidden_from_conversation: Option<bool>,
}

impl Conversation {
    /// The user's messages on the conversation's live path (root to `current_node`; an edited
    /// message's abandoned branch is not part of it), or every user message in time order when
    /// the export has no current node.
    fn user_messages(&self) -> Vec<String> {
        let mut path: Vec<&GptMessage> = Vec::new();
        if let Some(mut at) = self.current_node.as_deref() {
            let mut steps = 0;
            while let Some(node) = self.mapping.get(at) {
                if let Some(m) = &node.message {
                    path.push(m);
                }
                steps += 1;
                match node.parent.as_deref() {
                    Some(p) if steps <= self.mapping.len() => at = p,
                    _ => break,
                }
            }
            path.reverse();
        } else {
            path = self
                .mapping
                .values()
                .filter_map(|n| n.message.as_ref())
                .collect();
            path.sort_by(|a, b| {
                a.create_time
                    .unwrap_or(0.0)
                    .total_cmp(&b.create_time.unwrap_or(0.0))
            });
        }
        path.into_iter()
            .filter(|m| m.author.role == "user")
            .filter(|m| {
                m.metadata
                    .as_ref()
                    .and_then(|d| d.is_visually_hidden_from_conversation)
                    != Some(true)
            })
            .filter_map(|m| {
                let c = m.content.as_ref()?;
                if c.content_type != "text" && c.content_type != "multimodal_text" {
                    return None;
                }
                let text = c
                    .parts
                    .iter()
                    .filter_map(|p| p.as_str())
                    .filter(|s| !s.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join("\n");
                (!text.trim().is_empty()).then_some(text)
            })
            .collect()
    }
}

struct ConversationsVisitor<'s> {
    source: &'s str,
    stats: &'s mut ReadStats,
    sink: &'s mut dyn FnMut(UserMessage),
}

impl<'de> de::Visitor<'de> for ConversationsVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of conversations")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0u64;
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            n += 1;
            self.stats.records += 1;
            if raw.get().len() > MAX_LINE_BYTES {
                self.stats.oversized += 1;
                continue;
            }
            let Ok(conversation) = serde_json::from_str::<Conversation>(raw.get()) else {
                self.stats.malformed += 1;
                continue;
            };
            let session = conversation
                .conversation_id
                .clone()
                .or_else(|| conversation.id.clone())
                .or_else(|| conversation.title.clone())
                .unwrap_or_else(|| format!("{}#{n}", self.source));
            for text in conversation.user_messages() {
                self.stats.messages += 1;
                (self.sink)(UserMessage {
                    session: session.clone(),
                    text: cap(text),
                });
            }
        }
        Ok(())
    }
}

fn read_chatgpt(
    reader: impl BufRead,
    source: &str,
    sink: &mut dyn FnMut(UserMessage),
) -> io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut de = serde_json::Deserializer::from_reader(reader);
    de::Deserializer::deserialize_seq(
        &mut de,
        ConversationsVisitor {
            source,
            stats: &mut stats,
            sink,
        },
    )
    .map_err(|e| match e.classify() {
        serde_json::error::Category::Io => io::Error::other(e),
        _ => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a ChatGPT conversations.json export: {e}"),
        ),
    })?;
    Ok(stats)
}

/// How a chat log marks the start of a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// `## User`
    Heading,
    /// `**User:**`
    Bold,
    /// `User:`
    Plain,
}

/// Who speaks in a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speaker {
    User,
    Other,
}

const USER_NAMES: &[&str] = &["user", "you", "human", "me", "prompt"];
const OTHER_NAMES: &[&str] = &[
    "assistant",
    "chatgpt",
    "gpt",
    "claude",
    "ai",
    "bot",
    "model",
    "system",
    "gemini",
    "copilot",
    "response",
];

fn speaker(word: &str) -> Option<Speaker> {
    let w = word.trim().to_lowercase();
    let w = w.trim_matches(|c: char| c == '*' || c == '_' || c == ':' || c.is_whitespace());
    if USER_NAMES.contains(&w) {
        Some(Speaker::User)
    } else if OTHER_NAMES.contains(&w) || w.starts_with("gpt-") || w.starts_with("claude ") {
        Some(Speaker::Other)
    } else {
        None
    }
}

/// A turn marker at the start of `line`: who speaks, and the rest of the line after the marker.
fn turn_marker(line: &str) -> Option<(Speaker, Marker)> {
    turn_start(line).map(|(s, m, _)| (s, m))
}

fn turn_start(line: &str) -> Option<(Speaker, Marker, &str)> {
    let t = line.trim_end();
    if let Some(rest) = t.strip_prefix('#') {
        let rest = rest.trim_start_matches('#').trim();
        let word = rest.split([':', ' ', '(']).next().unwrap_or("");
        let who = speaker(word).or_else(|| speaker(rest))?;
        return Some((who, Marker::Heading, ""));
    }
    if let Some(rest) = t.strip_prefix("**") {
        let end = rest.find("**")?;
        let who = speaker(&rest[..end])?;
        let after = rest[end + 2..].trim_start_matches(':').trim_start();
        return Some((who, Marker::Bold, after));
    }
    let colon = t.find(':')?;
    if colon > 20 {
        return None;
    }
    let who = speaker(&t[..colon])?;
    Some((who, Marker::Plain, t[colon + 1..].trim_start()))
}

fn read_chat_log(
    mut reader: impl BufRead,
    source: &str,
    sink: &mut dyn FnMut(UserMessage),
) -> io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut buf = Vec::new();
    let mut current: Option<Speaker> = None;
    let mut text = String::new();
    let mut session = 1u32;
    let mut seen_turn = false;
    let mut flush =
        |text: &mut String, current: Option<Speaker>, session: u32, stats: &mut ReadStats| {
            if current == Some(Speaker::User) && !text.trim().is_empty() {
                stats.messages += 1;
                sink(UserMessage {
                    session: if session == 1 {
                        source.to_owned()
                    } else {
                        format!("{source}#{session}")
                    },
                    text: cap(std::mem::take(text).trim().to_owned()),
                });
            }
            text.clear();
        };
    while let Some(whole) = read_line_capped(&mut reader, &mut buf, MAX_LINE_BYTES)? {
        stats.records += 1;
        if !whole {
            stats.oversized += 1;
            continue;
        }
        let line = String::from_utf8_lossy(&buf);
        if let Some((who, _, rest)) = turn_start(&line) {
            flush(&mut text, current, session, &mut stats);
            current = Some(who);
            seen_turn = true;
            text.push_str(rest);
            continue;
        }
        // A top-level heading that names no speaker starts another conversation.
        if line.starts_with("# ") && seen_turn {
            flush(&mut text, current, session, &mut stats);
            current = None;
            session += 1;
            seen_turn = false;
            continue;
        }
        if matches!(line.trim(), "---" | "***" | "* * *" | "___") && current.is_some() {
            continue;
        }
        if current == Some(Speaker::User) && text.len() < MAX_MESSAGE_BYTES {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&line);
        }
    }
    flush(&mut text, current, session, &mut stats);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(format: Format, input: &str) -> (Vec<UserMessage>, ReadStats) {
        let mut out = Vec::new();
        let stats = read(format, input.as_bytes(), "log", &mut |m| out.push(m)).unwrap();
        (out, stats)
    }

    #[test]
    fn claude_code_keeps_only_typed_user_messages() {
        let log = concat!(
            r#"{"type":"summary","summary":"Fix","leafUuid":"x"}"#,
            "\n",
            r#"{"type":"user","sessionId":"s1","message":{"role":"user","content":"Review this code"}}"#,
            "\n",
            r#"{"type":"assistant","sessionId":"s1","message":{"role":"assistant","content":[{"type":"text","text":"Sure"}]}}"#,
            "\n",
            r#"{"type":"user","sessionId":"s1","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}}"#,
            "\n",
            r#"{"type":"user","isMeta":true,"sessionId":"s1","message":{"role":"user","content":"Caveat"}}"#,
            "\n",
            r#"{"type":"user","isSidechain":true,"sessionId":"s1","message":{"role":"user","content":"agent task"}}"#,
            "\n",
            r#"{"type":"user","sessionId":"s1","message":{"role":"user","content":[{"type":"text","text":"with an image"},{"type":"image","source":{}}]}}"#,
            "\n",
            "{\"type\":\"user\",\"message\":{\"ro\n",
            "\n",
        );
        let (msgs, stats) = collect(Format::ClaudeCode, log);
        let texts: Vec<_> = msgs.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["Review this code", "with an image"]);
        assert_eq!(msgs[0].session, "s1");
        assert_eq!(stats.malformed, 1);
        assert_eq!(stats.records, 8);
        assert_eq!(stats.messages, 2);
    }

    #[test]
    fn over_long_lines_are_skipped_without_being_held() {
        let mut input = Vec::new();
        input.extend_from_slice(b"{\"type\":\"user\",\"message\":{\"content\":\"");
        input.resize(input.len() + 100, b'a');
        input.extend_from_slice(b"\"}}\nnext\n");
        let mut buf = Vec::new();
        let mut r = &input[..];
        assert_eq!(read_line_capped(&mut r, &mut buf, 50).unwrap(), Some(false));
        assert!(buf.is_empty());
        assert_eq!(read_line_capped(&mut r, &mut buf, 50).unwrap(), Some(true));
        assert_eq!(buf, b"next");
        assert_eq!(read_line_capped(&mut r, &mut buf, 50).unwrap(), None);
    }

    #[test]
    fn chatgpt_follows_the_live_branch() {
        let export = r#"[{"title":"T","conversation_id":"c1","current_node":"d","mapping":{
            "r":{"id":"r","message":null,"parent":null,"children":["a"]},
            "a":{"id":"a","message":{"author":{"role":"user"},"content":{"content_type":"text","parts":["first try"]}},"parent":"r","children":[]},
            "b":{"id":"b","message":{"author":{"role":"user"},"content":{"content_type":"multimodal_text","parts":[{"asset_pointer":"file"},"edited ask"]}},"parent":"r","children":["c"]},
            "c":{"id":"c","message":{"author":{"role":"assistant"},"content":{"content_type":"text","parts":["answer"]}},"parent":"b","children":["d"]},
            "d":{"id":"d","message":{"author":{"role":"user"},"content":{"content_type":"text","parts":["thanks"]}},"parent":"c","children":[]}}},
            {"broken": "conversation", "mapping": 5}]"#;
        let (msgs, stats) = collect(Format::Chatgpt, export);
        let texts: Vec<_> = msgs.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["edited ask", "thanks"]);
        assert_eq!(msgs[0].session, "c1");
        assert_eq!(stats.malformed, 1);
        assert!(read(Format::Chatgpt, &b"{\"no\": 1}"[..], "x", &mut |_| {}).is_err());
    }

    #[test]
    fn chat_logs_split_into_turns() {
        let md = "# Chat\n\n## User\n\nWrite a haiku\nabout rain\n\n## Assistant\n\nDrops fall\n\n**User:** thanks\n";
        let (msgs, _) = collect(Format::Markdown, md);
        let texts: Vec<_> = msgs.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["Write a haiku\nabout rain", "thanks"]);
        let txt = "User: one\ncontinued\nAssistant: two\nUser: three\n";
        let (msgs, _) = collect(Format::Text, txt);
        let texts: Vec<_> = msgs.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["one\ncontinued", "three"]);
    }

    #[test]
    fn formats_are_detected() {
        assert_eq!(
            Format::detect("a.jsonl", b"{\"type\":\"user\"}"),
            Some(Format::ClaudeCode)
        );
        assert_eq!(
            Format::detect("conversations.json", b" [{\"mapping\":{}}]"),
            Some(Format::Chatgpt)
        );
        assert_eq!(
            Format::detect("chat.md", b"## User\nhi\n"),
            Some(Format::Markdown)
        );
        assert_eq!(
            Format::detect("chat.txt", b"User: hi\nAssistant: yo\n"),
            Some(Format::Text)
        );
        assert_eq!(Format::detect("notes.txt", b"just some notes\n"), None);
        assert_eq!(Format::detect("data.json", b"{\"a\":1}"), None);
    }
}
