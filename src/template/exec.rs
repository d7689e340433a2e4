//! The executor: Go `text/template/exec` semantics over [`Value`]s.
//!
//! Go works on `reflect.Value`s, and one reflect detail is observable: a
//! value read out of a `map[string]interface{}` or `[]interface{}` still
//! has the static type `interface {}` until a pipeline finishes. That is
//! why `.a.b` on a missing `a` fails with `nil pointer evaluating
//! interface {}.b` while `$x.b` (after `$x := .a`) quietly yields no
//! value, and why `upper .missing` reports `got interface {}` but
//! `.missing | upper` reports `invalid value`. [`Val`] carries that bit.

use std::sync::Arc;

use crate::ast::{Arg, Branch, Command, FuncRef, Node, NodeDisplay, Number, Pipe, Tree, Variable};
use crate::builtins;
use crate::engine::{Error, ExecOptions, LimitKind, Limits, LookupHook, MissingKey, Templates};
use crate::func::{Context, FuncError};
use crate::value::{GoType, List, Map, Value};

/// A value during evaluation. `iface` is set when Go would still see it
/// through an `interface {}` (see the module docs). `Nil` with `iface`
/// false is Go's invalid `reflect.Value` ("no value").
#[derive(Clone, Debug)]
pub(crate) struct Val {
    pub v: Value,
    pub iface: bool,
    /// Go's `CanAddr`: a struct field reached through a pointer. Only then
    /// does printing use a pointer-receiver `String()`; a function's result
    /// or an interface element is a copy (Helm's `{{ default "x"
    /// .Capabilities.KubeVersion }}` prints the struct fields).
    pub addr: bool,
}

impl Val {
    pub fn of(v: Value) -> Val {
        Val {
            v,
            iface: false,
            addr: false,
        }
    }
    pub fn invalid() -> Val {
        Val {
            v: Value::Nil,
            iface: false,
            addr: false,
        }
    }
    pub fn is_invalid(&self) -> bool {
        !self.iface && self.v.is_nil()
    }
    /// A value read from a container whose element type is `elem`.
    fn elem(v: Value, elem: GoType) -> Val {
        Val {
            v,
            iface: elem == GoType::Interface,
            addr: false,
        }
    }
    /// Go's `indirectInterface`: the dynamic value.
    pub fn indirect_interface(self) -> Val {
        Val {
            v: self.v,
            iface: false,
            addr: self.addr,
        }
    }
    fn type_string(&self) -> String {
        if self.iface {
            "interface {}".to_string()
        } else {
            self.v.type_name()
        }
    }
}

/// How an argument is checked before a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamType {
    /// No type (the receiver of a chain): values pass unchanged.
    None,
    /// Go builtins taking `reflect.Value`: anything, nil included.
    Reflect,
    Go(GoType),
}

/// Control flow out of a list: `{{break}}` and `{{continue}}`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Normal,
    Break,
    Continue,
}

/// State shared by an execution and every nested `include`/`tpl`.
pub(crate) struct Shared {
    pub missing_key: MissingKey,
    pub limits: Limits,
    pub lookup: Option<LookupHook>,
    pub steps: u64,
    pub output_bytes: u64,
    pub depth: u32,
    pub tpl_depth: u32,
    /// Helm's `includedNames`: active includes per name.
    pub included: crate::engine::NameMap<String, u32>,
    /// A limit error raised inside a function's nested execution; it
    /// overrides the function's error so the limit is reported as such.
    pub abort: Option<Error>,
}

impl Shared {
    pub fn new(opts: &ExecOptions) -> Shared {
        Shared {
            missing_key: opts.missing_key,
            limits: opts.limits,
            lookup: opts.lookup.clone(),
            steps: 0,
            output_bytes: 0,
            depth: 0,
            tpl_depth: 0,
            included: Default::default(),
            abort: None,
        }
    }
}

/// Helm's cap on nested includes of one name (`recursionMaxNums`).
const HELM_INCLUDE_MAX: u32 = 1000;

/// Where execution is, for error messages (Go's `state.node`).
#[derive(Clone, Copy)]
pub(crate) enum At<'a> {
    None,
    Node(&'a Node),
    Pipe(&'a Pipe),
    Cmd(&'a Command),
    Arg(&'a Arg),
    Var(&'a Variable),
}

pub(crate) type R<T> = Result<T, Error>;

pub(crate) struct Exec<'a, 's> {
    pub set: &'a Templates,
    pub tree: &'a Tree,
    pub node: At<'a>,
    pub vars: Vec<(&'a str, Val)>,
    pub out: String,
    pub shared: &'s mut Shared,
}

/// Execute `tree` of `set` with `data`, returning its output.
pub(crate) fn execute_tree(
    set: &Templates,
    tree: &Tree,
    data: Value,
    shared: &mut Shared,
) -> Result<String, Error> {
    let dot = Val::of(data);
    let mut ex = Exec {
        set,
        tree,
        node: At::None,
        vars: vec![("$", dot.clone())],
        out: String::new(),
        shared,
    };
    ex.walk_list(&dot, &tree.root)?;
    Ok(ex.out)
}

impl<'a> Exec<'a, '_> {
    // ---------------- errors ----------------

    fn at_pos(&self) -> Option<usize> {
        match self.node {
            At::None => None,
            At::Node(n) => Some(match n {
                Node::Text { start, .. } => *start,
                Node::Action(p) => p.pos,
                Node::If(b) | Node::Range(b) | Node::With(b) => b.pipe.pos,
                Node::Template { pos, .. } | Node::Break { pos } | Node::Continue { pos } => *pos,
            }),
            At::Pipe(p) => Some(p.pos),
            At::Cmd(c) => Some(c.pos),
            At::Arg(a) => Some(a.pos()),
            At::Var(v) => Some(v.pos),
        }
    }

    fn context(&self) -> String {
        match self.node {
            At::None => String::new(),
            At::Node(n) => NodeDisplay {
                node: n,
                text: &self.tree.text,
            }
            .to_string(),
            At::Pipe(p) => p.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Arg(a) => a.to_string(),
            At::Var(v) => v.to_string(),
        }
    }

    /// Go's `state.errorf`.
    pub(crate) fn err(&self, msg: impl std::fmt::Display) -> Error {
        let name = &self.tree.name;
        let message = match self.at_pos() {
            None => format!("template: {name}: {msg}"),
            Some(pos) => format!(
                "template: {}: executing {} at <{}>: {msg}",
                self.tree.location(pos),
                crate::fmt::quote(name),
                crate::ast::with_stack_for(self.tree.depth, || self.context())
            ),
        };
        Error::Exec {
            template: name.to_string(),
            message,
        }
    }

    fn limit_err(&self, limit: LimitKind, message: String) -> Error {
        let pos = self.at_pos().unwrap_or(0);
        Error::Limit {
            template: self.tree.name.to_string(),
            location: self.tree.location(pos),
            limit,
            message,
        }
    }

    // ---------------- budget ----------------

    pub(crate) fn step(&mut self, units: u64) -> R<()> {
        self.shared.steps = self.shared.steps.saturating_add(units);
        if self.shared.steps > self.shared.limits.max_steps {
            let max = self.shared.limits.max_steps;
            return Err(self.limit_err(
                LimitKind::Steps,
                format!("evaluation budget exhausted: more than {max} steps"),
            ));
        }
        Ok(())
    }

    /// Count `n` produced bytes against the output budget (text written
    /// anywhere, and strings built by `print`/`printf`/`println`).
    pub(crate) fn count_output(&mut self, n: usize) -> R<()> {
        self.shared.output_bytes = self.shared.output_bytes.saturating_add(n as u64);
        if self.shared.output_bytes > self.shared.limits.max_output_bytes {
            let max = self.shared.limits.max_output_bytes;
            return Err(self.limit_err(
                LimitKind::OutputBytes,
                format!("output limit exceeded: more than {max} bytes"),
            ));
        }
        Ok(())
    }

    fn write(&mut self, s: &str) -> R<()> {
        self.count_output(s.len())?;
        self.out.push_str(s);
        Ok(())
    }

    // ---------------- variables ----------------

    fn var_value(&self, name: &str) -> R<Val> {
        for (n, v) in self.vars.iter().rev() {
            if *n == name {
                return Ok(v.clone());
            }
        }
        Err(self.err(format_args!("undefined variable: {name}")))
    }

    fn set_var(&mut self, name: &str, value: Val) -> R<()> {
        for (n, v) in self.vars.iter_mut().rev() {
            if *n == name {
                *v = value;
                return Ok(());
            }
        }
        Err(self.err(format_args!("undefined variable: {name}")))
    }

    fn set_top_var(&mut self, n: usize, value: Val) {
        let len = self.vars.len();
        if let Some(slot) = self.vars.get_mut(len - n) {
            slot.1 = value;
        }
    }

    // ---------------- walking ----------------

    pub(crate) fn walk_list(&mut self, dot: &Val, list: &'a [Node]) -> R<Flow> {
        for node in list {
            let flow = self.walk(dot, node)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val, node: &'a Node) -> R<Flow> {
        self.node = At::Node(node);
        self.step(1)?;
        match node {
            Node::Text { start, end } => {
                let tree: &'a Tree = self.tree;
                self.write(&tree.text[*start..*end])?;
            }
            Node::Action(pipe) => {
                let v = self.eval_pipeline(dot, Some(pipe))?;
                if pipe.decl.is_empty() {
                    self.node = At::Node(node);
                    self.print_value(&v)?;
                }
            }
            Node::If(b) => return grow(|| self.walk_if_or_with(false, dot, b)),
            Node::With(b) => return grow(|| self.walk_if_or_with(true, dot, b)),
            Node::Range(b) => return grow(|| self.walk_range(dot, node, b)),
            Node::Template { name, pipe, .. } => {
                self.walk_template(dot, node, name, pipe.as_ref())?;
            }
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Continue { .. } => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn print_value(&mut self, v: &Val) -> R<()> {
        let before = self.out.len();
        match &v.v {
            Value::Nil => self.out.push_str("<no value>"),
            Value::Object(o) => {
                // Printing goes through a pointer, whose pointee is
                // addressable.
                let s = if v.addr || o.kind_name() == "ptr" {
                    o.format_print()
                } else {
                    o.format_v()
                };
                self.out.push_str(&s);
            }
            other => crate::fmt::write_v(&mut self.out, other),
        }
        let n = self.out.len() - before;
        self.count_output(n)
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Val, b: &'a Branch) -> R<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, Some(&b.pipe))?;
        let flow = if val.v.truthy() {
            if with {
                self.walk_list(&val, &b.list)
            } else {
                self.walk_list(dot, &b.list)
            }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)
        } else {
            Ok(Flow::Normal)
        };
        self.vars.truncate(mark);
        flow
    }

    fn walk_range(&mut self, dot: &Val, node: &'a Node, r: &'a Branch) -> R<Flow> {
        self.node = At::Node(node);
        let outer_mark = self.vars.len();
        let val = self.eval_pipeline(dot, Some(&r.pipe))?;
        let mark = self.vars.len();
        let ran = self.range_body(r, &val, mark);
        let ran = match ran {
            Ok(ran) => ran,
            Err(e) => {
                self.vars.truncate(outer_mark);
                return Err(e);
            }
        };
        let mut flow = Ok(Flow::Normal);
        if !ran {
            if let Some(e) = &r.else_list {
                flow = self.walk_list(dot, e);
            }
        }
        self.vars.truncate(outer_mark);
        // break/continue never leave the range they belong to.
        flow.map(|f| if f == Flow::Normal { f } else { Flow::Normal })
    }

    /// Runs the iterations; `Ok(false)` when there was nothing to iterate.
    fn range_body(&mut self, r: &'a Branch, val: &Val, mark: usize) -> R<bool> {
        match &*val.v.slice_view() {
            Value::Int(_)
            | Value::Int64(_)
            | Value::Int32(_)
            | Value::Uint64(_)
            | Value::Uint8(_) => {
                if r.pipe.decl.len() > 1 {
                    return Err(self.err(format_args!(
                        "can't use {} to iterate over more than one variable",
                        crate::fmt::format_v(&val.v)
                    )));
                }
                let n: u64 = match &val.v {
                    Value::Int(i) | Value::Int64(i) => (*i).max(0) as u64,
                    Value::Int32(i) => i64::from(*i).max(0) as u64,
                    Value::Uint64(u) => *u,
                    Value::Uint8(u) => u64::from(*u),
                    _ => 0,
                };
                for i in 0..n {
                    let elem = match &val.v {
                        Value::Int(_) => Value::Int(i as i64),
                        Value::Int64(_) => Value::Int64(i as i64),
                        Value::Int32(_) => Value::Int32(i as i32),
                        Value::Uint8(_) => Value::Uint8(i as u8),
                        _ => Value::Uint64(i),
                    };
                    if self.iteration(r, Val::invalid(), Val::of(elem), mark)? {
                        break;
                    }
                }
                Ok(n > 0)
            }
            Value::List(l) => {
                if l.is_empty() {
                    return Ok(false);
                }
                let items = l.items.clone();
                for (i, item) in items.iter().enumerate() {
                    let elem = Val::elem(item.clone(), l.elem);
                    if self.iteration(r, Val::of(Value::Int(i as i64)), elem, mark)? {
                        break;
                    }
                }
                Ok(true)
            }
            Value::Bytes(b) => {
                if b.is_empty() {
                    return Ok(false);
                }
                let b = b.clone();
                for (i, c) in b.iter().enumerate() {
                    let elem = Val::of(Value::Uint8(*c));
                    if self.iteration(r, Val::of(Value::Int(i as i64)), elem, mark)? {
                        break;
                    }
                }
                Ok(true)
            }
            Value::Map(m) => {
                if m.is_empty() {
                    return Ok(false);
                }
                // Go sorts a copy of the entries first, so the body may
                // modify the map.
                let entries: Vec<(Value, Value)> = m
                    .borrow()
                    .iter()
                    .map(|(k, v)| (Value::str(k), v.clone()))
                    .collect();
                for (k, v) in entries {
                    let elem = Val::elem(v, m.elem);
                    if self.iteration(r, Val::of(k), elem, mark)? {
                        break;
                    }
                }
                Ok(true)
            }
            Value::Nil => Ok(false),
            other => Err(self.err(format_args!(
                "range can't iterate over {}",
                crate::fmt::format_v(other)
            ))),
        }
    }

    /// One iteration; `Ok(true)` on `{{break}}`.
    fn iteration(&mut self, r: &'a Branch, index: Val, elem: Val, mark: usize) -> R<bool> {
        self.step(1)?;
        let decl = &r.pipe.decl;
        if !decl.is_empty() {
            if r.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(decl[0].name(), index.clone())?;
                } else {
                    self.set_var(decl[0].name(), elem.clone())?;
                }
            } else {
                self.set_top_var(1, elem.clone());
            }
        }
        if decl.len() > 1 {
            if r.pipe.is_assign {
                self.set_var(decl[1].name(), elem.clone())?;
            } else {
                self.set_top_var(2, index);
            }
        }
        let flow = self.walk_list(&elem, &r.list);
        self.vars.truncate(mark);
        Ok(flow? == Flow::Break)
    }

    fn walk_template(
        &mut self,
        dot: &Val,
        node: &'a Node,
        name: &str,
        pipe: Option<&'a Pipe>,
    ) -> R<()> {
        self.node = At::Node(node);
        let set: &'a Templates = self.set;
        let Some(tree) = set.lookup(name) else {
            return Err(self.err(format_args!(
                "template {} not defined",
                crate::fmt::quote(name)
            )));
        };
        if self.shared.depth >= self.shared.limits.max_include_depth {
            let max = self.shared.limits.max_include_depth;
            return Err(self.limit_err(
                LimitKind::IncludeDepth,
                format!("template nesting exceeds {max} levels"),
            ));
        }
        let new_dot = self.eval_pipeline(dot, pipe)?;
        let saved_tree = std::mem::replace(&mut self.tree, tree);
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$", new_dot.clone())]);
        let saved_node = self.node;
        self.shared.depth += 1;
        let r = grow(|| self.walk_list(&new_dot, &tree.root));
        self.shared.depth -= 1;
        // On error the state is discarded, so only restore on success.
        r?;
        self.tree = saved_tree;
        self.vars = saved_vars;
        self.node = saved_node;
        Ok(())
    }

    // ---------------- pipelines and commands ----------------

    pub(crate) fn eval_pipeline(&mut self, dot: &Val, pipe: Option<&'a Pipe>) -> R<Val> {
        let Some(pipe) = pipe else {
            return Ok(Val::invalid());
        };
        self.node = At::Pipe(pipe);
        let mut value: Option<Val> = None;
        for cmd in &pipe.cmds {
            let v = self.eval_command(dot, cmd, value.take())?;
            value = Some(v.indirect_interface());
        }
        let value = value.unwrap_or_else(Val::invalid);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(var.name(), value.clone())?;
            } else {
                self.vars.push((var.name(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], final_: &Option<Val>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.err(format_args!(
                "can't give argument to non-function {}",
                args[0]
            )));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val, cmd: &'a Command, final_: Option<Val>) -> R<Val> {
        self.step(1)?;
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.node = At::Arg(first);
                return self.eval_field_chain(
                    dot,
                    dot.clone(),
                    first,
                    idents.path(),
                    &cmd.args,
                    final_,
                );
            }
            Arg::Chain { .. } => return self.eval_chain_node(dot, first, &cmd.args, final_),
            Arg::Ident { func, .. } => {
                self.node = At::Arg(first);
                return self.eval_call(dot, *func, At::Cmd(cmd), func.name(), &cmd.args, final_);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &final_)?;
                return grow(|| self.eval_pipeline(dot, Some(p)));
            }
            Arg::Variable(v) => return self.eval_variable_node(dot, v, first, &cmd.args, final_),
            _ => {}
        }
        self.node = At::Arg(first);
        self.not_a_function(&cmd.args, &final_)?;
        match first {
            Arg::Bool { val, .. } => Ok(Val::of(Value::Bool(*val))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.err("nil is not a command")),
            Arg::Number { num, .. } => self.ideal_constant(first, num),
            Arg::String { text, .. } => Ok(Val::of(Value::str(text))),
            _ => Err(self.err(format_args!(
                "can't evaluate command {}",
                crate::fmt::quote(&first.to_string())
            ))),
        }
    }

    /// Go's `idealConstant`: an untyped number becomes int or float64.
    fn ideal_constant(&mut self, arg: &'a Arg, num: &Number) -> R<Val> {
        self.node = At::Arg(arg);
        let text = &*num.text;
        let is_hex_int = text.len() > 2
            && text.as_bytes()[0] == b'0'
            && (text.as_bytes()[1] | 0x20) == b'x'
            && !text.contains(['p', 'P']);
        let is_rune = text.starts_with('\'');
        if num.is_complex {
            return Ok(Val::of(Value::Complex(num.complex.0, num.complex.1)));
        }
        if num.is_float && !is_hex_int && !is_rune && text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Val::of(Value::Float(num.float)));
        }
        if num.is_int {
            return Ok(Val::of(Value::Int(num.int)));
        }
        if num.is_uint {
            return Err(self.err(format_args!("{text} overflows int")));
        }
        Ok(Val::invalid())
    }

    fn eval_chain_node(
        &mut self,
        dot: &Val,
        chain: &'a Arg,
        args: &'a [Arg],
        final_: Option<Val>,
    ) -> R<Val> {
        self.node = At::Arg(chain);
        let Arg::Chain { base, fields, .. } = chain else {
            return Err(self.err("internal error: not a chain"));
        };
        if let Arg::Nil { .. } = **base {
            return Err(self.err(format_args!("indirection through explicit nil in {chain}")));
        }
        let pipe = self.eval_arg(dot, ParamType::None, base)?;
        self.eval_field_chain(dot, pipe, chain, fields.path(), args, final_)
    }

    fn eval_variable_node(
        &mut self,
        dot: &Val,
        var: &'a Variable,
        node: &'a Arg,
        args: &'a [Arg],
        final_: Option<Val>,
    ) -> R<Val> {
        self.node = At::Var(var);
        let value = self.var_value(var.name())?;
        let Some(fields) = var.idents.rest() else {
            self.not_a_function(args, &final_)?;
            return Ok(value);
        };
        self.eval_field_chain(dot, value, node, fields, args, final_)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val,
        mut receiver: Val,
        node: &'a Arg,
        idents: &'a str,
        args: &'a [Arg],
        final_: Option<Val>,
    ) -> R<Val> {
        // `idents` is `a.b.c`: every identifier but the last is a plain
        // field access, the last one gets the arguments.
        let mut start = 0;
        for (i, b) in idents.bytes().enumerate() {
            if b == b'.' {
                receiver = self.eval_field(dot, &idents[start..i], node, &[], None, receiver)?;
                start = i + 1;
            }
        }
        self.eval_field(dot, &idents[start..], node, args, final_, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Val,
        name: &str,
        node: &'a Arg,
        args: &'a [Arg],
        final_: Option<Val>,
        receiver: Val,
    ) -> R<Val> {
        if receiver.is_invalid() {
            if self.shared.missing_key == MissingKey::Error {
                return Err(self.err(format_args!(
                    "nil data; no entry for key {}",
                    crate::fmt::quote(name)
                )));
            }
            return Ok(Val::invalid());
        }
        let has_args = args.len() > 1 || final_.is_some();
        match &receiver.v {
            Value::Nil => Err(self.err(format_args!(
                "nil pointer evaluating {}.{name}",
                receiver.type_string()
            ))),
            Value::Map(m) => {
                if has_args {
                    return Err(self.err(format_args!("{name} is not a method but has arguments")));
                }
                match m.get(name) {
                    Some(v) => Ok(Val::elem(v, m.elem)),
                    None => match self.shared.missing_key {
                        MissingKey::Invalid => Ok(Val::invalid()),
                        MissingKey::Zero => Ok(zero_elem(m)),
                        MissingKey::Error => Err(self.err(format_args!(
                            "map has no entry for key {}",
                            crate::fmt::quote(name)
                        ))),
                    },
                }
            }
            Value::Object(o) => {
                let o = o.clone();
                if o.has_method(name) && (has_args || o.field(name).is_none()) {
                    let call_args: &'a [Arg] = if args.is_empty() { args } else { &args[1..] };
                    let argv = match o.method_signature(name) {
                        Some((params, variadic)) => {
                            self.typed_args(dot, name, params, variadic, call_args, final_)?
                        }
                        None => {
                            let mut argv = Vec::with_capacity(call_args.len() + 1);
                            for a in call_args {
                                argv.push(
                                    self.eval_arg(dot, ParamType::Go(GoType::Interface), a)?.v,
                                );
                            }
                            if let Some(f) = final_ {
                                argv.push(f.v);
                            }
                            argv
                        }
                    };
                    self.step(1)?;
                    return match o.call_method(name, &argv) {
                        Some(Ok(v)) => Ok(Val::of(v)),
                        Some(Err(msg)) => {
                            self.node = At::Arg(node);
                            Err(self.err(format_args!("error calling {name}: {msg}")))
                        }
                        None => Err(self.err(format_args!(
                            "can't evaluate field {name} in type {}",
                            receiver.type_string()
                        ))),
                    };
                }
                match o.field(name) {
                    Some(v) => {
                        if has_args {
                            return Err(self.err(format_args!(
                                "{name} has arguments but cannot be invoked as function"
                            )));
                        }
                        // A nil field of pointer or interface type.
                        let iface = v.is_nil();
                        // A field reached through a pointer (or of an
                        // addressable struct) is addressable.
                        let addr = receiver.addr || o.kind_name() == "ptr";
                        Ok(Val { v, iface, addr })
                    }
                    None => Err(self.err(format_args!(
                        "can't evaluate field {name} in type {}",
                        receiver.type_string()
                    ))),
                }
            }
            _ => Err(self.err(format_args!(
                "can't evaluate field {name} in type {}",
                receiver.type_string()
            ))),
        }
    }

    // ---------------- calls ----------------

    fn eval_call(
        &mut self,
        dot: &Val,
        func: FuncRef,
        node: At<'a>,
        name: &str,
        args: &'a [Arg],
        final_: Option<Val>,
    ) -> R<Val> {
        let args: &'a [Arg] = if args.is_empty() { args } else { &args[1..] };
        match func {
            FuncRef::Builtin(b) => builtins::call(self, b, dot, node, args, final_),
            FuncRef::User(f) => {
                let argv = self.typed_args(dot, name, f.params, f.variadic, args, final_)?;
                self.step(1)?;
                match (f.call)(self, argv) {
                    // A nil result has an interface (or pointer) type in Go.
                    Ok(v) => Ok(Val {
                        iface: v.is_nil(),
                        addr: false,
                        v,
                    }),
                    Err(e) => {
                        if let Some(abort) = self.shared.abort.take() {
                            return Err(abort);
                        }
                        self.node = node;
                        Err(self.err(format_args!("error calling {name}: {e}")))
                    }
                }
            }
        }
    }

    /// Go's `evalCall` argument handling for a typed signature: the count
    /// check, then each argument converted to its parameter type, the
    /// pipeline's previous value last.
    fn typed_args(
        &mut self,
        dot: &Val,
        name: &str,
        params: &[GoType],
        variadic: Option<GoType>,
        args: &'a [Arg],
        final_: Option<Val>,
    ) -> R<Vec<Value>> {
        let num_in = args.len() + usize::from(final_.is_some());
        let num_fixed = params.len();
        if variadic.is_some() {
            if num_in < num_fixed {
                return Err(self.err(format_args!(
                    "wrong number of args for {name}: want at least {num_fixed} got {}",
                    args.len()
                )));
            }
        } else if num_in != num_fixed {
            return Err(self.err(format_args!(
                "wrong number of args for {name}: want {num_fixed} got {num_in}"
            )));
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            let t = if i < num_fixed {
                params[i]
            } else {
                variadic.unwrap_or(GoType::Interface)
            };
            argv.push(self.eval_arg(dot, ParamType::Go(t), a)?.v);
        }
        if let Some(fin) = final_ {
            let t = match variadic {
                Some(vt) if num_in > num_fixed => vt,
                _ => params[num_in - 1],
            };
            argv.push(self.validate_type(fin, ParamType::Go(t))?.v);
        }
        Ok(argv)
    }

    /// Go's `validateType`.
    pub(crate) fn validate_type(&self, value: Val, typ: ParamType) -> R<Val> {
        let t = match typ {
            ParamType::None | ParamType::Reflect => return Ok(value),
            ParamType::Go(t) => t,
        };
        if value.is_invalid() {
            if let Some(z) = zero_of_nilable(t) {
                return Ok(Val::of(z));
            }
            return Err(self.err(format_args!("invalid value; expected {}", t.go_name())));
        }
        if t == GoType::Interface {
            return Ok(value);
        }
        if value.iface && value.v.is_nil() {
            return Err(self.err(format_args!(
                "wrong type for value; expected {}; got interface {{}}",
                t.go_name()
            )));
        }
        if assignable(&value.v, t) {
            return Ok(value.indirect_interface());
        }
        Err(self.err(format_args!(
            "wrong type for value; expected {}; got {}",
            t.go_name(),
            value.v.type_name()
        )))
    }

    /// Go's `evalArg`.
    pub(crate) fn eval_arg(&mut self, dot: &Val, typ: ParamType, arg: &'a Arg) -> R<Val> {
        self.node = At::Arg(arg);
        match arg {
            Arg::Dot { .. } => return self.validate_type(dot.clone(), typ),
            Arg::Nil { .. } => {
                return match typ {
                    ParamType::Reflect | ParamType::None => Ok(Val::invalid()),
                    ParamType::Go(GoType::Interface) => Ok(Val {
                        v: Value::Nil,
                        iface: true,
                        addr: false,
                    }),
                    ParamType::Go(t) => match zero_of_nilable(t) {
                        Some(z) => Ok(Val::of(z)),
                        None => Err(self.err(format_args!("cannot assign nil to {}", t.go_name()))),
                    },
                };
            }
            Arg::Field { idents, .. } => {
                let v = self.eval_field_chain(
                    dot,
                    dot.clone(),
                    arg,
                    idents.path(),
                    std::slice::from_ref(arg),
                    None,
                )?;
                return self.validate_type(v, typ);
            }
            Arg::Variable(var) => {
                let v = self.eval_variable_node(dot, var, arg, &[], None)?;
                return self.validate_type(v, typ);
            }
            Arg::Pipe(p) => {
                let v = grow(|| self.eval_pipeline(dot, Some(p)))?;
                return self.validate_type(v, typ);
            }
            Arg::Ident { func, .. } => {
                self.node = At::Arg(arg);
                let v = self.eval_call(dot, *func, At::Arg(arg), func.name(), &[], None)?;
                return self.validate_type(v, typ);
            }
            Arg::Chain { .. } => {
                let v = self.eval_chain_node(dot, arg, &[], None)?;
                return self.validate_type(v, typ);
            }
            _ => {}
        }
        let t = match typ {
            ParamType::None | ParamType::Reflect => return self.eval_empty_interface(arg),
            ParamType::Go(t) => t,
        };
        match t {
            GoType::Bool => match arg {
                Arg::Bool { val, .. } => Ok(Val::of(Value::Bool(*val))),
                _ => Err(self.err(format_args!("expected bool; found {arg}"))),
            },
            GoType::Float64 => match arg {
                Arg::Number { num, .. } if num.is_float => Ok(Val::of(Value::Float(num.float))),
                _ => Err(self.err(format_args!("expected float; found {arg}"))),
            },
            GoType::Int | GoType::Int64 | GoType::Int32 => match arg {
                Arg::Number { num, .. } if num.is_int => Ok(Val::of(match t {
                    GoType::Int => Value::Int(num.int),
                    GoType::Int64 => Value::Int64(num.int),
                    _ => Value::Int32(num.int as i32),
                })),
                _ => Err(self.err(format_args!("expected integer; found {arg}"))),
            },
            GoType::Uint64 => match arg {
                Arg::Number { num, .. } if num.is_uint => Ok(Val::of(Value::Uint64(num.uint))),
                _ => Err(self.err(format_args!("expected unsigned integer; found {arg}"))),
            },
            GoType::String => match arg {
                Arg::String { text, .. } => Ok(Val::of(Value::str(text))),
                _ => Err(self.err(format_args!("expected string; found {arg}"))),
            },
            GoType::Interface => self.eval_empty_interface(arg),
            other => Err(self.err(format_args!(
                "can't handle {arg} for arg of type {}",
                other.go_name()
            ))),
        }
    }

    fn eval_empty_interface(&mut self, arg: &'a Arg) -> R<Val> {
        self.node = At::Arg(arg);
        match arg {
            Arg::Bool { val, .. } => Ok(Val::of(Value::Bool(*val))),
            Arg::Number { num, .. } => self.ideal_constant(arg, num),
            Arg::String { text, .. } => Ok(Val::of(Value::str(text))),
            _ => Err(self.err(format_args!(
                "can't handle assignment of {arg} to empty interface argument"
            ))),
        }
    }

    // ---------------- nested executions ----------------

    /// Run `tree` of `set` with `data` in a fresh variable scope, into a
    /// new output string.
    fn run_nested(&mut self, set: &Templates, tree: &Tree, data: Value) -> Result<String, Error> {
        if self.shared.depth >= self.shared.limits.max_include_depth {
            let max = self.shared.limits.max_include_depth;
            return Err(self.limit_err(
                LimitKind::IncludeDepth,
                format!("include nesting exceeds {max} levels"),
            ));
        }
        self.shared.depth += 1;
        let dot = Val::of(data);
        let mut inner = Exec {
            set,
            tree,
            node: At::None,
            vars: vec![("$", dot.clone())],
            out: String::new(),
            shared: &mut *self.shared,
        };
        let r = grow(|| inner.walk_list(&dot, &tree.root).map(|_| ()));
        let out = std::mem::take(&mut inner.out);
        self.shared.depth -= 1;
        r.map(|_| out)
    }

    /// Turn a nested execution error into a function error, keeping limit
    /// errors aside so they surface as limits.
    fn nested_failure(&mut self, e: Error, wrap: impl FnOnce(String) -> String) -> FuncError {
        let text = e.to_string();
        if matches!(e, Error::Limit { .. }) && self.shared.abort.is_none() {
            self.shared.abort = Some(e);
        }
        FuncError(wrap(text))
    }
}

impl Context for Exec<'_, '_> {
    fn include(&mut self, name: &str, data: Value) -> Result<String, FuncError> {
        match self.shared.included.get_mut(name) {
            Some(v) if *v > HELM_INCLUDE_MAX => {
                return Err(FuncError(format!(
                    "rendering template has a nested reference name: {name}: unable to execute template"
                )));
            }
            Some(v) => *v += 1,
            None => {
                self.shared.included.insert(name.to_string(), 1);
            }
        }
        let set = self.set;
        let r = match set.lookup(name) {
            None => Err(FuncError(format!(
                "template: no template {} associated with template {}",
                crate::fmt::quote(name),
                crate::fmt::quote(&set.root_name)
            ))),
            Some(tree) => {
                let tree = tree.clone();
                match self.run_nested(set, &tree, data) {
                    Ok(s) => Ok(s),
                    Err(e) => Err(self.nested_failure(e, |t| t)),
                }
            }
        };
        if let Some(v) = self.shared.included.get_mut(name) {
            *v = v.saturating_sub(1);
        }
        r
    }

    fn tpl(&mut self, text: &str, data: Value) -> Result<String, FuncError> {
        if self.shared.tpl_depth >= self.shared.limits.max_tpl_depth {
            let max = self.shared.limits.max_tpl_depth;
            let e = self.limit_err(
                LimitKind::TplDepth,
                format!("tpl nesting exceeds {max} levels"),
            );
            let msg = e.to_string();
            self.shared.abort = Some(e);
            return Err(FuncError(msg));
        }
        if let Err(e) = self.step(1 + text.len() as u64 / 64) {
            let msg = e.to_string();
            self.shared.abort = Some(e);
            return Err(FuncError(msg));
        }
        let mut set = self.set.clone();
        let root = set.root_name.clone();
        let tree = match set.parse_main(&root, text) {
            Ok(t) => t,
            Err(e) => {
                return Err(FuncError(format!(
                    "cannot parse template {}: {e}",
                    crate::fmt::quote(text)
                )))
            }
        };
        self.shared.tpl_depth += 1;
        let r = self.run_nested(&set, &tree, data);
        self.shared.tpl_depth -= 1;
        match r {
            Ok(out) => Ok(out.replace("<no value>", "")),
            Err(e) => Err(self.nested_failure(e, |t| {
                format!(
                    "error during tpl function execution for {}: {t}",
                    crate::fmt::quote(text)
                )
            })),
        }
    }

    fn charge(&mut self, units: u64) -> Result<(), FuncError> {
        match self.step(units) {
            Ok(()) => Ok(()),
            Err(e) => {
                let msg = e.to_string();
                if self.shared.abort.is_none() {
                    self.shared.abort = Some(e);
                }
                Err(FuncError(msg))
            }
        }
    }

    fn lookup(
        &mut self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, FuncError> {
        match &self.shared.lookup {
            None => Ok(Value::empty_map()),
            Some(hook) => hook(api_version, kind, namespace, name).map_err(FuncError),
        }
    }

    fn strict(&self) -> bool {
        self.shared.missing_key == MissingKey::Error
    }
}

/// Run `f` on a stack with room to recurse: templates nest as deeply as
/// their authors like, and a hostile one must not overflow the stack.
#[inline]
fn grow<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, f)
}

/// The zero value Go's `missingkey=zero` gives for a map's element type.
fn zero_elem(m: &Map) -> Val {
    match m.elem {
        GoType::Interface => Val {
            v: Value::Nil,
            iface: true,
            addr: false,
        },
        t => Val::of(zero_value(t)),
    }
}

/// Go's zero value of a type.
pub(crate) fn zero_value(t: GoType) -> Value {
    match t {
        GoType::Interface | GoType::Time => Value::Nil,
        GoType::Bool => Value::Bool(false),
        GoType::String => Value::str(""),
        GoType::Int => Value::Int(0),
        GoType::Int64 => Value::Int64(0),
        GoType::Int32 => Value::Int32(0),
        GoType::Uint64 => Value::Uint64(0),
        GoType::Float64 => Value::Float(0.0),
        GoType::Bytes => Value::Bytes(std::rc::Rc::from(&[][..])),
        GoType::InterfaceSlice => Value::List(List::nil(GoType::Interface)),
        GoType::StringSlice => Value::List(List::nil(GoType::String)),
        GoType::IntSlice => Value::List(List::nil(GoType::Int)),
        GoType::InterfaceMap => Value::Map(Map::nil(GoType::Interface)),
        GoType::StringMap => Value::Map(Map::nil(GoType::String)),
    }
}

/// The zero value of a type that can be nil (Go's `canBeNil`), as passed
/// for a nil argument; `None` for types that cannot be nil.
fn zero_of_nilable(t: GoType) -> Option<Value> {
    match t {
        GoType::Interface
        | GoType::Bytes
        | GoType::InterfaceSlice
        | GoType::StringSlice
        | GoType::IntSlice
        | GoType::InterfaceMap
        | GoType::StringMap => Some(zero_value(t)),
        _ => None,
    }
}

/// Go's assignability of a dynamic value to a parameter type.
fn assignable(v: &Value, t: GoType) -> bool {
    match (v, t) {
        (_, GoType::Interface) => true,
        (Value::Bool(_), GoType::Bool) => true,
        (Value::String(_), GoType::String) => true,
        (Value::Int(_), GoType::Int) => true,
        (Value::Int64(_), GoType::Int64) => true,
        (Value::Int32(_), GoType::Int32) => true,
        (Value::Uint64(_), GoType::Uint64) => true,
        (Value::Float(_), GoType::Float64) => true,
        (Value::Bytes(_), GoType::Bytes) => true,
        (Value::List(l), GoType::InterfaceSlice) => l.elem == GoType::Interface,
        (Value::List(l), GoType::StringSlice) => l.elem == GoType::String,
        (Value::List(l), GoType::IntSlice) => l.elem == GoType::Int,
        (Value::Map(m), GoType::InterfaceMap) => m.elem == GoType::Interface,
        (Value::Map(m), GoType::StringMap) => m.elem == GoType::String,
        (Value::Object(o), GoType::Time) => {
            matches!(o.type_name(), "time.Time" | "*time.Time")
        }
        _ => false,
    }
}

#[allow(dead_code)]
fn _assert_types(_: Arc<Tree>) {}
