//! Unit tests of the Go-syntax translation and Go's matching loops. Every
//! expectation was checked with Go 1.26 `regexp` through Sprig v3.3.0;
//! `conformance/cases/regex.yaml` compares many more against Helm itself.

use super::*;

fn compile_err(expr: &str) -> String {
    match compile(expr) {
        Ok(_) => "compiled".to_string(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn syntax_errors_match_go() {
    let cases = [
        ("(abc", "error parsing regexp: missing closing ): `(abc`"),
        ("abc)", "error parsing regexp: unexpected ): `abc)`"),
        (
            "a**",
            "error parsing regexp: invalid nested repetition operator: `**`",
        ),
        (
            "a{2}{3}",
            "error parsing regexp: invalid nested repetition operator: `{2}{3}`",
        ),
        (
            "(a{100}){20}",
            "error parsing regexp: invalid repeat count: `{20}`",
        ),
        (
            "a{1001}",
            "error parsing regexp: invalid repeat count: `{1001}`",
        ),
        (
            "*a",
            "error parsing regexp: missing argument to repetition operator: `*`",
        ),
        (
            "a|*",
            "error parsing regexp: missing argument to repetition operator: `*`",
        ),
        (
            "[z-a]",
            "error parsing regexp: invalid character class range: `z-a`",
        ),
        ("[a-z", "error parsing regexp: missing closing ]: `[a-z`"),
        (
            "\\p{Old_Italic}",
            "error parsing regexp: invalid character class range: `\\p{Old_Italic}`",
        ),
        (
            "[[:foo:]]",
            "error parsing regexp: invalid character class range: `[:foo:]`",
        ),
        (
            "abc\\",
            "error parsing regexp: trailing backslash at end of expression: ``",
        ),
        (
            "\\Z",
            "error parsing regexp: invalid escape sequence: `\\Z`",
        ),
        (
            "(a)\\1",
            "error parsing regexp: invalid escape sequence: `\\1`",
        ),
        (
            "(?x)a",
            "error parsing regexp: invalid or unsupported Perl syntax: `(?x`",
        ),
        (
            "(?=a)",
            "error parsing regexp: invalid or unsupported Perl syntax: `(?=`",
        ),
        (
            "(?P<a-b>x)",
            "error parsing regexp: invalid named capture: `(?P<a-b>`",
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(compile_err(expr), want, "{expr}");
    }
}

#[test]
fn go_classes_are_ascii_and_literals_are_literal() {
    let m = |expr: &str, s: &str| compile(expr).map(|re| re.is_match(s)).ok();
    assert_eq!(m(r"^\d+$", "١٢٣"), Some(false));
    assert_eq!(m(r"\s", "\u{b}"), Some(false));
    assert_eq!(m(r"^\w+$", "héllo"), Some(false));
    assert_eq!(m(r"(?i)k", "\u{212a}"), Some(true));
    assert_eq!(m(r"\<a", "<a"), Some(true));
    assert_eq!(m(r"[a&&b]", "&"), Some(true));
    assert_eq!(m(r"\141", "a"), Some(true));
    assert_eq!(m(r"\p{greek}", "α"), Some(true));
    assert_eq!(m(r"a$", "a\n"), Some(false));
    assert_eq!(m(r"^*a", "a"), Some(true));
}

#[test]
fn every_unicode_table_compiles() {
    for (name, _) in UNICODE_TABLES {
        assert!(compile(&format!("\\p{{{name}}}")).is_ok(), "{name}");
    }
    assert!(UNICODE_TABLES.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
}

#[test]
fn iteration_follows_go() {
    let re = |e: &str| compile(e).expect("valid");
    assert_eq!(re("a*").find_all("baaac", -1), ["", "aaa", ""]);
    assert_eq!(re("a*").replace_all("baaac", "-", false), "-b-c-");
    assert_eq!(re("a(x*)b").replace_all("-ab-axxb-", "$1W", false), "---");
    assert_eq!(
        re("a(x*)b").replace_all("-ab-axxb-", "${1}W", false),
        "-W-xxW-"
    );
    assert_eq!(re("x*").split(false, "axbxc", -1), ["a", "b", "c"]);
    assert_eq!(re("").split(true, "abc", -1), ["a", "b", "c"]);
    assert!(re("a").split(false, "banana", 0).is_empty());
}

#[test]
fn quote_meta_matches_go() {
    assert_eq!(
        quote_meta(r"\.+*?()|[]{}^$"),
        r"\\\.\+\*\?\(\)\|\[\]\{\}\^\$"
    );
}
