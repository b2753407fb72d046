//! The token file at `dispatch serve`: a short token stops the service with an error that
//! names the entry but not the token; a file others may read is warned about with the fix; a
//! missing file is created private and its admin token shown once, on the terminal only.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::helpers::{data, ADMIN, DISPATCHER};

/// `dispatch serve` with the token file `tokens`, its database in `dir`.
fn serve(tokens: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dispatch"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--db")
        .arg(format!("sqlite://{}", dir.join("dispatch.db").display()))
        .arg("--map")
        .arg(data("heidelberg.osm.pbf"))
        .arg("--tokens")
        .arg(tokens)
        .env("RUST_LOG", "info");
    cmd
}

/// What the service prints before it opens the map (up to its dispatch rules); then it is
/// stopped.
fn output_until_the_map(tokens: &Path, dir: &Path) -> Vec<String> {
    let mut child = serve(tokens, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("dispatch rules");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    child.wait().unwrap();
    assert!(
        seen.last().is_some_and(|l| l.starts_with("dispatch rules")),
        "the service stopped early: {seen:#?}"
    );
    seen
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_short_token_stops_the_service_naming_its_entry_not_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    let short = "desk3-pass";
    std::fs::write(
        &tokens,
        format!(
            "[tokens]\n\"{DISPATCHER}\" = \"dispatcher\"\n\"{short}\" = {{ role = \"dispatcher\", name = \"desk-3\" }}\n"
        ),
    )
    .unwrap();
    let out = serve(&tokens, dir.path()).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for part in [
        &tokens.display().to_string(),
        "line 3",
        "desk-3",
        "too short",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    for text in [&stderr, &stdout] {
        assert!(
            !text.contains(short) && !text.contains(DISPATCHER),
            "{text}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_token_file_others_may_read_is_warned_about_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(&tokens, format!("[tokens]\n\"{ADMIN}\" = \"admin\"\n")).unwrap();
    set_mode(&tokens, 0o644);
    let seen = output_until_the_map(&tokens, dir.path());
    let fix = format!("chmod 600 {}", tokens.display());
    assert!(
        seen.iter().any(|l| l.contains("WARN") && l.contains(&fix)),
        "{seen:#?}"
    );
    assert!(seen.iter().all(|l| !l.contains(ADMIN)), "{seen:#?}");

    set_mode(&tokens, 0o600);
    let seen = output_until_the_map(&tokens, dir.path());
    assert!(seen.iter().all(|l| !l.contains("chmod")), "{seen:#?}");
}

#[test]
fn a_missing_token_file_is_created_private_and_its_token_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    let seen = output_until_the_map(&tokens, dir.path());
    let created = seen
        .iter()
        .find_map(|l| l.split_once("with an admin token: "))
        .map(|(_, rest)| rest.split_whitespace().next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no token shown: {seen:#?}"));
    assert_eq!(created.len(), 32, "{created}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&tokens).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    assert!(seen.iter().all(|l| !l.contains("chmod")), "{seen:#?}");
    // The next start reads it and shows no token.
    let again = output_until_the_map(&tokens, dir.path());
    assert!(again.iter().all(|l| !l.contains(&created)), "{again:#?}");
    assert!(again.iter().any(|l| l.starts_with("tokens from ")));
}
