//! Road closures of a scenario, in time windows: `LAT,LON,RADIUS_M,FROM_H,UNTIL_H[,FACTOR]`
//! on the command line (`--closure`, repeatable) or as rows of a CSV with the header
//! `lat,lon,radius_m,from_h,until_h,factor` (`--closures-file`). Every road passing within
//! the radius is closed from `FROM_H` to `UNTIL_H` hours after the start (an empty
//! `UNTIL_H`: to the end), or slowed down by `FACTOR` (2 = half speed) when one is given.
//!
//! Crews already driving keep their route (they were told it before); every route and ETA
//! computed while a closure is in force avoids it.

use std::path::Path;

use router::ClosureArea;

use crate::engine::ClosureWindow;
use crate::error::{RowError, SimError};

fn parse_fields(fields: &[&str]) -> Result<ClosureWindow, String> {
    if !(5..=6).contains(&fields.len()) {
        return Err(format!(
            "expected LAT,LON,RADIUS_M,FROM_H,UNTIL_H[,FACTOR], got {} field(s)",
            fields.len()
        ));
    }
    let num = |i: usize, name: &str| -> Result<f64, String> {
        fields[i]
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("{name} {:?} is not a number", fields[i].trim()))
    };
    let lat = num(0, "lat")?;
    let lon = num(1, "lon")?;
    let radius_m = num(2, "radius_m")?;
    if radius_m <= 0.0 {
        return Err(format!("radius_m must be positive, not {radius_m}"));
    }
    let from_h = num(3, "from_h")?;
    let until_h = if fields[4].trim().is_empty() {
        None
    } else {
        Some(num(4, "until_h")?)
    };
    if until_h.is_some_and(|u| u <= from_h) {
        return Err("until_h must be after from_h".into());
    }
    let factor = match fields.get(5).map(|f| f.trim()) {
        None | Some("") => None,
        Some(_) => {
            let f = num(5, "factor")?;
            if f <= 0.0 {
                return Err(format!("factor must be positive, not {f}"));
            }
            Some(f)
        }
    };
    Ok(ClosureWindow {
        area: ClosureArea::Near { lat, lon, radius_m },
        factor,
        from_s: from_h * 3600.0,
        until_s: until_h.map(|u| u * 3600.0),
    })
}

/// Traffic over the whole map for the whole run: every road's driving time multiplied by
/// `factor` (a slow-down "closure" covering the map).
pub fn traffic(router: &router::Router, factor: f64) -> Result<ClosureWindow, SimError> {
    if !(factor.is_finite() && factor > 0.0) {
        return Err(SimError::setting(
            "--traffic-factor",
            format!("must be a positive number, not {factor}"),
        ));
    }
    let b = router
        .graph()
        .bounding_box()
        .ok_or_else(|| SimError::setting("--traffic-factor", "the map has no roads"))?;
    let centre =
        osm_data::Coord::from_degrees((b.min_lat + b.max_lat) / 2.0, (b.min_lon + b.max_lon) / 2.0);
    let corner = osm_data::Coord::from_degrees(b.min_lat, b.min_lon);
    let radius_m = osm_data::haversine_m(centre, corner) * 1.5 + 1_000.0;
    Ok(ClosureWindow {
        area: ClosureArea::Near {
            lat: centre.lat(),
            lon: centre.lon(),
            radius_m,
        },
        factor: Some(factor),
        from_s: 0.0,
        until_s: None,
    })
}

/// Parses one `--closure` value.
pub fn parse(s: &str) -> Result<ClosureWindow, SimError> {
    let fields: Vec<&str> = s.split(',').collect();
    parse_fields(&fields).map_err(|reason| SimError::setting("--closure", reason))
}

/// Reads closures from a CSV (header `lat,lon,radius_m,from_h,until_h,factor`); malformed
/// rows are reported with their line numbers.
pub fn read_csv(path: &Path) -> Result<Vec<ClosureWindow>, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::io("read", path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for rec in rdr.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map(|p| p.line()).unwrap_or(0);
                let fields: Vec<&str> = r.iter().collect();
                match parse_fields(&fields) {
                    Ok(c) => out.push(c),
                    Err(reason) => errors.push(RowError { line, reason }),
                }
            }
            Err(e) => errors.push(RowError {
                line: e.position().map(|p| p.line()).unwrap_or(0),
                reason: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(SimError::Malformed {
            path: path.to_path_buf(),
            errors,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closures_parse_with_windows_and_factors() {
        let c = parse("43.73,7.42,300,1,2.5").unwrap();
        assert_eq!(c.from_s, 3600.0);
        assert_eq!(c.until_s, Some(9000.0));
        assert_eq!(c.factor, None);
        let c = parse("43.73,7.42,300,0,,2").unwrap();
        assert_eq!((c.until_s, c.factor), (None, Some(2.0)));
        for bad in [
            "43.73,7.42,300,2,1",
            "43.73,7.42,-1,0,1",
            "x,7.42,300,0,1",
            "1,2,3",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
