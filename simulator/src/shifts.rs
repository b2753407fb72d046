//! Crews on duty by hour and station: a shifts CSV `hour,station,crews[,type]` with a header,
//! where `hour` is the hour of the day (0–23; the plan repeats every day), `station` a
//! station's id, `crews` how many crews are on duty there in that hour, and `type` their crew
//! type (`general` when the column or the cell is empty). An hour, station and type with no
//! row has no crew.
//!
//! The run's crews are the most each station has of each type in any hour ([`Roster`]);
//! the `k`-th crew of a station and type is on duty in the hours the station has more than
//! `k` of them. A crew whose shift ends on a call finishes it, then goes off duty (the
//! core's shift-end rule).

use std::path::Path;

use dispatch_core::CrewType;
use serde::{Deserialize, Serialize};

use crate::calls::parse_crew_type;
use crate::csv_input;
use crate::error::{RowError, SimError};
use crate::places::Place;

/// The crews of a run with shifts: each crew's home station, type and hours on duty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roster {
    /// Each crew's home station (an index of the stations).
    pub crew_station: Vec<usize>,
    /// Each crew's type.
    pub crew_type: Vec<CrewType>,
    /// Each crew's hours of the day on duty: bit `h` for hour `h`.
    pub on_duty: Vec<u32>,
}

impl Roster {
    /// Whether crew `i` is on duty in hour `hour` of the run (hour 0 is midnight of the
    /// first day).
    pub fn on_duty(&self, i: usize, hour: i64) -> bool {
        self.on_duty[i] & (1 << hour.rem_euclid(24)) != 0
    }

    /// Crew-hours on duty in a day.
    pub fn crew_hours_per_day(&self) -> u32 {
        self.on_duty.iter().map(|m| m.count_ones()).sum()
    }

    /// The roster of a plan: `counts[station][type][hour]`, types in [`CrewType::ALL`]
    /// order.
    pub fn from_counts(counts: &[[[u32; 24]; 4]]) -> Roster {
        let mut r = Roster {
            crew_station: Vec::new(),
            crew_type: Vec::new(),
            on_duty: Vec::new(),
        };
        for (s, by_type) in counts.iter().enumerate() {
            for (t, hours) in by_type.iter().enumerate() {
                let most = hours.iter().copied().max().unwrap_or(0);
                for k in 0..most {
                    let mask = (0..24)
                        .filter(|&h| hours[h] > k)
                        .fold(0u32, |m, h| m | 1 << h);
                    r.crew_station.push(s);
                    r.crew_type.push(CrewType::ALL[t]);
                    r.on_duty.push(mask);
                }
            }
        }
        r
    }
}

/// Reads a shifts CSV for these stations. Every malformed row is reported with its line
/// number; a station the stations do not have, a repeated hour, station and type, or a plan
/// with no crew at all is an error.
pub fn read_csv(path: &Path, stations: &[Place]) -> Result<Roster, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::io("read", path, e))?;
    parse_csv(&text, path, stations)
}

/// [`read_csv`] on text already read (`path` names it in errors).
pub fn parse_csv(text: &str, path: &Path, stations: &[Place]) -> Result<Roster, SimError> {
    let table = csv_input::read(text, path)?;
    let col = |n: &str| table.col(n);
    let (Some(ch), Some(cs), Some(cc)) = (col("hour"), col("station"), col("crews")) else {
        return Err(csv_input::header_error(
            path,
            format!(
                "the header must name the columns hour, station, crews[, type] (found {:?})",
                table.names()
            ),
        ));
    };
    let ct = col("type");
    let mut counts = vec![[[0u32; 24]; 4]; stations.len()];
    let mut seen = vec![[[false; 24]; 4]; stations.len()];
    let mut errors = table.errors.clone();
    for (line, rec) in &table.rows {
        let line = *line;
        let get = |i: usize| rec.get(i).unwrap_or("");
        let mut why = Vec::new();
        let hour = get(ch).parse::<usize>().ok().filter(|h| *h < 24);
        if hour.is_none() {
            why.push(format!(
                "hour {:?} is not an hour of the day (0-23)",
                get(ch)
            ));
        }
        let station = stations.iter().position(|s| s.id == get(cs));
        if station.is_none() {
            why.push(format!("station {:?} is not one of the stations", get(cs)));
        }
        let crews = get(cc).parse::<u32>().ok();
        if crews.is_none() {
            why.push(format!("crews {:?} is not a number of crews", get(cc)));
        }
        let kind = match ct.map(get).filter(|v| !v.is_empty()) {
            None => Some(CrewType::General),
            Some(v) => {
                let t = parse_crew_type(v);
                if t.is_none() {
                    why.push(format!(
                        "type {v:?} is not a crew type (general, resuscitation, paediatric, psychiatric)"
                    ));
                }
                t
            }
        };
        if let (Some(h), Some(s), Some(n), Some(t)) = (hour, station, crews, kind) {
            let ti = CrewType::ALL.iter().position(|x| *x == t).unwrap_or(0);
            if std::mem::replace(&mut seen[s][ti][h], true) {
                why.push(format!(
                    "hour {h} of station {} ({t}) is given twice",
                    stations[s].id
                ));
            }
            counts[s][ti][h] = n;
        }
        if !why.is_empty() {
            errors.push(RowError {
                line,
                reason: why.join(", "),
            });
        }
    }
    csv_input::checked(path, errors, ())?;
    let roster = Roster::from_counts(&counts);
    if roster.crew_hours_per_day() == 0 {
        return Err(SimError::setting(
            "--shifts",
            "the plan has no crew on duty",
        ));
    }
    Ok(roster)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn station(id: &str) -> Place {
        Place {
            id: id.into(),
            name: String::new(),
            lat: 0.0,
            lon: 0.0,
            crews: None,
            snapped: router::Snapped {
                segment: 0,
                fraction: 0.0,
                point: osm_data::Coord::from_degrees(0.0, 0.0),
                distance_m: 0.0,
                input: osm_data::Coord::from_degrees(0.0, 0.0),
            },
        }
    }

    #[test]
    fn a_plan_becomes_crews_on_duty_by_hour() {
        let stations = [station("A"), station("B")];
        // A: 2 crews 8-9 h, 1 at 10 h; B: one resuscitation crew at 23 h.
        let text =
            "hour,station,crews,type\n8,A,2,\n9,A,2,general\n10,A,1,\n23,B,1,resuscitation\n";
        let r = parse_csv(text, Path::new("s.csv"), &stations).unwrap();
        assert_eq!(r.crew_station, [0, 0, 1]);
        assert_eq!(
            r.crew_type,
            [
                CrewType::General,
                CrewType::General,
                CrewType::Resuscitation
            ]
        );
        assert_eq!(
            r.on_duty,
            [1 << 8 | 1 << 9 | 1 << 10, 1 << 8 | 1 << 9, 1 << 23]
        );
        assert!(r.on_duty(0, 10) && !r.on_duty(1, 10));
        assert!(r.on_duty(2, 23 + 48), "the plan repeats every day");
        assert_eq!(r.crew_hours_per_day(), 6);
    }

    #[test]
    fn malformed_rows_are_reported_with_line_numbers() {
        let stations = [station("A")];
        let text = "hour,station,crews\n24,A,1\n1,Z,1\n2,A,x\n3,A,1\n3,A,2\n";
        let err = parse_csv(text, Path::new("s.csv"), &stations).unwrap_err();
        let SimError::Malformed { errors, .. } = &err else {
            panic!("{err}")
        };
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 6]);
        assert!(
            errors[3].reason.contains("given twice"),
            "{}",
            errors[3].reason
        );
        let empty = parse_csv("hour,station,crews\n1,A,0\n", Path::new("s.csv"), &stations);
        assert!(empty.unwrap_err().to_string().contains("no crew"));
    }
}
