//! The report: a compact block per failing case and the summary lines.

use std::collections::BTreeMap;

use crate::compare::Verdict;
use crate::corpus::Case;

/// Per-chart and per-case tallies.
#[derive(Debug, Default)]
pub struct Tally {
    /// chart → (cases, semantically identical, byte-identical)
    charts: BTreeMap<String, (usize, usize, usize)>,
}

impl Tally {
    pub fn add(&mut self, case: &Case, v: &Verdict) {
        let e = self.charts.entry(case.chart.clone()).or_default();
        e.0 += 1;
        e.1 += usize::from(v.semantic);
        e.2 += usize::from(v.semantic && v.bytes);
    }

    /// `(charts, charts semantically identical in every case, charts
    /// byte-identical in every case)`.
    pub fn charts(&self) -> (usize, usize, usize) {
        let m = self.charts.len();
        let n = self.charts.values().filter(|e| e.1 == e.0).count();
        let k = self.charts.values().filter(|e| e.2 == e.0).count();
        (m, n, k)
    }

    /// `(cases, semantically identical, byte-identical)`.
    pub fn cases(&self) -> (usize, usize, usize) {
        self.charts
            .values()
            .fold((0, 0, 0), |a, e| (a.0 + e.0, a.1 + e.1, a.2 + e.2))
    }

    /// One line per chart: `chart  cases  semantic  bytes`.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<32} {:>6} {:>9} {:>6}\n",
            "chart", "cases", "semantic", "bytes"
        );
        for (chart, (n, sem, bytes)) in &self.charts {
            s.push_str(&format!("{chart:<32} {n:>6} {sem:>9} {bytes:>6}\n"));
        }
        s
    }

    /// The line `make conformance` ends with.
    pub fn summary(&self) -> String {
        let (m, n, k) = self.charts();
        let (cm, cn, ck) = self.cases();
        format!(
            "render conformance: {n}/{m} charts semantically identical, {k}/{m} byte-identical ({cn}/{cm} cases semantically identical, {ck}/{cm} byte-identical)"
        )
    }
}

/// The block printed for a case that is not identical.
pub fn describe(case: &Case, args: &[String], v: &Verdict) -> String {
    let what = if v.semantic {
        "semantically identical, bytes differ"
    } else {
        "DIFFERS"
    };
    let random = if v.random {
        " (helm's own runs differ: random fields compared by shape)"
    } else {
        ""
    };
    let mut s = format!(
        "== {}: {what}{random}\n   template {}\n",
        case.id(),
        args.join(" ")
    );
    for f in &v.findings {
        s.push_str("   ");
        s.push_str(&f.replace('\n', "\n   "));
        s.push('\n');
    }
    s
}
