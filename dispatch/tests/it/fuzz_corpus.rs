//! The corpora of the fuzz targets `json_bodies` and `osrm_url` (`fuzz/corpus/`), replayed
//! through the very checks the targets run (the same source files, so they cannot drift):
//! the whole service, and the router's OSRM API, never answer 5xx, and every 4xx is the
//! service's JSON error.

#[path = "../../../fuzz/src/json_bodies.rs"]
mod json_bodies;
#[path = "../../../fuzz/src/osrm_url.rs"]
mod osrm_url;

#[path = "../../../fuzz/src/corpus.rs"]
mod corpus;
use corpus::corpus;

/// Runs `check` on every input of `target`'s corpus; fails naming every input that failed.
/// Returns how many inputs got each class of status (2xx, 3xx, 4xx), to show the replay
/// reached the service.
fn replay(target: &str, check: fn(&[u8]) -> Option<u16>) -> [usize; 3] {
    let mut classes = [0; 3];
    let mut failed = Vec::new();
    for (path, bytes) in corpus(target) {
        match std::panic::catch_unwind(|| check(&bytes)) {
            Ok(Some(status)) => {
                if let Some(n) = classes.get_mut(usize::from(status / 100).wrapping_sub(2)) {
                    *n += 1;
                }
            }
            Ok(None) => {}
            Err(_) => failed.push(path.display().to_string()),
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: these inputs fail: {failed:#?}"
    );
    eprintln!("{target}: 2xx, 3xx, 4xx: {classes:?}");
    classes
}

// Plain tests, not `#[tokio::test]`: each harness runs its own current-thread runtime, as
// the fuzz target does.
#[test]
fn json_bodies_corpus_never_gets_a_5xx() {
    let [ok, _, refused] = replay("json_bodies", json_bodies::check);
    assert!(ok > 0 && refused > 0, "{ok} accepted, {refused} refused");
}

#[test]
fn osrm_url_corpus_never_gets_a_5xx() {
    let [ok, _, refused] = replay("osrm_url", osrm_url::check);
    assert!(ok > 0 && refused > 0, "{ok} answered, {refused} refused");
}
