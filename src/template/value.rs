//! The value model: data as a Helm template sees it.
//!
//! Go's `text/template` works on `reflect.Value`s; Helm feeds it
//! `map[string]interface{}` trees decoded from YAML/JSON plus a few structs
//! (`.Capabilities`, `.Files`, Sprig's certificate objects, `time.Time`).
//! We model exactly the Go types that show up there, because the Go type is
//! observable: `%T`, `typeOf`, `kindIs`, Go's assignability rules when a value
//! is passed to a typed function parameter, and `eq` refusing int vs float.
//!
//! Sharing follows Go: maps are references (`set` on a map is seen by every
//! holder, `.Values` included), so `Map` is an `Rc<RefCell<…>>`; slices are
//! treated as immutable and shared cheaply. Values are `!Send`: a render runs
//! on one thread; parsed templates (which hold no `Value`) are `Send + Sync`.

use std::cell::{Ref, RefCell, RefMut};
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// A Go type, as far as templates can tell types apart. Used for function
/// parameter declarations, slice element types and map value types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GoType {
    /// `interface {}`: accepts anything, nil included.
    Interface,
    Bool,
    String,
    /// Go `int` (64-bit).
    Int,
    Int64,
    /// `int32` (`rune`): the type of character constants like `'a'`.
    Int32,
    Uint64,
    Float64,
    /// `[]byte`
    Bytes,
    /// `[]interface {}`
    InterfaceSlice,
    /// `[]string`
    StringSlice,
    /// `[]int`
    IntSlice,
    /// `map[string]interface {}`
    InterfaceMap,
    /// `map[string]string`
    StringMap,
    /// `time.Time`
    Time,
}

impl GoType {
    /// The Go spelling, as `%T` and `typeOf` print it.
    pub fn go_name(self) -> &'static str {
        match self {
            GoType::Interface => "interface {}",
            GoType::Bool => "bool",
            GoType::String => "string",
            GoType::Int => "int",
            GoType::Int64 => "int64",
            GoType::Int32 => "int32",
            GoType::Uint64 => "uint64",
            GoType::Float64 => "float64",
            GoType::Bytes => "[]uint8",
            GoType::InterfaceSlice => "[]interface {}",
            GoType::StringSlice => "[]string",
            GoType::IntSlice => "[]int",
            GoType::InterfaceMap => "map[string]interface {}",
            GoType::StringMap => "map[string]string",
            GoType::Time => "time.Time",
        }
    }
}

/// A template value. Cloning is cheap (reference counts), and cloning a `Map`
/// aliases it, exactly like copying a Go map value.
#[derive(Clone)]
pub enum Value {
    /// Go's untyped `nil` (an empty `interface {}`); also what a missing map
    /// key yields under Helm's `missingkey=zero`.
    Nil,
    Bool(bool),
    /// Go `int`: template integer constants, `len`, `atoi`, `int`, `until`.
    Int(i64),
    /// Go `int64`: Sprig arithmetic results, `int64`, `--set` integers.
    Int64(i64),
    /// Go `int32` (`rune`).
    Int32(i32),
    Uint64(u64),
    /// Go `uint8` (`byte`): indexing a string or a `[]byte`, ranging over
    /// a `[]byte`.
    Uint8(u8),
    /// Go `complex128` (real, imaginary): complex template constants
    /// like `1i` or `1+2i`.
    Complex(f64, f64),
    /// Go `float64`: every number decoded from YAML or JSON values.
    Float(f64),
    String(Rc<str>),
    /// Go `[]byte` (`.Files.GetBytes`, ranging over `.Files.Glob`).
    Bytes(Rc<[u8]>),
    List(List),
    Map(Map),
    /// A Go struct or pointer with fields and methods (`.Capabilities`,
    /// `.Files`, `time.Time`, a Sprig certificate, a semver version, …).
    Object(Rc<dyn Object>),
}

/// A Go slice: shared, immutable elements plus the element type.
#[derive(Clone)]
pub struct List {
    pub items: Rc<Vec<Value>>,
    /// `Interface` for `[]interface {}`, `String` for `[]string`, …
    pub elem: GoType,
    /// A typed nil slice (Go's zero value of a slice type, what a failed
    /// `regexFindAll` returns): empty for `len`, `range`, `%v` and
    /// emptiness, but `null` for `toJson`/`toYaml` and not `deepEqual` to
    /// an empty slice. Always has no items.
    pub nil: bool,
}

/// A Go map with string keys. Keys iterate sorted (byte order), which is the
/// order `range`, `fmt` and `toYaml`/`toJson` all use.
#[derive(Clone)]
pub struct Map {
    pub entries: Rc<RefCell<BTreeMap<String, Value>>>,
    /// `Interface` for `map[string]interface {}`, `String` for
    /// `map[string]string`.
    pub elem: GoType,
    /// A named map type's name for `%T`/`typeOf` (Helm's `.Values` is
    /// `common.Values`), or `None` for the plain map type.
    pub type_name: Option<&'static str>,
    /// A typed nil map (Go's zero value of a map type, `fromJson "null"`,
    /// a `nil` passed to a map parameter): reads like an empty map, prints
    /// `null` in JSON/YAML, and assigning to it fails (`assignment to entry
    /// in nil map`). Always has no entries.
    pub nil: bool,
}

/// A struct-like Go value. Field and method names are Go's (capitalised).
pub trait Object {
    /// The Go type name as `%T` prints it, e.g. `*semver.Version`,
    /// `time.Time`, `chartutil.Capabilities`.
    fn type_name(&self) -> &str;
    /// `reflect.Kind` name for `kindOf`: usually "struct" or "ptr".
    fn kind_name(&self) -> &str {
        "struct"
    }
    /// A field (or a method without arguments), `None` if there is none.
    fn field(&self, name: &str) -> Option<Value>;
    /// A method with arguments. `None` if there is no such method;
    /// `Some(Err(msg))` if it failed.
    fn call_method(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        None
    }
    /// Whether a method of this name exists (field access on it with
    /// arguments is then a call).
    fn has_method(&self, _name: &str) -> bool {
        false
    }
    /// Go's `%v` formatting of this value (a Stringer's `String()` when the
    /// Go type has one, else `{field1 field2}`).
    fn format_v(&self) -> String;
    /// What `{{ . }}` prints. Go's template printer takes the address of
    /// an addressable value to find a pointer-receiver `String()` method,
    /// which `fmt` (`printf`, Sprig's `strval`) cannot do on a copy: Helm's
    /// `{{ .Capabilities.KubeVersion }}` prints `v1.30.0` while `printf
    /// "%v"` of it prints `{v1.30.0 v1.30.0 1 30}`. Defaults to
    /// [`Object::format_v`].
    fn format_print(&self) -> String {
        self.format_v()
    }
    /// The Go signature of a method (fixed parameter types, variadic
    /// element type), if known. With it the engine checks the argument
    /// count and converts arguments exactly as for template functions
    /// (`wrong number of args for Has: want 1 got 0`); without it, method
    /// arguments are passed as `interface {}` values.
    fn method_signature(&self, _name: &str) -> Option<(&'static [GoType], Option<GoType>)> {
        None
    }
    /// Downcasting support for functions that take a specific object type.
    fn as_any(&self) -> &dyn std::any::Any;
    /// What Go's `encoding/json` makes of this value (`toJson`, `toYaml`):
    /// its `MarshalJSON` result (a `time.Time` is its RFC 3339 string) or
    /// its exported fields as a map under their JSON names. `None` when
    /// encoding/json cannot encode it.
    fn json_value(&self) -> Option<Value> {
        None
    }
    /// The items of a Go value of slice kind with a named type (Helm's
    /// `common.VersionSet`, a `[]string` with a `Has` method): `range`,
    /// `len`, `index` and Sprig's list functions see them. `None` for
    /// non-slices.
    fn as_list(&self) -> Option<List> {
        None
    }
    /// The entries of a Go value of map kind with a named type and methods
    /// (Helm's `engine.files`, a `map[string][]byte` with `Get`, `Glob`,
    /// …): `range`, `len`, `index` and truthiness see them. `None` for
    /// non-maps.
    fn as_map(&self) -> Option<Map> {
        None
    }
}

impl List {
    pub fn new(items: Vec<Value>) -> List {
        List {
            items: Rc::new(items),
            elem: GoType::Interface,
            nil: false,
        }
    }
    pub fn typed(items: Vec<Value>, elem: GoType) -> List {
        List {
            items: Rc::new(items),
            elem,
            nil: false,
        }
    }
    /// A typed nil slice of `[]elem`.
    pub fn nil(elem: GoType) -> List {
        List {
            items: Rc::new(Vec::new()),
            elem,
            nil: true,
        }
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl Map {
    pub fn new() -> Map {
        Map::from_entries(BTreeMap::new())
    }
    pub fn from_entries(entries: BTreeMap<String, Value>) -> Map {
        Map {
            entries: Rc::new(RefCell::new(entries)),
            elem: GoType::Interface,
            type_name: None,
            nil: false,
        }
    }
    /// A typed nil map of `map[string]elem`.
    pub fn nil(elem: GoType) -> Map {
        Map {
            entries: Rc::new(RefCell::new(BTreeMap::new())),
            elem,
            type_name: None,
            nil: true,
        }
    }
    pub fn borrow(&self) -> Ref<'_, BTreeMap<String, Value>> {
        self.entries.borrow()
    }
    pub fn borrow_mut(&self) -> RefMut<'_, BTreeMap<String, Value>> {
        self.entries.borrow_mut()
    }
    pub fn get(&self, key: &str) -> Option<Value> {
        self.entries.borrow().get(key).cloned()
    }
    pub fn insert(&self, key: impl Into<String>, value: Value) {
        self.entries.borrow_mut().insert(key.into(), value);
    }
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.borrow().is_empty()
    }
    /// Whether both handles point at the same Go map.
    pub fn same(&self, other: &Map) -> bool {
        Rc::ptr_eq(&self.entries, &other.entries)
    }
}

impl Default for Map {
    fn default() -> Self {
        Map::new()
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::String(Rc::from(s))
    }
    pub fn string(s: String) -> Value {
        Value::String(Rc::from(s))
    }
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(List::new(items))
    }
    pub fn strings(items: Vec<String>) -> Value {
        Value::List(List::typed(
            items.into_iter().map(Value::string).collect(),
            GoType::String,
        ))
    }
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Map::from_entries(entries))
    }
    pub fn empty_map() -> Value {
        Value::Map(Map::new())
    }

    /// The Go type name as `%T` / Sprig `typeOf` print it; nil prints
    /// `<nil>`.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".to_string(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Int64(_) => "int64".into(),
            Value::Int32(_) => "int32".into(),
            Value::Uint64(_) => "uint64".into(),
            Value::Uint8(_) => "uint8".into(),
            Value::Complex(..) => "complex128".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::List(l) => format!("[]{}", l.elem.go_name()),
            Value::Map(m) => match m.type_name {
                Some(n) => n.to_string(),
                None => format!("map[string]{}", m.elem.go_name()),
            },
            Value::Object(o) => o.type_name().to_string(),
        }
    }

    /// The `reflect.Kind` name as Sprig `kindOf` prints it (`invalid` for
    /// nil).
    pub fn kind_name(&self) -> &str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Int32(_) => "int32",
            Value::Uint64(_) => "uint64",
            Value::Uint8(_) => "uint8",
            Value::Complex(..) => "complex128",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) | Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => o.kind_name(),
        }
    }

    /// Go template truthiness (`if`, `with`, `and`, `or`, `not`): false, 0,
    /// nil and empty string/slice/map are false; structs are true.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Int32(i) => *i != 0,
            Value::Uint64(u) => *u != 0,
            Value::Uint8(u) => *u != 0,
            Value::Complex(re, im) => *re != 0.0 || *im != 0.0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            // A slice or map kind is empty when it has no items.
            Value::Object(o) => match (o.as_list(), o.as_map()) {
                (Some(l), _) => !l.is_empty(),
                (None, Some(m)) => !m.is_empty(),
                (None, None) => true,
            },
        }
    }

    /// Sprig's `empty` rule (used by `default`, `empty`, `coalesce`, `all`,
    /// `any`, `compact`): the same as falsy in templates.
    pub fn is_empty(&self) -> bool {
        !self.truthy()
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// An object of slice kind seen as its list ([`Object::as_list`]), one
    /// of map kind as its map ([`Object::as_map`]); every other value as it
    /// is.
    pub fn slice_view(&self) -> std::borrow::Cow<'_, Value> {
        match self {
            Value::Object(o) => match (o.as_list(), o.as_map()) {
                (Some(l), _) => std::borrow::Cow::Owned(Value::List(l)),
                (None, Some(m)) => std::borrow::Cow::Owned(Value::Map(m)),
                (None, None) => std::borrow::Cow::Borrowed(self),
            },
            _ => std::borrow::Cow::Borrowed(self),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "int({i})"),
            Value::Int64(i) => write!(f, "int64({i})"),
            Value::Int32(i) => write!(f, "int32({i})"),
            Value::Uint64(i) => write!(f, "uint64({i})"),
            Value::Uint8(i) => write!(f, "uint8({i})"),
            Value::Complex(re, im) => write!(f, "complex128({re}, {im})"),
            Value::Float(x) => write!(f, "float64({x})"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "bytes({b:?})"),
            Value::List(l) => f.debug_list().entries(l.items.iter()).finish(),
            Value::Map(m) => f.debug_map().entries(m.borrow().iter()).finish(),
            Value::Object(o) => write!(f, "{}({})", o.type_name(), o.format_v()),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::string(s)
    }
}
