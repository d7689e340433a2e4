//! Parsers for the response headers the client acts on: `WWW-Authenticate`
//! (RFC 9110 challenges), `Link` (RFC 8288, `rel="next"`) and `Retry-After`.

use std::collections::BTreeMap;
use std::time::Duration;

/// Longest `WWW-Authenticate` value parsed; longer ones are refused.
pub const MAX_CHALLENGE_LEN: usize = 8 * 1024;

/// One authentication challenge: the scheme (lowercased) and its
/// parameters (names lowercased, values unquoted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("the WWW-Authenticate header is longer than {MAX_CHALLENGE_LEN} bytes")]
    ChallengeTooLong,
    #[error("malformed WWW-Authenticate header: {0}")]
    Challenge(&'static str),
}

/// Parse a `WWW-Authenticate` value into its challenges. Handles several
/// challenges in one value, quoted strings with escapes and commas, empty
/// list elements and token68 credentials (kept under the key `""`).
pub fn parse_challenges(value: &str) -> Result<Vec<Challenge>, HeaderError> {
    if value.len() > MAX_CHALLENGE_LEN {
        return Err(HeaderError::ChallengeTooLong);
    }
    let mut p = Cursor {
        s: value.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        p.skip_list_separators();
        if p.done() {
            break;
        }
        let scheme = p
            .token()
            .ok_or(HeaderError::Challenge("expected an auth scheme"))?;
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: BTreeMap::new(),
        };
        p.skip_ws();
        // Parameters until the next scheme (a token not followed by '=').
        loop {
            p.skip_list_separators();
            if p.done() {
                break;
            }
            let save = p.i;
            let Some(name) = p.token() else {
                // token68 (e.g. base64 starting with '/') or garbage.
                let t68 = p
                    .token68()
                    .ok_or(HeaderError::Challenge("unexpected character"))?;
                challenge.params.insert(String::new(), t68);
                continue;
            };
            let name = name.to_ascii_lowercase();
            if p.peek() == Some(b'/') {
                p.i = save;
                let t68 = p.token68().ok_or(HeaderError::Challenge("bad token68"))?;
                challenge.params.insert(String::new(), t68);
                continue;
            }
            p.skip_ws();
            if p.peek() != Some(b'=') {
                // The start of the next challenge.
                p.i = save;
                break;
            }
            p.i += 1;
            p.skip_ws();
            let value = match p.peek() {
                // `abc=` / `abc==` right after the scheme: token68 padding.
                None | Some(b',' | b'=') if challenge.params.is_empty() => {
                    p.i = save;
                    let t68 = p.token68().ok_or(HeaderError::Challenge("bad token68"))?;
                    challenge.params.insert(String::new(), t68);
                    continue;
                }
                None | Some(b',') => String::new(),
                Some(b'"') => p
                    .quoted()
                    .ok_or(HeaderError::Challenge("unterminated quoted string"))?,
                _ => p
                    .token()
                    .ok_or(HeaderError::Challenge("expected a parameter value"))?
                    .to_string(),
            };
            challenge.params.insert(name, value);
        }
        out.push(challenge);
    }
    Ok(out)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn skip_list_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }
    /// An RFC 9110 token.
    fn token(&mut self) -> Option<&str> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c) {
                self.i += 1;
            } else {
                break;
            }
        }
        (self.i > start).then(|| std::str::from_utf8(&self.s[start..self.i]).unwrap_or(""))
    }
    fn token68(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || b"-._~+/".contains(&c) {
                self.i += 1;
            } else {
                break;
            }
        }
        while self.peek() == Some(b'=') {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }
    fn quoted(&mut self) -> Option<String> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    self.i += 1;
                    out.push(self.peek()?);
                    self.i += 1;
                }
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

/// The target of the `rel="next"` link in a `Link` header value, as
/// written (unresolved). `rel` may be quoted or not and may list several
/// relation types.
pub fn next_link(value: &str) -> Option<String> {
    let mut rest = value;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        let after = &rest[close + 1..];
        // Parameters run until the next link (`, <`).
        let params_end = after.find('<').unwrap_or(after.len());
        let params = &after[..params_end];
        for param in params.split(';').skip(1) {
            let Some((name, val)) = param.split_once('=') else {
                continue;
            };
            if !name.trim().eq_ignore_ascii_case("rel") {
                continue;
            }
            let val = val.trim().trim_end_matches(',').trim().trim_matches('"');
            if val
                .split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("next"))
            {
                return Some(target.trim().to_string());
            }
        }
        rest = &after[params_end..];
    }
}

/// `Retry-After` as delay-seconds or as an HTTP-date (the time left until
/// then, zero when it has passed).
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn bearer_with_quoted_params() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(
            params(&c[0]),
            vec![
                ("realm", "https://auth.example/token"),
                ("scope", "repository:a/b:pull,push"),
                ("service", "registry.example")
            ]
        );
    }

    #[test]
    fn several_challenges_spaces_escapes_and_tokens() {
        let c = parse_challenges(
            r#"Basic realm="x, y", , BEARER  Realm = "https://a.example/t\"q\\" , service=svc,scope="", Negotiate abc+/==, Other"#,
        )
        .unwrap();
        let schemes: Vec<&str> = c.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, vec!["basic", "bearer", "negotiate", "other"]);
        assert_eq!(c[0].param("realm"), Some("x, y"));
        assert_eq!(c[1].param("realm"), Some(r#"https://a.example/t"q\"#));
        assert_eq!(c[1].param("service"), Some("svc"));
        assert_eq!(c[1].param("scope"), Some(""));
        assert_eq!(c[2].param(""), Some("abc+/=="));
        assert!(c[3].params.is_empty());
    }

    #[test]
    fn malformed_and_oversized_challenges() {
        assert!(parse_challenges(r#"Bearer realm="never closed"#).is_err());
        assert!(parse_challenges("\"quoted-scheme\"").is_err());
        assert_eq!(parse_challenges("").unwrap(), vec![]);
        let huge = format!(r#"Bearer realm="{}""#, "a".repeat(MAX_CHALLENGE_LEN));
        assert_eq!(parse_challenges(&huge), Err(HeaderError::ChallengeTooLong));
    }

    #[test]
    fn link_next() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(
            next_link(r#"<https://x.example/prev>; rel=prev, <https://x.example/n?a=1,2>; rel="last next""#).as_deref(),
            Some("https://x.example/n?a=1,2")
        );
        assert_eq!(next_link("<a>; rel=next").as_deref(), Some("a"));
        assert_eq!(
            next_link(r#"</a>; title="x"; REL=NEXT"#).as_deref(),
            Some("/a")
        );
        assert_eq!(next_link(r#"</a>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link("<unterminated; rel=next"), None);
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(retry_after(" 12 "), Some(Duration::from_secs(12)));
        // A date in the past: retry now.
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
        let left = retry_after(&soon).unwrap();
        assert!(
            left > Duration::from_secs(100) && left <= Duration::from_secs(120),
            "{left:?}"
        );
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-1"), None);
    }
}
