//! Small, dependency-free User-Agent classification: enough for the dashboard's
//! device/browser/OS columns and for ignoring well-known bots. Not a full UA parser.

use crate::message::ClientInfo;

/// Substrings (lower-case) of User-Agents that belong to crawlers, monitors and
/// headless tooling; their traffic is counted and dropped, not stored.
const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "slurp",
    "bingpreview",
    "facebookexternalhit",
    "embedly",
    "lighthouse",
    "pingdom",
    "uptimerobot",
    "statuscake",
    "headlesschrome",
    "phantomjs",
    "python-requests",
    "curl/",
    "wget/",
    "go-http-client",
    "axios/",
    "node-fetch",
    "scrapy",
    "mediapartners-google",
    "adsbot",
    "prerender",
];

pub fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    BOT_MARKERS.iter().any(|m| ua.contains(m))
}

pub fn classify(user_agent: &str) -> ClientInfo {
    let ua = user_agent.to_ascii_lowercase();
    if ua.is_empty() {
        return ClientInfo::default();
    }
    let device = if ua.contains("ipad")
        || (ua.contains("android") && !ua.contains("mobile"))
        || ua.contains("tablet")
    {
        "tablet"
    } else if ua.contains("mobi") || ua.contains("iphone") {
        "mobile"
    } else {
        "desktop"
    };
    let browser = if ua.contains("edg/") || ua.contains("edga/") || ua.contains("edgios/") {
        "Edge"
    } else if ua.contains("opr/") || ua.contains("opera") {
        "Opera"
    } else if ua.contains("samsungbrowser") {
        "Samsung Internet"
    } else if ua.contains("firefox/") || ua.contains("fxios/") {
        "Firefox"
    } else if ua.contains("chrome/") || ua.contains("crios/") || ua.contains("chromium/") {
        "Chrome"
    } else if ua.contains("safari/") {
        "Safari"
    } else {
        "Other"
    };
    let os = if ua.contains("iphone") || ua.contains("ipad") || ua.contains("ios") {
        "iOS"
    } else if ua.contains("android") {
        "Android"
    } else if ua.contains("windows") {
        "Windows"
    } else if ua.contains("mac os") || ua.contains("macintosh") {
        "macOS"
    } else if ua.contains("cros") {
        "ChromeOS"
    } else if ua.contains("linux") {
        "Linux"
    } else {
        "Other"
    };
    ClientInfo {
        device: Some(device.into()),
        browser: Some(browser.into()),
        os: Some(os.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_common_agents() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        let c = classify(iphone);
        assert_eq!(
            (c.device.as_deref(), c.browser.as_deref(), c.os.as_deref()),
            (Some("mobile"), Some("Safari"), Some("iOS"))
        );
        let win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        let c = classify(win);
        assert_eq!(
            (c.device.as_deref(), c.browser.as_deref(), c.os.as_deref()),
            (Some("desktop"), Some("Edge"), Some("Windows"))
        );
        let ff = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
        assert_eq!(classify(ff).browser.as_deref(), Some("Firefox"));
    }

    #[test]
    fn spots_bots() {
        assert!(is_bot(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        ));
        assert!(is_bot("curl/8.0"));
        assert!(!is_bot(
            "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
        ));
    }
}
