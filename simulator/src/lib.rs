//! Discrete-event simulator of 112 calls and ambulance crews (issue 5; not built yet).
