//! Unit tests: facts from Helm v4.3.1's `pkg/strvals` tests and source,
//! re-expressed. The differential test against the real parser (through
//! the oracle) is in `crate::process::tests::oracle`.

use super::*;

/// A values tree in a compact typed notation: `i64(1)`, `f64(1.5)`,
/// quoted strings, `null`, `[..]`, `{k:v}` with sorted keys.
pub(crate) fn typed(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) if n.is_f64() => format!("f64({})", n.as_f64().unwrap_or(0.0)),
        Json::Number(n) => format!("i64({n})"),
        Json::String(s) => go_quote(s),
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(typed).collect::<Vec<_>>().join(",")
        ),
        Json::Object(m) => typed_map(m),
    }
}

pub(crate) fn typed_map(m: &Values) -> String {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let parts: Vec<String> = keys
        .iter()
        .map(|k| format!("{}:{}", go_quote(k), typed(&m[k.as_str()])))
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn set(s: &str) -> Result<String, String> {
    let mut v = Values::new();
    parse_set(s, &mut v).map_err(|e| e.reason().to_string())?;
    Ok(typed_map(&v))
}

#[test]
fn scalars_are_typed() {
    assert_eq!(
        set("name1=null,f=false,t=true").unwrap(),
        r#"{"f":false,"name1":null,"t":true}"#
    );
    assert_eq!(set("a=TRUE,b=Null").unwrap(), r#"{"a":true,"b":null}"#);
    assert_eq!(set("zero_int=0").unwrap(), r#"{"zero_int":i64(0)}"#);
    assert_eq!(
        set("long_int=1234567890").unwrap(),
        r#"{"long_int":i64(1234567890)}"#
    );
    assert_eq!(
        set("leading_zeros=00009").unwrap(),
        r#"{"leading_zeros":"00009"}"#
    );
    assert_eq!(
        set("f=1.5,n=-3,e=1e3").unwrap(),
        r#"{"e":"1e3","f":"1.5","n":i64(-3)}"#
    );
    assert_eq!(
        set("big=99999999999999999999").unwrap(),
        r#"{"big":"99999999999999999999"}"#
    );
}

#[test]
fn set_string_keeps_strings() {
    let mut v = Values::new();
    parse_set_string("a=true,b=0,c=null,d={1,2}", &mut v).unwrap();
    assert_eq!(
        typed_map(&v),
        r#"{"a":"true","b":"0","c":"null","d":["1","2"]}"#
    );
}

#[test]
fn separators_escapes_and_empty_values() {
    assert_eq!(
        set("name1=value1,name2=value2,").unwrap(),
        r#"{"name1":"value1","name2":"value2"}"#
    );
    assert_eq!(
        set("name1=,name2=value2").unwrap(),
        r#"{"name1":"","name2":"value2"}"#
    );
    assert_eq!(
        set("name1=one\\,two,name2=three\\=four").unwrap(),
        r#"{"name1":"one,two","name2":"three=four"}"#
    );
    assert_eq!(set("a\\.b=c").unwrap(), r#"{"a.b":"c"}"#);
    assert_eq!(set("a=").unwrap(), r#"{"a":""}"#);
    assert_eq!(set("").unwrap(), "{}");
}

#[test]
fn nested_names_and_lists() {
    assert_eq!(
        set("outer.inner1=value,outer.middle.inner=value").unwrap(),
        r#"{"outer":{"inner1":"value","middle":{"inner":"value"}}}"#
    );
    assert_eq!(
        set("name1={1021,902}").unwrap(),
        r#"{"name1":[i64(1021),i64(902)]}"#
    );
    assert_eq!(set("a={}").unwrap(), r#"{"a":[""]}"#);
    assert_eq!(
        set("list[0]=foo,list[3]=bar").unwrap(),
        r#"{"list":["foo",null,null,"bar"]}"#
    );
    assert_eq!(
        set("list[0].foo=bar,list[0].hello=world").unwrap(),
        r#"{"list":[{"foo":"bar","hello":"world"}]}"#
    );
    assert_eq!(
        set("nested[0][1]=1").unwrap(),
        r#"{"nested":[[null,i64(1)]]}"#
    );
    assert_eq!(
        set("a[1].b=1,a[0]=x").unwrap(),
        r#"{"a":["x",{"b":i64(1)}]}"#
    );
    assert_eq!(set("list[0]").unwrap(), r#"{"list":[]}"#);
}

#[test]
fn errors_read_as_helm_words_them() {
    assert_eq!(
        set("name1,name2=value2").unwrap_err(),
        r#"key "name1" has no value (cannot end with ,)"#
    );
    assert_eq!(
        set("name1.name2").unwrap_err(),
        r#"key "name2" has no value"#
    );
    assert_eq!(
        set("name1.=name2").unwrap_err(),
        r#"key map "name1" has no value"#
    );
    assert_eq!(
        set("name1={1021,902").unwrap_err(),
        "list must terminate with '}'"
    );
    assert_eq!(
        set("list[0].foo=bar,list[-30].hello=world").unwrap_err(),
        "negative -30 index not allowed"
    );
    assert_eq!(
        set("list[65537]=x").unwrap_err(),
        "index of 65537 is greater than maximum supported index of 65536"
    );
    assert!(set("list[65536]=x").is_ok());
    assert_eq!(
        set("a[x]=1").unwrap_err(),
        r#"error parsing index: strconv.Atoi: parsing "x": invalid syntax"#
    );
    assert_eq!(
        set("a[0]x=1").unwrap_err(),
        "unexpected data at end of array index: ['x']"
    );
    assert_eq!(
        set("a=1,a.b=2").unwrap_err(),
        "unable to parse key: interface conversion: interface {} is int64, not map[string]interface {}"
    );
    assert_eq!(
        set("a=x,a[0]=2").unwrap_err(),
        "unable to parse key: interface conversion: interface {} is string, not []interface {}"
    );
    let deep = format!("{}=1", vec!["a"; 32].join("."));
    assert_eq!(
        set(&deep).unwrap_err(),
        "value name nested level is greater than maximum supported nested level of 30"
    );
    let ok = format!("{}=1", vec!["a"; 31].join("."));
    assert!(set(&ok).is_ok());
    let mut v = Values::new();
    let e = parse_set("x,", &mut v).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"failed parsing --set data: key "x" has no value (cannot end with ,)"#
    );
}

#[test]
fn json_values_are_documents() {
    let mut v = Values::new();
    parse_set_json(
        r#"a={"b":1,"c":[true,"x",null]},d=2,e=,f="s,t" ,g.h[1]=3.5"#,
        &mut v,
    )
    .unwrap();
    assert_eq!(
        typed_map(&v),
        r#"{"a":{"b":f64(1),"c":[true,"x",null]},"d":f64(2),"e":null,"f":"s,t","g":{"h":[null,f64(3.5)]}}"#
    );
    let mut v = Values::new();
    parse_set(r#"a.x=1"#, &mut v).unwrap();
    parse_set_json(r#" {"a": {"y": 2}, "b": [1]}"#, &mut v).unwrap();
    assert_eq!(
        typed_map(&v),
        r#"{"a":{"x":i64(1),"y":f64(2)},"b":[f64(1)]}"#
    );
    let e = parse_set_json("a={", &mut Values::new()).unwrap_err();
    assert_eq!(e.to_string(), "failed parsing --set-json data a={");
    let e = parse_set_json("{a", &mut Values::new()).unwrap_err();
    assert_eq!(e.to_string(), "failed parsing --set-json data JSON: {a");
}

#[test]
fn file_values_are_read() {
    let read = |p: &str| -> Result<String, std::io::Error> {
        match p {
            "missing" => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "open missing: no such file or directory",
            )),
            p => Ok(format!("content of {p}")),
        }
    };
    let mut v = Values::new();
    parse_set_file("a=f1,b={f2,f3}", &mut v, &read).unwrap();
    assert_eq!(
        typed_map(&v),
        r#"{"a":"content of f1","b":["content of f2","content of f3"]}"#
    );
    let e = parse_set_file("a=missing", &mut v, &read).unwrap_err();
    assert_eq!(
        e.to_string(),
        "failed parsing --set-file data: open missing: no such file or directory"
    );
}

#[test]
fn literal_values_take_the_rest() {
    let mut v = Values::new();
    parse_set_literal("a.b[1]=x,y={z}\\n", &mut v).unwrap();
    assert_eq!(typed_map(&v), r#"{"a":{"b":[null,"x,y={z}\\n"]}}"#);
}

#[test]
fn target_paths() {
    let mut v = Values::new();
    parse_set_at_path("a.b\\.c[1]", Json::from(vec![1, 2]), &mut v).unwrap();
    assert_eq!(typed_map(&v), r#"{"a":{"b.c":[null,[i64(1),i64(2)]]}}"#);
    parse_set_at_path("top", Json::String("{x,y}".into()), &mut v).unwrap();
    assert_eq!(typed(&v["top"]), r#""{x,y}""#);
    assert!(parse_set_at_path("a.", Json::Null, &mut Values::new()).is_err());
    assert!(parse_set_at_path("a[0]x", Json::Null, &mut v).is_err());
}

#[test]
fn flux_target_paths() {
    let mut v = Values::new();
    replace_path_value("a.b", "1", &mut v).unwrap();
    replace_path_value("a.c", "'1'", &mut v).unwrap();
    replace_path_value("a.d", "\"'x y'\"", &mut v).unwrap();
    replace_path_value("a.e", "{p,q}", &mut v).unwrap();
    assert_eq!(
        typed_map(&v),
        r#"{"a":{"b":i64(1),"c":"1","d":"x y","e":["p","q"]}}"#
    );
    assert!(replace_path_value("a[x]", "1", &mut v).is_err());
}
