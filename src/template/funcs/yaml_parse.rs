//! YAML input as Helm reads it: `sigs.k8s.io/yaml.Unmarshal`.
//!
//! That is goyaml.v2 decoding into `interface{}` (YAML 1.1 scalars: `yes`,
//! `on`, `0777`, `1_000`, `0x1F`, timestamps kept as strings, `<<` merge
//! keys with goyaml.v2's overwrite order), then every map key turned into a
//! string (ints in decimal, floats as float32 `%g`, bools as
//! `true`/`false`; a null key is an error), then a round trip through
//! `encoding/json` into the target type, so every number comes out a
//! float64 and NaN/Inf fail.
//!
//! The syntax is read by `granit-parser` (through serde-saphyr), the YAML
//! event parser; alias expansion is bounded by goyaml.v2's own rule (an
//! error once aliases drive too large a share of the decoding work), so a
//! "billion laughs" document fails fast instead of eating memory. Nesting
//! is limited to [`MAX_NESTING`] levels.

use std::collections::{BTreeMap, HashMap};

use serde_saphyr::granit_parser::{
    ErrorKind, Event, Options, Parser, ScalarStyle, ScanError, StructureStyle, Tag,
};

use super::emit::{resolve_plain, Resolved};
use crate::value::{List, Map, Value};

#[path = "yaml_fast.rs"]
mod fast;

/// The deepest nesting accepted (goyaml.v2 allows 10000; we recurse on the
/// Rust stack and keep well below its size).
pub const MAX_NESTING: usize = 1000;

/// A failure to read YAML; `Display` is the message Helm shows (as far as
/// the syntax error texts of goyaml.v2 could be reproduced).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlParseError {
    /// A syntax or decoding error of goyaml.v2 (`yaml: line 3: …`).
    #[error("error converting YAML to JSON: yaml: {0}")]
    Yaml(String),
    /// The YAML could not become JSON (a null key, NaN, …).
    #[error("error converting YAML to JSON: {0}")]
    Convert(String),
    /// The document is not of the target type.
    #[error("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {what} into Go value of type {target}")]
    Type {
        what: &'static str,
        target: &'static str,
    },
}

/// Decode a values file (`values.yaml`, `--values`) into the map Helm
/// builds: an empty or `null` document is an empty map.
pub fn parse_yaml_values(text: &str) -> Result<Value, YamlParseError> {
    unmarshal_map(text).map(Value::Map)
}

/// `yaml.Unmarshal(text, &map[string]interface{}{})`.
pub fn unmarshal_map(text: &str) -> Result<Map, YamlParseError> {
    match yaml_to_value(text)? {
        Value::Map(m) => Ok(m),
        Value::Nil => Ok(Map::new()),
        other => Err(YamlParseError::Type {
            what: json_kind(&other),
            target: "map[string]interface {}",
        }),
    }
}

/// `yaml.Unmarshal(text, &[]interface{}{})`.
pub fn unmarshal_list(text: &str) -> Result<Vec<Value>, YamlParseError> {
    match yaml_to_value(text)? {
        Value::List(l) => Ok(l.items.as_ref().clone()),
        Value::Nil => Ok(Vec::new()),
        other => Err(YamlParseError::Type {
            what: json_kind(&other),
            target: "[]interface {}",
        }),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Float(_)
        | Value::Int(_)
        | Value::Int64(_)
        | Value::Uint64(_)
        | Value::Uint8(_)
        | Value::Int32(_) => "number",
        Value::String(_) | Value::Bytes(_) => "string",
        Value::List(_) => "array",
        _ => "object",
    }
}

/// The first document of `text` as the generic value sigs.k8s.io/yaml
/// produces (before it is decoded into the caller's target type).
pub fn yaml_to_value(text: &str) -> Result<Value, YamlParseError> {
    decode_to_value(text, None)
}

/// [`yaml_to_value`] for a reader of a few top-level fields (a manifest's
/// head): the whole text is parsed, decoded and checked exactly as there,
/// failing with the same first error, but of a top-level mapping only the
/// entries whose key equals one of `keep` ignoring ASCII case become
/// values; the others are checked without being built.
pub fn yaml_to_value_keep(text: &str, keep: &[&str]) -> Result<Value, YamlParseError> {
    decode_to_value(text, Some(keep))
}

/// The direct conversion of the node arena when it can answer, else the
/// reference decoding (goyaml.v2's tree, then the JSON step).
fn decode_to_value(text: &str, keep: Option<&[&str]>) -> Result<Value, YamlParseError> {
    let (mut doc, plain) = read_checked(text)?;
    let Some(root) = doc.root else {
        return Ok(Value::Nil);
    };
    if plain {
        let direct = match keep {
            None => direct::value(&mut doc.nodes, root, 0),
            Some(keep) => direct::value_keep(&mut doc.nodes, root, keep),
        };
        if let Ok(v) = direct {
            return Ok(v);
        }
        // The direct conversion took strings out of the arena before it
        // gave up: read the text again for the reference decoding.
        doc = read_checked(text)?.0;
    }
    reference_value(&doc, root, keep)
}

/// goyaml.v2's decoding of the arena into its tree, then the JSON step
/// ([`yaml_to_value`] or, with `keep`, [`yaml_to_value_keep`]): the
/// reference semantics, used for what the direct conversion leaves alone.
fn reference_value(
    doc: &Document,
    root: usize,
    keep: Option<&[&str]>,
) -> Result<Value, YamlParseError> {
    match (decode_tree(doc, root)?, keep) {
        (Y::Map(m), Some(keep)) => {
            let mut out = BTreeMap::new();
            for (k, v) in m.entries {
                let key = key_string(&k, &v)?;
                if keep.iter().any(|n| key.eq_ignore_ascii_case(n)) {
                    out.insert(key, to_json_value(v)?);
                } else {
                    check_json(&v)?;
                }
            }
            Ok(Value::map(out))
        }
        (y, _) => to_json_value(y),
    }
}

/// The reader's checks and the node arena of `text`'s first document,
/// and whether the arena is free of aliases and tags (the direct
/// conversion's precondition).
fn read_checked(text: &str) -> Result<(Document, bool), YamlParseError> {
    // The fast reader takes only text without control characters, NEL
    // and the other characters the checks below are about, and never
    // makes tagged nodes (aliases of scalars, it does).
    if let Some(doc) = fast::read_document(text) {
        let plain = !doc.nodes.iter().any(|n| matches!(n, RawNode::Alias(..)));
        return Ok((doc, plain));
    }
    if has_forbidden_char(text) {
        return Err(YamlParseError::Yaml(
            "control characters are not allowed".into(),
        ));
    }
    // goyaml.v2 reads NEL (U+0085) as a line break, like "\n"; the YAML
    // 1.2 parser we use does not.
    let normalized;
    let text = if text.contains('\u{85}') {
        normalized = text.replace('\u{85}', "\n");
        normalized.as_str()
    } else {
        text
    };
    let doc = read_document_granit(text)?;
    let plain = doc.nodes.iter().all(|n| match n {
        RawNode::Alias(..) => false,
        RawNode::Scalar { tag, .. } => tag.is_none(),
        RawNode::Seq(_) | RawNode::Map(_) => true,
    });
    Ok((doc, plain))
}

/// goyaml.v2's decoding of the arena from `root` into its tree.
fn decode_tree(doc: &Document, root: usize) -> Result<Y, YamlParseError> {
    let mut d = Decoder {
        doc,
        decode_count: 0,
        alias_count: 0,
        alias_depth: 0,
        active_aliases: Vec::new(),
    };
    d.node(root, 0)
}

/// Whether `text` has a character goyaml's reader refuses: ASCII bytes are
/// checked as bytes, the rest (from the first non-ASCII byte) as chars.
fn has_forbidden_char(text: &str) -> bool {
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if !b.is_ascii() {
            // All bytes before `i` are ASCII, so `i` is a char boundary.
            return text[i..].chars().any(forbidden_char);
        }
        if (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r') || b == 0x7F {
            return true;
        }
    }
    false
}

/// Characters goyaml's reader refuses anywhere in the input.
fn forbidden_char(c: char) -> bool {
    let c = c as u32;
    !(c == 0x09
        || c == 0x0A
        || c == 0x0D
        || (0x20..=0x7E).contains(&c)
        || c == 0x85
        || (0xA0..=0xD7FF).contains(&c)
        || (0xE000..=0xFFFD).contains(&c)
        || (0x10000..=0x10FFFF).contains(&c))
}

// ---------------------------------------------------------------------------
// Events to a node arena.

#[derive(Debug, PartialEq)]
enum RawNode {
    Scalar {
        value: String,
        style: ScalarStyle,
        tag: Option<String>,
    },
    Seq(Vec<usize>),
    Map(Vec<(usize, usize)>),
    /// An alias: the index of the anchored node and the anchor's name.
    Alias(usize, String),
}

#[derive(Debug, PartialEq)]
struct Document {
    nodes: Vec<RawNode>,
    root: Option<usize>,
}

fn full_tag(tag: &Tag) -> String {
    format!("{}{}", tag.handle(), tag.suffix())
}

/// goyaml.v2's wording for the common syntax errors, and its odd line
/// numbering: a parser error names the 0-based line of the offending token
/// (the end of input counts as one line further when the text does not end
/// in a newline), a scanner error the 1-based line, and neither is named
/// when it is 0 (resp. 1).
fn syntax_error(e: &ScanError, text: &str) -> YamlParseError {
    let marker = e.marker();
    let (parser_error, msg) = match e.kind() {
        ErrorKind::ExpectedNodeContent => (true, "did not find expected node content".to_string()),
        ErrorKind::UnclosedFlowCollection { open } => {
            // goyaml.v2 notices at the end of the input: it wanted another
            // node after `[`, `{` or `,`, else a separator or the close.
            let last = text.trim_end().chars().last();
            let msg = if matches!(last, Some('[' | '{' | ',')) {
                "did not find expected node content"
            } else if *open == '[' {
                "did not find expected ',' or ']'"
            } else {
                "did not find expected ',' or '}'"
            };
            let eof_line = text.matches('\n').count() + usize::from(!text.ends_with('\n'));
            return YamlParseError::Yaml(format!("line {eof_line}: {msg}"));
        }
        ErrorKind::ExpectedBlockMappingKey => (true, "did not find expected key".to_string()),
        ErrorKind::ExpectedFlowMappingSeparator => {
            (true, "did not find expected ',' or '}'".to_string())
        }
        ErrorKind::ExpectedFlowSequenceSeparator
        | ErrorKind::MismatchedFlowCollectionEnd { .. }
        | ErrorKind::MisplacedFlowCollectionEnd => {
            (true, "did not find expected ',' or ']'".to_string())
        }
        ErrorKind::ExpectedBlockSequenceEntry => {
            (true, "did not find expected '-' indicator".to_string())
        }
        ErrorKind::InvalidBlockScalarIndent | ErrorKind::InvalidIndentation => {
            (true, "did not find expected key".to_string())
        }
        ErrorKind::UnexpectedEofFlowSequence
        | ErrorKind::UnexpectedEofFlowMapping
        | ErrorKind::UnexpectedEofImplicitFlowMapping
        | ErrorKind::UnexpectedEofBlockSequence
        | ErrorKind::UnexpectedEofBlockMapping
        | ErrorKind::UnexpectedEof => (true, "did not find expected node content".to_string()),
        ErrorKind::SimpleKeyExpected | ErrorKind::InvalidSimpleKey => {
            (false, "could not find expected ':'".to_string())
        }
        ErrorKind::MappingValueNotAllowed | ErrorKind::InvalidMappingValueWhitespace => (
            false,
            "mapping values are not allowed in this context".to_string(),
        ),
        ErrorKind::UnexpectedCharacter { .. }
        | ErrorKind::TabNotAllowed
        | ErrorKind::TabInBlockIndentation
        | ErrorKind::TabInIndentation => (
            false,
            "found character that cannot start any token".to_string(),
        ),
        ErrorKind::UnclosedQuotedScalar => (false, "found unexpected end of stream".to_string()),
        ErrorKind::UnknownQuotedScalarEscape => (
            false,
            "found unknown escape character while parsing a quoted scalar".to_string(),
        ),
        ErrorKind::DocumentIndicatorInQuotedScalar => {
            (false, "found unexpected document indicator".to_string())
        }
        ErrorKind::RecursionLimitExceeded => {
            (false, format!("exceeded max depth of {MAX_NESTING}"))
        }
        other => (false, other.to_string()),
    };
    let line = if parser_error {
        let at_eof = marker.index() >= text.chars().count();
        let mut l = marker.line().saturating_sub(1);
        if at_eof && !text.ends_with('\n') {
            l += 1;
        }
        l
    } else if marker.line() <= 1 {
        0
    } else {
        marker.line()
    };
    if line == 0 {
        YamlParseError::Yaml(msg)
    } else {
        YamlParseError::Yaml(format!("line {line}: {msg}"))
    }
}

/// The first document of `text` as a node arena: the common subset of
/// manifests and values files by the hand-written [`fast`] reader, the
/// rest (and every error) by granit. (Decoding reads through
/// `read_checked`; the tests read the reference way through this.)
#[cfg(test)]
fn read_document(text: &str) -> Result<Document, YamlParseError> {
    match fast::read_document(text) {
        Some(doc) => Ok(doc),
        None => read_document_granit(text),
    }
}

fn read_document_granit(text: &str) -> Result<Document, YamlParseError> {
    let mut opts = Options::default();
    opts.bom_inside_document_as_content = true;
    opts.block_scalar_eof_without_line_feed = true;
    opts.emit_anchor_events = true;
    opts.emit_comments = false;
    opts.flow_nesting_limit = MAX_NESTING;
    opts.block_nesting_limit = MAX_NESTING;
    let parser = Parser::new_from_str_with_options(text, opts);

    let mut nodes: Vec<RawNode> = Vec::new();
    // Anchor id -> (node index, name).
    let mut anchors: HashMap<usize, (usize, String)> = HashMap::new();
    // Open collections: node index and, for maps, a pending key.
    let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
    let mut root = None;
    let mut last_node: Option<usize> = None;
    let mut in_document = false;

    fn attach(
        nodes: &mut [RawNode],
        stack: &mut [(usize, Option<usize>)],
        root: &mut Option<usize>,
        idx: usize,
    ) {
        match stack.last_mut() {
            None => *root = Some(idx),
            Some((parent, pending)) => match &mut nodes[*parent] {
                RawNode::Seq(items) => items.push(idx),
                RawNode::Map(entries) => match pending.take() {
                    None => *pending = Some(idx),
                    Some(k) => entries.push((k, idx)),
                },
                _ => {}
            },
        }
    }

    // Flow style of each open collection (for goyaml's key errors).
    let mut flow: Vec<bool> = Vec::new();
    for item in parser {
        let (event, span) = item.map_err(|e| syntax_error(&e, text))?;
        match event {
            Event::StreamStart => {}
            Event::DocumentStart(..) => {
                if in_document {
                    break;
                }
                in_document = true;
            }
            Event::DocumentEnd | Event::StreamEnd => break,
            Event::Anchor(id, name) => {
                if let Some(idx) = last_node {
                    anchors.insert(id, (idx, name.into_owned()));
                }
            }
            Event::Alias(id) => {
                let (target, name) = anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| YamlParseError::Yaml("unknown anchor referenced".into()))?;
                nodes.push(RawNode::Alias(target, name));
                let idx = nodes.len() - 1;
                attach(&mut nodes, &mut stack, &mut root, idx);
            }
            Event::UnresolvedAlias(name) => {
                return Err(YamlParseError::Yaml(format!(
                    "unknown anchor '{name}' referenced"
                )));
            }
            Event::Scalar(value, style, _anchor, tag) => {
                // goyaml.v2 reads an implicit key only on one line.
                let is_key =
                    matches!(stack.last(), Some((p, None)) if matches!(nodes[*p], RawNode::Map(_)));
                let spans_lines = span.start.line() != span.end.line()
                    || value.contains(['\u{2028}', '\u{2029}']);
                if is_key
                    && spans_lines
                    && !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                {
                    let msg = if flow.last() == Some(&true) {
                        "did not find expected ',' or '}'"
                    } else {
                        "could not find expected ':'"
                    };
                    // goyaml.v2 reports the 0-based line of the ':' after it.
                    let line = span.end.line().saturating_sub(1).max(1);
                    return Err(YamlParseError::Yaml(format!("line {line}: {msg}")));
                }
                nodes.push(RawNode::Scalar {
                    value: value.into_owned(),
                    style,
                    tag: tag.map(|t| full_tag(&t)),
                });
                let idx = nodes.len() - 1;
                last_node = Some(idx);
                attach(&mut nodes, &mut stack, &mut root, idx);
            }
            Event::SequenceStart(st, ..) => {
                flow.push(st == StructureStyle::Flow);
                nodes.push(RawNode::Seq(Vec::new()));
                let idx = nodes.len() - 1;
                last_node = Some(idx);
                attach(&mut nodes, &mut stack, &mut root, idx);
                stack.push((idx, None));
            }
            Event::MappingStart(st, ..) => {
                flow.push(st == StructureStyle::Flow);
                nodes.push(RawNode::Map(Vec::new()));
                let idx = nodes.len() - 1;
                last_node = Some(idx);
                attach(&mut nodes, &mut stack, &mut root, idx);
                stack.push((idx, None));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                flow.pop();
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }
    Ok(Document { nodes, root })
}

// ---------------------------------------------------------------------------
// The direct conversion.

/// The arena straight to the JSON-round-trip value, for documents without
/// aliases and tags (all the fast reader makes, and most of granit's):
/// strings are moved out of the arena, plain scalars resolved without
/// allocating in the common forms, no goyaml tree is built. It gives up
/// ([`Unsure`]) on everything whose meaning or error needs goyaml.v2's
/// tree: a `<<` key, a null, uint64 or non-finite key, a collection as a
/// key, two keys of a mapping with the same JSON key when one is not a
/// string (goyaml's key identity and map order decide), NaN or an
/// infinity as a value (a JSON error, unless a later equal key replaces
/// it), and nesting near [`MAX_NESTING`]. Short of those, the reference
/// decoding cannot fail and gives the same value: the keys are equal
/// exactly when goyaml's are, and the last value for a key wins in both.
mod direct {
    use std::collections::BTreeMap;

    use super::{float32_key, resolve_plain, RawNode, Resolved, ScalarStyle, MAX_NESTING};
    use crate::value::{List, Value};

    /// The direct conversion does not know the answer.
    pub(super) struct Unsure;

    /// How often (in nesting levels) the stack is checked for room.
    const STACK_CHECK_EVERY: usize = 16;

    /// The node `idx` as a value (its strings are taken from the arena).
    pub(super) fn value(nodes: &mut [RawNode], idx: usize, depth: usize) -> Result<Value, Unsure> {
        // Keys and values of a collection at `depth` are decoded at
        // `depth + 1`; leave the limit's neighbourhood to the reference.
        if depth + 2 > MAX_NESTING {
            return Err(Unsure);
        }
        if depth % STACK_CHECK_EVERY == STACK_CHECK_EVERY - 1 {
            return stacker::maybe_grow(64 * 1024, 1024 * 1024, || value_inner(nodes, idx, depth));
        }
        value_inner(nodes, idx, depth)
    }

    fn value_inner(nodes: &mut [RawNode], idx: usize, depth: usize) -> Result<Value, Unsure> {
        match &mut nodes[idx] {
            RawNode::Scalar {
                value,
                style,
                tag: None,
            } => {
                let style = *style;
                scalar(std::mem::take(value), style)
            }
            RawNode::Seq(items) => {
                let items = std::mem::take(items);
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(value(nodes, i, depth + 1)?);
                }
                Ok(Value::List(List::new(out)))
            }
            RawNode::Map(entries) => {
                let entries = std::mem::take(entries);
                let mut out = BTreeMap::new();
                let mut other_keys = false;
                for (k, v) in entries {
                    let (key, is_str) = take_key(nodes, k)?;
                    other_keys |= !is_str;
                    let v = value(nodes, v, depth + 1)?;
                    insert(&mut out, key, v, other_keys)?;
                }
                Ok(Value::map(out))
            }
            _ => Err(Unsure),
        }
    }

    /// [`value`] of the root `idx`, but of a top-level mapping only the
    /// entries whose key equals one of `keep` ignoring ASCII case are
    /// built; the others are only checked.
    pub(super) fn value_keep(
        nodes: &mut [RawNode],
        idx: usize,
        keep: &[&str],
    ) -> Result<Value, Unsure> {
        let RawNode::Map(entries) = &mut nodes[idx] else {
            return value(nodes, idx, 0);
        };
        let entries = std::mem::take(entries);
        let mut out = BTreeMap::new();
        let mut other_keys = false;
        for (k, v) in entries {
            let (key, is_str) = take_key(nodes, k)?;
            other_keys |= !is_str;
            if keep.iter().any(|n| key.eq_ignore_ascii_case(n)) {
                let v = value(nodes, v, 1)?;
                insert(&mut out, key, v, other_keys)?;
            } else {
                check(nodes, v, 1)?;
            }
        }
        Ok(Value::map(out))
    }

    /// Whether [`value`] would answer for the node `idx`, without building
    /// (or taking) anything.
    fn check(nodes: &[RawNode], idx: usize, depth: usize) -> Result<(), Unsure> {
        if depth + 2 > MAX_NESTING {
            return Err(Unsure);
        }
        if depth % STACK_CHECK_EVERY == STACK_CHECK_EVERY - 1 {
            return stacker::maybe_grow(64 * 1024, 1024 * 1024, || check_inner(nodes, idx, depth));
        }
        check_inner(nodes, idx, depth)
    }

    fn check_inner(nodes: &[RawNode], idx: usize, depth: usize) -> Result<(), Unsure> {
        match &nodes[idx] {
            RawNode::Scalar {
                value,
                style,
                tag: None,
            } => {
                if *style == ScalarStyle::Plain && !value_allowed(resolve(value)) {
                    return Err(Unsure);
                }
                Ok(())
            }
            RawNode::Seq(items) => items.iter().try_for_each(|&i| check(nodes, i, depth + 1)),
            RawNode::Map(entries) => entries.iter().try_for_each(|&(k, v)| {
                key_ok(&nodes[k])?;
                check(nodes, v, depth + 1)
            }),
            _ => Err(Unsure),
        }
    }

    /// A scalar node's value: quoted and block scalars are strings, plain
    /// ones resolved by YAML 1.1's rules.
    fn scalar(text: String, style: ScalarStyle) -> Result<Value, Unsure> {
        if style != ScalarStyle::Plain {
            return Ok(Value::string(text));
        }
        Ok(match resolve(&text) {
            Resolved::Str | Resolved::Timestamp => Value::string(text),
            Resolved::Null => Value::Nil,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Float(i as f64),
            Resolved::Uint(u) => Value::Float(u as f64),
            Resolved::Float(f) if f.is_finite() => Value::Float(f),
            Resolved::Float(_) => return Err(Unsure),
        })
    }

    /// Whether a plain value resolved so is converted without a JSON error.
    fn value_allowed(r: Resolved) -> bool {
        !matches!(r, Resolved::Float(f) if !f.is_finite())
    }

    /// The key node `idx` as the map key (a string key's text is taken
    /// from the arena), and whether the key is a Go string (so that equal
    /// JSON keys are equal goyaml keys).
    fn take_key(nodes: &mut [RawNode], idx: usize) -> Result<(String, bool), Unsure> {
        match &mut nodes[idx] {
            RawNode::Scalar {
                value,
                style,
                tag: None,
            } => {
                if *style != ScalarStyle::Plain {
                    return Ok((std::mem::take(value), true));
                }
                if value == "<<" {
                    return Err(Unsure);
                }
                match resolve(value) {
                    Resolved::Str | Resolved::Timestamp => Ok((std::mem::take(value), true)),
                    r => other_key(r).map(|k| (k, false)),
                }
            }
            _ => Err(Unsure),
        }
    }

    /// A key that is not a string, stringified as sigs.k8s.io/yaml does
    /// (ints in decimal, bools as words, floats as float32 `%g`); null,
    /// uint64 and non-finite keys are left to the reference.
    fn other_key(r: Resolved) -> Result<String, Unsure> {
        match r {
            Resolved::Int(i) => Ok(i.to_string()),
            Resolved::Bool(b) => Ok(b.to_string()),
            Resolved::Float(f) if f.is_finite() => Ok(float32_key(f)),
            _ => Err(Unsure),
        }
    }

    /// Whether the key node converts (see [`take_key`]).
    fn key_ok(node: &RawNode) -> Result<(), Unsure> {
        match node {
            RawNode::Scalar {
                value,
                style,
                tag: None,
            } => {
                if *style != ScalarStyle::Plain {
                    return Ok(());
                }
                if value == "<<" {
                    return Err(Unsure);
                }
                match resolve(value) {
                    Resolved::Str | Resolved::Timestamp => Ok(()),
                    r => other_key(r).map(drop),
                }
            }
            _ => Err(Unsure),
        }
    }

    /// Adds an entry to a mapping being built; `other_keys` is whether the
    /// mapping has had a key that is not a string so far. Equal JSON keys
    /// of different goyaml keys (`1` and `"1"`) are left to the
    /// reference, which orders them as goyaml's map does.
    fn insert(
        out: &mut BTreeMap<String, Value>,
        key: String,
        value: Value,
        other_keys: bool,
    ) -> Result<(), Unsure> {
        match out.insert(key, value) {
            Some(_) if other_keys => Err(Unsure),
            _ => Ok(()),
        }
    }

    /// Longest YAML 1.1 bool or null word.
    const MAX_WORD_LEN: usize = 5;

    /// Longest run of digits read here as an integer (it fits in i64).
    const MAX_FAST_DIGITS: usize = 18;

    /// [`resolve_plain`] (with timestamps, as for an untagged scalar), with
    /// the common forms answered without its allocation: text that cannot
    /// be anything but a string by its first byte, decimal integers without
    /// a sign, a leading zero or `_`, and decimals `digits.digits`.
    pub(super) fn resolve(s: &str) -> Resolved {
        let b = s.as_bytes();
        let Some(&first) = b.first() else {
            return Resolved::Null;
        };
        match first {
            // Of text starting with these letters only the bool and null
            // words resolve, none longer than five letters (`false`).
            b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O'
                if b.len() > MAX_WORD_LEN =>
            {
                Resolved::Str
            }
            b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' | b'.'
            | b'+' | b'-' => resolve_plain(s, true),
            b'0'..=b'9' => {
                let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
                if int_digits == b.len()
                    && int_digits <= MAX_FAST_DIGITS
                    && (first != b'0' || b.len() == 1)
                {
                    let mut v: i64 = 0;
                    for &c in b {
                        v = v * 10 + i64::from(c - b'0');
                    }
                    return Resolved::Int(v);
                }
                // `digits.digits`: not an integer, a float by goyaml's
                // pattern, never a timestamp (no `-`).
                if b.get(int_digits) == Some(&b'.')
                    && b.len() <= 2 * MAX_FAST_DIGITS
                    && b[int_digits + 1..].iter().all(u8::is_ascii_digit)
                {
                    if let Ok(f) = s.parse::<f64>() {
                        return Resolved::Float(f);
                    }
                }
                resolve_plain(s, true)
            }
            _ => Resolved::Str,
        }
    }
}

// ---------------------------------------------------------------------------
// goyaml.v2's decoding into interface{}.

/// A decoded YAML value, before the JSON step.
#[derive(Clone, Debug)]
enum Y {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    /// `!!binary` data (a Go string that need not be UTF-8).
    Bin(Vec<u8>),
    Seq(Vec<Y>),
    Map(YMap),
}

/// A `map[interface{}]interface{}`: insertion order, later keys replace
/// equal earlier ones.
#[derive(Clone, Debug, Default)]
struct YMap {
    entries: Vec<(Y, Y)>,
    /// Key identity to entry, built once the map outgrows a linear scan.
    index: Option<HashMap<String, usize>>,
}

/// Up to this many entries, equal keys are found by comparing keys (no
/// identity strings to build); most YAML mappings are this small.
const YMAP_SCAN_MAX: usize = 16;

impl YMap {
    fn set(&mut self, k: Y, v: Y) {
        if let Some(index) = &mut self.index {
            let id = key_identity(&k);
            match index.get(&id) {
                Some(&i) => self.entries[i].1 = v,
                None => {
                    index.insert(id, self.entries.len());
                    self.entries.push((k, v));
                }
            }
            return;
        }
        if let Some(e) = self.entries.iter_mut().find(|(e, _)| same_key(e, &k)) {
            e.1 = v;
            return;
        }
        self.entries.push((k, v));
        if self.entries.len() > YMAP_SCAN_MAX {
            let index = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (key_identity(k), i))
                .collect();
            self.index = Some(index);
        }
    }
}

/// `key_identity(a) == key_identity(b)`, without building the strings for
/// the common case of two string keys.
fn same_key(a: &Y, b: &Y) -> bool {
    match (a, b) {
        (Y::Str(x), Y::Str(y)) => x == y,
        _ => key_identity(a) == key_identity(b),
    }
}

/// Go map key equality for the scalar key types goyaml produces.
fn key_identity(k: &Y) -> String {
    match k {
        Y::Null => "n".into(),
        Y::Bool(b) => format!("b{b}"),
        Y::Int(i) => format!("i{i}"),
        Y::Uint(u) => format!("u{u}"),
        Y::Float(f) => format!("f{}", f.to_bits()),
        Y::Str(s) => format!("s{s}"),
        Y::Bin(b) => format!("s{}", String::from_utf8_lossy(b)),
        other => format!("x{other:?}"),
    }
}

struct Decoder<'a> {
    doc: &'a Document,
    decode_count: u64,
    alias_count: u64,
    alias_depth: u32,
    active_aliases: Vec<usize>,
}

/// goyaml.v2's `allowedAliasRatio`: 99% of the decoding work may come from
/// aliases in small documents, scaling down to 10% for large ones.
fn allowed_alias_ratio(decode_count: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    if decode_count <= LOW {
        0.99
    } else if decode_count >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decode_count - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

const STR_TAG: &str = "tag:yaml.org,2002:str";
const BINARY_TAG: &str = "tag:yaml.org,2002:binary";
const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

fn short_tag(tag: &str) -> String {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(s) => format!("!!{s}"),
        None => tag.to_string(),
    }
}

impl Decoder<'_> {
    fn count(&mut self) -> Result<(), YamlParseError> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64
                > allowed_alias_ratio(self.decode_count)
        {
            return Err(YamlParseError::Yaml(
                "document contains excessive aliasing".into(),
            ));
        }
        Ok(())
    }

    fn node(&mut self, idx: usize, depth: usize) -> Result<Y, YamlParseError> {
        if depth > MAX_NESTING {
            return Err(YamlParseError::Yaml(format!(
                "exceeded max depth of {MAX_NESTING}"
            )));
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.node_inner(idx, depth))
    }

    fn node_inner(&mut self, idx: usize, depth: usize) -> Result<Y, YamlParseError> {
        self.count()?;
        let doc = self.doc;
        match &doc.nodes[idx] {
            RawNode::Alias(target, name) => {
                if self.active_aliases.contains(&idx) {
                    return Err(YamlParseError::Yaml(format!(
                        "anchor '{name}' value contains itself"
                    )));
                }
                self.active_aliases.push(idx);
                self.alias_depth += 1;
                let r = self.node(*target, depth + 1);
                self.alias_depth -= 1;
                self.active_aliases.pop();
                r
            }
            RawNode::Scalar { value, style, tag } => scalar(value, *style, tag.as_deref()),
            RawNode::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for &i in items {
                    out.push(self.node(i, depth + 1)?);
                }
                Ok(Y::Seq(out))
            }
            RawNode::Map(entries) => {
                let mut out = YMap::default();
                self.mapping_into(entries, &mut out, depth)?;
                Ok(Y::Map(out))
            }
        }
    }

    fn mapping_into(
        &mut self,
        entries: &[(usize, usize)],
        out: &mut YMap,
        depth: usize,
    ) -> Result<(), YamlParseError> {
        for &(k, v) in entries {
            if self.is_merge(k) {
                self.merge(v, out, depth)?;
                continue;
            }
            let key = self.node(k, depth + 1)?;
            if matches!(key, Y::Seq(_) | Y::Map(_)) {
                return Err(YamlParseError::Yaml(format!(
                    "invalid map key: {}",
                    go_syntax(&key)
                )));
            }
            let value = self.node(v, depth + 1)?;
            out.set(key, value);
        }
        Ok(())
    }

    fn is_merge(&self, idx: usize) -> bool {
        match &self.doc.nodes[idx] {
            RawNode::Scalar { value, style, tag } => {
                value == "<<"
                    && ((*style == ScalarStyle::Plain && tag.is_none())
                        || tag.as_deref() == Some(MERGE_TAG))
            }
            _ => false,
        }
    }

    /// The node an alias points at (through chains of aliases).
    fn target(&self, mut idx: usize) -> usize {
        for _ in 0..self.doc.nodes.len() {
            match &self.doc.nodes[idx] {
                RawNode::Alias(t, _) => idx = *t,
                _ => break,
            }
        }
        idx
    }

    /// goyaml.v2's `merge`: a mapping (or alias of one) is decoded into the
    /// map being built, overwriting keys set so far; for a sequence of
    /// mappings the last is applied first, so earlier ones win.
    fn merge(&mut self, idx: usize, out: &mut YMap, depth: usize) -> Result<(), YamlParseError> {
        let want_map = || {
            YamlParseError::Yaml("map merge requires map or sequence of maps as the value".into())
        };
        let doc = self.doc;
        match &doc.nodes[idx] {
            RawNode::Map(_) | RawNode::Alias(..) => self.merge_one(idx, out, depth, want_map),
            RawNode::Seq(items) => {
                for &i in items.iter().rev() {
                    self.merge_one(i, out, depth, want_map)?;
                }
                Ok(())
            }
            RawNode::Scalar { .. } => Err(want_map()),
        }
    }

    fn merge_one(
        &mut self,
        idx: usize,
        out: &mut YMap,
        depth: usize,
        want_map: impl Fn() -> YamlParseError,
    ) -> Result<(), YamlParseError> {
        let doc = self.doc;
        let target = self.target(idx);
        let RawNode::Map(entries) = &doc.nodes[target] else {
            return Err(want_map());
        };
        // Decoding the merged node counts like decoding any node, with the
        // alias depth raised when it is reached through an alias.
        self.count()?;
        let via_alias = target != idx;
        if via_alias {
            if self.active_aliases.contains(&idx) {
                return Err(YamlParseError::Yaml("anchor value contains itself".into()));
            }
            self.active_aliases.push(idx);
            self.alias_depth += 1;
        }
        let r = self.mapping_into(entries, out, depth + 1);
        if via_alias {
            self.alias_depth -= 1;
            self.active_aliases.pop();
        }
        r
    }
}

/// goyaml.v2's scalar decoding into `interface{}`.
fn scalar(value: &str, style: ScalarStyle, tag: Option<&str>) -> Result<Y, YamlParseError> {
    let implicit = style == ScalarStyle::Plain;
    let tag = match tag {
        // The non-specific tag `!` leaves a scalar a string.
        Some("!") => return Ok(Y::Str(value.to_string())),
        Some(t) => t,
        None if !implicit => return Ok(Y::Str(value.to_string())),
        None => "",
    };
    if tag == BINARY_TAG {
        return decode_base64(value).map(Y::Bin).ok_or_else(|| {
            YamlParseError::Yaml("!!binary value contains invalid base64 data".into())
        });
    }
    let resolvable = matches!(
        tag,
        "" | "tag:yaml.org,2002:str"
            | "tag:yaml.org,2002:bool"
            | "tag:yaml.org,2002:int"
            | "tag:yaml.org,2002:float"
            | "tag:yaml.org,2002:null"
            | "tag:yaml.org,2002:timestamp"
    );
    if !resolvable {
        return Ok(Y::Str(value.to_string()));
    }
    let resolved = if tag == STR_TAG {
        Resolved::Str
    } else {
        resolve_plain(
            value,
            tag.is_empty() || tag == "tag:yaml.org,2002:timestamp",
        )
    };
    let rtag = match resolved {
        Resolved::Null => "tag:yaml.org,2002:null",
        Resolved::Bool(_) => "tag:yaml.org,2002:bool",
        Resolved::Int(_) | Resolved::Uint(_) => "tag:yaml.org,2002:int",
        Resolved::Float(_) => "tag:yaml.org,2002:float",
        Resolved::Timestamp => "tag:yaml.org,2002:timestamp",
        Resolved::Str => STR_TAG,
    };
    if !tag.is_empty() && tag != rtag && tag != STR_TAG {
        // A !!float tag on an integer makes it a float; anything else that
        // does not match its tag is an error.
        if tag == "tag:yaml.org,2002:float" {
            if let Resolved::Int(i) = resolved {
                return Ok(Y::Float(i as f64));
            }
        }
        return Err(YamlParseError::Yaml(format!(
            "cannot decode {} `{}` as a {}",
            short_tag(rtag),
            value,
            short_tag(tag)
        )));
    }
    Ok(match resolved {
        Resolved::Null => Y::Null,
        Resolved::Bool(b) => Y::Bool(b),
        Resolved::Int(i) => Y::Int(i),
        Resolved::Uint(u) => Y::Uint(u),
        Resolved::Float(f) => Y::Float(f),
        // Timestamps stay strings when decoded into interface{}.
        Resolved::Timestamp | Resolved::Str => Y::Str(value.to_string()),
    })
}

/// Standard base64 as Go's `base64.StdEncoding.DecodeString` reads it
/// (padding required, newlines ignored).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let clean: Vec<u8> = s.bytes().filter(|b| *b != b'\n' && *b != b'\r').collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    let chunks = clean.len() / 4;
    for (i, chunk) in clean.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != chunks) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | val(c)?;
        }
        n <<= 6 * pad as u32;
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// The JSON step.

/// `%+#v`-like rendering of a decoded value for error messages.
fn go_syntax(y: &Y) -> String {
    match y {
        Y::Null => "<nil>".into(),
        Y::Bool(b) => b.to_string(),
        Y::Int(i) => i.to_string(),
        Y::Uint(u) => format!("0x{u:x}"),
        Y::Float(f) => crate::fmt::format_float_g(*f),
        Y::Str(s) => crate::fmt::quote(s),
        Y::Bin(b) => crate::fmt::quote(&String::from_utf8_lossy(b)),
        Y::Seq(items) => format!(
            "[]interface {{}}{{{}}}",
            items.iter().map(go_syntax).collect::<Vec<_>>().join(", ")
        ),
        Y::Map(m) => format!(
            "map[interface {{}}]interface {{}}{{{}}}",
            m.entries
                .iter()
                .map(|(k, v)| format!("{}:{}", go_syntax(k), go_syntax(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn go_type_name(y: &Y) -> &'static str {
    match y {
        Y::Null => "%!s(<nil>)",
        Y::Bool(_) => "bool",
        Y::Int(_) => "int",
        Y::Uint(_) => "uint64",
        Y::Float(_) => "float64",
        Y::Str(_) | Y::Bin(_) => "string",
        Y::Seq(_) => "[]interface {}",
        Y::Map(_) => "map[interface {}]interface {}",
    }
}

/// A Go string (any bytes) as encoding/json writes it: each invalid UTF-8
/// byte becomes U+FFFD.
fn lossy_per_byte(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        for _ in chunk.invalid() {
            out.push('\u{FFFD}');
        }
    }
    out
}

/// `strconv.FormatFloat(f, 'g', -1, 32)` with goyaml's names for the
/// infinities and NaN (how sigs.k8s.io/yaml spells float keys).
fn float32_key(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let x = f as f32;
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    // Shortest float32 digits, then Go's 'g' layout (exponent form when
    // the decimal exponent is < -4 or >= 6 for shortest precision).
    let sci = format!("{x:e}");
    let (neg, sci) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, sci),
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let nd = digits.len() as i32;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        if exp.abs() < 10 {
            out.push('0');
        }
        out.push_str(&exp.abs().to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else if nd <= exp + 1 {
        out.push_str(&digits);
        for _ in 0..(exp + 1 - nd) {
            out.push('0');
        }
    } else {
        out.push_str(&digits[..(exp + 1) as usize]);
        out.push('.');
        out.push_str(&digits[(exp + 1) as usize..]);
    }
    out
}

fn key_string(k: &Y, v: &Y) -> Result<String, YamlParseError> {
    Ok(match k {
        Y::Str(s) => s.clone(),
        Y::Bin(b) => lossy_per_byte(b),
        Y::Int(i) => i.to_string(),
        Y::Float(f) => float32_key(*f),
        Y::Bool(b) => b.to_string(),
        other => {
            return Err(YamlParseError::Convert(format!(
                "unsupported map key of type: {}, key: {}, value: {}",
                go_type_name(other),
                go_syntax(other),
                go_syntax(v)
            )))
        }
    })
}

/// The errors [`to_json_value`] would report for `y`, in the same order,
/// without building the value.
fn check_json(y: &Y) -> Result<(), YamlParseError> {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || check_json_inner(y))
}

fn check_json_inner(y: &Y) -> Result<(), YamlParseError> {
    match y {
        Y::Float(f) if !f.is_finite() => to_json_value_inner(Y::Float(*f)).map(drop),
        Y::Seq(items) => items.iter().try_for_each(check_json),
        Y::Map(m) => m.entries.iter().try_for_each(|(k, v)| {
            match k {
                Y::Str(_) | Y::Bin(_) | Y::Int(_) | Y::Float(_) | Y::Bool(_) => {}
                _ => {
                    key_string(k, v)?;
                }
            }
            check_json(v)
        }),
        _ => Ok(()),
    }
}

fn to_json_value(y: Y) -> Result<Value, YamlParseError> {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || to_json_value_inner(y))
}

fn to_json_value_inner(y: Y) -> Result<Value, YamlParseError> {
    Ok(match y {
        Y::Null => Value::Nil,
        Y::Bool(b) => Value::Bool(b),
        Y::Int(i) => Value::Float(i as f64),
        Y::Uint(u) => Value::Float(u as f64),
        Y::Float(f) => {
            if f.is_nan() {
                return Err(YamlParseError::Convert(
                    "json: unsupported value: NaN".into(),
                ));
            }
            if f.is_infinite() {
                let s = if f > 0.0 { "+Inf" } else { "-Inf" };
                return Err(YamlParseError::Convert(format!(
                    "json: unsupported value: {s}"
                )));
            }
            Value::Float(f)
        }
        Y::Str(s) => Value::string(s),
        Y::Bin(b) => Value::string(lossy_per_byte(&b)),
        Y::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(to_json_value(item)?);
            }
            Value::List(List::new(out))
        }
        Y::Map(m) => {
            let mut out = BTreeMap::new();
            for (k, v) in m.entries {
                let key = key_string(&k, &v)?;
                out.insert(key, to_json_value(v)?);
            }
            Value::map(out)
        }
    })
}

#[cfg(test)]
mod tests {
    //! Differential tests: the direct conversion against the reference
    //! decoding (the reader's checks, goyaml.v2's tree, the JSON step) on
    //! the corpora, on mutated documents and on the cases where it must
    //! give up.

    use std::path::{Path, PathBuf};

    use super::*;

    /// The reference answer for `text`, as a comparable string.
    fn reference(text: &str, keep: Option<&[&str]>) -> String {
        let answer = (|| {
            if has_forbidden_char(text) {
                return Err(YamlParseError::Yaml(
                    "control characters are not allowed".into(),
                ));
            }
            let text = text.replace('\u{85}', "\n");
            let doc = read_document(&text)?;
            match doc.root {
                None => Ok(Value::Nil),
                Some(root) => reference_value(&doc, root, keep),
            }
        })();
        format!("{answer:?}")
    }

    const HEAD: &[&str] = &["apiVersion", "kind", "metadata"];

    /// Checks both entry points on `text`; returns whether the direct
    /// conversion answered for the whole text.
    fn check(text: &str) -> bool {
        let got = format!("{:?}", yaml_to_value(text));
        assert_eq!(got, reference(text, None), "yaml_to_value of {text:?}");
        let got = format!("{:?}", yaml_to_value_keep(text, HEAD));
        assert_eq!(got, reference(text, Some(HEAD)), "keep of {text:?}");
        match read_checked(text) {
            Ok((mut doc, true)) => match doc.root {
                Some(root) => direct::value(&mut doc.nodes, root, 0).is_ok(),
                None => true,
            },
            _ => false,
        }
    }

    #[test]
    fn plain_scalars_resolve_as_goyaml_resolves_them() {
        for s in [
            "",
            "0",
            "7",
            "10",
            "0777",
            "08",
            "123456789012345678",
            "1234567890123456789",
            "99999999999999999999",
            "1_000",
            "1.5",
            "0.5",
            "00.5",
            "1.",
            "1.5e3",
            "12.34.5",
            "1.0000000000000000000000000000000001",
            "2024-01-01",
            "2024-1-1",
            "1:20",
            "0x1F",
            "-1",
            "+1",
            "-.5",
            ".5",
            ".inf",
            ".nan",
            "yes",
            "No",
            "on",
            "null",
            "~",
            "name",
            "true",
            "tru",
            "o",
            "8080",
            "false",
            "FALSE",
            "False",
            "falsey",
            "nameserver",
            "Off",
            "offset",
            "NULL",
            "Nullable",
            "type",
            "yes.",
            "no-op",
            "100m",
            "1Gi",
            "3.14.15",
            "1e5",
            "1.e5",
        ] {
            // (Debug: NaN equals itself there.)
            assert_eq!(
                format!("{:?}", direct::resolve(s)),
                format!("{:?}", resolve_plain(s, true)),
                "{s:?}"
            );
        }
    }

    #[test]
    fn unsure_cases_take_the_reference_decoding() {
        let cases = [
            // Values and errors the direct conversion leaves alone.
            "a: .nan\n",
            "a: .nan\na: 1\n",
            "a: [1, -.inf]\n",
            "kind: A\nspec: {x: .inf}\n",
            "~: 1\n",
            "1: a\n\"1\": b\n1: c\n",
            "true: x\n1.5: y\n2: z\n",
            "0x10: a\n16: b\n",
            "9000: 1\n9001: 2\nfalse: false\n1.5: x\n1e3: y\nyes: z\n",
            ".nan: 1\n",
            ".inf: 1\n",
            "18446744073709551615: 1\n",
            "1.5: a\n1.50: b\n",
            "1: a\n1: b\n",
            "kind: A\n1: b\n\"1\": c\nspec: {2: x, \"2\": y}\n",
            "<<: {a: 1, b: 2}\nb: 3\n",
            "base: &b {a: 1}\nx:\n  <<: *b\n  c: 2\n",
            "a: &x [1, 2]\nb: *x\n",
            "a: !!str 1\nb: !!int \"2\"\nc: !!float 3\n",
            "a: !!int x\n",
            "a: !!binary aGk=\n",
            "? [a]\n: 1\n",
            "? {a: 1}\n: 1\n",
            "a: \u{85}b\n",
            "a: \u{1}\n",
            "a: 'x\tb'\n",
            // Plain documents in the direct conversion's reach.
            "a: 1\nb: 2.5\nc: true\nd: ~\ne: x\nf: '1'\ng: 2024-01-01\nh: 0777\n",
            "kind: A\nKind: B\nkind: C\nmetadata: {name: x}\nspec: [1, {y: 2}]\n",
            "- 1\n- [a, b]\n- {c: d}\n",
            "just a string\n",
            "12\n",
            "",
            "---\n",
            "a: |\n  text\nb: >-\n  folded\n  text\n",
            "a: 1\na: 2\n",
            "{a: 1, a: 2, b: [x, y]}\n",
        ];
        for text in cases {
            check(text);
        }
        // Nesting at and around the limit.
        for n in [
            MAX_NESTING - 3,
            MAX_NESTING - 1,
            MAX_NESTING,
            MAX_NESTING + 1,
        ] {
            let text = format!("{}1{}", "[".repeat(n), "]".repeat(n));
            check(&text);
            let text = format!("{}1{}", "{a: ".repeat(n), "}".repeat(n));
            check(&text);
        }
    }

    // ---- corpora

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// Every file under `dir` whose name ends in one of `exts`, sorted.
    fn texts_under(dir: &Path, exts: &[&str]) -> Vec<String> {
        let mut paths = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if exts.iter().any(|x| p.to_string_lossy().ends_with(x)) {
                    paths.push(p);
                }
            }
        }
        paths.sort();
        paths
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// The chart corpus (`BERTH_CHART_CORPUS`, else `../shared/charts`
    /// next to the clone): its YAML files, templates included (as text
    /// they are YAML or errors); the rendered manifests in
    /// `BERTH_YAML_CORPUS` (scripts/yaml-fast-corpus.sh); the conformance
    /// case files and each case's values and template.
    fn corpus() -> Vec<String> {
        let charts = match std::env::var_os("BERTH_CHART_CORPUS") {
            Some(p) => PathBuf::from(p),
            None => repo_root().join("../shared/charts"),
        };
        let mut out = texts_under(&charts, &[".yaml", ".yml", ".tpl"]);
        if let Some(dir) = std::env::var_os("BERTH_YAML_CORPUS") {
            out.extend(texts_under(Path::new(&dir), &[".yaml"]));
        }
        for file in texts_under(&repo_root().join("conformance/cases"), &[".yaml"]) {
            if let Ok(Value::List(cases)) = yaml_to_value(&file) {
                for case in cases.items.iter() {
                    let Value::Map(m) = case else { continue };
                    for field in ["values", "template"] {
                        if let Some(Value::String(s)) = m.get(field) {
                            out.push(s.to_string());
                        }
                    }
                }
            }
            out.push(file);
        }
        assert!(out.len() > 100, "corpus too small: {}", out.len());
        out
    }

    #[test]
    fn corpus_decodes_as_the_reference_decodes_it() {
        let texts = corpus();
        let direct = texts.iter().filter(|t| check(t)).count();
        let ok = texts.iter().filter(|t| yaml_to_value(t).is_ok()).count();
        eprintln!(
            "corpus: {direct} of {} texts ({ok} YAML) converted directly",
            texts.len()
        );
        // Most YAML in the corpus is plain; the templates are mostly not
        // YAML before rendering.
        assert!(direct > ok / 2, "only {direct} of {ok} converted directly");
    }

    /// xorshift64*: a small deterministic generator for the mutations
    /// (also used by the fast reader's tests).
    pub(super) struct Rng(pub(super) u64);

    impl Rng {
        pub(super) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        pub(super) fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Replacements that reach the direct conversion's edges: numbers,
    /// special floats, merge keys, anchors, tags, quotes, flow syntax.
    const PIECES: &[&str] = &[
        " ",
        ":",
        "-",
        "#",
        "'",
        "\"",
        "\n",
        "[",
        "]",
        "{",
        "}",
        "&a ",
        "*a",
        "!!str ",
        "!!float ",
        "<<",
        ".nan",
        "-.inf",
        "~",
        "1",
        "0x1F",
        "1_0",
        "2.5",
        "1e3",
        "yes",
        "2024-01-01",
        "0",
        "07",
        ".5",
    ];

    #[test]
    fn mutated_documents_decode_as_the_reference_decodes_them() {
        let seeds: Vec<String> = corpus()
            .into_iter()
            .map(|t| {
                let cut = t.len().min(2000);
                let cut = (0..=cut)
                    .rev()
                    .find(|&i| t.is_char_boundary(i))
                    .unwrap_or(0);
                t[..cut].to_string()
            })
            .filter(|t| !t.is_empty())
            .collect();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut direct, total) = (0, 20_000);
        for i in 0..total {
            let seed = &seeds[i % seeds.len()];
            let mut text = seed.clone();
            for _ in 0..1 + rng.below(3) {
                let pos = rng.below(text.len());
                if !text.is_char_boundary(pos) {
                    continue;
                }
                let end = (pos + rng.below(4)).min(text.len());
                if !text.is_char_boundary(end) {
                    continue;
                }
                text.replace_range(pos..end, PIECES[rng.below(PIECES.len())]);
            }
            if check(&text) {
                direct += 1;
            }
        }
        eprintln!("mutations: {direct}/{total} converted directly");
        assert!(direct > total / 10);
    }
}
