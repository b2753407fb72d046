//! Every `simulator` command line the READMEs show is run, so the docs and the command line
//! cannot drift apart.
//!
//! The lines are taken from the workspace's README files: lines of fenced `sh` blocks (with
//! their `\` continuations) and inline code spans that start with `simulator` or
//! `target/<profile>/simulator`. Each runs the test build of the binary with its words as
//! written, one after the other in a temporary directory (so a file one line writes is there
//! for the next), except what would make the test long: `--hours` is cut to 2 (live mode: a
//! quarter of an hour at 600×), `--seeds` and `--eval-seeds` to 2, a plan's
//! `--time-limit-s` to 3, `-q` is added, paths under `data/` are the
//! repository's, and live mode's `--server` and `--token` are a service this test starts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::router;
use crate::live::{start_service, TOKEN};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

/// A command line found in a README.
#[derive(Debug)]
struct Found {
    file: String,
    line: usize,
    words: Vec<String>,
}

fn is_simulator(word: &str) -> bool {
    word == "simulator"
        || (word.starts_with("target/") && word.ends_with("/simulator") && word.len() > 17)
}

/// The `simulator` command lines of one README's text.
fn commands(file: &str, text: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let split = |s: &str| shlex::split(s).unwrap_or_else(|| panic!("{file}: cannot split {s:?}"));
    let mut fenced = false;
    let mut pending: Option<(usize, String)> = None;
    let mut prose = String::new();
    let mut prose_lines: Vec<usize> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            let (start, mut joined) = pending.take().unwrap_or((n, String::new()));
            let piece = line.trim();
            match piece.strip_suffix('\\') {
                Some(head) => {
                    joined.push_str(head);
                    joined.push(' ');
                    pending = Some((start, joined));
                }
                None => {
                    joined.push_str(piece);
                    let command = joined.trim_end_matches('&').trim();
                    if command.split_whitespace().next().is_some_and(is_simulator) {
                        out.push(Found {
                            file: file.to_string(),
                            line: start,
                            words: split(command),
                        });
                    }
                }
            }
        } else {
            // Inline spans may break across lines: the prose is read as one text.
            for _ in 0..=line.len() {
                prose_lines.push(n);
            }
            prose.push_str(line);
            prose.push('\n');
        }
    }
    // Inline code spans (single backticks) in the prose.
    let mut rest = prose.as_str();
    let mut offset = 0;
    while let Some(open) = rest.find('`') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else { break };
        let span = after[..close].replace('\n', " ");
        let mut head = span.split_whitespace();
        // A bare `simulator run` in the prose names a command; a command line has options.
        if head.next().is_some_and(is_simulator) && head.nth(1).is_some() {
            out.push(Found {
                file: file.to_string(),
                line: prose_lines[offset + open],
                words: split(&span),
            });
        }
        let used = open + 1 + close + 1;
        offset += used;
        rest = &rest[used..];
    }
    out
}

/// The README files of the workspace.
fn readmes() -> Vec<PathBuf> {
    let root = workspace();
    let mut files = vec![root.join("README.md")];
    for dir in std::fs::read_dir(&root).expect("the workspace").flatten() {
        let p = dir.path().join("README.md");
        if p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    files
}

/// The words of `found` as the test runs them.
fn adapted(found: &Found, server: &str) -> Vec<String> {
    let live = found.words.get(1).map(String::as_str) == Some("live");
    let mut words: Vec<String> = Vec::new();
    let has = |w: &str, words: &[String]| words.iter().any(|x| x == w);
    let mut it = found.words[1..].iter();
    while let Some(w) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| panic!("{}:{}: {w} has no value", found.file, found.line))
                .clone()
        };
        match w.as_str() {
            "--hours" => {
                let h: f64 = value().parse().expect("hours");
                let cap = if live { 0.25 } else { 2.0 };
                words.extend(["--hours".into(), h.min(cap).to_string()]);
            }
            "--seeds" | "--eval-seeds" => {
                let s: u64 = value().parse().expect("seeds");
                words.extend([w.clone(), s.min(2).to_string()]);
            }
            "--time-limit-s" => {
                let s: f64 = value().parse().expect("seconds");
                words.extend([w.clone(), s.min(3.0).to_string()]);
            }
            _ if w.starts_with("data/") => {
                words.push(workspace().join(w).to_string_lossy().into_owned());
            }
            "--server" => {
                value();
                words.extend(["--server".into(), server.to_string()]);
            }
            "--token" => {
                value();
                words.extend(["--token".into(), TOKEN.to_string()]);
            }
            "--speed" if live => {
                value();
                words.extend(["--speed".into(), "600".into()]);
            }
            _ => words.push(w.clone()),
        }
    }
    if !has("--hours", &words) {
        words.extend(["--hours".into(), if live { "0.25" } else { "2" }.into()]);
    }
    if live && !has("--drain-hours", &words) {
        words.extend(["--drain-hours".into(), "0.5".into()]);
    }
    if !has("-q", &words) {
        words.push("-q".into());
    }
    words
}

#[test]
fn every_simulator_command_line_in_the_readmes_runs() {
    let mut found = Vec::new();
    for f in readmes() {
        let text = std::fs::read_to_string(&f).expect("a README");
        let name = f
            .strip_prefix(workspace())
            .unwrap_or(&f)
            .display()
            .to_string();
        found.extend(commands(&name, &text));
    }
    // The extraction itself: the READMEs show run, compare and live, and the comma forms.
    for sub in ["run", "compare", "live"] {
        assert!(
            found.iter().any(|c| c.words[1] == sub),
            "no `simulator {sub}` found in {found:#?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, _runtime) = start_service(router("monaco"), &dir.path().join("dispatch.db"));
    for c in &found {
        let args = adapted(c, &server);
        println!("{}:{}: simulator {}", c.file, c.line, args.join(" "));
        let run = Command::new(env!("CARGO_BIN_EXE_simulator"))
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}:{}: `{}` failed (run as {args:?}):\n{}",
            c.file,
            c.line,
            c.words.join(" "),
            String::from_utf8_lossy(&run.stderr)
        );
        if let Some(k) = args.iter().position(|a| a == "--out") {
            let out = dir.path().join(&args[k + 1]);
            assert!(out.exists(), "{}:{}: nothing written", c.file, c.line);
        }
    }
}

#[test]
fn the_extraction_finds_fenced_and_inline_commands() {
    let text = "Intro `simulator run --map m.pbf\n--crews 3` and `cargo build`, `simulator run`.\n\n```sh\n\
                cargo build\n\
                target/dist/simulator compare --a 1 \\\n    --rules-variant 'x:y = 1' &\n\
                ```\n";
    let found = commands("T.md", text);
    let lines: Vec<(usize, Vec<&str>)> = found
        .iter()
        .map(|f| (f.line, f.words.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                6,
                vec![
                    "target/dist/simulator",
                    "compare",
                    "--a",
                    "1",
                    "--rules-variant",
                    "x:y = 1"
                ]
            ),
            (
                1,
                vec!["simulator", "run", "--map", "m.pbf", "--crews", "3"]
            ),
        ]
    );
}
