//! report.html (to come).
