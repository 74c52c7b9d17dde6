//! Open and click tracking in a campaign email's HTML (issue 14 item 4;
//! docs/campaigns.md, "Tracking"). Every `href` to an `http(s)` URL
//! becomes `{public_url}/r/{token}/{n}?u={url}&s={signature}`: `n` the
//! link's index in this recipient's message, the signature the vault's
//! HMAC of token, index and URL. The redirect (`api/campaigns/tracking.rs`)
//! only follows a URL signed for that recipient's token, so it is never an
//! open redirect, and it needs no table of links (each recipient's links
//! are rendered for them and may differ). A 1×1 pixel
//! `{public_url}/o/{token}.gif` is added before `</body>` (or at the end).
//! The recipient's own unsubscribe link is left as it is.

use crate::state::AppState;

const PURPOSE: &str = "campaign-link";

/// The server's public base (no trailing `/`): `public_url`, else the bind
/// address.
pub fn public_base(state: &AppState) -> String {
    let base = state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.config.addr));
    base.trim_end_matches('/').to_owned()
}

/// The hex signature (128 bits) of link `n` to `url` for `token`.
pub fn signature(state: &AppState, token: &str, n: usize, url: &str) -> String {
    let msg = format!("{token}\0{n}\0{url}");
    let mac = state.vault.sign(PURPOSE, msg.as_bytes());
    mac[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `sig` is the signature of link `n` to `url` for `token`.
pub fn verify(state: &AppState, token: &str, n: usize, url: &str, sig: &str) -> bool {
    let want = signature(state, token, n, url);
    // Constant time: compare every byte whatever the first difference.
    want.len() == sig.len()
        && want
            .bytes()
            .zip(sig.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The HTML entities a rendered attribute may carry (the template
/// language escapes `& < > " ' /`), decoded to the URL itself.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
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

fn is_web(url: &str) -> bool {
    let l = url.trim_start().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// The `http(s)` URLs of the `href`s of `html`, in order, as [`track`]
/// numbers them (entities decoded), with each one's value span.
fn hrefs(html: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("href") {
        let at = from + i;
        from = at + 4;
        // `href` must be an attribute name: `=` (spaces allowed), a quote.
        let after = lower[from..].trim_start();
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let start = html.len() - value.len() + 1;
        let Some(len) = html[start..].find(quote) else {
            break;
        };
        let url = unescape(&html[start..start + len]);
        from = start + len;
        if is_web(&url) {
            out.push((start..start + len, url.trim().to_owned()));
        }
    }
    out
}

/// `html` with its links rewritten to signed redirects and the pixel
/// added, for the recipient with `token` (see the module's comment).
pub fn track(state: &AppState, token: &str, html: &str) -> String {
    let base = public_base(state);
    let unsubscribe = format!("{base}/unsubscribe/");
    let mut out = String::with_capacity(html.len() + 256);
    let mut last = 0;
    for (n, (span, url)) in hrefs(html).into_iter().enumerate() {
        if url.starts_with(&unsubscribe) {
            continue;
        }
        let sig = signature(state, token, n, &url);
        out.push_str(&html[last..span.start]);
        // `&` inside an attribute is written `&amp;`.
        out.push_str(&format!(
            "{base}/r/{token}/{n}?u={}&amp;s={sig}",
            encode(&url)
        ));
        last = span.end;
    }
    out.push_str(&html[last..]);
    let pixel = format!(
        "<img src=\"{base}/o/{token}.gif\" width=\"1\" height=\"1\" alt=\"\" style=\"border:0\">"
    );
    match out.to_ascii_lowercase().rfind("</body>") {
        Some(i) => out.insert_str(i, &pixel),
        None => out.push_str(&pixel),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_web_links_with_their_entities_decoded() {
        let html = r#"<a href="https:&#x2f;&#x2f;shop.example&#x2f;a?x=1&amp;y=2">A</a>
            <a HREF = 'http://b.example/'>B</a> <a href="mailto:x@y">m</a> <p>href</p>"#;
        let urls: Vec<String> = hrefs(html).into_iter().map(|(_, u)| u).collect();
        assert_eq!(
            urls,
            ["https://shop.example/a?x=1&y=2", "http://b.example/"]
        );
    }

    #[test]
    fn encodes_and_unescapes() {
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(unescape("a &amp; &#39; &bogus; &"), "a & ' &bogus; &");
    }
}
