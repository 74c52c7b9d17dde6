//! CSV output: RFC 4180 quoting, and cells that a spreadsheet would run as a
//! formula (`= + - @`, tab, carriage return) prefixed with `'`.

/// One CSV line (with CRLF) from the given cells.
pub fn line<I, S>(cells: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell_text(cell.as_ref()));
    }
    out.push_str("\r\n");
    out
}

fn cell_text(raw: &str) -> String {
    let neutralised;
    let value = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        neutralised = format!("'{raw}");
        neutralised.as_str()
    } else {
        raw
    };
    if value.contains([',', '"', '\r', '\n']) || value.starts_with(' ') || value.ends_with(' ') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// `Content-Disposition` for a download named `vibe-{what}-{date}.csv`.
pub fn attachment(what: &str, date: &str) -> String {
    let safe: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("attachment; filename=\"vibe-{safe}-{date}.csv\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_per_rfc_4180() {
        assert_eq!(
            line(["a", "b c", "x,y", "say \"hi\"", "two\nlines", ""]),
            "a,b c,\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n"
        );
    }

    #[test]
    fn neutralises_formulas() {
        assert_eq!(
            line(["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "ok"]),
            "\"'=HYPERLINK(\"\"x\"\")\",'+1,'-2,'@SUM(A1),ok\r\n"
        );
        assert_eq!(line(["=1,2"]), "\"'=1,2\"\r\n");
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            attachment("users-all", "2026-11-29"),
            "attachment; filename=\"vibe-users-all-2026-11-29.csv\""
        );
        assert_eq!(
            attachment("users/../x", "d"),
            "attachment; filename=\"vibe-users----x-d.csv\""
        );
    }
}
