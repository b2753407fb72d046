//! Comparing policies (to come).
