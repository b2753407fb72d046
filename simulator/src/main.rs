//! `simulator`: the command line of the call simulator (see the crate docs and
//! `simulator/README.md`).

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use simulator::calls::{self, CallModel};
use simulator::dist::LogNormal;
use simulator::engine::{self, RunOptions, SimPolicy};
use simulator::scenario::{self, WorldSpec};
use simulator::SimError;

/// mimalloc instead of the system allocator: a run makes millions of small, short-lived
/// allocations (events, crew ids, routes).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ambulance call simulator: the dispatch core over simulated time.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario and write summary.json, calls.csv and report.html.
    Run(RunArgs),
    /// Generate a call stream and write it as a calls CSV with every part of each call given
    /// (durations, transport), for `--calls` to replay exactly.
    Generate(GenerateArgs),
    /// Plan stations and shifts: candidate sites (a file, or road points on a grid), the
    /// greedy MEXCLP placement, then a local search checked by simulation; writes the plan
    /// (stations.csv, shifts.csv, plan.geojson), plan.json and report.html, and compares it
    /// with the automatic placement on seeds the search did not see.
    Plan(PlanArgs),
    /// Run several policies or crew counts on the same calls over several seeds and
    /// tabulate the differences with 95 % confidence intervals.
    Compare(CompareArgs),
    /// Drive a running dispatch service over its public API: simulated 112 calls over HTTP,
    /// simulated crew tablets over websockets; reports the latency from call to assignment
    /// on the tablet and the response times.
    #[cfg(feature = "live")]
    Live(LiveArgs),
}

#[cfg(feature = "live")]
#[derive(Args)]
struct LiveArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The dispatch service, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: String,
    /// A dispatcher or admin token (it also acts for the simulated tablets).
    #[arg(long)]
    token: String,
    /// Simulated seconds per wall-clock second.
    #[arg(long, default_value_t = 60.0)]
    speed: f64,
    /// Tablets report their position this often (simulated seconds).
    #[arg(long, default_value_t = 5.0)]
    report_s: f64,
    /// Prefix of the crew ids created on the service.
    #[arg(long, default_value = "SIM")]
    crew_prefix: String,
    /// Output directory (live.json).
    #[arg(long, default_value = "out")]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// The map: an OpenStreetMap extract (.osm.pbf, imported once and kept as .graph) or a .graph file.
    #[arg(long)]
    map: PathBuf,
    /// Crews.
    #[arg(long, default_value_t = 40)]
    crews: usize,
    /// Calls per day (generated calls).
    #[arg(long, default_value_t = 480.0)]
    calls_per_day: f64,
    /// Hours of calls.
    #[arg(long, default_value_t = 24.0)]
    hours: f64,
    /// Seed of the call stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Replay these calls (CSV `time,lat,lon,priority`) instead of generating them.
    #[arg(long)]
    calls: Option<PathBuf>,
    /// Stations placed automatically when no file is given (default: one per 3 crews).
    #[arg(long)]
    stations: Option<usize>,
    /// Stations from CSV (`id,lat,lon[,crews]`) or GeoJSON points.
    #[arg(long)]
    stations_file: Option<PathBuf>,
    /// Crews on duty by hour of the day and station: CSV `hour,station,crews[,type]` (the
    /// plan repeats every day; it gives the crews, instead of --crews).
    #[arg(long, conflicts_with = "crews")]
    shifts: Option<PathBuf>,
    /// Hospitals placed automatically when no file is given (default: one per 20 crews, 1 to 40).
    #[arg(long)]
    hospitals: Option<usize>,
    /// Hospitals from CSV (`id,lat,lon[,name]`) or GeoJSON points.
    #[arg(long)]
    hospitals_file: Option<PathBuf>,
    /// Population points (CSV `lat,lon,weight`) instead of road density.
    #[arg(long)]
    demand: Option<PathBuf>,
    /// Shares of emergency, urgent and non-urgent calls: E,U,N.
    #[arg(long, value_name = "E,U,N", value_parser = numbers::<3>, default_value = "0.35,0.45,0.20")]
    priority_shares: [f64; 3],
    /// Share of patients taken to hospital.
    #[arg(long, default_value_t = 0.45)]
    transport_share: f64,
    /// Turnout time, lognormal: MEDIAN_S,SIGMA (median in seconds, sigma of the log).
    #[arg(long, value_name = "MEDIAN_S,SIGMA", value_parser = numbers::<2>, default_value = "60,0.4")]
    turnout: [f64; 2],
    /// Time on scene, lognormal: MEDIAN_S,SIGMA (median in seconds, sigma of the log).
    #[arg(long, value_name = "MEDIAN_S,SIGMA", value_parser = numbers::<2>, default_value = "1500,0.5")]
    on_scene: [f64; 2],
    /// Handover at the hospital, lognormal: MEDIAN_S,SIGMA (median in seconds, sigma of the log).
    #[arg(long, value_name = "MEDIAN_S,SIGMA", value_parser = numbers::<2>, default_value = "900,0.5")]
    handover: [f64; 2],
    /// After the hours of calls, crews finish for at most this long.
    #[arg(long, default_value_t = 6.0)]
    drain_hours: f64,
    /// Moving crews report their position this often (s).
    #[arg(long, default_value_t = 30.0)]
    position_interval_s: f64,
    /// A road closure: LAT,LON,RADIUS_M,FROM_H,UNTIL_H[,FACTOR] (repeatable; UNTIL_H may be
    /// empty for "to the end"; a FACTOR slows the roads down instead of closing them).
    #[arg(long)]
    closure: Vec<String>,
    /// Road closures from a CSV (header lat,lon,radius_m,from_h,until_h,factor).
    #[arg(long)]
    closures_file: Option<PathBuf>,
    /// Coverage policy: a demand cell is covered by a station within this driving time (s).
    #[arg(long, default_value_t = 480.0)]
    coverage_threshold_s: f64,
    /// Coverage policy: keep a station's last idle crew from non-urgent calls when it alone
    /// covers more than this share of the demand (1 = never keep).
    #[arg(long, default_value_t = 0.02)]
    reserve_share: f64,
    /// Coverage policy: a non-urgent call held back waits at most this long (s).
    #[arg(long, default_value_t = 900.0)]
    max_hold_s: f64,
    /// Coverage policy: move-ups must gain at least this share of the demand (1 = none).
    #[arg(long, default_value_t = 0.005)]
    move_up_min_share: f64,
    /// Traffic: every road's free-flow driving time multiplied by this (1 = free flow).
    #[arg(long, default_value_t = 1.0)]
    traffic_factor: f64,
    /// Runs longer than this are simulated in segments of this many hours, in parallel, each
    /// warmed up from crews at their stations (0 = always in one piece).
    #[arg(long, default_value_t = 168.0)]
    segment_hours: f64,
    /// Each segment also simulates this many hours before and after its own.
    #[arg(long, default_value_t = 3.0)]
    segment_overlap_hours: f64,
    /// Threads for the segments (0 = one per core); results do not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Dispatch rules, TOML as `dispatch serve --config` reads (queue_order, diversion,
    /// divert_gain_s, reassign_gain_s, interim_general_for_specialist, [norms]); the flags
    /// below override it.
    #[arg(long)]
    rules: Option<PathBuf>,
    #[command(flatten)]
    rule_flags: dispatch_core::RuleOverrides,
    /// Share of trips to a call in which the crew breaks down on its way (0-1).
    #[arg(long, default_value_t = 0.0)]
    breakdown_share: f64,
    /// How long a broken-down crew is out of service, lognormal: MEDIAN_S,SIGMA.
    #[arg(long, value_name = "MEDIAN_S,SIGMA", value_parser = numbers::<2>, default_value = "1800,0.5")]
    repair: [f64; 2],
    /// Share of urgent and non-urgent calls upgraded to emergencies after intake (0-1).
    #[arg(long, default_value_t = 0.0)]
    upgrade_share: f64,
    /// Share of emergencies downgraded to urgent after intake (0-1).
    #[arg(long, default_value_t = 0.0)]
    downgrade_share: f64,
    /// When a re-triaged call's priority changes after it came in, lognormal: MEDIAN_S,SIGMA.
    #[arg(long, value_name = "MEDIAN_S,SIGMA", value_parser = numbers::<2>, default_value = "180,0.5")]
    retriage_after: [f64; 2],
    /// The classical models' setting, for comparison with them and the literature: crews are
    /// free only once back at their station, so they are always sent from one; no position
    /// reports, no diversion.
    #[arg(long)]
    station_only: bool,
    /// Print no progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The policy: road-eta, straight-line or coverage.
    #[arg(long, default_value = "road-eta")]
    policy: String,
    /// Output directory.
    #[arg(long, default_value = "out")]
    out: PathBuf,
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The CSV to write.
    #[arg(long, default_value = "calls.csv")]
    out: PathBuf,
}

#[derive(Args)]
struct PlanArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The policy the plan is simulated with.
    #[arg(long, default_value = "road-eta")]
    policy: String,
    /// Candidate sites: CSV `id,lat,lon` or GeoJSON points (default: road points on a grid).
    #[arg(long)]
    candidates: Option<PathBuf>,
    /// Spacing of the grid of candidate sites when no file is given (m).
    #[arg(long, default_value_t = 1500.0)]
    grid_m: f64,
    /// The most stations to open (default: the automatic placement's, one per 3 crews).
    #[arg(long)]
    max_stations: Option<usize>,
    /// Crew-hours a day for a shift plan (default: every crew all day); --crews is then the
    /// most on duty in any hour.
    #[arg(long)]
    crew_hours: Option<f64>,
    /// MEXCLP's coverage time (s).
    #[arg(long, default_value_t = 480.0)]
    cover_s: f64,
    /// An emergency reached later than this is late (s).
    #[arg(long, default_value_t = 1200.0)]
    late_s: f64,
    /// Seeds the search simulates each candidate on (--seed, --seed + 1, ...).
    #[arg(long, default_value_t = 8)]
    seeds: u64,
    /// Seeds the plan is evaluated on (from --seed + 1000: not the search's).
    #[arg(long, default_value_t = 20)]
    eval_seeds: u64,
    /// The search stops after this long (s).
    #[arg(long, default_value_t = 480.0)]
    time_limit_s: f64,
    /// The search stops after this many candidates.
    #[arg(long, default_value_t = 100_000)]
    max_candidates: usize,
    /// The search stops after this many candidates in a row are not kept.
    #[arg(long, default_value_t = 400)]
    patience: usize,
    /// Output directory.
    #[arg(long, default_value = "out")]
    out: PathBuf,
}

#[derive(Args)]
struct CompareArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Policies to compare (the first is the baseline).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "road-eta,straight-line,coverage"
    )]
    policies: Vec<String>,
    /// Crew counts to compare (default: --crews).
    #[arg(long, value_delimiter = ',')]
    crew_counts: Vec<usize>,
    /// Dispatch rules to compare, repeatable: `LABEL:TOML` changing the rules of --rules and
    /// the flags, lines separated by `;` (e.g. `no-diversion:diversion = false`,
    /// `eta-queue:queue_order = "eta_weighted"`), and the exceptions' `breakdown_share`,
    /// `upgrade_share` and `downgrade_share`. The rules as given are the first variant.
    #[arg(long)]
    rules_variant: Vec<String>,
    /// Number of seeds (--seed, --seed + 1, ...).
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Output directory.
    #[arg(long, default_value = "out")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Generate(a) => generate(a),
        Command::Plan(a) => plan(a),
        Command::Compare(a) => compare(a),
        #[cfg(feature = "live")]
        Command::Live(a) => live(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `N` numbers separated by commas, as the README writes them (`--turnout 60,0.4`).
fn numbers<const N: usize>(s: &str) -> Result<[f64; N], String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() != N {
        return Err(format!(
            "{N} numbers separated by commas are needed, not {} in {s:?}",
            parts.len()
        ));
    }
    let mut out = [0.0; N];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = p.parse().map_err(|_| format!("{p:?} is not a number"))?;
    }
    Ok(out)
}

fn model(a: &CommonArgs) -> CallModel {
    CallModel {
        priority_shares: a.priority_shares,
        transport_share: a.transport_share,
        turnout: LogNormal::new(a.turnout[0], a.turnout[1]),
        on_scene: LogNormal::new(a.on_scene[0], a.on_scene[1]),
        handover: LogNormal::new(a.handover[0], a.handover[1]),
    }
}

struct Prepared {
    world: engine::World,
    calls: Vec<calls::CallSpec>,
}

fn prepare(a: &CommonArgs) -> anyhow::Result<Prepared> {
    calls::validate_rate(a.calls_per_day, a.hours)?;
    if a.crews == 0 {
        return Err(SimError::setting("--crews", "there must be at least one crew").into());
    }
    let t = Instant::now();
    let router = Arc::new(simulator::map::open_map(&a.map)?);
    let spec = WorldSpec {
        crews: a.crews,
        stations: a.stations,
        stations_file: a.stations_file.clone(),
        hospitals: a.hospitals,
        hospitals_file: a.hospitals_file.clone(),
        demand_file: a.demand.clone(),
        cell_m: simulator::demand::DEFAULT_CELL_M,
        shifts_file: a.shifts.clone(),
    };
    let world = scenario::build_world(router, &spec)?;
    let m = model(a);
    let calls = match &a.calls {
        Some(p) => calls::read_csv(p, &m, a.seed)?,
        None => scenario::generate_calls(&world, a.calls_per_day, a.hours, a.seed, &m)?,
    };
    if !a.quiet {
        eprintln!(
            "{}: {} crews at {} stations, {} hospitals, {} calls ({:.2} s to prepare)",
            a.map.display(),
            world.crew_station.len(),
            world.stations.len(),
            world.hospitals.len(),
            calls.len(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(Prepared { world, calls })
}

fn options(a: &CommonArgs, world: &engine::World, policy: SimPolicy) -> anyhow::Result<RunOptions> {
    let mut closures = Vec::new();
    if a.traffic_factor != 1.0 {
        closures.push(simulator::closures::traffic(
            &world.router,
            a.traffic_factor,
        )?);
    }
    for c in &a.closure {
        closures.push(simulator::closures::parse(c)?);
    }
    if let Some(p) = &a.closures_file {
        closures.extend(simulator::closures::read_csv(p)?);
    }
    let rules = match &a.rules {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("cannot read the rules file {}: {e}", path.display())
            })?;
            dispatch_core::DispatchConfig::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("rules file {}: {e}", path.display()))?
        }
        None => dispatch_core::DispatchConfig::default(),
    };
    let rules = rules.with(&a.rule_flags)?;
    Ok(RunOptions {
        policy,
        rules,
        hours: a.hours,
        drain_hours: a.drain_hours,
        position_interval_s: a.position_interval_s,
        closures,
        coverage: simulator::coverage::CoverageOptions {
            threshold_s: a.coverage_threshold_s,
            reserve_share: a.reserve_share,
            max_hold_s: a.max_hold_s,
            move_up_min_share: a.move_up_min_share,
            ..Default::default()
        },
        segment_hours: a.segment_hours,
        segment_overlap_hours: a.segment_overlap_hours,
        threads: a.threads,
        station_only: a.station_only,
        exceptions: simulator::engine::Exceptions {
            breakdown_share: a.breakdown_share,
            repair: LogNormal::new(a.repair[0], a.repair[1]),
            upgrade_share: a.upgrade_share,
            downgrade_share: a.downgrade_share,
            retriage_after: LogNormal::new(a.retriage_after[0], a.retriage_after[1]),
            seed: a.seed,
        },
    })
}

fn bar(total: usize, quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total as u64);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} calls ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// "day", "3 days" or "36 h".
fn span(hours: f64) -> String {
    let days = hours / 24.0;
    if days == 1.0 {
        "day".to_string()
    } else if days.fract() == 0.0 {
        format!("{days} days")
    } else {
        format!("{hours} h")
    }
}

fn run(a: RunArgs) -> anyhow::Result<()> {
    let policy = SimPolicy::parse(&a.policy)?;
    let p = prepare(&a.common)?;
    let opts = options(&a.common, &p.world, policy)?;
    let pb = bar(p.calls.len(), a.common.quiet, policy.as_str());
    let t = Instant::now();
    let result = engine::run(&p.world, &p.calls, &opts, &mut |n| {
        pb.set_position(n as u64)
    })?;
    pb.finish_and_clear();
    let wall = t.elapsed().as_secs_f64();
    // The page is drawn while the CSV is written (a year's outputs take seconds each).
    let title = format!(
        "Simulated {}: {}",
        span(a.common.hours),
        a.common.map.display()
    );
    let (summary, page) = std::thread::scope(|s| {
        let page =
            s.spawn(|| simulator::report::html(&[&result], &p.world, &title, maud::html! {}));
        let summary = simulator::output::write_run(&a.out, &result);
        let page = page.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (summary, page)
    });
    let summary = summary?;
    simulator::output::write(&a.out.join("report.html"), &page?)?;
    let r = &summary.all.response_s;
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(
        out,
        "{}: {} calls, {} served, {} never served, {} off the map; response p50 {:.0} s, p90 {:.0} s, p95 {:.0} s; within 20 min {:.1} %; utilization {:.1} %",
        policy.as_str(),
        summary.all.calls,
        summary.all.served,
        summary.all.never_served,
        summary.all.off_map,
        r.dist.p50,
        r.dist.p90,
        r.dist.p95,
        r.within_20_min * 100.0,
        summary.crew_utilization * 100.0
    );
    let _ = writeln!(
        out,
        "simulated {} calls in {:.3} s ({:.0} calls/s); wrote {}",
        result.calls.len(),
        wall,
        result.calls.len() as f64 / wall.max(1e-9),
        a.out.display()
    );
    Ok(())
}

fn generate(a: GenerateArgs) -> anyhow::Result<()> {
    let p = prepare(&a.common)?;
    let mut text = Vec::new();
    calls::write_csv(&p.calls, &mut text)?;
    simulator::output::write(&a.out, &String::from_utf8(text)?)?;
    let _ = writeln!(
        std::io::stdout().lock(),
        "{} calls over {} h; wrote {}",
        p.calls.len(),
        a.common.hours,
        a.out.display()
    );
    Ok(())
}

fn plan(a: PlanArgs) -> anyhow::Result<()> {
    use simulator::plan::{self, output, PlanOptions};
    let policy = SimPolicy::parse(&a.policy)?;
    let p = prepare(&a.common)?;
    let opts = options(&a.common, &p.world, policy)?;
    let sites = match &a.candidates {
        Some(f) => simulator::places::load(&p.world.router, f, simulator::places::Kind::Candidate)?,
        None => plan::sites::grid(&p.world.router, &p.world.demand, a.grid_m)?,
    };
    let seed = a.common.seed;
    let popts = PlanOptions {
        crews: a.common.crews,
        crew_hours: a.crew_hours,
        max_stations: a.max_stations.unwrap_or(p.world.stations.len()),
        cover_s: a.cover_s,
        late_s: a.late_s,
        search_seeds: (0..a.seeds).map(|k| seed + k).collect(),
        eval_seeds: (0..a.eval_seeds).map(|k| seed + 1000 + k).collect(),
        time_limit_s: a.time_limit_s,
        max_candidates: a.max_candidates,
        patience: a.patience,
        seed,
    };
    let m = model(&a.common);
    let common = a.common.clone();
    let world = &p.world;
    let mut calls_for = |s: u64| match &common.calls {
        Some(f) => calls::read_csv(f, &m, s),
        None => scenario::generate_calls(world, common.calls_per_day, common.hours, s, &m),
    };
    if !a.common.quiet {
        eprintln!(
            "{} candidate sites, at most {} stations; searching for up to {:.0} s",
            sites.len(),
            popts.max_stations,
            popts.time_limit_s
        );
    }
    let pb = if a.common.quiet {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb
    };
    let planned = plan::make_plan(
        &p.world,
        sites,
        &mut calls_for,
        &opts,
        &popts,
        &mut |phase, n, k, scores| {
            if scores.is_empty() {
                pb.set_message(phase.to_string());
            } else {
                let s = plan::Scores::of(scores);
                pb.set_message(format!(
                    "{phase}: {n} candidates, {k} kept; emergencies late {:.2} %, mean response {:.0} s",
                    s.late.mean * 100.0,
                    s.mean_s.mean
                ));
            }
            pb.tick();
        },
    )?;
    pb.finish_and_clear();
    let (plan, sites, r) = (&planned.plan, &planned.sites, &planned.report);
    simulator::output::write(
        &a.out.join("stations.csv"),
        &output::stations_csv(plan, sites),
    )?;
    simulator::output::write(&a.out.join("shifts.csv"), &output::shifts_csv(plan, sites))?;
    simulator::output::write(&a.out.join("plan.geojson"), &output::geojson(plan, sites))?;
    simulator::output::write(
        &a.out.join("candidates.csv"),
        &output::candidates_csv(sites),
    )?;
    simulator::output::write(
        &a.out.join("plan.json"),
        &(serde_json::to_string_pretty(r)? + "\n"),
    )?;
    let pct = |e: &simulator::compare::Estimate| {
        format!("{:.2} ± {:.2} %", e.mean * 100.0, e.ci95 * 100.0)
    };
    let sec = |e: &simulator::compare::Estimate| format!("{:.1} ± {:.1} s", e.mean, e.ci95);
    let table = maud::html! {
        h2 {
            "Over " (r.eval_seeds.len())
            " evaluation seeds (95 % intervals; differences paired with the automatic placement)"
        }
        table {
            tr {
                th { "placement" }
                th { "emergencies late (> " (format!("{:.0}", a.late_s)) " s)" }
                th { "difference" }
                th { "mean response" }
                th { "difference" }
            }
            tr {
                td { "automatic (k-means, all crews all day)" }
                td { (pct(&r.automatic.late)) }
                td {}
                td { (sec(&r.automatic.mean_s)) }
                td {}
            }
            tr {
                td { "MEXCLP start" }
                td { (pct(&r.mexclp.late)) }
                td { (pct(&r.mexclp_vs_automatic.late)) }
                td { (sec(&r.mexclp.mean_s)) }
                td { (sec(&r.mexclp_vs_automatic.mean_s)) }
            }
            tr {
                td { "plan (after " (r.search.candidates) " candidates, " (r.search.kept.len()) " kept)" }
                td { (pct(&r.plan.late)) }
                td { (pct(&r.plan_vs_automatic.late)) }
                td { (sec(&r.plan.mean_s)) }
                td { (sec(&r.plan_vs_automatic.mean_s)) }
            }
        }
        p {
            (r.stations) " stations, " (r.crew_hours_per_day) " crew-hours a day; crews on duty by hour: "
            (format!("{:?}", r.crews_by_hour)) "."
        }
        h2 { "Evaluation seed " (r.eval_seeds[0]) }
    };
    let plan_world = plan.world(&p.world, sites);
    let page = simulator::report::html_labelled(
        &[
            ("plan".to_string(), &planned.plan_run),
            ("automatic placement".to_string(), &planned.automatic_run),
        ],
        &plan_world,
        &format!("Station and shift plan: {}", a.common.map.display()),
        table,
    )?;
    simulator::output::write(&a.out.join("report.html"), &page)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "plan: {} stations, {} crew-hours a day; emergencies late {} (automatic {}; difference {}), mean response {} (automatic {}; difference {}) over {} evaluation seeds",
        r.stations,
        r.crew_hours_per_day,
        pct(&r.plan.late),
        pct(&r.automatic.late),
        pct(&r.plan_vs_automatic.late),
        sec(&r.plan.mean_s),
        sec(&r.automatic.mean_s),
        sec(&r.plan_vs_automatic.mean_s),
        r.eval_seeds.len()
    );
    let _ = writeln!(
        out,
        "searched {} candidates ({} kept) in {:.1} s; {:.1} s in all; wrote {}",
        r.search.candidates,
        r.search.kept.len(),
        r.search.seconds,
        r.seconds,
        a.out.display()
    );
    Ok(())
}

/// Splits a rules variant's lines (`;`-separated) into the exceptions' shares
/// (`breakdown_share`, `upgrade_share`, `downgrade_share`, over `base`; `None` when it sets
/// none) and the dispatch rules' TOML (the other lines).
fn exception_settings(
    label: &str,
    text: &str,
    base: simulator::engine::Exceptions,
) -> Result<(Option<simulator::engine::Exceptions>, String), SimError> {
    let mut exceptions = None;
    let mut rest = String::new();
    for line in text.split(';') {
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        let field = match key.trim() {
            "breakdown_share" => 0,
            "upgrade_share" => 1,
            "downgrade_share" => 2,
            _ => {
                rest.push_str(line);
                rest.push('\n');
                continue;
            }
        };
        let x: f64 = value.trim().parse().map_err(|_| {
            SimError::setting(
                "--rules-variant",
                format!(
                    "{label}: {} = {:?} is not a number",
                    key.trim(),
                    value.trim()
                ),
            )
        })?;
        let e = exceptions.get_or_insert(base);
        match field {
            0 => e.breakdown_share = x,
            1 => e.upgrade_share = x,
            _ => e.downgrade_share = x,
        }
    }
    Ok((exceptions, rest))
}

fn compare(a: CompareArgs) -> anyhow::Result<()> {
    use simulator::compare::{run_comparison, Variant};
    let policies = a
        .policies
        .iter()
        .map(|p| SimPolicy::parse(p.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let counts = if a.crew_counts.is_empty() {
        vec![a.common.crews]
    } else {
        a.crew_counts.clone()
    };
    if a.seeds == 0 {
        return Err(SimError::setting("--seeds", "at least one seed").into());
    }
    let mut worlds = Vec::new();
    let mut replay = None;
    for &n in &counts {
        let mut c = a.common.clone();
        c.crews = n;
        let p = prepare(&c)?;
        if a.common.calls.is_some() && replay.is_none() {
            replay = Some(p.calls);
        }
        worlds.push((n, p.world));
    }
    let opts = options(&a.common, &worlds[0].1, SimPolicy::RoadEta)?;
    // The rules as given, then each variant of them.
    let mut rule_sets = vec![(String::new(), opts.rules, None)];
    for v in &a.rules_variant {
        let (label, text) = v
            .split_once(':')
            .filter(|(l, _)| !l.trim().is_empty())
            .ok_or_else(|| SimError::setting("--rules-variant", format!("{v:?}: LABEL:TOML")))?;
        let (exceptions, text) = exception_settings(label, text, opts.exceptions)?;
        let rules = opts
            .rules
            .with_toml(&text)
            .map_err(|e| SimError::setting("--rules-variant", format!("{label}: {e}")))?;
        rule_sets.push((label.trim().to_string(), rules, exceptions));
    }
    let mut variants = Vec::new();
    for &n in &counts {
        for &p in &policies {
            for (rules_label, rules, exceptions) in &rule_sets {
                let mut label = p.as_str().to_string();
                if counts.len() > 1 {
                    label = format!("{label}@{n}");
                }
                if !rules_label.is_empty() {
                    label = format!("{label}/{rules_label}");
                }
                variants.push(Variant {
                    label,
                    policy: p,
                    crews: n,
                    rules: *rules,
                    exceptions: *exceptions,
                });
            }
        }
    }
    let seeds: Vec<u64> = (0..a.seeds).map(|k| a.common.seed + k).collect();
    let m = model(&a.common);
    let base_world = worlds[0].1.clone();
    let common = a.common.clone();
    let mut calls_for = |seed: u64| match &replay {
        Some(calls) => Ok(calls.clone()),
        None => scenario::generate_calls(&base_world, common.calls_per_day, common.hours, seed, &m),
    };
    let pb = if a.common.quiet {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new((variants.len() as u64) * a.seeds);
        pb.set_style(
            ProgressStyle::with_template("{msg:30} [{bar:40}] {pos}/{len} runs ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        pb
    };
    let mut last = String::new();
    let t = Instant::now();
    let (cmp, first) = run_comparison(
        &worlds,
        &variants,
        &seeds,
        &mut calls_for,
        &opts,
        &mut |label, _| {
            if label != last {
                if !last.is_empty() {
                    pb.inc(1);
                }
                last = label.to_string();
                pb.set_message(last.clone());
            }
        },
    )?;
    pb.finish_and_clear();
    let md = cmp.markdown();
    simulator::output::write(&a.out.join("compare.md"), &md)?;
    let json = serde_json::to_string_pretty(&cmp)? + "\n";
    simulator::output::write(&a.out.join("compare.json"), &json)?;
    for (r, v) in first.iter().zip(&variants) {
        // A variant of the rules gets a directory of its own: `POLICY@CREWS+RULES`.
        let rules = v.label.split_once('/').map(|(_, l)| format!("+{l}"));
        let dir = a.out.join(format!(
            "{}@{}{}",
            r.policy.as_str(),
            r.crews,
            rules.unwrap_or_default()
        ));
        simulator::output::write_run(&dir, r)?;
    }
    let refs: Vec<&engine::RunResult> = first.iter().collect();
    let extra = maud::html! {
        h2 { "Over " (seeds.len()) " seeds (95 % intervals, differences paired with the baseline)" }
        (cmp.html())
        h2 { "Seed " (seeds[0]) }
    };
    let page = simulator::report::html(
        &refs,
        &worlds[0].1,
        &format!("Policy comparison: {}", a.common.map.display()),
        extra,
    )?;
    simulator::output::write(&a.out.join("report.html"), &page)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{md}");
    let _ = writeln!(
        out,
        "{} runs in {:.1} s; wrote {}",
        variants.len() as u64 * a.seeds,
        t.elapsed().as_secs_f64(),
        a.out.display()
    );
    Ok(())
}

#[cfg(feature = "live")]
fn live(a: LiveArgs) -> anyhow::Result<()> {
    let p = prepare(&a.common)?;
    let opts = simulator::live::LiveOptions {
        server: a.server.clone(),
        token: a.token.clone(),
        speed: a.speed,
        report_s: a.report_s,
        crew_prefix: a.crew_prefix.clone(),
        drain_s: a.common.drain_hours * 3600.0,
        addresses: None,
    };
    if !a.common.quiet {
        eprintln!(
            "driving {} with {} crews and {} calls at {}x ({:.0} s of wall clock for the calls)",
            a.server,
            p.world.crew_station.len(),
            p.calls.len(),
            a.speed,
            a.common.hours * 3600.0 / a.speed
        );
    }
    let report = simulator::live::run_live(&p.world, &p.calls, &opts)?;
    let json = serde_json::to_string_pretty(&report)? + "\n";
    simulator::output::write(&a.out.join("live.json"), &json)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} calls posted ({} refused), {} assigned on a tablet: latency p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; response p50 {:.0} s, p90 {:.0} s; {} handovers; {} errors; wrote {}",
        report.calls_posted,
        report.calls_refused,
        report.assigned_on_tablet,
        report.assignment_latency_ms.p50,
        report.assignment_latency_ms.p95,
        report.assignment_latency_ms.max,
        report.response_s.p50,
        report.response_s.p90,
        report.handovers,
        report.errors,
        a.out.display()
    );
    Ok(())
}
