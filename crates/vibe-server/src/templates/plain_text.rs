//! The plain-text part of an email derived from its rendered HTML, for
//! templates without a `body_text`: what a mail client shows when it does
//! not show HTML, and what spam filters expect beside it.
//!
//! Deliberately small: tags are dropped, `<script>`, `<style>`, `<head>` and
//! `<title>` with their content; blocks (`<p>`, `<div>`, `<li>`, headings,
//! rows) start a new line and `<br>` breaks one, `<li>` starts with `- `; a link keeps
//! its URL after its text (`Pricing (https://…)`) unless the text is the
//! URL; the common entities are decoded (the text part is not HTML, so
//! `&lt;` is shown as `<`); runs of spaces collapse to one and of blank
//! lines to one.

/// Tags whose content is not text.
const SKIPPED: &[&str] = &["script", "style", "head", "title"];
/// Blocks: their text starts and ends on a line of its own.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "blockquote",
    "section",
    "article",
    "header",
    "footer",
];

pub fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    // The open link's URL and where its text starts in `out`.
    let mut link: Option<(String, usize)> = None;
    let mut rest = html;
    let last_gt = html.rfind('>');
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt]);
        rest = &rest[lt..];
        if last_gt.is_none_or(|g| g < html.len() - rest.len()) {
            break; // no `>` ahead: the rest is text (pushed below)
        }
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |e| &rest[e + 3..]);
            continue;
        }
        let Some(gt) = tag_close(rest) else {
            // A lone `<` is text.
            push_text(&mut out, "<");
            rest = &rest[1..];
            continue;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if !closing && SKIPPED.contains(&name.as_str()) {
            let end = format!("</{name}");
            rest = find_ci(rest, &end)
                .and_then(|i| rest[i..].find('>').map(|g| &rest[i + g + 1..]))
                .unwrap_or("");
            continue;
        }
        match (name.as_str(), closing) {
            ("a", false) => link = attribute(tag, "href").map(|u| (u, out.len())),
            ("a", true) => {
                if let Some((url, start)) = link.take() {
                    let text = out[start..].trim();
                    let shown = text.trim_end_matches('/') == url.trim_end_matches('/');
                    let useful = !url.is_empty() && !url.starts_with('#');
                    if useful && !shown {
                        if text.is_empty() {
                            out.push_str(&url);
                        } else {
                            out.push_str(&format!(" ({url})"));
                        }
                    }
                }
            }
            ("li", false) => {
                new_line(&mut out);
                out.push_str("- ");
            }
            ("br" | "hr", _) => out.push('\n'),
            (n, _) if BLOCKS.contains(&n) => new_line(&mut out),
            _ => {}
        }
    }
    push_text(&mut out, rest);
    tidy(&out)
}

/// The longest tag looked for: a `<` with no `>` within it is text. Without
/// a bound every `<a` of a body scanned to the next `>` (a quadratic walk a
/// 256K-character body could make last seconds); after the last `>` the
/// rest is text at once.
const MAX_TAG: usize = 2 * 1024;

/// The `>` that ends the tag at the start of `s`, skipping quoted values.
fn tag_close(s: &str) -> Option<usize> {
    let second = s[1..].chars().next()?;
    if !(second.is_ascii_alphabetic() || second == '/' || second == '!') {
        return None;
    }
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        if i > MAX_TAG {
            return None;
        }
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Where `needle` (lowercase ASCII) starts in `hay`, ignoring ASCII case.
fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The value of `name="…"` (or `'…'`, or bare) in a tag's text, decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name).map(|i| i + from) {
        from = i + name.len();
        let before = lower[..i].chars().next_back();
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let after = tag[from..].trim_start();
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let raw = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        return Some(decode(raw.trim()));
    }
    None
}

/// Starts a new line unless the text is at the start of one: two blocks
/// in a row are one line break, only `<br>`s make blank lines.
fn new_line(out: &mut String) {
    let end = out.trim_end_matches(' ');
    if !end.is_empty() && !end.ends_with('\n') {
        out.push('\n');
    }
}

/// Text between tags: whitespace, line breaks included, is one space (as a
/// browser shows it); `\n` in `out` only ever comes from tags.
fn push_text(out: &mut String, html: &str) {
    let text = decode(html);
    out.extend(
        text.chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c }),
    );
}

/// The named entities emails use most, and numeric ones.
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|&e| e <= 12);
        let decoded = end.and_then(|e| entity(&rest[1..e]).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let n = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(n);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "copy" => '©',
        "reg" => '®',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "euro" => '€',
        _ => return None,
    })
}

/// One space for any run of whitespace within a line, lines trimmed, at
/// most one blank line in a row, none at the ends.
fn tidy(s: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in s.split('\n') {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(String::is_empty) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_keeps_link_urls() {
        let html = r#"<html><head><title>T</title><style>p { color: red }</style></head>
            <body><h1>Hello   Ada</h1><p>Our <b>new</b> plan:
            <a href="https://shop.example/pricing?a=1&amp;b=2">see pricing</a>.</p>
            <p><a href="https://shop.example/">https://shop.example</a></p>
            <script>alert(1)</script><p>Bye &amp; thanks&nbsp;&#8212; &lt;team&gt;</p></body></html>"#;
        assert_eq!(
            html_to_text(html),
            "Hello Ada\nOur new plan: see pricing (https://shop.example/pricing?a=1&b=2).\n\
             https://shop.example\nBye & thanks — <team>"
        );
    }

    #[test]
    fn a_lt_without_a_near_gt_is_text() {
        // 100k unclosed `<a`: each is text, found without rescanning the rest.
        let html = "<a".repeat(100_000);
        let started = std::time::Instant::now();
        let text = html_to_text(&html);
        assert_eq!(text.matches("<a").count(), 100_000);
        // With one `>` at the end each `<a` looks at most MAX_TAG ahead: all
        // but those within MAX_TAG of it are text (those make one tag).
        let closed = format!("{}>", "<a".repeat(5_000));
        assert!(html_to_text(&closed).matches("<a").count() >= 5_000 - MAX_TAG / 2);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // A tag longer than the bound is text too; a long one within it is a tag.
        let long = format!("<b title=\"{}\">x", "y".repeat(MAX_TAG));
        assert!(html_to_text(&long).starts_with("<b title="));
        let ok = format!("<b title=\"{}\">x", "y".repeat(1000));
        assert_eq!(html_to_text(&ok), "x");
    }

    #[test]
    fn lists_breaks_and_blank_lines() {
        let html = "<ul><li>One</li><li>Two</li></ul><br><br><br><p>End<br/>here</p>";
        assert_eq!(html_to_text(html), "- One\n- Two\n\nEnd\nhere");
        assert_eq!(html_to_text("<p>a</p>\n\n\n\n<p>b</p>"), "a\nb");
        assert_eq!(html_to_text("<div><p>a<br><br>b</p></div>"), "a\n\nb");
    }

    #[test]
    fn odd_input_stays_text() {
        assert_eq!(html_to_text("1 < 2 and 3 > 2"), "1 < 2 and 3 > 2");
        assert_eq!(html_to_text("a <!-- hidden --> b"), "a b");
        assert_eq!(html_to_text("fish &chips; &bogus;"), "fish &chips; &bogus;");
        assert_eq!(
            html_to_text(r#"<a href='#top'>Top</a> <a href="x">"#),
            "Top"
        );
        assert_eq!(
            html_to_text(r#"<a title="a > b" href=https://x.example>go</a>"#),
            "go (https://x.example)"
        );
        assert_eq!(
            html_to_text(r#"<a href="https://x.example/img"><img src="i.png"></a>"#),
            "https://x.example/img"
        );
        assert_eq!(html_to_text(""), "");
    }
}
