//! The planner's CSV inputs (calls, stations and hospitals, population, shifts), read one way:
//! a header, then each row with its line number. A header the reader cannot read, and a row
//! it cannot take, are reported with their line numbers, as each input's own checks are. A
//! row whose fields are all empty (a spreadsheet's trailing rows) is left out.

use std::path::Path;

use crate::error::{RowError, SimError};

/// A CSV input's rows.
pub struct Rows {
    /// The header.
    pub headers: csv::StringRecord,
    /// Each row the reader took, with its line number (rows may have fewer or more fields
    /// than the header; none has only empty fields).
    pub rows: Vec<(u64, csv::StringRecord)>,
    /// The rows it could not take.
    pub errors: Vec<RowError>,
}

/// Reads `text` (`path` names it in errors), fields trimmed.
pub fn read(text: &str, path: &Path) -> Result<Rows, SimError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| header_error(path, e.to_string()))?
        .clone();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for rec in rdr.records() {
        match rec {
            Ok(r) if r.iter().all(str::is_empty) => {}
            Ok(r) => rows.push((r.position().map(|p| p.line()).unwrap_or(0), r)),
            Err(e) => errors.push(RowError {
                line: e.position().map(|p| p.line()).unwrap_or(0),
                reason: e.to_string(),
            }),
        }
    }
    Ok(Rows {
        headers,
        rows,
        errors,
    })
}

impl Rows {
    /// The index of the column `name` (case-insensitive).
    pub fn col(&self, name: &str) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }

    /// The header's names, for a message.
    pub fn names(&self) -> Vec<&str> {
        self.headers.iter().collect()
    }
}

/// A file whose header is wrong.
pub fn header_error(path: &Path, reason: impl Into<String>) -> SimError {
    malformed(
        path,
        vec![RowError {
            line: 1,
            reason: reason.into(),
        }],
    )
}

/// A file with malformed rows.
pub fn malformed(path: &Path, errors: Vec<RowError>) -> SimError {
    SimError::Malformed {
        path: path.to_path_buf(),
        errors,
    }
}

/// `out`, or the file's malformed rows if there are any.
pub fn checked<T>(path: &Path, errors: Vec<RowError>, out: T) -> Result<T, SimError> {
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(malformed(path, errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_empty_fields_are_left_out_and_lines_kept() {
        let rows = read("lat,lon\n1,2\n,\n , \n3,4\n", Path::new("x.csv")).expect("a header");
        let lines: Vec<u64> = rows.rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, [2, 5]);
        assert!(rows.errors.is_empty());
    }
}
