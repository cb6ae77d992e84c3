//! The binary's commands and configuration errors, as an operator meets them.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_fast-flights");

#[test]
fn migrate_creates_the_sqlite_file_and_its_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("nested/folder/ff.sqlite");
    let out = Command::new(BIN)
        .args([
            "migrate",
            "--database-url",
            &format!("sqlite://{}?mode=rwc", file.display()),
        ])
        .output()
        .expect("run migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));
    assert!(file.exists());
    // Running it again is harmless.
    let again = Command::new(BIN)
        .args([
            "migrate",
            "--database-url",
            &format!("sqlite://{}?mode=rwc", file.display()),
        ])
        .output()
        .expect("run migrate");
    assert!(again.status.success());
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", "mysql://nobody@nowhere/db"])
        .output()
        .expect("run migrate");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unsupported scheme"), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn a_password_in_the_database_url_is_never_printed() {
    let out = Command::new(BIN)
        .args([
            "migrate",
            "--database-url",
            "postgres://app:hunter2@127.0.0.1:1/db",
        ])
        .output()
        .expect("run migrate");
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("hunter2"), "{all}");
}

#[test]
fn bad_settings_name_the_variable() {
    let out = Command::new(BIN)
        .arg("schema")
        .env("SIMULATED_ERROR_RATE", "2")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("simulated-error-rate") && stderr.contains("outside 0.0 to 1.0"),
        "{stderr}"
    );

    let out = Command::new(BIN)
        .arg("schema")
        .env("LISTEN_ADDR", "not-an-address")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen"));
}

#[test]
fn schema_prints_the_sdl_without_a_database() {
    let out = Command::new(BIN)
        .arg("schema")
        .env("DATABASE_URL", "postgres://127.0.0.1:1/none")
        .output()
        .expect("run");
    assert!(out.status.success());
    let sdl = String::from_utf8_lossy(&out.stdout);
    assert!(sdl.contains("type Subscription") && sdl.contains("jobProgress"));
}
