//! What a test does when PostgreSQL cannot be reached. Under CI it fails, so a
//! green run always includes the PostgreSQL half. On a developer's machine it
//! is skipped — and because cargo hides what passing tests print, the skip is
//! also appended to the file named by `VIBE_PG_SKIP_REPORT`, which
//! `make test-rust` (scripts/test-rust.sh) sets and reads back to print a
//! WARNING after the run.

use std::io::Write;
use std::path::Path;

/// The environment variable naming the file that skips are appended to.
pub const SKIP_REPORT_VAR: &str = "VIBE_PG_SKIP_REPORT";

/// Whether a `CI` value asks for a strict run: any non-empty value except
/// `0`, `false`, `no` and `off` (any case), so `CI=1` counts like `CI=true`.
pub fn ci_flag(value: Option<&str>) -> bool {
    match value.map(str::trim) {
        None | Some("") => false,
        Some(v) => !["0", "false", "no", "off"]
            .iter()
            .any(|off| v.eq_ignore_ascii_case(off)),
    }
}

/// `CI` from the environment, read with [`ci_flag`].
pub fn in_ci() -> bool {
    ci_flag(std::env::var("CI").ok().as_deref())
}

/// Call when a test could not connect to PostgreSQL at `url`. Panics under CI;
/// otherwise reports the skip and returns, and the caller skips its case.
pub fn skip_or_fail(url: &str, error: &dyn std::fmt::Display) {
    let line = format!("PostgreSQL unreachable at {url}: {error}");
    if in_ci() {
        panic!("{line} (CI is set: PostgreSQL tests fail instead of skipping)");
    }
    eprintln!("SKIPPED: {line}");
    if let Some(path) = std::env::var_os(SKIP_REPORT_VAR) {
        record_skip(Path::new(&path), &line);
    }
}

/// Appends one line; many test threads and binaries share the file, and one
/// `write_all` of a short line in append mode does not interleave.
pub fn record_skip(path: &Path, line: &str) {
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(format!("{}\n", line.replace('\n', " ")).as_bytes()));
    if let Err(e) = written {
        eprintln!("could not record the skip in {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_strict_for_any_value_but_off_words() {
        for on in ["true", "1", "TRUE", "yes", "github", " true "] {
            assert!(ci_flag(Some(on)), "CI={on:?} should be strict");
        }
        for off in [
            None,
            Some(""),
            Some("  "),
            Some("0"),
            Some("false"),
            Some("False"),
            Some("no"),
            Some("OFF"),
        ] {
            assert!(!ci_flag(off), "CI={off:?} should allow skipping");
        }
    }

    #[test]
    fn skips_are_appended_one_line_each() {
        let path = std::env::temp_dir().join(format!("vibe-skip-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        record_skip(&path, "PostgreSQL unreachable at a: refused");
        record_skip(&path, "PostgreSQL unreachable at b:\nrefused");
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            text,
            "PostgreSQL unreachable at a: refused\nPostgreSQL unreachable at b: refused\n"
        );
    }
}
