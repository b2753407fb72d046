//! `dispatch import`: the real binary on real and broken files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

fn dispatch(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .args(args)
        .output()
        .expect("run dispatch")
}

#[test]
fn import_prints_the_graph_summary_and_writes_a_loadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("moscow.graph");
    let o = dispatch(&[
        "import".as_ref(),
        data("moscow-fragment.osm.pbf").as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for word in ["nodes", "arcs", "dropped", "bbox", "time", "restrictions"] {
        assert!(stdout.contains(word), "{word} missing from:\n{stdout}");
    }
    let g = osm_data::graph_file::load(&out).unwrap();
    assert!(g.node_count() > 100);
}

#[test]
fn bad_inputs_give_one_line_and_a_failure_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.osm.pbf");
    let bytes = std::fs::read(data("moscow-fragment.osm.pbf")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.path().join("x.graph");
    let cases: Vec<(PathBuf, PathBuf, &str)> = vec![
        (
            dir.path().join("missing.osm.pbf"),
            out.clone(),
            "No such file",
        ),
        (truncated, out.clone(), "truncated"),
        (
            data("monaco.osm.pbf"),
            dir.path().join("no/such/dir/x.graph"),
            "cannot write",
        ),
    ];
    for (input, output, expect) in cases {
        let o = dispatch(&[
            "import".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            output.as_os_str(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expect), "{expect:?} not in {stderr:?}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "no output written on failure");
    }
}
