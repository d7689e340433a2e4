//! Template functions: Sprig's `urlParse` and `urlJoin` (`url.go`, Sprig
//! v3.3.0), on a re-implementation of the parts of Go's `net/url` (Go 1.26,
//! with its default strict host colons) that they use: `Parse`,
//! `URL.String`, `URL.Hostname` and `Userinfo.String`.

use std::collections::BTreeMap;

use crate::fmt::quote as go_quote;
use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::funcs::lists::NIL_DEREF;
use crate::funcs::strings::arg_str;
use crate::value::{GoType, Map, Value};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    reg.add("urlParse", &[GoType::String], None, url_parse);
    reg.add("urlJoin", &[GoType::InterfaceMap], None, url_join);
}

/// `net/url`'s escaping modes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    QueryComponent,
    Fragment,
}

/// Go's `shouldEscape` (RFC 3986 with Go's exceptions).
fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::QueryComponent => return true,
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Go's `url.unescape`, on bytes. Errors carry Go's message.
fn unescape(s: &str, mode: Mode) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if i + 2 >= b.len()
                    || !b[i + 1].is_ascii_hexdigit()
                    || !b[i + 2].is_ascii_hexdigit()
                {
                    let end = (i + 3).min(b.len());
                    return Err(escape_error(&b[i..end]));
                }
                let seq = &s[i..i + 3];
                if mode == Mode::Host && unhex(b[i + 1]) < 8 && seq != "%25" {
                    return Err(escape_error(seq.as_bytes()));
                }
                if mode == Mode::Zone {
                    let v = unhex(b[i + 1]) << 4 | unhex(b[i + 2]);
                    if seq != "%25" && v != b' ' && should_escape(v, Mode::Host) {
                        return Err(escape_error(seq.as_bytes()));
                    }
                }
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote(&s[i..i + 1])
                    ));
                }
                i += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(unhex(b[i + 1]) << 4 | unhex(b[i + 2]));
                i += 3;
            }
            b'+' if mode == Mode::QueryComponent => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn escape_error(bytes: &[u8]) -> String {
    // The three bytes may end inside a multi-byte character; Go quotes the
    // raw bytes (`"%a\xc3"`).
    format!(
        "invalid URL escape {}",
        crate::fmt::quote_bytes(bytes, false)
    )
}

fn unescape_str(s: &str, mode: Mode) -> Result<String, String> {
    unescape(s, mode).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Go's `url.escape`.
fn escape(s: &str, mode: Mode) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c == b' ' && mode == Mode::QueryComponent {
            out.push('+');
        } else if should_escape(c, mode) {
            out.push('%');
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        } else {
            out.push(char::from(c));
        }
    }
    out
}

/// Go's `validEncoded`.
fn valid_encoded(s: &str, mode: Mode) -> bool {
    s.bytes().all(|c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, mode)
    })
}

/// A `net/url.URL`, for the fields Sprig reads or sets.
#[derive(Default, Debug)]
struct Url {
    scheme: String,
    opaque: String,
    /// `(username, password)`; `None` is a nil `*Userinfo`.
    user: Option<(String, Option<String>)>,
    host: String,
    path: String,
    raw_path: String,
    raw_query: String,
    force_query: bool,
    fragment: String,
    raw_fragment: String,
    omit_host: bool,
}

/// Go's `getScheme`.
fn get_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn valid_optional_port(port: &str) -> bool {
    match port.strip_prefix(':') {
        _ if port.is_empty() => true,
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// Go's `parseHost` (Go 1.26: IP literals must be IPv6 addresses; for
/// http and https the port starts at the first colon).
fn parse_host(scheme: &str, host: &str) -> Result<String, String> {
    match host.rfind('[') {
        Some(open) if open > 0 => return Err("invalid IP-literal".into()),
        Some(_) => {
            let close = host
                .rfind(']')
                .ok_or_else(|| "missing ']' in host".to_string())?;
            let colon_port = &host[close + 1..];
            if !valid_optional_port(colon_port) {
                return Err(format!("invalid port {} after host", go_quote(colon_port)));
            }
            let colon_port = unescape_str(colon_port, Mode::Host)?;
            let hostname = &host[1..close];
            let unescaped = match hostname.find("%25") {
                Some(z) => {
                    let h = unescape_str(&hostname[..z], Mode::Host)?;
                    let zone = unescape_str(&hostname[z..], Mode::Zone)?;
                    h + &zone
                }
                None => unescape_str(hostname, Mode::Host)?,
            };
            let addr_part = unescaped.split('%').next().unwrap_or("");
            let has_zone = unescaped.contains('%');
            if addr_part.parse::<std::net::Ipv4Addr>().is_ok() && !has_zone {
                return Err("invalid IP-literal".into());
            }
            if addr_part.parse::<std::net::Ipv6Addr>().is_err()
                || (has_zone && unescaped.ends_with('%'))
            {
                return Err(format!(
                    "invalid host: ParseAddr({}): unable to parse IP",
                    go_quote(&unescaped)
                ));
            }
            return Ok(format!("[{unescaped}]{colon_port}"));
        }
        None => {}
    }
    if let Some(first) = host.find(':') {
        let last = host.rfind(':').unwrap_or(first);
        let i = if last != first && !(scheme == "http" || scheme == "https") {
            last
        } else {
            first
        };
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
    }
    unescape_str(host, Mode::Host)
}

fn valid_userinfo(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
    })
}

type User = Option<(String, Option<String>)>;

/// Go's `parseAuthority`.
fn parse_authority(scheme: &str, authority: &str) -> Result<(User, String), String> {
    let at = authority.rfind('@');
    let host = parse_host(scheme, &authority[at.map(|i| i + 1).unwrap_or(0)..])?;
    let Some(at) = at else {
        return Ok((None, host));
    };
    let userinfo = &authority[..at];
    if !valid_userinfo(userinfo) {
        return Err("net/url: invalid userinfo".into());
    }
    let user = match userinfo.split_once(':') {
        None => (unescape_str(userinfo, Mode::UserPassword)?, None),
        Some((name, pass)) => (
            unescape_str(name, Mode::UserPassword)?,
            Some(unescape_str(pass, Mode::UserPassword)?),
        ),
    };
    Ok((Some(user), host))
}

impl Url {
    /// Go's `url.Parse`; the error is the full `parse "…": …` message.
    fn parse(raw: &str) -> Result<Url, String> {
        let (u, frag) = match raw.split_once('#') {
            Some((u, f)) => (u, Some(f)),
            None => (raw, None),
        };
        let mut url =
            Url::parse_no_fragment(u).map_err(|e| format!("parse {}: {e}", go_quote(u)))?;
        if let Some(f) = frag.filter(|f| !f.is_empty()) {
            url.set_fragment(f)
                .map_err(|e| format!("parse {}: {e}", go_quote(raw)))?;
        }
        Ok(url)
    }

    fn parse_no_fragment(raw: &str) -> Result<Url, String> {
        if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
            return Err("net/url: invalid control character in URL".into());
        }
        let mut url = Url::default();
        if raw == "*" {
            url.path = "*".into();
            return Ok(url);
        }
        let (scheme, rest) = get_scheme(raw)?;
        url.scheme = scheme.to_ascii_lowercase();
        let mut rest = rest;
        if rest.ends_with('?') && rest.matches('?').count() == 1 {
            url.force_query = true;
            rest = &rest[..rest.len() - 1];
        } else if let Some((r, q)) = rest.split_once('?') {
            rest = r;
            url.raw_query = q.to_string();
        }
        if !rest.starts_with('/') {
            if !url.scheme.is_empty() {
                url.opaque = rest.to_string();
                return Ok(url);
            }
            let segment = rest.split('/').next().unwrap_or("");
            if segment.contains(':') {
                return Err("first path segment in URL cannot contain colon".into());
            }
        }
        if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
            let mut authority = &rest[2..];
            rest = "";
            if let Some(i) = authority.find('/') {
                rest = &authority[i..];
                authority = &authority[..i];
            }
            let (user, host) = parse_authority(&url.scheme, authority)?;
            url.user = user;
            url.host = host;
        } else if !url.scheme.is_empty() && rest.starts_with('/') {
            url.omit_host = true;
        }
        let path = unescape_str(rest, Mode::Path)?;
        url.raw_path = if escape(&path, Mode::Path) == rest {
            String::new()
        } else {
            rest.to_string()
        };
        url.path = path;
        Ok(url)
    }

    fn set_fragment(&mut self, f: &str) -> Result<(), String> {
        let frag = unescape_str(f, Mode::Fragment)?;
        self.raw_fragment = if escape(&frag, Mode::Fragment) == f {
            String::new()
        } else {
            f.to_string()
        };
        self.fragment = frag;
        Ok(())
    }

    fn escaped_path(&self) -> String {
        if !self.raw_path.is_empty()
            && valid_encoded(&self.raw_path, Mode::Path)
            && unescape_str(&self.raw_path, Mode::Path).ok().as_deref() == Some(&self.path)
        {
            return self.raw_path.clone();
        }
        if self.path == "*" {
            return "*".into();
        }
        escape(&self.path, Mode::Path)
    }

    fn escaped_fragment(&self) -> String {
        if !self.raw_fragment.is_empty()
            && valid_encoded(&self.raw_fragment, Mode::Fragment)
            && unescape_str(&self.raw_fragment, Mode::Fragment)
                .ok()
                .as_deref()
                == Some(&self.fragment)
        {
            return self.raw_fragment.clone();
        }
        escape(&self.fragment, Mode::Fragment)
    }

    fn user_string(&self) -> String {
        match &self.user {
            None => String::new(),
            Some((name, pass)) => {
                let mut s = escape(name, Mode::UserPassword);
                if let Some(p) = pass {
                    s.push(':');
                    s.push_str(&escape(p, Mode::UserPassword));
                }
                s
            }
        }
    }

    /// Go's `URL.Hostname`.
    fn hostname(&self) -> String {
        let mut host = self.host.as_str();
        if let Some(colon) = host.rfind(':') {
            if valid_optional_port(&host[colon..]) {
                host = &host[..colon];
            }
        }
        if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
            host = &host[1..host.len() - 1];
        }
        host.to_string()
    }

    /// Go's `URL.String`.
    fn to_go_string(&self) -> String {
        let mut buf = String::new();
        if !self.scheme.is_empty() {
            buf.push_str(&self.scheme);
            buf.push(':');
        }
        if !self.opaque.is_empty() {
            buf.push_str(&self.opaque);
        } else {
            let has_authority = !self.host.is_empty() || self.user.is_some();
            // "scheme:/path" (parsed without "//") keeps omitting the host.
            if has_authority || (!self.scheme.is_empty() && !self.omit_host) {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    buf.push_str("//");
                }
                if self.user.is_some() {
                    buf.push_str(&self.user_string());
                    buf.push('@');
                }
                if !self.host.is_empty() {
                    buf.push_str(&escape(&self.host, Mode::Host));
                }
            }
            let path = self.escaped_path();
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty() && path.split('/').next().unwrap_or("").contains(':') {
                buf.push_str("./");
            }
            buf.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push('?');
            buf.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push('#');
            buf.push_str(&self.escaped_fragment());
        }
        buf
    }
}

fn url_parse(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let raw = arg_str(&args, 0)?;
    let url = Url::parse(raw).map_err(|e| FuncError::new(format!("unable to parse url: {e}")))?;
    let mut d = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        d.insert(k.to_string(), Value::string(v));
    };
    put("scheme", url.scheme.clone());
    put("host", url.host.clone());
    put("hostname", url.hostname());
    put("path", url.path.clone());
    put("query", url.raw_query.clone());
    put("opaque", url.opaque.clone());
    put("fragment", url.fragment.clone());
    put("userinfo", url.user_string());
    Ok(Value::map(d))
}

/// Sprig's `dictGetOrEmpty`: a missing key is "", a non-string panics.
fn dict_string(d: Option<&Map>, key: &str) -> Result<String, FuncError> {
    match d.and_then(|m| m.get(key)) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(Value::Nil) => Err(FuncError::new(NIL_DEREF)),
        Some(other) => Err(FuncError::new(format!(
            "unable to parse {key} key, must be of type string, but {} found",
            other.kind_name()
        ))),
    }
}

fn url_join(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let d = match args.first() {
        Some(Value::Map(m)) => Some(m.clone()),
        _ => None,
    };
    let d = d.as_ref();
    let mut url = Url {
        scheme: dict_string(d, "scheme")?,
        host: dict_string(d, "host")?,
        path: dict_string(d, "path")?,
        raw_query: dict_string(d, "query")?,
        opaque: dict_string(d, "opaque")?,
        fragment: dict_string(d, "fragment")?,
        ..Url::default()
    };
    let userinfo = dict_string(d, "userinfo")?;
    if !userinfo.is_empty() {
        let temp = Url::parse(&format!("proto://{userinfo}@host"))
            .map_err(|e| FuncError::new(format!("unable to parse userinfo in dict: {e}")))?;
        url.user = temp.user;
    }
    Ok(Value::string(url.to_go_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::strings::test_support::{call, s, show};

    fn reg() -> Registry {
        let mut reg = Registry::new();
        register(&mut reg);
        reg
    }

    // Expectations from Go 1.26's net/url (observed with throwaway
    // programs) and Sprig's url_test.go.
    #[test]
    fn parse_fields() {
        let r = reg();
        assert_eq!(
            show(
                &r,
                "urlParse",
                vec![s("proto://auth@host:80/path?query#fragment")]
            ),
            "map[fragment:fragment host:host:80 hostname:host opaque: path:/path query:query scheme:proto userinfo:auth]"
        );
        assert_eq!(
            show(&r, "urlParse", vec![s("mailto:a@b.c")]),
            "map[fragment: host: hostname: opaque:a@b.c path: query: scheme:mailto userinfo:]"
        );
        assert_eq!(
            show(&r, "urlParse", vec![s("HTTP://[::1]:8080/a%20b")]),
            "map[fragment: host:[::1]:8080 hostname:::1 opaque: path:/a b query: scheme:http userinfo:]"
        );
        assert_eq!(
            show(&r, "urlParse", vec![s("http://[::1")]),
            "ERR: unable to parse url: parse \"http://[::1\": missing ']' in host"
        );
        assert_eq!(
            show(&r, "urlParse", vec![s(":foo")]),
            "ERR: unable to parse url: parse \":foo\": missing protocol scheme"
        );
        assert_eq!(
            show(&r, "urlParse", vec![s("a:b/c:d")]),
            "map[fragment: host: hostname: opaque:b/c:d path: query: scheme:a userinfo:]"
        );
        assert_eq!(
            show(&r, "urlParse", vec![s("http://x/%aé")]),
            "ERR: unable to parse url: parse \"http://x/%aé\": invalid URL escape \"%a\\xc3\""
        );
        assert_eq!(
            show(&r, "urlParse", vec![s("http://x/%zz")]),
            "ERR: unable to parse url: parse \"http://x/%zz\": invalid URL escape \"%zz\""
        );
    }

    #[test]
    fn join_round_trips() {
        let r = reg();
        let d = call(
            &r,
            "urlParse",
            vec![s("https://u:p%40ss@example.test:8443/a b?x=1#frag ment")],
        )
        .unwrap_or(Value::Nil);
        assert_eq!(
            show(&r, "urlJoin", vec![d]),
            "https://u:p%40ss@example.test:8443/a%20b?x=1#frag%20ment"
        );
        let mut m = BTreeMap::new();
        m.insert("host".to_string(), s("h"));
        m.insert("path".to_string(), s("p"));
        assert_eq!(show(&r, "urlJoin", vec![Value::map(m)]), "//h/p");
        let mut m = BTreeMap::new();
        m.insert("port".to_string(), Value::Int(1));
        m.insert("scheme".to_string(), Value::Int(1));
        assert_eq!(
            show(&r, "urlJoin", vec![Value::map(m)]),
            "ERR: unable to parse scheme key, must be of type string, but int found"
        );
    }
}
