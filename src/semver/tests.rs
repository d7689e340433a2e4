//! Replays vectors that the real Masterminds/semver v3.5.0 produced (see
//! `testdata/gen`), plus API properties that have no Go counterpart.

use super::*;

const VECTORS: &str = include_str!("testdata/masterminds-v3.5.0.tsv");

fn vectors(kind: &str) -> Vec<Vec<&'static str>> {
    VECTORS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[0] == kind)
        .collect()
}

fn describe(v: &Version) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        v,
        v.major(),
        v.minor(),
        v.patch(),
        v.prerelease(),
        v.metadata(),
        v.original()
    )
}

fn check_parse_vectors(kind: &str, parse: fn(&str) -> Result<Version, Error>) -> usize {
    let mut failures = Vec::new();
    let cases = vectors(kind);
    for f in &cases {
        let (input, status, want) = (f[1], f[2], f[3]);
        let got = match parse(input) {
            Ok(v) => ("OK", describe(&v)),
            Err(e) => ("ERR", e.to_string()),
        };
        if got != (status, want.to_string()) {
            failures.push(format!(
                "{kind} {input:?}: want {status} {want}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    cases.len()
}

#[test]
fn lenient_parse_matches_go() {
    assert!(check_parse_vectors("V", Version::parse) >= 40);
}

#[test]
fn strict_parse_matches_go() {
    assert!(check_parse_vectors("S", Version::parse_strict) >= 20);
}

#[test]
fn compare_matches_go() {
    let cases = vectors("C");
    assert!(cases.len() >= 20);
    for f in cases {
        let a = Version::parse(f[1]).expect("vector version");
        let b = Version::parse(f[2]).expect("vector version");
        let want: i32 = f[3].parse().expect("vector result");
        assert_eq!(a.compare(&b), want, "compare {} {}", f[1], f[2]);
        assert_eq!(b.compare(&a), -want, "compare {} {}", f[2], f[1]);
    }
}

#[test]
fn increments_match_go() {
    for f in vectors("I") {
        let v = Version::parse(f[1]).expect("vector version");
        let mut got = Vec::new();
        for next in [v.inc_major(), v.inc_minor(), v.inc_patch()] {
            let next = next.expect("no overflow");
            got.push(next.to_string());
            got.push(next.original().to_string());
        }
        assert_eq!(got.join("|"), f[2], "increments of {}", f[1]);
    }
}

#[test]
fn constraints_match_go() {
    let cases = vectors("K");
    assert!(
        cases.len() >= 100,
        "only {} constraint vectors",
        cases.len()
    );
    let mut failures = Vec::new();
    for f in cases {
        let (constraint, version) = (f[1], f[2]);
        let c = match Constraint::parse(constraint) {
            Ok(c) => c,
            Err(e) => {
                if f[3] != "ERR" || f[4] != e.to_string() {
                    failures.push(format!("{constraint:?}: want {f:?}, got error {e}"));
                }
                continue;
            }
        };
        if f[3] == "ERR" {
            failures.push(format!("{constraint:?}: want error {}, parsed {c}", f[4]));
            continue;
        }
        let v = Version::parse(version).expect("vector version");
        let check = c.matches(&v).to_string();
        let (valid, reasons) = match c.validate(&v) {
            Ok(()) => ("true", String::new()),
            Err(r) => (
                "false",
                r.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(" ;; "),
            ),
        };
        let got = [check.as_str(), valid, &c.to_string(), &reasons];
        let want = [f[3], f[4], f[5], f.get(6).copied().unwrap_or("")];
        if got != want {
            failures.push(format!(
                "{constraint:?} on {version}: want {want:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ord_sorts_by_precedence_and_ignores_metadata() {
    let mut versions: Vec<Version> = ["1.0.0", "1.0.0-rc.1", "0.9", "v1.0.0-alpha", "1.0.0+b"]
        .iter()
        .map(|s| Version::parse(s).expect("valid"))
        .collect();
    versions.sort();
    let sorted: Vec<&str> = versions.iter().map(|v| v.original()).collect();
    assert_eq!(
        sorted,
        ["0.9", "v1.0.0-alpha", "1.0.0-rc.1", "1.0.0", "1.0.0+b"]
    );
    assert_eq!(
        Version::parse("1.0.0+a").ok(),
        Version::parse("1.0.0+b").ok()
    );
}

#[test]
fn highest_match_in_a_range() {
    // What the OCI controller does with tags.
    let c = Constraint::parse(">=1.2, <2").expect("valid");
    let best = ["1.1.0", "1.2.0", "1.9.3", "2.0.0", "1.10.0-rc.1", "latest"]
        .iter()
        .filter_map(|t| Version::parse(t).ok())
        .filter(|v| c.matches(v))
        .max()
        .map(|v| v.original().to_string());
    assert_eq!(best.as_deref(), Some("1.9.3"));
    let with_pre = c.clone().include_prerelease(true);
    assert!(with_pre.matches(&Version::parse("1.10.0-rc.1").expect("valid")));
}

#[test]
fn limits() {
    assert_eq!(
        Version::parse(&"1".repeat(MAX_VERSION_LEN + 1)),
        Err(Error::VersionTooLong)
    );
    assert_eq!(
        Constraint::parse(&"1".repeat(MAX_CONSTRAINT_LEN + 1)).err(),
        Some(Error::ConstraintTooLong)
    );
    let many = vec!["1"; MAX_CONSTRAINT_GROUPS + 1].join("||");
    assert_eq!(
        Constraint::parse(&many).err().map(|e| e.to_string()),
        Some("too many constraint groups (max 32)".to_string())
    );
    let max = u64::MAX.to_string();
    let top = Version::parse(&format!("{max}.{max}.{max}")).expect("fits");
    assert!(top.inc_patch().is_none() && top.inc_minor().is_none() && top.inc_major().is_none());
}

#[test]
fn quote_escapes_like_go() {
    assert_eq!(go_quote("a\"b\\c\n\t"), r#""a\"b\\c\n\t""#);
    assert_eq!(go_quote("\u{1}é\u{feff}"), r#""\x01é\ufeff""#);
}
