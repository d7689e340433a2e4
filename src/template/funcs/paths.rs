//! Template functions: Go's `path` (`base dir clean ext isAbs`) and
//! `path/filepath` (`osBase osClean osDir osExt osIsAbs`), as Sprig exposes
//! them. Helm runs on Linux here, where `filepath` uses '/' and no volume
//! names, so both families behave the same.

use crate::func::{Context, FuncResult, Registry};
use crate::funcs::strings::arg_str;
use crate::value::{GoType, Value};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    const S: &[GoType] = &[GoType::String];
    reg.add("base", S, None, base);
    reg.add("dir", S, None, dir);
    reg.add("clean", S, None, clean);
    reg.add("ext", S, None, ext);
    reg.add("isAbs", S, None, is_abs);
    reg.add("osBase", S, None, base);
    reg.add("osClean", S, None, clean);
    reg.add("osDir", S, None, dir);
    reg.add("osExt", S, None, ext);
    reg.add("osIsAbs", S, None, is_abs);
}

/// Go's `path.Clean`: the shortest equivalent path, by purely lexical
/// processing (collapse slashes, drop `.`, resolve `..` against the
/// preceding element, `..` at the root stays the root).
pub(crate) fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let p = path.as_bytes();
    let rooted = p[0] == b'/';
    let n = p.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0usize, 0usize);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if p[r] == b'/' || p[r] == b'.' && (r + 1 == n || p[r + 1] == b'/') {
            // An empty element or ".": skip it.
            r += 1;
        } else if p[r] == b'.' && p[r + 1] == b'.' && (r + 2 == n || p[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                // Back up over the last element and the slash before it.
                let mut removed = out.pop();
                while out.len() > dotdot && removed != Some(b'/') {
                    removed = out.pop();
                }
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if rooted && out.len() != 1 || !rooted && !out.is_empty() {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".to_string();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `path.Base`.
pub(crate) fn go_base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_string();
    }
    match trimmed.rfind('/') {
        Some(i) => trimmed[i + 1..].to_string(),
        None => trimmed.to_string(),
    }
}

/// Go's `path.Dir`: everything up to the last slash, cleaned.
pub(crate) fn go_dir(path: &str) -> String {
    let cut = path.rfind('/').map(|i| i + 1).unwrap_or(0);
    go_clean(&path[..cut])
}

/// Go's `path.Ext`: from the last dot of the last element on.
pub(crate) fn go_ext(path: &str) -> String {
    for (i, b) in path.bytes().enumerate().rev() {
        match b {
            b'/' => break,
            b'.' => return path[i..].to_string(),
            _ => {}
        }
    }
    String::new()
}

fn base(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(go_base(arg_str(&args, 0)?)))
}

fn dir(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(go_dir(arg_str(&args, 0)?)))
}

fn clean(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(go_clean(arg_str(&args, 0)?)))
}

fn ext(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(go_ext(arg_str(&args, 0)?)))
}

fn is_abs(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Bool(arg_str(&args, 0)?.starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The table of Go's own path.Clean tests (path/path_test.go) in part,
    // and the examples of the path package documentation.
    #[test]
    fn clean_matches_go() {
        let cases = [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            ("a/b/c", "a/b/c"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("/abc/", "/abc"),
            ("//abc", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
            ("a/../b", "b"),
        ];
        for (input, want) in cases {
            assert_eq!(go_clean(input), want, "Clean({input:?})");
        }
    }

    #[test]
    fn base_dir_ext_match_go() {
        assert_eq!(go_base("/a/b"), "b");
        assert_eq!(go_base("a/b/"), "b");
        assert_eq!(go_base("///"), "/");
        assert_eq!(go_base(""), ".");
        assert_eq!(go_dir("/a/b/c"), "/a/b");
        assert_eq!(go_dir("a/b/c"), "a/b");
        assert_eq!(go_dir("a"), ".");
        assert_eq!(go_dir("/"), "/");
        assert_eq!(go_dir(""), ".");
        assert_eq!(go_ext("a/b.tar.gz"), ".gz");
        assert_eq!(go_ext("a.b/c"), "");
        assert_eq!(go_ext("x."), ".");
    }
}
