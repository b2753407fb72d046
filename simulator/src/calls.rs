//! The call stream: generated or replayed, each call with everything random about it drawn
//! up front (turnout, time on scene, whether the patient is taken to hospital, handover),
//! so every policy compared on a stream meets the very same calls (common random numbers).
//!
//! Generated calls: a Poisson process whose rate follows an hourly profile and a daily
//! total, exact for a rate constant within each hour; positions from the [`Demand`] grid;
//! priorities by share. Replayed calls: a CSV `time,lat,lon,priority` with a header, where
//! `time` is seconds from the start of the run, `HH:MM[:SS]` on the first day, or a date
//! and time `YYYY-MM-DD[T ]HH:MM[:SS]` (days counted from the earliest date in the file);
//! `priority` is `emergency|urgent|non_urgent` (or `1|2|3`). Malformed rows are reported
//! with their line numbers; calls off the map are counted and skipped by the run.

use std::path::Path;

use dispatch_core::{CrewType, Priority};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use router::Router;
use serde::{Deserialize, Serialize};

use crate::csv_input;
use crate::demand::Demand;
use crate::dist::{exponential, LogNormal};
use crate::error::{RowError, SimError};
use crate::scheduler::{SimTime, HOUR_MS};

/// A call of the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSpec {
    /// Its id (1, 2, ... in arrival order).
    pub id: u64,
    /// When it comes in (ms from the start).
    pub t: SimTime,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// How urgent.
    pub priority: Priority,
    /// Turnout of a crew sent from its station (ms).
    pub turnout_ms: i64,
    /// Time on scene (ms).
    pub on_scene_ms: i64,
    /// Whether the patient is taken to hospital.
    pub transport: bool,
    /// Handover at the hospital (ms).
    pub handover_ms: i64,
    /// The hospital the patient was taken to (a replayed call's `hospital`: its id among the
    /// run's hospitals); `None`: the one the core chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hospital: Option<String>,
    /// The crews it needs, one entry per crew (a replayed call's `needs`); empty: one
    /// general crew.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<CrewType>,
}

impl CallSpec {
    /// A call at `t` (ms from the start) and a place, nothing drawn yet: no turnout, time on
    /// scene or handover, no transport, one general crew.
    pub fn at(id: u64, t: SimTime, lat: f64, lon: f64, priority: Priority) -> CallSpec {
        CallSpec {
            id,
            t,
            lat,
            lon,
            priority,
            turnout_ms: 0,
            on_scene_ms: 0,
            transport: false,
            handover_ms: 0,
            hospital: None,
            needs: Vec::new(),
        }
    }
}

/// Typical share of a day's calls in each hour (EMS demand is lowest around 4-5 h and
/// highest late morning to early evening; shape after published ambulance call-volume
/// curves). Normalised when used.
pub const DEFAULT_HOURLY_PROFILE: [f64; 24] = [
    3.6, 3.1, 2.7, 2.4, 2.2, 2.3, 2.8, 3.5, 4.3, 4.9, 5.3, 5.4, 5.4, 5.3, 5.2, 5.1, 5.1, 5.2, 5.2,
    5.0, 4.8, 4.5, 4.2, 3.9,
];

/// How the random parts of a call are drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallModel {
    /// Shares of emergency, urgent and non-urgent calls (normalised).
    pub priority_shares: [f64; 3],
    /// Share of patients taken to hospital.
    pub transport_share: f64,
    /// Turnout time (station to wheels rolling).
    pub turnout: LogNormal,
    /// Time on scene.
    pub on_scene: LogNormal,
    /// Handover at the hospital.
    pub handover: LogNormal,
}

impl Default for CallModel {
    fn default() -> Self {
        CallModel {
            priority_shares: [0.35, 0.45, 0.20],
            transport_share: 0.45,
            turnout: LogNormal::new(60.0, 0.4),
            on_scene: LogNormal::new(1_500.0, 0.5),
            handover: LogNormal::new(900.0, 0.5),
        }
    }
}

impl CallModel {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), SimError> {
        let s = self.priority_shares;
        if s.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || s.iter().sum::<f64>() <= 0.0 {
            return Err(SimError::setting(
                "--priority-shares",
                format!("shares must be non-negative with a positive sum, not {s:?}"),
            ));
        }
        if !(0.0..=1.0).contains(&self.transport_share) {
            return Err(SimError::setting(
                "--transport-share",
                format!("must be between 0 and 1, not {}", self.transport_share),
            ));
        }
        self.turnout.validate("--turnout")?;
        self.on_scene.validate("--on-scene")?;
        self.handover.validate("--handover")
    }

    fn priority(&self, rng: &mut impl Rng) -> Priority {
        let s = self.priority_shares;
        let x = rng.gen::<f64>() * s.iter().sum::<f64>();
        if x < s[0] {
            Priority::Emergency
        } else if x < s[0] + s[1] {
            Priority::Urgent
        } else {
            Priority::NonUrgent
        }
    }

    /// Draws the random parts of a call.
    fn fill(&self, rng: &mut impl Rng, c: &mut CallSpec) {
        c.turnout_ms = self.turnout.sample_ms(rng);
        c.on_scene_ms = self.on_scene.sample_ms(rng);
        c.transport = rng.gen::<f64>() < self.transport_share;
        c.handover_ms = self.handover.sample_ms(rng);
    }
}

/// Settings of a generated stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Calls per day (the profile's total).
    pub calls_per_day: f64,
    /// Length of the stream, hours.
    pub hours: f64,
    /// Weight of each hour of the day.
    pub hourly_profile: [f64; 24],
    /// The seed.
    pub seed: u64,
}

/// Checks a daily total and a length.
pub fn validate_rate(calls_per_day: f64, hours: f64) -> Result<(), SimError> {
    if !(calls_per_day.is_finite() && calls_per_day >= 0.0) {
        return Err(SimError::setting(
            "--calls-per-day",
            format!("must be a non-negative number, not {calls_per_day}"),
        ));
    }
    if !(hours.is_finite() && hours > 0.0) {
        return Err(SimError::setting(
            "--hours",
            format!("must be a positive number of hours, not {hours}"),
        ));
    }
    Ok(())
}

/// Generates a call stream.
pub fn generate(
    router: &Router,
    demand: &Demand,
    g: &Generation,
    model: &CallModel,
) -> Result<Vec<CallSpec>, SimError> {
    validate_rate(g.calls_per_day, g.hours)?;
    model.validate()?;
    let profile_sum: f64 = g.hourly_profile.iter().sum();
    if g.hourly_profile
        .iter()
        .any(|x| !(x.is_finite() && *x >= 0.0))
        || profile_sum <= 0.0
    {
        return Err(SimError::setting(
            "--hourly-profile",
            "24 non-negative weights with a positive sum",
        ));
    }
    let mut rng = StdRng::seed_from_u64(g.seed);
    let end = (g.hours * HOUR_MS as f64).round() as i64;
    let mut calls = Vec::new();
    if g.calls_per_day == 0.0 {
        return Ok(calls);
    }
    // Piecewise-constant rate: carry the unit-exponential budget across hours.
    let mut t = 0i64;
    let mut budget = exponential(&mut rng, 1.0);
    while t < end {
        let hour = t / HOUR_MS;
        let hour_end = ((hour + 1) * HOUR_MS).min(end);
        let rate_per_ms =
            g.calls_per_day * g.hourly_profile[(hour % 24) as usize] / profile_sum / HOUR_MS as f64;
        let need_ms = if rate_per_ms > 0.0 {
            budget / rate_per_ms
        } else {
            f64::INFINITY
        };
        if (t as f64) + need_ms < hour_end as f64 {
            let at = t + need_ms.round() as i64;
            let at = at.min(hour_end - 1).max(t);
            let pos = demand.draw(router, &mut rng);
            let priority = model.priority(&mut rng);
            let mut c = CallSpec::at(calls.len() as u64 + 1, at, pos.lat(), pos.lon(), priority);
            model.fill(&mut rng, &mut c);
            calls.push(c);
            t = at;
            budget = exponential(&mut rng, 1.0);
        } else {
            budget -= rate_per_ms * (hour_end - t) as f64;
            t = hour_end;
        }
    }
    Ok(calls)
}

/// Parses a priority as written in a CSV.
pub fn parse_priority(s: &str) -> Option<Priority> {
    match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
        "emergency" | "1" | "e" => Some(Priority::Emergency),
        "urgent" | "2" | "u" => Some(Priority::Urgent),
        "non_urgent" | "nonurgent" | "3" | "n" => Some(Priority::NonUrgent),
        _ => None,
    }
}

/// A parsed `time` cell: seconds from the start, or a day number and a time of day.
#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    Seconds(f64),
    Dated { days: i64, second_of_day: f64 },
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    // Howard Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_clock(s: &str) -> Option<f64> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let h: u32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let sec: f64 = match parts.get(2) {
        Some(x) => x.parse().ok()?,
        None => 0.0,
    };
    if h > 47 || m > 59 || !(0.0..61.0).contains(&sec) {
        return None;
    }
    Some(f64::from(h) * 3600.0 + f64::from(m) * 60.0 + sec)
}

fn parse_time(s: &str) -> Option<When> {
    let s = s.trim();
    if let Ok(x) = s.parse::<f64>() {
        return (x.is_finite() && x >= 0.0).then_some(When::Seconds(x));
    }
    if let Some((date, clock)) = s.split_once(['T', ' ']) {
        let clock = clock.trim_end_matches('Z');
        let d: Vec<&str> = date.split('-').collect();
        if d.len() != 3 {
            return None;
        }
        let (y, m, dd): (i64, i64, i64) =
            (d[0].parse().ok()?, d[1].parse().ok()?, d[2].parse().ok()?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&dd) {
            return None;
        }
        return Some(When::Dated {
            days: days_from_civil(y, m, dd),
            second_of_day: parse_clock(clock)?,
        });
    }
    parse_clock(s).map(|sec| When::Dated {
        days: 0,
        second_of_day: sec,
    })
}

/// Reads a CSV of real calls (`time,lat,lon,priority`, header first). Every malformed row
/// is reported with its line number. The random parts of each call are drawn with `seed`;
/// calls are sorted by time (stable) and numbered 1, 2, ...
pub fn read_csv(path: &Path, model: &CallModel, seed: u64) -> Result<Vec<CallSpec>, SimError> {
    model.validate()?;
    let text = std::fs::read_to_string(path).map_err(|e| SimError::io("read", path, e))?;
    parse_csv(&text, path, model, seed)
}

/// [`read_csv`] on text already read (`path` names it in errors).
pub fn parse_csv(
    text: &str,
    path: &Path,
    model: &CallModel,
    seed: u64,
) -> Result<Vec<CallSpec>, SimError> {
    let table = csv_input::read(text, path)?;
    let col = |n: &str| table.col(n);
    let cols = (col("time"), col("lat"), col("lon"), col("priority"));
    let (Some(ct), Some(clat), Some(clon), Some(cp)) = cols else {
        return Err(csv_input::header_error(
            path,
            format!(
                "the header must name the columns time, lat, lon, priority (found {:?})",
                table.names()
            ),
        ));
    };
    let optional = Optional {
        turnout_s: col("turnout_s"),
        on_scene_s: col("on_scene_s"),
        transport: col("transport"),
        hospital: col("hospital"),
        handover_s: col("handover_s"),
        needs: col("needs"),
    };
    let mut rows: Vec<(When, CallSpec, Given)> = Vec::new();
    let mut errors = table.errors.clone();
    for (line, rec) in &table.rows {
        let line = *line;
        let get = |i: usize| rec.get(i).unwrap_or("");
        let mut why = Vec::new();
        let t = parse_time(get(ct));
        if t.is_none() {
            why.push(format!(
                "time {:?} is not seconds, HH:MM[:SS] or a date and time",
                get(ct)
            ));
        }
        let lat = get(clat)
            .parse::<f64>()
            .ok()
            .filter(|v| (-90.0..=90.0).contains(v));
        if lat.is_none() {
            why.push(format!("lat {:?} is not a latitude", get(clat)));
        }
        let lon = get(clon)
            .parse::<f64>()
            .ok()
            .filter(|v| (-180.0..=180.0).contains(v));
        if lon.is_none() {
            why.push(format!("lon {:?} is not a longitude", get(clon)));
        }
        let p = parse_priority(get(cp));
        if p.is_none() {
            why.push(format!(
                "priority {:?} is not emergency, urgent or non_urgent",
                get(cp)
            ));
        }
        let given = optional.read(&get, &mut why);
        match (t, lat, lon, p) {
            (Some(t), Some(lat), Some(lon), Some(priority)) if why.is_empty() => {
                rows.push((t, CallSpec::at(0, 0, lat, lon, priority), given));
            }
            _ => errors.push(RowError {
                line,
                reason: why.join(", "),
            }),
        }
    }
    csv_input::checked(path, errors, ())?;
    let first_day = rows
        .iter()
        .filter_map(|r| match r.0 {
            When::Dated { days, .. } => Some(days),
            When::Seconds(_) => None,
        })
        .min()
        .unwrap_or(0);
    let mut calls: Vec<(CallSpec, Given)> = rows
        .into_iter()
        .map(|(w, mut c, given)| {
            let secs = match w {
                When::Seconds(s) => s,
                When::Dated {
                    days,
                    second_of_day,
                } => (days - first_day) as f64 * 86_400.0 + second_of_day,
            };
            c.t = (secs * 1000.0).round() as i64;
            (c, given)
        })
        .collect();
    calls.sort_by_key(|c| c.0.t);
    // Everything random is drawn for every call, given or not, so a column given for some
    // calls leaves the draws of the others as they were.
    let mut rng = StdRng::seed_from_u64(seed);
    Ok(calls
        .into_iter()
        .enumerate()
        .map(|(i, (mut c, given))| {
            c.id = i as u64 + 1;
            model.fill(&mut rng, &mut c);
            given.apply(&mut c);
            c
        })
        .collect())
}

/// The optional columns of a calls CSV (their indexes, where the header names them).
struct Optional {
    turnout_s: Option<usize>,
    on_scene_s: Option<usize>,
    transport: Option<usize>,
    hospital: Option<usize>,
    handover_s: Option<usize>,
    needs: Option<usize>,
}

/// What a row gives of the parts otherwise drawn at random.
#[derive(Debug, Default)]
struct Given {
    turnout_ms: Option<i64>,
    on_scene_ms: Option<i64>,
    transport: Option<bool>,
    hospital: Option<String>,
    handover_ms: Option<i64>,
    needs: Vec<CrewType>,
}

impl Optional {
    /// Reads a row's optional cells (an empty cell gives nothing); what is wrong goes to
    /// `why`.
    fn read<'r>(&self, get: &impl Fn(usize) -> &'r str, why: &mut Vec<String>) -> Given {
        let cell = |c: Option<usize>| c.map(get).filter(|v| !v.is_empty());
        let mut seconds = |name: &str, c: Option<usize>| -> Option<i64> {
            let v = cell(c)?;
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Some((x * 1000.0).round() as i64),
                _ => {
                    why.push(format!("{name} {v:?} is not a number of seconds"));
                    None
                }
            }
        };
        let mut given = Given {
            turnout_ms: seconds("turnout_s", self.turnout_s),
            on_scene_ms: seconds("on_scene_s", self.on_scene_s),
            handover_ms: seconds("handover_s", self.handover_s),
            ..Given::default()
        };
        if let Some(v) = cell(self.transport) {
            match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => given.transport = Some(true),
                "0" | "false" | "no" => given.transport = Some(false),
                _ => why.push(format!("transport {v:?} is not 0 or 1")),
            }
        }
        if let Some(v) = cell(self.hospital) {
            if given.transport == Some(false) {
                why.push(format!("hospital {v:?} is given but transport is 0"));
            }
            given.hospital = Some(v.to_string());
            given.transport = Some(true);
        }
        if let Some(v) = cell(self.needs) {
            for name in v.split([';', '+', ' ']).filter(|n| !n.is_empty()) {
                match parse_crew_type(name) {
                    Some(t) => given.needs.push(t),
                    None => why.push(format!(
                        "needs {name:?} is not a crew type (general, resuscitation, paediatric, psychiatric)"
                    )),
                }
            }
        }
        given
    }
}

impl Given {
    /// Puts what the row gives over what was drawn.
    fn apply(self, c: &mut CallSpec) {
        if let Some(ms) = self.turnout_ms {
            c.turnout_ms = ms;
        }
        if let Some(ms) = self.on_scene_ms {
            c.on_scene_ms = ms;
        }
        if let Some(t) = self.transport {
            c.transport = t;
        }
        if let Some(ms) = self.handover_ms {
            c.handover_ms = ms;
        }
        c.hospital = self.hospital;
        c.needs = self.needs;
    }
}

/// Writes calls as a CSV [`read_csv`] reads back to the same calls, every part given:
/// `time,lat,lon,priority,turnout_s,on_scene_s,transport,hospital,handover_s,needs`.
pub fn write_csv(calls: &[CallSpec], out: &mut impl std::io::Write) -> std::io::Result<()> {
    let s = |ms: i64| format!("{}.{:03}", ms / 1000, ms % 1000);
    writeln!(
        out,
        "time,lat,lon,priority,turnout_s,on_scene_s,transport,hospital,handover_s,needs"
    )?;
    for c in calls {
        let needs: Vec<&str> = c.needs.iter().map(|t| t.as_str()).collect();
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            s(c.t),
            c.lat,
            c.lon,
            c.priority.as_str(),
            s(c.turnout_ms),
            s(c.on_scene_ms),
            u8::from(c.transport),
            c.hospital.as_deref().unwrap_or(""),
            s(c.handover_ms),
            needs.join(";")
        )?;
    }
    Ok(())
}

/// Parses a crew type as written in a CSV (`general`, `resuscitation`, ...).
pub fn parse_crew_type(s: &str) -> Option<CrewType> {
    let s = s.trim().to_ascii_lowercase();
    CrewType::ALL.into_iter().find(|t| t.as_str() == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_three_forms() {
        assert_eq!(parse_time("90"), Some(When::Seconds(90.0)));
        assert_eq!(
            parse_time("01:30"),
            Some(When::Dated {
                days: 0,
                second_of_day: 5400.0
            })
        );
        let a = parse_time("2025-03-01T23:59:00Z").unwrap();
        let b = parse_time("2025-03-02 00:01:00").unwrap();
        let (When::Dated { days: da, .. }, When::Dated { days: db, .. }) = (a, b) else {
            panic!("dated")
        };
        assert_eq!(db - da, 1);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
        assert_eq!(parse_time("-3"), None);
        assert_eq!(parse_time("25:61"), None);
        assert_eq!(parse_time("soon"), None);
    }

    #[test]
    fn malformed_rows_are_reported_with_line_numbers() {
        let text = "time,lat,lon,priority\n0,49.4,8.69,emergency\nx,49.4,8.69,urgent\n10,200,8.6,urgent\n20,49.4,8.6,whenever\n30,49.41,8.7,3\n";
        let err = parse_csv(text, Path::new("calls.csv"), &CallModel::default(), 1).unwrap_err();
        let SimError::Malformed { errors, .. } = &err else {
            panic!("{err}")
        };
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(
            errors[0].reason.contains("time \"x\""),
            "{}",
            errors[0].reason
        );
        assert!(
            errors[1].reason.contains("lat \"200\""),
            "{}",
            errors[1].reason
        );
        assert!(
            errors[2].reason.contains("whenever"),
            "{}",
            errors[2].reason
        );
        assert!(err.to_string().contains("line 4"), "{err}");
    }

    #[test]
    fn rows_are_sorted_by_time_and_numbered() {
        let text = "lat,lon,priority,time\n49.4,8.69,urgent,120\n49.41,8.7,1,00:01\n";
        let calls = parse_csv(text, Path::new("c.csv"), &CallModel::default(), 1).unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (calls[0].id, calls[0].t, calls[0].priority),
            (1, 60_000, Priority::Emergency)
        );
        assert_eq!(
            (calls[1].id, calls[1].t, calls[1].priority),
            (2, 120_000, Priority::Urgent)
        );
    }
}
