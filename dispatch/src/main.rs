//! `dispatch`: the ambulance dispatch command-line tool.
//!
//! * `dispatch serve [--map FILE] [--db URL] [--listen ADDR] [--tokens FILE] [--log-format
//!   text|json]`: run the service on a map (default: the bundled Heidelberg extract) with its
//!   state in a database (default: the SQLite file `dispatch.db`; or `postgres://...`).
//! * `dispatch serve --demo`: the same service with simulated calls and tablets on a database
//!   of its own (see `dispatch::demo`), printing a link to open.
//! * `dispatch import MAP.osm.pbf -o MAP.graph`: build the road graph from OpenStreetMap data.

// Unit tests unwrap: a panic is their failure report; the rest of the code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

/// Ambulance dispatch and routing engine.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
// Parsed once at start: the size of `Serve` costs nothing.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Run the dispatch service: the OSRM-compatible routing API and live closures.
    Serve {
        /// The map: an OpenStreetMap extract (.osm.pbf, imported once and kept as .graph) or a .graph file.
        #[arg(long)]
        map: Option<PathBuf>,
        /// The database: `sqlite://PATH` (created if missing) or `postgres://USER@HOST/DB`.
        /// The service restarts from the state it holds. Default `sqlite://dispatch.db`.
        #[arg(long)]
        db: Option<String>,
        /// A demo: crews, 112 calls and simulated tablets driving along their routes, on a
        /// database of its own (a temporary file, removed at exit) with an admin token of its
        /// own (printed in a link; the token file is not used).
        #[arg(long, conflicts_with_all = ["db", "tokens"])]
        demo: bool,
        /// The demo's speed: simulated seconds per wall-clock second.
        #[arg(long, default_value_t = 20.0, requires = "demo")]
        demo_speed: f64,
        /// The demo's crews.
        #[arg(long, default_value_t = 12, requires = "demo")]
        demo_crews: usize,
        /// The demo's 112 calls a simulated day.
        #[arg(long, default_value_t = 1500.0, requires = "demo")]
        demo_calls_per_day: f64,
        /// Hospitals: a JSON file (`[{"id", "name", "lat", "lon", "capabilities": [..]}]`).
        /// Default: the hospitals mapped in the map's .osm.pbf.
        #[arg(long)]
        hospitals: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Token file (TOML `[tokens]` table: token = "admin" | "dispatcher" | "crew:<id>",
        /// or { role = "..", name = ".." }; tokens of at least 16 characters, or "sha256:<hex
        /// digest>"). Created (mode 600) with a random admin token when missing.
        #[arg(long)]
        tokens: Option<PathBuf>,
        /// The dispatch rules (TOML: queue_order, diversion, divert_gain_s, reassign_gain_s,
        /// interim_general_for_specialist, policy, [norms]; the flags below override it) and
        /// the stations (`[[stations]]` with id, name, lat, lon).
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        rule_flags: dispatch_core::RuleOverrides,
        /// The routing API's `/table` answers at most N² cells (sources × destinations, as
        /// `osrm-routed --max-table-size` counts them): 100 allows 1 call × 10,000 crews.
        #[arg(long, default_value_t = router::http::DEFAULT_MAX_TABLE_SIZE)]
        max_table_size: usize,
        /// The log's format: `text` (for people, on standard output with the start-up
        /// lines) or `json` (one object a line on standard error, for a log collector;
        /// standard output keeps the start-up lines). `RUST_LOG` sets what is logged.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// On PostgreSQL, several instances share the database: one leads, the others are hot
        /// standbys that forward changes to it. This is the URL the other instances reach this
        /// one at (default `http://` and the address it listens on).
        #[arg(long, conflicts_with = "demo")]
        advertise: Option<String>,
        /// How long a leader's lease lasts without renewal (ms): a standby takes over at most
        /// this long after the leader died (PostgreSQL only).
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(200..=60_000))]
        lease_ms: u64,
        /// A snapshot of the state is stored in the database once this many log entries were
        /// written since the last (and at a clean shutdown), so a start replays at most
        /// about this many; 0 stores one at shutdown only.
        #[arg(long, default_value_t = 10_000)]
        snapshot_every: u64,
        /// How long a completed or cancelled call stays in memory after it closed, in
        /// seconds; then it is read from the database (`GET /api/calls/{id}`), no longer
        /// listed by `GET /api/calls`, and no longer changed.
        #[arg(long, default_value_t = 86_400)]
        retain_closed_s: u64,
        /// How long every position report of the crews stays in the database, in seconds
        /// (their tracks, for audit); older reports are removed, each crew's latest kept.
        #[arg(long, default_value_t = 604_800)]
        keep_track_s: u64,
        #[command(flatten)]
        fhir: dispatch::fhir::FhirArgs,
    },
    /// Import an OpenStreetMap .osm.pbf extract into a routable road graph file.
    Import {
        /// The OpenStreetMap extract (.osm.pbf).
        map: PathBuf,
        /// Where to write the graph (default: the map's name with a .graph extension).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// A routing profile TOML overriding the built-in emergency profile.
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Print no progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
}

/// How the service writes its log.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    /// Lines for people (coloured on a terminal).
    Text,
    /// One JSON object a line: `timestamp`, `level`, `fields` (with `message`), `target`,
    /// `span` and `spans`.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            map,
            db,
            demo,
            demo_speed,
            demo_crews,
            demo_calls_per_day,
            hospitals,
            listen,
            tokens,
            config,
            rule_flags,
            max_table_size,
            log_format,
            advertise,
            lease_ms,
            snapshot_every,
            retain_closed_s,
            keep_track_s,
            fhir,
        } => {
            init_logs(log_format);
            dispatch::settings::read(config.as_deref(), &rule_flags)
                .map_err(anyhow::Error::from)
                .and_then(|settings| {
                    let osrm = router::http::OsrmOptions {
                        max_table_size,
                        ..Default::default()
                    };
                    let demo = demo.then(|| dispatch::demo::DemoOptions {
                        crews: demo_crews,
                        calls_per_day: demo_calls_per_day,
                        speed: demo_speed,
                        ..Default::default()
                    });
                    let store = match demo {
                        Some(opts) => Store::Demo(opts),
                        None => Store::Real {
                            db: db.unwrap_or_else(|| "sqlite://dispatch.db".into()),
                            tokens: tokens.unwrap_or_else(|| "dispatch-tokens.toml".into()),
                            advertise,
                            lease: std::time::Duration::from_millis(lease_ms),
                        },
                    };
                    serve(
                        map,
                        store,
                        hospitals,
                        listen,
                        settings,
                        osrm,
                        Kept {
                            snapshot_every,
                            retain_closed_ms: i64::try_from(retain_closed_s.saturating_mul(1000))
                                .unwrap_or(i64::MAX),
                            keep_track_ms: i64::try_from(keep_track_s.saturating_mul(1000))
                                .unwrap_or(i64::MAX),
                            fhir,
                        },
                    )
                })
        }
        Command::Import {
            map,
            output,
            profile,
            quiet,
        } => import(map, output, profile, quiet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The bundled map: `data/heidelberg.osm.pbf` from the working directory, else from the source tree.
fn default_map() -> PathBuf {
    let local = PathBuf::from("data/heidelberg.osm.pbf");
    if local.exists() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/heidelberg.osm.pbf")
}

/// Where the service keeps its state and reads its tokens.
enum Store {
    /// A database and a token file; on PostgreSQL, this instance's URL for the others and
    /// the lease of a leader.
    Real {
        db: String,
        tokens: PathBuf,
        advertise: Option<String>,
        lease: std::time::Duration,
    },
    /// The demo's own temporary database and token.
    Demo(dispatch::demo::DemoOptions),
}

/// How often the state is snapshotted, how long closed calls stay in memory, how long
/// the crews' full tracks stay in the database, and where handovers are kept besides.
struct Kept {
    snapshot_every: u64,
    retain_closed_ms: i64,
    keep_track_ms: i64,
    fhir: dispatch::fhir::FhirArgs,
}

fn serve(
    map: Option<PathBuf>,
    store: Store,
    hospitals: Option<PathBuf>,
    listen: String,
    settings: dispatch::settings::Settings,
    osrm: router::http::OsrmOptions,
    kept: Kept,
) -> anyhow::Result<()> {
    let fhir_server = kept.fhir.server()?.map(std::sync::Arc::new);
    let dispatch::settings::Settings {
        rules,
        mut stations,
    } = settings;
    // The demo's database lives as long as this function: dropping it removes the file.
    let (db, tokens_read, demo, cluster) = match store {
        Store::Real {
            db,
            tokens,
            advertise,
            lease,
        } => {
            let (tokens_read, created) = dispatch::auth::Tokens::load_or_create(&tokens)?;
            if let Some(admin) = created {
                // Shown once, to the operator on the terminal: never through the logs.
                println!(
                    "created {} (mode 600) with an admin token: {admin}  (use it as 'Authorization: Bearer {admin}'; it is not shown again)",
                    tokens.display()
                );
            } else {
                println!("tokens from {}", tokens.display());
            }
            if let Some(loose) = dispatch::auth::loose_permissions(&tokens)? {
                tracing::warn!("{loose}");
            }
            let cluster = (db.starts_with("postgres://") || db.starts_with("postgresql://"))
                .then_some((advertise, lease));
            (db, tokens_read, None, cluster)
        }
        Store::Demo(opts) => {
            let file = dispatch::demo::DemoDb::create();
            let token = dispatch::demo::token()?;
            let tokens =
                dispatch::auth::Tokens::from_named([(token.as_str(), "admin", Some("demo"))])?;
            (file.url(), tokens, Some((file, token, opts)), None)
        }
    };
    println!(
        "dispatch rules (--config FILE.toml and flags):\n  {}",
        dispatch::settings::to_toml(&rules)
            .trim_end()
            .replace('\n', "\n  ")
    );
    let map = map.unwrap_or_else(default_map);
    let started = Instant::now();
    let router = dispatch::map::open_map(&map)?;
    let g = router.graph();
    println!(
        "map {} ready: {} nodes, {} arcs in {:.2?} (© OpenStreetMap contributors, ODbL 1.0)",
        map.display(),
        g.node_count(),
        g.arc_count(),
        started.elapsed()
    );
    let hospitals = match &hospitals {
        Some(file) => dispatch::hospitals::load_file(file)?,
        None if dispatch::map::is_pbf(&map) => {
            dispatch::hospitals::from_places(&osm_data::hospitals(&map)?)
        }
        None => Vec::new(),
    };
    let addresses = address_index(&map)?;
    let router = std::sync::Arc::new(router);
    // The demo's crews start at stations of its own: the service serves them too.
    let demo_world = match &demo {
        Some((_, _, opts)) => {
            let world = dispatch::demo::world(router.clone(), opts)?;
            stations.extend(dispatch::demo::stations(&world));
            Some(world)
        }
        None => None,
    };
    let stations = dispatch::stations::validate(stations)?;
    dispatch::stations::check_on_map(&stations, &router)?;
    println!("stations: {}", stations.len());
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        let cluster = match cluster {
            Some((advertise, lease)) => {
                let url = match advertise {
                    Some(url) => url,
                    None if addr.ip().is_unspecified() => anyhow::bail!(
                        "listening on {addr}: give --advertise http://HOST:PORT, the address the \
                         other instances on this database reach this one at"
                    ),
                    None => format!("http://{addr}"),
                };
                let c = dispatch::cluster::Cluster::new(dispatch::cluster::ClusterConfig {
                    url,
                    lease,
                })?;
                println!(
                    "instance {} at {} (PostgreSQL: leads when the lease is free, else a hot standby)",
                    c.id, c.url
                );
                Some(std::sync::Arc::new(c))
            }
            None => None,
        };
        let started = Instant::now();
        let store = dispatch::store::Store::open(&db).await?;
        let config = dispatch::state::ServiceConfig {
            tokens: tokens_read,
            dispatch: rules,
            osrm,
            addresses,
            stations,
            cluster: cluster.clone(),
            snapshot_every: kept.snapshot_every,
            retain_closed_ms: kept.retain_closed_ms,
            keep_track_ms: kept.keep_track_ms,
            fhir_server,
            fhir_systems: kept.fhir.systems(),
            ..Default::default()
        };
        let state = dispatch::state::AppState::open(router.clone(), config, store).await?;
        {
            let core = state.core().await;
            let from = match state.0.restored_from {
                0 => "the log".to_string(),
                seq => format!("the snapshot at event {seq} and the log after it"),
            };
            println!(
                "store {} ready: {} events, {} crews, {} calls restored from {from} in {:.2?}",
                dispatch::store::redact_url(&db),
                state.0.hub.last_seq(),
                core.crews().count(),
                core.calls().count(),
                started.elapsed()
            );
        }
        let known = hospitals.len();
        match cluster {
            None => {
                let added = dispatch::hospitals::register(&state, hospitals)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot add the hospitals: {}", e.message))?;
                println!("hospitals: {known} given, {added} new");
            }
            Some(c) => {
                // Whoever leads adds the hospitals the log does not have yet.
                let st = state.clone();
                tokio::spawn(async move {
                    c.leading().await;
                    match dispatch::hospitals::register(&st, hospitals).await {
                        Ok(added) => tracing::info!(given = known, added, "hospitals"),
                        Err(e) => tracing::error!(error = %e.message, "cannot add the hospitals"),
                    }
                });
            }
        }
        println!("listening on http://{addr}  (try http://{addr}/health)");
        if let (Some((_, token, opts)), Some(world)) = (&demo, demo_world) {
            let base = format!("http://{addr}");
            dispatch::demo::drive(
                world,
                base.clone(),
                token.clone(),
                opts,
                state.0.addresses.clone(),
            )?;
            println!(
                "demo: {} crews, {} calls a day at {}x speed, on a temporary database removed at exit\n\n    open {base}/?token={token}\n",
                opts.crews, opts.calls_per_day, opts.speed
            );
        }
        dispatch::server::serve(state.clone(), listener, shutdown_signal()).await?;
        state.0.store.close().await;
        println!("stopped");
        Ok(())
    })
}

/// The log: `RUST_LOG` (default `info`, `tower_http` at `warn`) in `format`.
fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        // Colours only on a terminal: not in files, journals or pipes.
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
        // Standard error holds nothing but the JSON lines.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(std::io::stderr)
            .init(),
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn import(
    map: PathBuf,
    output: Option<PathBuf>,
    profile: Option<PathBuf>,
    quiet: bool,
) -> anyhow::Result<()> {
    let profile = match profile {
        Some(p) => osm_data::Profile::from_file(&p)?,
        None => osm_data::Profile::default(),
    };
    let output = output.unwrap_or_else(|| dispatch::map::graph_path_for(&map));
    let size = std::fs::metadata(&map).map(|m| m.len()).unwrap_or(0);
    // A bar only where it helps: large inputs on a terminal.
    let bar = if quiet || size < 8 << 20 {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(2 * size)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let imported = osm_data::import(&map, &profile, &mut |p| {
        bar.set_message(if p.pass == 1 { "ways" } else { "nodes" });
        bar.set_position(u64::from(p.pass - 1) * p.bytes_total + p.bytes_done);
    })?;
    bar.finish_and_clear();
    let t_save = Instant::now();
    osm_data::graph_file::save(&imported.graph, &output)?;
    let save_time = t_save.elapsed();
    let g = &imported.graph;
    let b = &imported.build;
    let r = &imported.read;
    println!("imported {} with profile '{}'", map.display(), profile.name);
    println!(
        "  read      {} nodes, {} ways, {} relations ({:.1} MB) in {:.2?}",
        r.osm_nodes,
        r.osm_ways,
        r.osm_relations,
        size as f64 / 1e6,
        imported.read_time
    );
    println!(
        "  graph     {} nodes, {} arcs, {} segments ({} drivable ways, {} junctions)",
        g.node_count(),
        g.arc_count(),
        g.segment_count(),
        b.ways,
        b.junctions
    );
    println!(
        "  dropped   {:.2} % of nodes ({} of {}) outside the largest strongly connected component",
        b.dropped_node_share * 100.0,
        b.nodes_before - b.nodes,
        b.nodes_before
    );
    println!(
        "  turns     {} restrictions applied, {} not on the network, {} via-way skipped, {} blocking barriers",
        b.restrictions_applied, b.restrictions_unmatched, r.restrictions_via_way, b.blocking_barriers
    );
    if let Some(bb) = g.bounding_box() {
        println!(
            "  bbox      lon {:.5}..{:.5}, lat {:.5}..{:.5}",
            bb.min_lon, bb.max_lon, bb.min_lat, bb.max_lat
        );
    }
    println!(
        "  time      read {:.2?}, build {:.2?}, save {:.2?}, total {:.2?}",
        imported.read_time,
        imported.build_time,
        save_time,
        started.elapsed()
    );
    println!("wrote {}", output.display());
    Ok(())
}

/// The address index of a `.osm.pbf` map (`None` for a `.graph` file: the address search
/// then answers 503).
fn address_index(
    map: &std::path::Path,
) -> anyhow::Result<Option<std::sync::Arc<osm_data::address::AddressIndex>>> {
    if !dispatch::map::is_pbf(map) {
        println!("addresses: none (a .graph map; give the .osm.pbf to search addresses)");
        return Ok(None);
    }
    let started = Instant::now();
    let index = osm_data::address::AddressIndex::from_pbf(map)?;
    let s = index.stats();
    println!(
        "addresses: {} houses, {} streets, {} places indexed in {:.2?}",
        s.addresses,
        s.streets,
        s.places,
        started.elapsed()
    );
    Ok(Some(std::sync::Arc::new(index)))
}
