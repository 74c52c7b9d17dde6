//! The Python the third-party checks run on: the venv
//! `scripts/ensure-python-venv.sh` makes from tests/requirements.txt (or
//! `VIBE_TEST_PYTHON`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv's Python when `import {modules}` works in it. Without it the
/// test is skipped loudly (and recorded in `VIBE_PY_SKIP_REPORT`), and under
/// CI it fails, as PostgreSQL's tests do. `what` names the libraries and
/// `check` the test, in the messages.
pub fn venv_python_with(modules: &str, what: &str, check: &str) -> Option<PathBuf> {
    let python = std::env::var_os("VIBE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
        });
    let ok = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let line = format!(
        "Python with {what} not found at {} (run scripts/ensure-python-venv.sh or set VIBE_TEST_PYTHON)",
        python.display()
    );
    // The same reading of `CI` as PostgreSQL's skips (`CI=false` is off).
    if vibe_store_postgres::unreachable::in_ci() {
        panic!("{line} (CI is set: {check} fails instead of skipping)");
    }
    eprintln!("SKIPPED: {line}");
    if let Some(path) = std::env::var_os("VIBE_PY_SKIP_REPORT") {
        vibe_store_postgres::unreachable::record_skip(Path::new(&path), &line);
    }
    None
}
