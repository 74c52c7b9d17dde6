//! An unreachable PostgreSQL outside CI is a skip that a developer sees: the
//! skip is recorded (`unreachable::skip_or_fail`) and `make test-rust`
//! (scripts/test-rust.sh) prints a WARNING after the run. Under CI — `CI=1` as
//! much as `CI=true` — it is a failure instead.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vibe_store_postgres::unreachable::{skip_or_fail, SKIP_REPORT_VAR};

const CHILD: &str = "VIBE_SKIP_WARNING_CHILD";

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("vibe-{name}-{}-{}", std::process::id(), nanos()))
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Runs this binary's `skip_decision_child` in a child process with `ci` as
/// `CI` (`None`: unset) and a fresh skip report; returns the child's output and
/// the report's text.
fn run_child(ci: Option<&str>) -> (Output, String) {
    let report = temp("report");
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "skip_decision_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "1")
    .env(SKIP_REPORT_VAR, &report)
    .env_remove("CI");
    if let Some(v) = ci {
        cmd.env("CI", v);
    }
    let out = cmd.output().unwrap();
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    (out, text)
}

/// Does nothing unless started by `run_child`.
#[test]
fn skip_decision_child() {
    if std::env::var_os(CHILD).is_some() {
        skip_or_fail("postgres://nobody@127.0.0.1:1/test", &"connection refused");
    }
}

#[test]
fn outside_ci_an_unreachable_postgres_is_a_recorded_skip() {
    for ci in [None, Some(""), Some("false"), Some("0")] {
        let (out, report) = run_child(ci);
        assert!(out.status.success(), "CI={ci:?}: {out:?}");
        assert_eq!(
            report,
            "PostgreSQL unreachable at postgres://nobody@127.0.0.1:1/test: connection refused\n",
            "CI={ci:?}"
        );
    }
}

#[test]
fn under_ci_an_unreachable_postgres_fails_for_ci_1_as_for_ci_true() {
    for ci in ["true", "1", "yes"] {
        let (out, report) = run_child(Some(ci));
        assert!(!out.status.success(), "CI={ci} should fail the test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            format!("{stdout}{stderr}").contains("CI is set"),
            "CI={ci}: {stdout}{stderr}"
        );
        assert_eq!(report, "", "CI={ci}: a failure is not a skip");
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-rust.sh")
}

/// scripts/test-rust.sh with a stand-in cargo that records `skips` skips and
/// exits with `status`.
fn run_script(skips: usize, status: i32) -> Output {
    let fake = temp("cargo");
    std::fs::write(
        &fake,
        format!(
            "#!/usr/bin/env bash\n[ \"$1\" = test ] || exit 99\nfor i in $(seq 1 {skips}); do echo \"PostgreSQL unreachable at postgres://x: refused $i\" >> \"${SKIP_REPORT_VAR}\"; done\nexit {status}\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("bash")
        .arg(script())
        .env("CARGO", &fake)
        .output();
    let _ = std::fs::remove_file(&fake);
    out.unwrap()
}

#[test]
fn the_test_script_warns_loudly_after_skips_and_keeps_cargos_status() {
    let out = run_script(2, 0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stderr.contains("WARNING: 2 PostgreSQL test(s) were SKIPPED"),
        "{stderr}"
    );
    assert!(stderr.contains("refused 1"), "{stderr}");

    let out = run_script(1, 101);
    assert_eq!(out.status.code(), Some(101));
    assert!(String::from_utf8_lossy(&out.stderr).contains("WARNING"));

    let out = run_script(0, 0);
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("WARNING"),
        "no skip, no warning"
    );
    let out = run_script(0, 3);
    assert_eq!(out.status.code(), Some(3));
}
