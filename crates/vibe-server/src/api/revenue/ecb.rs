//! The European Central Bank's euro foreign exchange reference rates, as
//! published: `eurofxref-hist.csv` / `eurofxref.csv` (`Date,USD,JPY,…` then a
//! row per day, `N/A` where a currency had no rate; the daily file writes the
//! date as `15 January 2027`) and `eurofxref-daily.xml` / `eurofxref-hist.xml`
//! (`<Cube time="YYYY-MM-DD"><Cube currency="USD" rate="1.0813"/>…`). Every
//! rate is units of the currency per 1 EUR, so the rows are stored with base
//! `EUR`. The XML is read by a small scanner of `Cube` elements, not a full
//! XML parser: those files use nothing else.

use anyhow::{bail, Context};
use vibe_core::day::parse_day;

/// The base of every ECB rate.
pub const BASE: &str = "EUR";

/// `(day, currency, rate)` rows of an ECB file, CSV or XML (by its first
/// non-blank character).
pub fn parse(text: &str) -> anyhow::Result<Vec<(String, String, f64)>> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('<') {
        parse_xml(text)
    } else {
        parse_csv(text)
    }
}

fn currency(code: &str) -> anyhow::Result<String> {
    vibe_core::reserved::currency(code, "currency")
        .map_err(|_| anyhow::anyhow!("`{code}` is not a three-letter currency code"))
}

fn rate(raw: &str) -> anyhow::Result<f64> {
    raw.parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r > 0.0)
        .with_context(|| format!("`{raw}` is not a positive rate"))
}

/// `2027-01-15` or `15 January 2027`.
fn day(raw: &str) -> anyhow::Result<String> {
    if let Some(d) = parse_day(raw) {
        return Ok(d.to_string());
    }
    let parsed = jiff::civil::Date::strptime("%d %B %Y", raw)
        .with_context(|| format!("`{raw}` is not a date"))?;
    Ok(parsed.to_string())
}

pub fn parse_csv(text: &str) -> anyhow::Result<Vec<(String, String, f64)>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().context("the file is empty")?;
    let mut columns = header.split(',').map(str::trim);
    if !columns
        .next()
        .is_some_and(|c| c.eq_ignore_ascii_case("date"))
    {
        bail!("the first column of the header must be `Date`");
    }
    let currencies: Vec<Option<String>> = columns
        .map(|c| (!c.is_empty()).then(|| currency(c)).transpose())
        .collect::<anyhow::Result<_>>()?;
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let mut cells = line.split(',').map(str::trim);
        let d = day(cells.next().unwrap_or_default()).with_context(|| format!("line {}", n + 2))?;
        for (cell, cur) in cells.zip(&currencies) {
            let Some(cur) = cur else { continue };
            if cell.is_empty() || cell.eq_ignore_ascii_case("N/A") {
                continue;
            }
            let r = rate(cell).with_context(|| format!("line {}, {cur}", n + 2))?;
            rows.push((d.clone(), cur.clone(), r));
        }
    }
    Ok(rows)
}

/// The value of attribute `name` in the text of one start tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(i) = rest.find(name) {
        let before_ok = i == 0 || rest.as_bytes()[i - 1].is_ascii_whitespace();
        let after = rest[i + name.len()..].trim_start();
        if before_ok {
            if let Some(after) = after.strip_prefix('=') {
                let after = after.trim_start();
                let quote = after.chars().next()?;
                if quote == '"' || quote == '\'' {
                    let value = &after[1..];
                    return value.find(quote).map(|end| &value[..end]);
                }
            }
        }
        rest = &rest[i + name.len()..];
    }
    None
}

pub fn parse_xml(text: &str) -> anyhow::Result<Vec<(String, String, f64)>> {
    let mut rows = Vec::new();
    let mut current: Option<String> = None;
    let mut rest = text;
    while let Some(start) = rest.find("<Cube") {
        let after = &rest[start + 5..];
        let end = after.find('>').context("an unterminated <Cube element")?;
        let tag = &after[..end];
        rest = &after[end..];
        // `<Cubes…` or similar is not a Cube element.
        if !tag.is_empty() && !tag.starts_with(|c: char| c.is_whitespace() || c == '/') {
            continue;
        }
        if let Some(t) = attribute(tag, "time") {
            current = Some(day(t)?);
        }
        if let (Some(c), Some(r)) = (attribute(tag, "currency"), attribute(tag, "rate")) {
            let d = current
                .clone()
                .with_context(|| format!("a rate for {c} outside a <Cube time=…>"))?;
            rows.push((d, currency(c)?, rate(r)?));
        }
    }
    if rows.is_empty() {
        bail!("no <Cube currency=… rate=…> elements found");
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIST_CSV: &str = include_str!("../../../tests/fixtures/ecb/eurofxref-hist.csv");
    const DAILY_CSV: &str = include_str!("../../../tests/fixtures/ecb/eurofxref.csv");
    const DAILY_XML: &str = include_str!("../../../tests/fixtures/ecb/eurofxref-daily.xml");
    const HIST_XML: &str = include_str!("../../../tests/fixtures/ecb/eurofxref-hist.xml");

    fn has(rows: &[(String, String, f64)], day: &str, cur: &str, rate: f64) -> bool {
        rows.iter()
            .any(|(d, c, r)| d == day && c == cur && (r - rate).abs() < 1e-12)
    }

    #[test]
    fn reads_the_history_csv_skipping_missing_rates() {
        let rows = parse(HIST_CSV).unwrap();
        // 3 + 3 + 3 rates; N/A cells and the trailing empty column are skipped.
        assert_eq!(rows.len(), 9);
        assert!(has(&rows, "2027-01-15", "USD", 1.085));
        assert!(has(&rows, "2027-01-13", "CYP", 0.585));
        assert!(!rows.iter().any(|(d, c, _)| d == "2027-01-13" && c == "USD"));
    }

    #[test]
    fn reads_the_daily_csv_with_its_long_dates() {
        let rows = parse(DAILY_CSV).unwrap();
        assert_eq!(rows.len(), 3);
        assert!(has(&rows, "2027-01-15", "JPY", 160.12));
    }

    #[test]
    fn reads_both_xml_files() {
        let daily = parse(DAILY_XML).unwrap();
        assert_eq!(daily.len(), 3);
        assert!(has(&daily, "2027-01-15", "GBP", 0.86));
        let hist = parse(HIST_XML).unwrap();
        assert_eq!(hist.len(), 4);
        assert!(has(&hist, "2027-01-14", "USD", 1.08));
    }

    #[test]
    fn refuses_garbage() {
        assert!(parse("").is_err());
        assert!(parse("Day,USD\n2027-01-01,1").is_err());
        assert!(parse("Date,USD\n2027-01-01,-1").is_err());
        assert!(parse("Date,USD\nyesterday,1").is_err());
        assert!(parse("<Envelope></Envelope>").is_err());
        assert!(parse("<Cube currency='USD' rate='1.1'/>").is_err());
        assert!(parse("<Cube time='2027-01-01'><Cube currency='USD' rate='x'/>").is_err());
    }
}
