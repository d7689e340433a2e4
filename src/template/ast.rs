//! The parse tree, shaped like Go's `text/template/parse` nodes.
//!
//! Trees hold no `Value` (values are `!Send`), only text and resolved
//! function references, so a parsed template set is `Send + Sync` and is
//! executed many times. Positions are byte offsets into the source text of
//! the file the node was parsed from, which is how Go computes the
//! `NAME:LINE:COL` of an execution error.

use std::fmt::{self, Display, Write as _};
use std::sync::Arc;

use crate::func::FuncImpl;
use crate::value::GoType;

/// One template: a file's main body or a `define`/`block`.
#[derive(Debug)]
pub(crate) struct Tree {
    /// The template's name (`executing "NAME"`).
    pub name: Arc<str>,
    /// The name of the file it was parsed from (the `NAME:LINE:COL` part).
    pub parse_name: Arc<str>,
    /// The whole source text of that file.
    pub text: Arc<str>,
    pub root: Vec<Node>,
    /// Deepest nesting of control structures and parentheses seen while
    /// parsing (an upper bound), so that recursive work on a deep tree
    /// (dropping it, printing a node) can get a big enough stack.
    pub depth: usize,
}

/// Run `f` with enough stack for recursing `depth` levels into a tree.
pub(crate) fn with_stack_for<T>(depth: usize, f: impl FnOnce() -> T) -> T {
    if depth <= 256 {
        return f();
    }
    // Segments are mapped lazily, so a generous size costs little.
    stacker::grow(depth.saturating_mul(4096).saturating_add(1 << 20), f)
}

impl Drop for Tree {
    fn drop(&mut self) {
        if self.depth > 256 {
            let root = std::mem::take(&mut self.root);
            with_stack_for(self.depth, move || drop(root));
        }
    }
}

impl Tree {
    /// Go's `parse.IsEmptyTree`: only whitespace text and comments.
    pub fn is_empty(&self) -> bool {
        self.root.iter().all(|n| match n {
            Node::Text { start, end } => self.text[*start..*end].trim().is_empty(),
            _ => false,
        })
    }

    /// `NAME:LINE:COL` of a byte offset, as Go's `ErrorContext` computes
    /// it (the column is the 0-based byte offset within the line).
    pub fn location(&self, pos: usize) -> String {
        let pos = pos.min(self.text.len());
        let before = &self.text[..pos];
        let (line, col) = match before.rfind('\n') {
            None => (1, pos),
            Some(nl) => (1 + before.matches('\n').count(), pos - (nl + 1)),
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }
}

#[derive(Debug)]
pub(crate) enum Node {
    /// Plain text: a byte range of the tree's source text.
    Text {
        start: usize,
        end: usize,
    },
    Action(Pipe),
    If(Box<Branch>),
    Range(Box<Branch>),
    With(Box<Branch>),
    Template {
        pos: usize,
        name: Box<str>,
        pipe: Option<Pipe>,
    },
    Break {
        pos: usize,
    },
    Continue {
        pos: usize,
    },
}

#[derive(Debug)]
pub(crate) struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug)]
pub(crate) struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<Variable>,
    pub cmds: Vec<Command>,
}

/// `$x` or `$x.a.b`: the first identifier is the variable name with its
/// `$`.
#[derive(Debug)]
pub(crate) struct Variable {
    pub pos: usize,
    pub idents: Idents,
}

impl Variable {
    /// The variable's name (`$x`).
    pub fn name(&self) -> &str {
        self.idents.first()
    }
}

/// The first `.` of a short identifier chain (a plain loop: these are a
/// few bytes long, too short for `memchr`).
fn first_dot(s: &str) -> Option<usize> {
    s.bytes().position(|b| b == b'.')
}

/// A non-empty chain of identifiers (`a.b.c`), kept as its dot-separated
/// source text in one allocation. Identifiers are never empty and never
/// contain a dot (the lexer guarantees both).
#[derive(Debug)]
pub(crate) struct Idents(Box<str>);

impl Idents {
    pub fn new(path: &str) -> Idents {
        Idents(Box::from(path))
    }

    /// `a.b.c` (the identifiers joined by dots).
    pub fn path(&self) -> &str {
        &self.0
    }

    pub fn first(&self) -> &str {
        match first_dot(&self.0) {
            Some(i) => &self.0[..i],
            None => &self.0,
        }
    }

    /// The identifiers after the first (`b.c`), `None` when there is one.
    pub fn rest(&self) -> Option<&str> {
        first_dot(&self.0).map(|i| &self.0[i + 1..])
    }

    /// Append more identifiers (`fields`, dot-separated).
    pub fn extend(&mut self, fields: &str) {
        let mut s = String::with_capacity(self.0.len() + 1 + fields.len());
        s.push_str(&self.0);
        s.push('.');
        s.push_str(fields);
        self.0 = s.into_boxed_str();
    }
}

#[derive(Debug)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// A resolved function: a Go builtin or an entry of the function map.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FuncRef {
    Builtin(crate::builtins::Builtin),
    User(UserFunc),
}

impl FuncRef {
    pub fn name(&self) -> &'static str {
        match self {
            FuncRef::Builtin(b) => b.name(),
            FuncRef::User(u) => u.name,
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct UserFunc {
    pub name: &'static str,
    pub params: &'static [GoType],
    pub variadic: Option<GoType>,
    pub call: FuncImpl,
}

impl fmt::Debug for UserFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "func {}", self.name)
    }
}

/// A numeric constant with Go's "ideal constant" facets.
#[derive(Debug)]
pub(crate) struct Number {
    pub text: Box<str>,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub is_complex: bool,
    pub int: i64,
    pub uint: u64,
    pub float: f64,
    /// The value of a complex constant (real, imaginary).
    pub complex: (f64, f64),
}

#[derive(Debug)]
pub(crate) enum Arg {
    Field {
        pos: usize,
        idents: Idents,
    },
    Variable(Variable),
    Chain {
        pos: usize,
        base: Box<Arg>,
        fields: Idents,
    },
    /// A function name; its name is `func.name()`.
    Ident {
        pos: usize,
        func: FuncRef,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    Bool {
        pos: usize,
        val: bool,
    },
    Number {
        pos: usize,
        num: Box<Number>,
    },
    String {
        pos: usize,
        /// The unquoted text.
        text: Box<str>,
        quoted: Quoted,
    },
    Pipe(Box<Pipe>),
}

/// How a string constant was written (for printing it back, as Go's
/// `StringNode.Quoted`).
#[derive(Debug)]
pub(crate) enum Quoted {
    /// The text between two `delim` bytes, as it is.
    Plain(u8),
    /// Anything else (escapes, carriage returns in raw strings).
    Source(Box<str>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Ident { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Variable(v) => v.pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

fn write_idents(f: &mut fmt::Formatter<'_>, idents: &Idents, lead_dot: bool) -> fmt::Result {
    if lead_dot {
        f.write_char('.')?;
    }
    f.write_str(idents.path())
}

impl Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_idents(f, &self.idents, false)
    }
}

impl Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => write_idents(f, idents, true),
            Arg::Variable(v) => v.fmt(f),
            Arg::Chain { base, fields, .. } => {
                if let Arg::Pipe(p) = &**base {
                    write!(f, "({p})")?;
                } else {
                    base.fmt(f)?;
                }
                write_idents(f, fields, true)
            }
            Arg::Ident { func, .. } => f.write_str(func.name()),
            Arg::Dot { .. } => f.write_char('.'),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Bool { val, .. } => f.write_str(if *val { "true" } else { "false" }),
            Arg::Number { num, .. } => f.write_str(&num.text),
            Arg::String { text, quoted, .. } => match quoted {
                Quoted::Plain(delim) => {
                    f.write_char(char::from(*delim))?;
                    f.write_str(text)?;
                    f.write_char(char::from(*delim))
                }
                Quoted::Source(s) => f.write_str(s),
            },
            Arg::Pipe(p) => p.fmt(f),
        }
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            if let Arg::Pipe(p) = arg {
                write!(f, "({p})")?;
            } else {
                arg.fmt(f)?;
            }
        }
        Ok(())
    }
}

impl Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, v) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                v.fmt(f)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            c.fmt(f)?;
        }
        Ok(())
    }
}

/// Displays a node as Go's `Node.String()` does; needs the tree's text
/// for text nodes.
pub(crate) struct NodeDisplay<'a> {
    pub node: &'a Node,
    pub text: &'a str,
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node], text: &str) -> fmt::Result {
    for n in list {
        NodeDisplay { node: n, text }.fmt(f)?;
    }
    Ok(())
}

impl Display for NodeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let branch = |f: &mut fmt::Formatter<'_>, word: &str, b: &Branch| -> fmt::Result {
            write!(f, "{{{{{word} {}}}}}", b.pipe)?;
            write_list(f, &b.list, self.text)?;
            if let Some(e) = &b.else_list {
                f.write_str("{{else}}")?;
                write_list(f, e, self.text)?;
            }
            f.write_str("{{end}}")
        };
        match self.node {
            Node::Text { start, end } => f.write_str(&self.text[*start..*end]),
            Node::Action(p) => write!(f, "{{{{{p}}}}}"),
            Node::If(b) => branch(f, "if", b),
            Node::Range(b) => branch(f, "range", b),
            Node::With(b) => branch(f, "with", b),
            Node::Template { name, pipe, .. } => {
                write!(f, "{{{{template {}", crate::fmt::quote(name))?;
                if let Some(p) = pipe {
                    write!(f, " {p}")?;
                }
                f.write_str("}}")
            }
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}
