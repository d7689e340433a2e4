//! Unit tests of the pipeline's steps on hand-built charts. The
//! differential tests against Helm are in the `oracle` submodule.

mod oracle;

use super::*;
use crate::values::parse;
use crate::{Dependency, Metadata};

fn chart(name: &str, values: &str, reqs: Vec<Dependency>, deps: Vec<Chart>) -> Chart {
    Chart {
        metadata: Metadata {
            name: name.into(),
            version: "1.0.0".into(),
            dependencies: reqs,
            ..Metadata::default()
        },
        values: parse(values).unwrap(),
        dependencies: deps,
        ..Chart::default()
    }
}

#[test]
fn missing_dependencies_are_named() {
    let reqs = vec![
        Dependency {
            name: "a".into(),
            ..Dependency::default()
        },
        Dependency {
            name: "b".into(),
            ..Dependency::default()
        },
    ];
    let c = chart("top", "", reqs, vec![chart("b", "", vec![], vec![])]);
    let e = prepare(c, Values::new(), &ProcessOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: a"
    );
}

#[test]
fn library_charts_are_not_installable() {
    let mut c = chart("lib", "", vec![], vec![]);
    c.metadata.chart_type = "library".into();
    let e = prepare(c, Values::new(), &ProcessOptions::default()).unwrap_err();
    assert_eq!(e.to_string(), "library charts are not installable");
}

#[test]
fn kube_version_constraint() {
    let mut c = chart("top", "", vec![], vec![]);
    c.metadata.kube_version = ">=1.25.0-0".into();
    let opts = |v: &str| ProcessOptions {
        kube_version: v.into(),
        skip_schema_validation: false,
    };
    prepare(c.clone(), Values::new(), &opts("1.33.0")).unwrap();
    prepare(c.clone(), Values::new(), &opts("v1.33.4-gke.1245000")).unwrap();
    let e = prepare(c, Values::new(), &opts("1.20.0")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "chart requires kubeVersion: >=1.25.0-0 which is incompatible with Kubernetes v1.20.0"
    );
    assert_eq!(
        parse_kube_version("1.33.4-gke.1"),
        Some(("v1.33.4-gke.1".into(), "v1.33.4".into()))
    );
    assert_eq!(parse_kube_version("1"), None);
}

#[test]
fn values_flow_through_the_steps() {
    let sub = chart("sub", "enabled: true\nport: 80\n", vec![], vec![]);
    let req = Dependency {
        name: "sub".into(),
        version: "1.0.0".into(),
        condition: "sub.enabled".into(),
        ..Dependency::default()
    };
    let top = chart("top", "global: {a: 1}\n", vec![req], vec![sub]);
    let user = parse("sub: {port: 8080}\n").unwrap();
    let p = prepare(top.clone(), user, &ProcessOptions::default()).unwrap();
    assert_eq!(p.chart.dependencies.len(), 1);
    assert_eq!(
        p.values,
        parse("global: {a: 1}\nsub: {enabled: true, port: 8080, global: {a: 1}}\n").unwrap()
    );
    let user = parse("sub: {enabled: false}\n").unwrap();
    let p = prepare(top, user, &ProcessOptions::default()).unwrap();
    assert!(p.chart.dependencies.is_empty());
}

#[test]
fn schema_failures_are_wrapped() {
    let mut c = chart("top", "replicas: x\n", vec![], vec![]);
    c.schema = Some(br#"{"properties":{"replicas":{"type":"integer"}}}"#.to_vec());
    let e = prepare(c.clone(), Values::new(), &ProcessOptions::default()).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("values don't meet the specifications of the schema(s) in the following chart(s):\ntop:\n- at '/replicas': "));
    let skip = ProcessOptions {
        skip_schema_validation: true,
        ..ProcessOptions::default()
    };
    prepare(c, Values::new(), &skip).unwrap();
}

#[test]
fn work_done_during_validation_loses_to_its_errors() {
    let mut c = chart("top", "replicas: x\n", vec![], vec![]);
    c.schema = Some(br#"{"properties":{"replicas":{"type":"integer"}}}"#.to_vec());
    c.metadata.kube_version = ">=1.25.0-0".into();
    let opts = |v: &str, skip: bool| ProcessOptions {
        kube_version: v.into(),
        skip_schema_validation: skip,
    };
    let ran = std::cell::Cell::new(0);
    let then = |p: &Prepared| {
        ran.set(ran.get() + 1);
        p.values.len()
    };
    // The schema error comes first, before the kubeVersion error, as in
    // `prepare`; with the values valid, `then`'s result is returned.
    let e = prepare_then(c.clone(), Values::new(), &opts("1.20.0", false), then).unwrap_err();
    assert!(matches!(e, ProcessError::Schema(_)), "{e}");
    let e = prepare_then(c.clone(), Values::new(), &opts("1.33.0", false), then).unwrap_err();
    assert!(matches!(e, ProcessError::Schema(_)), "{e}");
    let e = prepare_then(c.clone(), Values::new(), &opts("1.20.0", true), then).unwrap_err();
    assert!(matches!(e, ProcessError::KubeVersion { .. }), "{e}");
    let (_, n) = prepare_then(c.clone(), Values::new(), &opts("1.33.0", true), then).unwrap();
    assert_eq!(n, 1);
    let mut fixed = Values::new();
    fixed.insert("replicas".into(), 3.into());
    let (p, n) = prepare_then(c, fixed, &opts("1.33.0", false), then).unwrap();
    assert_eq!((n, p.values.get("replicas")), (1, Some(&3.into())));
    // `then` ran only when kubeVersion was satisfied.
    assert_eq!(ran.get(), 3);
}
