//! `report.html`: one self-contained page (inline SVG drawn with `plotters`, no script, no
//! external file) with, for one run or a comparison of policies: the response-time
//! histogram and CDF per policy, calls and busy crews by hour, and a map of the calls
//! coloured by response time with the stations and hospitals.

pub use maud::Markup;
use maud::{PreEscaped, DOCTYPE};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::engine::{CallOutcome, RunResult, World};
use crate::error::SimError;
use crate::stats::{percentile, Summary};

const W: u32 = 860;
const H: u32 = 380;

fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(255, 127, 14),
        RGBColor(23, 190, 207),
    ];
    C[i % C.len()]
}

/// What a chart's drawing gives: plotters' errors, boxed.
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// An SVG chart of `size` that `draw` draws on a white area; `what` names it in errors.
fn svg_chart(
    what: &'static str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawn,
) -> Result<String, SimError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let drawn: Drawn = (|| {
            root.fill(&WHITE)?;
            draw(&root)?;
            root.present()?;
            Ok(())
        })();
        drawn.map_err(|cause| SimError::Plot {
            what,
            cause: cause.to_string(),
        })?;
    }
    Ok(svg)
}

/// The legend of a chart's labelled series, at `position`.
fn legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn responses_min(r: &RunResult) -> Vec<i64> {
    let mut v: Vec<i64> = r.calls.iter().filter_map(|c| c.response_ms()).collect();
    v.sort_unstable();
    v
}

/// Response-time histogram, one-minute bins, policies side by side.
fn histogram(runs: &[&RunResult], labels: &[String]) -> Result<String, SimError> {
    let data: Vec<Vec<i64>> = runs.iter().map(|r| responses_min(r)).collect();
    let max_min = data
        .iter()
        .map(|v| percentile(v, 0.99) / 60_000 + 1)
        .max()
        .unwrap_or(1)
        .clamp(5, 120) as usize;
    let counts: Vec<Vec<f64>> = data
        .iter()
        .map(|v| {
            let mut c = vec![0.0; max_min + 1];
            for &ms in v {
                c[((ms / 60_000) as usize).min(max_min)] += 1.0;
            }
            let n = v.len().max(1) as f64;
            c.iter().map(|x| x / n * 100.0).collect()
        })
        .collect();
    let top = counts.iter().flatten().fold(1.0f64, |a, &b| a.max(b)) * 1.1;
    svg_chart("the response-time histogram", (W, H), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Response time (call to first crew on scene)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..(max_min + 1) as f64, 0f64..top)?;
        chart
            .configure_mesh()
            .x_desc("minutes (last bin: that or more)")
            .y_desc("% of calls served")
            .draw()?;
        let k = runs.len().max(1) as f64;
        for (i, c) in counts.iter().enumerate() {
            let color = palette(i);
            let w = 0.9 / k;
            chart
                .draw_series(c.iter().enumerate().map(|(b, &y)| {
                    let x0 = b as f64 + 0.05 + i as f64 * w;
                    Rectangle::new([(x0, 0.0), (x0 + w, y)], color.filled())
                }))?
                .label(labels[i].clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    })
}

/// Cumulative distribution of response times per policy.
fn cdf(runs: &[&RunResult], labels: &[String]) -> Result<String, SimError> {
    let data: Vec<Vec<i64>> = runs.iter().map(|r| responses_min(r)).collect();
    let max_min = data
        .iter()
        .map(|v| percentile(v, 0.99) as f64 / 60_000.0)
        .fold(10.0f64, f64::max)
        .min(180.0);
    svg_chart("the response-time CDF", (W, H), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Share of calls reached within a time", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..max_min, 0f64..100f64)?;
        chart
            .configure_mesh()
            .x_desc("minutes")
            .y_desc("% of calls served")
            .draw()?;
        for mark in [8.0, 20.0] {
            if mark < max_min {
                chart.draw_series(LineSeries::new(
                    vec![(mark, 0.0), (mark, 100.0)],
                    BLACK.mix(0.3).stroke_width(1),
                ))?;
            }
        }
        for (i, v) in data.iter().enumerate() {
            let color = palette(i);
            let n = v.len().max(1) as f64;
            let step = (v.len() / 400).max(1);
            let mut pts: Vec<(f64, f64)> = vec![(0.0, 0.0)];
            for (k, &ms) in v.iter().enumerate().step_by(step) {
                pts.push((ms as f64 / 60_000.0, (k + 1) as f64 / n * 100.0));
            }
            if let Some(&last) = v.last() {
                pts.push((last as f64 / 60_000.0, 100.0));
            }
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
                .label(labels[i].clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    })
}

/// Calls per hour (bars) and mean busy crews per hour (lines, per policy).
fn by_hour(runs: &[&RunResult], labels: &[String]) -> Result<String, SimError> {
    let Some(first) = runs.first() else {
        return Ok(String::new());
    };
    let hours = first.hours.ceil().max(1.0) as usize;
    let mut calls = vec![0.0f64; hours];
    for c in &first.calls {
        let h = (c.received / 3_600_000) as usize;
        if h < hours {
            calls[h] += 1.0;
        }
    }
    let top = runs
        .iter()
        .flat_map(|r| r.busy_by_hour.iter().take(hours).copied())
        .chain(calls.iter().copied())
        .fold(1.0f64, f64::max)
        * 1.1;
    svg_chart("calls and busy crews by hour", (W, H), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Calls and busy crews by hour", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..hours as f64, 0f64..top)?;
        chart
            .configure_mesh()
            .x_desc("hour of the run")
            .y_desc("calls / mean busy crews")
            .draw()?;
        chart
            .draw_series(calls.iter().enumerate().map(|(h, &c)| {
                Rectangle::new(
                    [(h as f64 + 0.1, 0.0), (h as f64 + 0.9, c)],
                    RGBColor(190, 190, 190).filled(),
                )
            }))?
            .label("calls received")
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 12, y + 5)],
                    RGBColor(190, 190, 190).filled(),
                )
            });
        for (i, r) in runs.iter().enumerate() {
            let color = palette(i);
            let pts: Vec<(f64, f64)> = r
                .busy_by_hour
                .iter()
                .take(hours)
                .enumerate()
                .map(|(h, &b)| (h as f64 + 0.5, b))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
                .label(format!("busy crews, {}", labels[i]))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    })
}

/// Colour of a response time: green within 8 min, through yellow, red at 20 min and over.
fn response_color(ms: i64) -> RGBColor {
    let m = ms as f64 / 60_000.0;
    let t = ((m - 4.0) / 16.0).clamp(0.0, 1.0);
    if t < 0.5 {
        RGBColor((510.0 * t) as u8, 170, 40)
    } else {
        RGBColor(230, (170.0 * (2.0 - 2.0 * t)) as u8, 40)
    }
}

/// Runs with more calls than this are mapped as cells (a mark per call would make the page
/// hundreds of megabytes for a year).
const MAP_MARKS: usize = 20_000;

/// Cells across the map of a large run.
const MAP_CELLS: usize = 160;

/// Call counts and response times of the calls in each cell of a `nx` by `ny` grid over
/// `[lo0, lo1] x [la0, la1]`: `(calls, never served, sum of response ms)`, row by row.
fn cells(
    run: &RunResult,
    (lo0, lo1, la0, la1): (f64, f64, f64, f64),
    nx: usize,
    ny: usize,
) -> Vec<(u64, u64, i64)> {
    let mut grid = vec![(0u64, 0u64, 0i64); nx * ny];
    let at =
        |v: f64, a: f64, b: f64, n: usize| (((v - a) / (b - a) * n as f64) as usize).min(n - 1);
    for c in &run.calls {
        if c.outcome == CallOutcome::OffMap {
            continue;
        }
        let cell = &mut grid[at(c.lat, la0, la1, ny) * nx + at(c.lon, lo0, lo1, nx)];
        cell.0 += 1;
        match c.response_ms() {
            Some(ms) => cell.2 += ms,
            None => cell.1 += 1,
        }
    }
    grid
}

/// A map of the calls coloured by response time (never served: black), stations (blue
/// squares) and hospitals (red crosses). A run of more than [`MAP_MARKS`] calls is drawn
/// as cells coloured by their mean response (black where most calls were never served).
fn map(run: &RunResult, world: &World) -> Result<String, SimError> {
    let lats = run
        .calls
        .iter()
        .map(|c| c.lat)
        .chain(world.stations.iter().map(|s| s.lat));
    let lons = run
        .calls
        .iter()
        .map(|c| c.lon)
        .chain(world.stations.iter().map(|s| s.lon));
    let (mut la0, mut la1) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in lats {
        la0 = la0.min(v);
        la1 = la1.max(v);
    }
    let (mut lo0, mut lo1) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in lons {
        lo0 = lo0.min(v);
        lo1 = lo1.max(v);
    }
    if !(la0.is_finite() && lo0.is_finite()) {
        return Ok(String::new());
    }
    let pad = 0.002;
    let (la0, la1, lo0, lo1) = (la0 - pad, la1 + pad, lo0 - pad, lo1 + pad);
    // Keep the aspect of the ground: a degree of longitude is cos(lat) of one of latitude.
    let aspect = (lo1 - lo0) * ((la0 + la1) / 2.0).to_radians().cos() / (la1 - la0);
    let height = ((W as f64 - 80.0) / aspect + 80.0).clamp(300.0, 900.0) as u32;
    svg_chart("the map of response times", (W, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                if run.calls.len() <= MAP_MARKS {
                    format!("Response times by place ({}): green within 8 min, red 20 min or more, black never", run.policy.as_str())
                } else {
                    format!("Mean response time by place ({}, {} calls): green within 8 min, red 20 min or more, black mostly never", run.policy.as_str(), run.calls.len())
                },
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(lo0..lo1, la0..la1)
            ?;
        chart
            .configure_mesh()
            .x_desc("longitude")
            .y_desc("latitude")
            .disable_mesh()
            .draw()?;
        if run.calls.len() <= MAP_MARKS {
            chart.draw_series(run.calls.iter().map(|c| {
                let color = match c.response_ms() {
                    Some(ms) => response_color(ms),
                    None => BLACK,
                };
                Circle::new((c.lon, c.lat), 2, color.mix(0.75).filled())
            }))?;
        } else {
            let nx = MAP_CELLS;
            let ny = ((MAP_CELLS as f64 / aspect).round() as usize).clamp(1, 4 * MAP_CELLS);
            let grid = cells(run, (lo0, lo1, la0, la1), nx, ny);
            let (dx, dy) = ((lo1 - lo0) / nx as f64, (la1 - la0) / ny as f64);
            chart.draw_series(grid.iter().enumerate().filter(|(_, g)| g.0 > 0).map(
                |(i, &(n, never, sum_ms))| {
                    let served = n - never;
                    let color = if 2 * never >= n {
                        BLACK
                    } else {
                        response_color(sum_ms / served as i64)
                    };
                    let (x, y) = ((i % nx) as f64, (i / nx) as f64);
                    Rectangle::new(
                        [
                            (lo0 + x * dx, la0 + y * dy),
                            (lo0 + (x + 1.0) * dx, la0 + (y + 1.0) * dy),
                        ],
                        color.mix(0.8).filled(),
                    )
                },
            ))?;
        }
        chart
            .draw_series(world.stations.iter().map(|s| {
                EmptyElement::at((s.lon, s.lat)) + Rectangle::new([(-4, -4), (4, 4)], BLUE.filled())
            }))?
            .label("station")
            .legend(|(x, y)| Rectangle::new([(x, y - 4), (x + 8, y + 4)], BLUE.filled()));
        chart
            .draw_series(
                world
                    .hospitals
                    .iter()
                    .map(|h| Cross::new((h.lon, h.lat), 6, RED.stroke_width(3))),
            )?
            .label("hospital")
            .legend(|(x, y)| Cross::new((x + 4, y), 4, RED.stroke_width(2)));
        legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    })
}

/// The page's own style: no external file.
const STYLE: &str = "body{font-family:sans-serif;max-width:1000px;margin:1em auto;color:#222}\
table{border-collapse:collapse;font-size:13px}\
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}\
td:first-child{text-align:left}svg{display:block;margin:1em 0}";

/// The page for one or several runs on the same calls (the first run's world is mapped).
/// `extra` goes under the table (e.g. a comparison).
pub fn html(
    runs: &[&RunResult],
    world: &World,
    title: &str,
    extra: Markup,
) -> Result<String, SimError> {
    let labelled: Vec<(String, &RunResult)> = runs
        .iter()
        .map(|r| (r.policy.as_str().to_string(), *r))
        .collect();
    html_labelled(&labelled, world, title, extra)
}

/// [`html`] with a label of its own for each run (in the table, and as the run's name in the
/// charts with its crews); the map shows the first run on `world`. Text is escaped by the
/// template (`maud`); the charts are `plotters`' SVG, put in as they are.
pub fn html_labelled(
    labelled: &[(String, &RunResult)],
    world: &World,
    title: &str,
    extra: Markup,
) -> Result<String, SimError> {
    let runs: Vec<&RunResult> = labelled.iter().map(|(_, r)| *r).collect();
    let runs = &runs[..];
    let labels: Vec<String> = labelled
        .iter()
        .map(|(l, r)| format!("{l} ({} crews)", r.crews))
        .collect();
    let mut charts = vec![
        histogram(runs, &labels)?,
        cdf(runs, &labels)?,
        by_hour(runs, &labels)?,
    ];
    if let Some(first) = runs.first() {
        charts.push(map(first, world)?);
    }
    let page = maud::html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) }
                p {
                    (world.crew_station.len()) " crews at " (world.stations.len()) " stations, "
                    (world.hospitals.len()) " hospitals; "
                    (runs.first().map(|r| r.calls.len()).unwrap_or(0)) " calls over "
                    (runs.first().map(|r| r.hours).unwrap_or(0.0)) " h. "
                    "Response time: call to first crew on scene. Late: after 20 min or never."
                }
                table {
                    tr {
                        @for h in ["policy", "crews", "served", "never served", "off map",
                            "mean (s)", "p50 (s)", "p90 (s)", "p95 (s)", "within 8 min",
                            "late (>20 min)", "emergencies late", "mean queue (s)", "utilization"] {
                            th { (h) }
                        }
                    }
                    @for ((name, _), r) in labelled.iter().zip(runs) {
                        (summary_row(name, r))
                    }
                }
                (extra)
                @for chart in &charts {
                    (PreEscaped(chart))
                }
                p { "Map data © OpenStreetMap contributors, ODbL 1.0." }
            }
        }
    };
    Ok(page.into_string() + "\n")
}

/// One run's row of the summary table.
fn summary_row(name: &str, r: &RunResult) -> Markup {
    let m = Summary::of(r);
    let a = &m.all;
    let em = &m.by_priority["emergency"].response_s;
    maud::html! {
        tr {
            td { (name) }
            td { (r.crews) }
            td { (a.served) }
            td { (a.never_served) }
            td { (a.off_map) }
            td { (format!("{:.0}", a.response_s.dist.mean)) }
            td { (format!("{:.0}", a.response_s.dist.p50)) }
            td { (format!("{:.0}", a.response_s.dist.p90)) }
            td { (format!("{:.0}", a.response_s.dist.p95)) }
            td { (format!("{:.1} %", a.response_s.within_8_min * 100.0)) }
            td { (format!("{:.2} %", a.response_s.late_over_20_min * 100.0)) }
            td { (format!("{:.2} %", em.late_over_20_min * 100.0)) }
            td { (format!("{:.0}", a.queue_s.mean)) }
            td { (format!("{:.1} %", m.crew_utilization * 100.0)) }
        }
    }
}
