//! OCI references: `oci://host[:port]/path[:tag][@sha256:…]`, or the same
//! without the scheme, validated against the distribution spec grammar.

use std::fmt;

use crate::digest::Digest;

/// Longest repository name accepted (distribution caps the whole name,
/// host included, at 255 characters).
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// A parsed reference. `registry` (host and optional port) is also the key
/// credentials are looked up by and the only host they are sent to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid OCI reference {reference:?}: {reason}")]
pub struct ReferenceError {
    pub reference: String,
    pub reason: String,
}

impl Reference {
    /// Parse `oci://host[:port]/path[:tag][@digest]` or the plain form. The
    /// host is required (there is no default registry); a reference may
    /// carry a tag, a digest, both, or neither.
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let err = |reason: String| ReferenceError {
            reference: input.chars().take(300).collect(),
            reason,
        };
        let rest = input.strip_prefix("oci://").unwrap_or(input);
        if rest.contains("://") {
            return Err(err("only the oci:// scheme is accepted".into()));
        }
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| err("expected host/repository".into()))?;
        validate_registry(registry).map_err(|r| err(r.to_string()))?;

        let (path, digest) = match path.split_once('@') {
            Some((p, d)) => (
                p,
                Some(Digest::parse(d).map_err(|e| err(e.reason.to_string()))?),
            ),
            None => (path, None),
        };
        // A tag follows the last ':' after the last '/'.
        let last_segment_start = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last_segment_start..].find(':') {
            Some(i) => {
                let at = last_segment_start + i;
                (&path[..at], Some(&path[at + 1..]))
            }
            None => (path, None),
        };
        validate_repository(repository).map_err(|r| err(r.to_string()))?;
        if let Some(tag) = tag {
            validate_tag(tag).map_err(|r| err(r.to_string()))?;
        }
        Ok(Reference {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// `host[:port]`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// A copy with this tag (keeps the digest).
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        validate_tag(tag).map_err(|r| ReferenceError {
            reference: tag.chars().take(300).collect(),
            reason: r.to_string(),
        })?;
        Ok(Reference {
            tag: Some(tag.to_string()),
            ..self.clone()
        })
    }

    /// A copy pinned to `digest` (keeps the tag for display).
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// What to ask the registry for: the digest when there is one, else the
    /// tag, else `latest`.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// `host[:port]`: DNS labels separated by dots, an IPv4 address, or a
/// bracketed IPv6 address, with an optional decimal port.
pub fn validate_registry(registry: &str) -> Result<(), &'static str> {
    if registry.is_empty() {
        return Err("the registry host is empty");
    }
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or("unterminated IPv6 address in the registry host")?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("invalid IPv6 address in the registry host");
        }
        match after {
            "" => ("", None),
            p => (
                "",
                Some(
                    p.strip_prefix(':')
                        .ok_or("unexpected text after the IPv6 address")?,
                ),
            ),
        }
    } else {
        match registry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty()
            || port.len() > 5
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().map_or(true, |p| p == 0)
        {
            return Err("invalid port in the registry host");
        }
    }
    if registry.starts_with('[') {
        return Ok(());
    }
    if host.len() > 253 {
        return Err("the registry host is too long");
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !host.split('.').all(label_ok) {
        return Err("invalid registry host name");
    }
    // Without a dot, a port or the name localhost, the first path element
    // is a repository namespace, not a host (Docker's rule); berth has no
    // default registry to put in front of it.
    if !host.contains('.') && port.is_none() && host != "localhost" {
        return Err(
            "the reference must start with a registry host (host.domain, host:port or localhost)",
        );
    }
    Ok(())
}

/// Repository name grammar of the distribution spec:
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
pub fn validate_repository(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the repository path is empty");
    }
    if name.len() > MAX_NAME_LEN {
        return Err("the repository path is longer than 255 characters");
    }
    for component in name.split('/') {
        validate_path_component(component)?;
    }
    Ok(())
}

fn validate_path_component(c: &str) -> Result<(), &'static str> {
    const BAD: &str = "invalid repository path component (lowercase letters and digits, separated by '.', '_', '__' or dashes)";
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return Err(BAD);
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__" or one or more "-".
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return Err(BAD),
        }
        if i == start || i >= b.len() || !alnum(b[i]) {
            return Err(BAD);
        }
    }
    Ok(())
}

/// Tag grammar: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), &'static str> {
    let b = tag.as_bytes();
    if b.is_empty() {
        return Err("the tag is empty");
    }
    if b.len() > MAX_TAG_LEN {
        return Err("the tag is longer than 128 characters");
    }
    if !(b[0].is_ascii_alphanumeric() || b[0] == b'_') {
        return Err("a tag must start with a letter, digit or '_'");
    }
    if !b
        .iter()
        .all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'.' | b'_' | b'-'))
    {
        return Err("a tag may only hold letters, digits, '.', '_' and '-'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn parses_the_forms() {
        let r = Reference::parse("oci://127.0.0.1:5000/charts/podinfo").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag(), r.digest()),
            ("127.0.0.1:5000", "charts/podinfo", None, None)
        );
        assert_eq!(r.manifest_reference(), "latest");

        let r = Reference::parse("registry.example:443/a/b/c:1.2.3").unwrap();
        assert_eq!(r.registry(), "registry.example:443");
        assert_eq!(r.repository(), "a/b/c");
        assert_eq!(r.tag(), Some("1.2.3"));

        let r = Reference::parse(&format!("localhost/x:v1@{D}")).unwrap();
        assert_eq!(r.registry(), "localhost");
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.digest().unwrap().to_string(), D);
        assert_eq!(r.manifest_reference(), D);
        assert_eq!(r.to_string(), format!("localhost/x:v1@{D}"));

        let r = Reference::parse(&format!("oci://[::1]:5000/x@{D}")).unwrap();
        assert_eq!(r.registry(), "[::1]:5000");
        assert_eq!(r.tag(), None);

        // Separators the grammar allows.
        Reference::parse("h.example/a.b/c_d/e__f/g---h/0").unwrap();
        // A tag of 128 characters is the maximum.
        Reference::parse(&format!("h.example/a:{}", "t".repeat(128))).unwrap();
    }

    #[test]
    fn rejects_what_the_grammar_does_not_allow() {
        for bad in [
            "",
            "oci://",
            "oci://host.example",
            "https://host.example/a",
            "library/nginx",
            "nohost/x",
            "oci://host.example/",
            "host.example/A",
            "host.example/a//b",
            "host.example/a/",
            "host.example/-a",
            "host.example/a-",
            "host.example/a___b",
            "host.example/a..b",
            "host.example/a._b",
            "host.example/a:",
            "host.example/a:.tag",
            "host.example/a:t@g",
            "host.example/a@sha256:abc",
            "host.example/a@md5:d41d8cd98f00b204e9800998ecf8427e",
            "host.example:0/a",
            "host.example:99999/a",
            "host.example:/a",
            "-host.example/a",
            "host..example/a",
            "[::1/a",
            "[zz]:5000/a",
            "host.example/a b",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(Reference::parse(&format!("h.example/a:{}", "t".repeat(129))).is_err());
        assert!(Reference::parse(&format!("h.example/{}", "a".repeat(256))).is_err());
    }

    #[test]
    fn tag_and_port_are_told_apart() {
        let r = Reference::parse("host.example:5000/repo").unwrap();
        assert_eq!(
            (r.registry(), r.repository(), r.tag()),
            ("host.example:5000", "repo", None)
        );
        let r = Reference::parse("host.example:5000/repo:5000").unwrap();
        assert_eq!(r.tag(), Some("5000"));
    }
}
