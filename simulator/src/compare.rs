//! Comparing variants (policies, crew counts) on the same call streams over several seeds.
//!
//! For each seed one call stream is generated (or the replayed one is used) and every
//! variant runs on it: the comparison is paired (common random numbers), so the
//! differences to the first variant, the baseline, have much tighter confidence intervals
//! than the figures themselves. Intervals are 95 % Student t over the seeds
//! (`mean ± t(0.975, n−1) · sd / √n`); with one seed there is no interval.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::calls::CallSpec;
use crate::engine::{self, RunOptions, RunResult, SimPolicy, World};
use crate::error::SimError;
use crate::stats::Summary;

/// One variant of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// Its label (`road-eta`, `coverage@40`, ...).
    pub label: String,
    /// The policy.
    pub policy: SimPolicy,
    /// Crews.
    pub crews: usize,
    /// The dispatch rules.
    pub rules: dispatch_core::DispatchConfig,
    /// Breakdowns and re-triage of its own (`None`: the run's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptions: Option<crate::engine::Exceptions>,
}

/// How many figures [`Metrics::fields`] lists.
pub const FIELDS: usize = 18;

/// The figures compared, for one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Median response, all calls (s).
    pub p50_s: f64,
    /// 90th percentile response (s).
    pub p90_s: f64,
    /// 95th percentile response (s).
    pub p95_s: f64,
    /// Mean response (s).
    pub mean_s: f64,
    /// Median response of emergencies (s).
    pub emergency_p50_s: f64,
    /// Mean response of emergencies (s).
    pub emergency_mean_s: f64,
    /// 90th percentile response of emergencies (s).
    pub emergency_p90_s: f64,
    /// Share of emergencies reached after 20 min or never.
    pub emergency_late_share: f64,
    /// Median response of urgent calls (s).
    pub urgent_p50_s: f64,
    /// 90th percentile response of urgent calls (s).
    pub urgent_p90_s: f64,
    /// Mean response of urgent calls (s).
    pub urgent_mean_s: f64,
    /// Mean response of non-urgent calls (s).
    pub non_urgent_mean_s: f64,
    /// Share of calls reached after 20 min or never.
    pub late_share: f64,
    /// Share within 8 min.
    pub within_8_share: f64,
    /// Mean queueing time (s).
    pub queue_mean_s: f64,
    /// Longest queueing time of any call (s): what starving calls show.
    pub queue_max_s: f64,
    /// Crew utilization.
    pub utilization: f64,
    /// Calls never served.
    pub never_served: f64,
}

impl Metrics {
    /// The figures of a run.
    pub fn of(r: &RunResult) -> Metrics {
        let s = Summary::of(r);
        Metrics {
            p50_s: s.all.response_s.dist.p50,
            p90_s: s.all.response_s.dist.p90,
            p95_s: s.all.response_s.dist.p95,
            mean_s: s.all.response_s.dist.mean,
            emergency_p50_s: s.by_priority["emergency"].response_s.dist.p50,
            emergency_mean_s: s.by_priority["emergency"].response_s.dist.mean,
            emergency_p90_s: s.by_priority["emergency"].response_s.dist.p90,
            emergency_late_share: s.by_priority["emergency"].response_s.late_over_20_min,
            urgent_p50_s: s.by_priority["urgent"].response_s.dist.p50,
            urgent_p90_s: s.by_priority["urgent"].response_s.dist.p90,
            urgent_mean_s: s.by_priority["urgent"].response_s.dist.mean,
            non_urgent_mean_s: s.by_priority["non_urgent"].response_s.dist.mean,
            late_share: s.all.response_s.late_over_20_min,
            within_8_share: s.all.response_s.within_8_min,
            queue_mean_s: s.all.queue_s.mean,
            queue_max_s: s.all.queue_s.max,
            utilization: s.crew_utilization,
            never_served: s.all.never_served as f64,
        }
    }

    /// `(name, value)` pairs, in table order.
    pub fn fields(&self) -> [(&'static str, f64); FIELDS] {
        [
            ("p50_s", self.p50_s),
            ("p90_s", self.p90_s),
            ("p95_s", self.p95_s),
            ("mean_s", self.mean_s),
            ("emergency_p50_s", self.emergency_p50_s),
            ("emergency_mean_s", self.emergency_mean_s),
            ("emergency_p90_s", self.emergency_p90_s),
            ("emergency_late_share", self.emergency_late_share),
            ("urgent_p50_s", self.urgent_p50_s),
            ("urgent_p90_s", self.urgent_p90_s),
            ("urgent_mean_s", self.urgent_mean_s),
            ("non_urgent_mean_s", self.non_urgent_mean_s),
            ("late_share", self.late_share),
            ("within_8_share", self.within_8_share),
            ("queue_mean_s", self.queue_mean_s),
            ("queue_max_s", self.queue_max_s),
            ("utilization", self.utilization),
            ("never_served", self.never_served),
        ]
    }
}

/// A mean with its 95 % confidence interval half-width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Mean over the seeds.
    pub mean: f64,
    /// Half-width of the 95 % interval (0 with one seed).
    pub ci95: f64,
}

/// Student t quantile 0.975 for `df` degrees of freedom (`statrs`; NaN for none).
pub fn t975(df: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    StudentsT::new(0.0, 1.0, df as f64).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

/// The mean and 95 % interval of values.
pub fn estimate(v: &[f64]) -> Estimate {
    let n = v.len();
    if n == 0 {
        return Estimate {
            mean: f64::NAN,
            ci95: f64::NAN,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate { mean, ci95: 0.0 };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Estimate {
        mean,
        ci95: t975(n - 1) * (var / n as f64).sqrt(),
    }
}

/// One variant's results over the seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantResult {
    /// The variant.
    pub variant: Variant,
    /// Its figures for each seed, in seed order.
    pub runs: Vec<Metrics>,
}

/// A comparison: variants × seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// The seeds.
    pub seeds: Vec<u64>,
    /// The variants, the first being the baseline.
    pub variants: Vec<VariantResult>,
}

/// One figure of a variant: its estimate, and the paired difference to the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The figure over the seeds.
    pub value: Estimate,
    /// Variant minus baseline, paired by seed.
    pub diff: Estimate,
    /// That difference relative to the baseline's mean.
    pub relative: f64,
}

impl Comparison {
    /// The table: for each variant and figure, its estimate and the difference to the
    /// baseline.
    pub fn table(&self) -> Vec<(String, Vec<(&'static str, Row)>)> {
        let Some(base) = self.variants.first() else {
            return Vec::new();
        };
        self.variants
            .iter()
            .map(|v| {
                let rows = (0..FIELDS)
                    .map(|k| {
                        let name = v.runs.first().map(|m| m.fields()[k].0).unwrap_or("");
                        let vals: Vec<f64> = v.runs.iter().map(|m| m.fields()[k].1).collect();
                        let base_vals: Vec<f64> =
                            base.runs.iter().map(|m| m.fields()[k].1).collect();
                        let diffs: Vec<f64> =
                            vals.iter().zip(&base_vals).map(|(a, b)| a - b).collect();
                        let value = estimate(&vals);
                        let diff = estimate(&diffs);
                        let b = estimate(&base_vals).mean;
                        let relative = if b != 0.0 { diff.mean / b } else { 0.0 };
                        (
                            name,
                            Row {
                                value,
                                diff,
                                relative,
                            },
                        )
                    })
                    .collect();
                (v.variant.label.clone(), rows)
            })
            .collect()
    }

    /// The table's rows as text cells: variant, figure, value ± 95 %, difference to the
    /// baseline ± 95 % (signed), relative difference. Shares and utilization in percent.
    fn cells(&self) -> Vec<[String; 5]> {
        let mut out = Vec::new();
        for (label, rows) in self.table() {
            for (name, r) in rows {
                let pct = name.ends_with("share") || name == "utilization";
                let f = |x: f64| {
                    if pct {
                        format!("{:.2} %", x * 100.0)
                    } else {
                        format!("{x:.1}")
                    }
                };
                let sign = if r.diff.mean >= 0.0 { "+" } else { "" };
                out.push([
                    label.clone(),
                    name.to_string(),
                    format!("{} ± {}", f(r.value.mean), f(r.value.ci95)),
                    format!("{sign}{} ± {}", f(r.diff.mean), f(r.diff.ci95)),
                    format!("{:+.1} %", r.relative * 100.0),
                ]);
            }
        }
        out
    }

    /// The table as an HTML table (for `report.html`).
    pub fn html(&self) -> maud::Markup {
        maud::html! {
            table {
                tr {
                    th { "variant" }
                    th { "figure" }
                    th { "value ± 95 %" }
                    th { "difference to baseline ± 95 %" }
                    th { "relative" }
                }
                @for row in self.cells() {
                    tr {
                        @for cell in &row {
                            td { (cell) }
                        }
                    }
                }
            }
        }
    }

    /// The table as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} seed(s): {:?}; 95 % intervals over seeds; differences paired against `{}`\n",
            self.seeds.len(),
            self.seeds,
            self.variants
                .first()
                .map(|v| v.variant.label.as_str())
                .unwrap_or("")
        );
        let _ = writeln!(
            s,
            "| variant | figure | value | difference to baseline | relative |\n|---|---|---:|---:|---:|"
        );
        for [label, name, value, diff, relative] in self.cells() {
            let _ = writeln!(s, "| {label} | {name} | {value} | {diff} | {relative} |");
        }
        s
    }
}

/// Runs every variant on the calls of every seed. `worlds` holds a world for each crew
/// count of the variants; `calls_for` gives the call stream of a seed. Returns the
/// comparison and the runs of the first seed (for the report).
pub fn run_comparison(
    worlds: &[(usize, World)],
    variants: &[Variant],
    seeds: &[u64],
    calls_for: &mut dyn FnMut(u64) -> Result<Vec<CallSpec>, SimError>,
    opts: &RunOptions,
    progress: &mut dyn FnMut(&str, usize),
) -> Result<(Comparison, Vec<RunResult>), SimError> {
    if variants.is_empty() {
        return Err(SimError::setting("--policies", "nothing to compare"));
    }
    if seeds.is_empty() {
        return Err(SimError::setting("--seeds", "at least one seed"));
    }
    let mut results: Vec<VariantResult> = variants
        .iter()
        .map(|v| VariantResult {
            variant: v.clone(),
            runs: Vec::new(),
        })
        .collect();
    let mut first = Vec::new();
    for (k, &seed) in seeds.iter().enumerate() {
        let calls = calls_for(seed)?;
        for (v, out) in variants.iter().zip(results.iter_mut()) {
            let world = worlds
                .iter()
                .find(|(n, _)| *n == v.crews)
                .map(|(_, w)| w)
                .ok_or_else(|| {
                    SimError::setting("--crew-counts", format!("no world for {} crews", v.crews))
                })?;
            let mut o = RunOptions {
                policy: v.policy,
                rules: v.rules,
                exceptions: v.exceptions.unwrap_or(opts.exceptions),
                ..opts.clone()
            };
            o.exceptions.seed = seed;
            let label = format!("{} seed {seed}", v.label);
            let r = engine::run(world, &calls, &o, &mut |n| progress(&label, n))?;
            out.runs.push(Metrics::of(&r));
            if k == 0 {
                first.push(r);
            }
        }
    }
    Ok((
        Comparison {
            seeds: seeds.to_vec(),
            variants: results,
        },
        first,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_use_student_t() {
        let e = estimate(&[1.0, 2.0, 3.0]);
        assert_eq!(e.mean, 2.0);
        // sd = 1, n = 3: t(2) / sqrt(3), t(2) = 4.303 in the printed tables.
        assert!((e.ci95 - 4.303 / 3f64.sqrt()).abs() < 1e-3);
        assert_eq!(estimate(&[5.0]).ci95, 0.0);
        // The printed tables' values.
        for (df, t) in [
            (1, 12.706),
            (9, 2.262),
            (19, 2.093),
            (30, 2.042),
            (100, 1.984),
        ] {
            assert!((t975(df) - t).abs() < 1e-3, "df {df}: {}", t975(df));
        }
        assert!(t975(0).is_nan());
    }
}
