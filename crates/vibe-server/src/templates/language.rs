//! One template language for every part of a message template.
//!
//! MiniJinja (`{{ contact.name }}`, `{% if %}`, `{% for %}`, filters) in an
//! environment that starts empty and gets only the filters and tests listed
//! in [`FILTERS`] and [`TESTS`]: no `safe` (traits come from the public
//! tracker, so a visitor could otherwise put markup into an email), no
//! functions or globals (`range`, `debug`), no `include`/`extends`/macros
//! (those crate features are off). Undefined values are chainable and print
//! as nothing, so `{{ contact.traits.plan }}` is empty for a contact without
//! that trait. Every render has a fuel budget (instructions and memory), so a
//! template cannot loop for long or build huge strings.
//!
//! Saving a template runs [`check`] on each part: a syntax error, a filter or
//! test outside the list, or a variable other than `contact`, `data` and
//! `unsubscribe_url` is refused with the part's field and, where the source
//! has one, its line. MiniJinja itself only finds unknown filters when it
//! runs them, so [`used_names`] reads the filter and test names out of the
//! (already parsed) source to check every branch, not just the one a render
//! takes.

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};

/// Instructions (and about 64 bytes of memory each) one part may use per
/// render: far above what a message needs (a 1,000-item loop with a few
/// filters is ~20,000), and bounded.
const FUEL: u64 = 200_000;

/// A rendered part longer than this (bytes) is refused; an email body is
/// rarely above 100 KB.
pub const MAX_RENDERED_BYTES: usize = 1024 * 1024;

/// The filters a template may use, as docs/templates.md lists them.
pub const FILTERS: &[&str] = &[
    "abs",
    "capitalize",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "lower",
    "replace",
    "round",
    "title",
    "trim",
    "upper",
    "urlencode",
];

/// The tests (`x is defined`) a template may use.
pub const TESTS: &[&str] = &["defined", "undefined", "none", "number", "string"];

/// The variables a template may name at its top level.
pub const VARIABLES: &[&str] = &["contact", "data", "unsubscribe_url"];

/// The parts of a template, each named as its API field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Subject,
    BodyHtml,
    BodyText,
    PushTitle,
    PushBody,
    PushUrl,
    PushIcon,
}

impl Part {
    pub const ALL: [Self; 7] = [
        Self::Subject,
        Self::BodyHtml,
        Self::BodyText,
        Self::PushTitle,
        Self::PushBody,
        Self::PushUrl,
        Self::PushIcon,
    ];

    /// The request field the part comes from (`push.title`…).
    pub fn field(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::BodyHtml => "body_html",
            Self::BodyText => "body_text",
            Self::PushTitle => "push.title",
            Self::PushBody => "push.body",
            Self::PushUrl => "push.url",
            Self::PushIcon => "push.icon",
        }
    }

    /// Only the HTML body is HTML: everything else is plain text (a subject,
    /// a text part, a notification) and must show `<` as `<`.
    fn escape(self) -> AutoEscape {
        match self {
            Self::BodyHtml => AutoEscape::Html,
            _ => AutoEscape::None,
        }
    }
}

/// A part that cannot be saved or rendered: its field, the line (1-based)
/// where the source has one, and a message that names the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub field: &'static str,
    pub line: Option<usize>,
    pub message: String,
}

impl TemplateError {
    fn new(part: Part, line: Option<usize>, what: impl Into<String>) -> Self {
        let what = what.into();
        let message = match line {
            Some(n) => format!("{what} (line {n})"),
            None => what,
        };
        Self {
            field: part.field(),
            line,
            message,
        }
    }

    fn from_engine(part: Part, e: &minijinja::Error) -> Self {
        let what = match (e.kind(), e.detail()) {
            (ErrorKind::OutOfFuel, _) => {
                "the template does too much work (a loop or string too large)".to_owned()
            }
            (kind, Some(detail)) => format!("{kind}: {detail}"),
            (kind, None) => kind.to_string(),
        };
        Self::new(part, e.line(), what)
    }
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Registers the listed filters and tests: one line each, and the unit test
/// `every_listed_name_is_registered` keeps the lists and this in step.
fn environment<'s>() -> Environment<'s> {
    use minijinja::{filters as f, tests as t};
    let mut env = Environment::empty();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(FUEL));
    // Each part is compiled under its field's name, which picks its escaping.
    env.set_auto_escape_callback(|name| {
        Part::ALL
            .into_iter()
            .find(|p| p.field() == name)
            .map_or(AutoEscape::None, Part::escape)
    });
    env.add_filter("abs", f::abs);
    env.add_filter("capitalize", f::capitalize);
    env.add_filter("d", f::default);
    env.add_filter("default", f::default);
    env.add_filter("e", f::escape);
    env.add_filter("escape", f::escape);
    env.add_filter("first", f::first);
    env.add_filter("float", f::float);
    env.add_filter("int", f::int);
    env.add_filter("join", f::join);
    env.add_filter("last", f::last);
    env.add_filter("length", f::length);
    env.add_filter("lower", f::lower);
    env.add_filter("replace", f::replace);
    env.add_filter("round", f::round);
    env.add_filter("title", f::title);
    env.add_filter("trim", f::trim);
    env.add_filter("upper", f::upper);
    env.add_filter("urlencode", f::urlencode);
    env.add_test("defined", t::is_defined);
    env.add_test("undefined", t::is_undefined);
    env.add_test("none", t::is_none);
    env.add_test("number", t::is_number);
    env.add_test("string", t::is_string);
    env
}

/// Parses `source` as `part` and checks every filter, test and top-level
/// variable it names.
pub fn check(part: Part, source: &str) -> Result<(), TemplateError> {
    let env = environment();
    let tpl = env
        .template_from_named_str(part.field(), source)
        .map_err(|e| TemplateError::from_engine(part, &e))?;
    for used in used_names(source) {
        let (list, what) = match used.kind {
            NameKind::Filter => (FILTERS, "filter"),
            NameKind::Test => (TESTS, "test"),
        };
        if !list.contains(&used.name.as_str()) {
            return Err(TemplateError::new(
                part,
                Some(used.line),
                format!(
                    "unknown {what} `{}` (allowed: {})",
                    used.name,
                    list.join(", ")
                ),
            ));
        }
    }
    let mut unknown: Vec<String> = tpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !VARIABLES.contains(&v.as_str()))
        .collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        return Err(TemplateError::new(
            part,
            line_of_word(source, name),
            format!(
                "unknown variable `{name}` (known: {})",
                VARIABLES.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Renders `source` as `part` with `context` (an object with the
/// [`VARIABLES`]).
pub fn render(
    part: Part,
    source: &str,
    context: &serde_json::Value,
) -> Result<String, TemplateError> {
    let env = environment();
    let tpl = env
        .template_from_named_str(part.field(), source)
        .map_err(|e| TemplateError::from_engine(part, &e))?;
    let out = tpl
        .render(Value::from(minijinja::value::Serde(context)))
        .map_err(|e| TemplateError::from_engine(part, &e))?;
    if out.len() > MAX_RENDERED_BYTES {
        return Err(TemplateError::new(
            part,
            None,
            format!("renders to more than {MAX_RENDERED_BYTES} bytes"),
        ));
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    Filter,
    Test,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct UsedName {
    kind: NameKind,
    name: String,
    line: usize,
}

/// The filter and test names `source` uses, with their lines: `x | name`
/// and `{% filter name %}` are filters, `x is [not] name` tests. Only the
/// insides of `{{ … }}` and `{% … %}` are read (not text, comments or
/// `{% raw %}` blocks), and string literals inside them are skipped, so a
/// `|` in `"a|b"` is not a filter. Runs on sources MiniJinja has parsed,
/// so tags and strings are closed.
fn used_names(source: &str) -> Vec<UsedName> {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_raw = false;
    while i + 1 < b.len() {
        let open = &b[i..i + 2];
        if open == b"{#" {
            i = find(b, i + 2, b"#}").map_or(b.len(), |e| e + 2);
            continue;
        }
        if open != b"{{" && open != b"{%" {
            i += 1;
            continue;
        }
        let close: &[u8] = if open == b"{{" { b"}}" } else { b"%}" };
        let start = i + 2;
        let end = tag_end(b, start, close);
        let words = words(source, start, end);
        let first = words.first().map(|w| w.text.as_str());
        let first = first.map(|w| w.trim_start_matches(['-', '+']));
        if open == b"{%" {
            match first {
                Some("raw") => in_raw = true,
                Some("endraw") => in_raw = false,
                _ => {}
            }
        }
        if !in_raw {
            scan_tag(&words, open == b"{%", &mut out);
        }
        i = (end + 2).min(b.len());
    }
    out
}

/// Where `close` ends the tag opened before `start`, skipping strings.
fn tag_end(b: &[u8], start: usize, close: &[u8]) -> usize {
    let mut i = start;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => i = string_end(b, i + 1, q),
            _ if b[i..].starts_with(close) => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// The index after the string literal whose body starts at `i`.
fn string_end(b: &[u8], mut i: usize, quote: u8) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn find(b: &[u8], from: usize, what: &[u8]) -> Option<usize> {
    (from..b.len().saturating_sub(what.len() - 1)).find(|&i| b[i..].starts_with(what))
}

/// A token of a tag: an identifier, `|`, or any other character; strings
/// are one `"…"` token.
#[derive(Debug)]
struct Word {
    text: String,
    line: usize,
}

fn words(source: &str, start: usize, end: usize) -> Vec<Word> {
    let b = source.as_bytes();
    let mut line = 1 + b[..start].iter().filter(|&&c| c == b'\n').count();
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'"' || c == b'\'' {
            let e = string_end(b, i + 1, c).min(end);
            line += b[i..e].iter().filter(|&&c| c == b'\n').count();
            out.push(Word {
                text: "\"".into(),
                line,
            });
            i = e;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < end && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Word {
                text: source[s..i].to_owned(),
                line,
            });
        } else {
            // One character (UTF-8 continuation bytes are skipped whole).
            let len = source[i..].chars().next().map_or(1, char::len_utf8);
            out.push(Word {
                text: source[i..i + len].to_owned(),
                line,
            });
            i += len;
        }
    }
    out
}

fn is_ident(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
}

fn scan_tag(words: &[Word], statement: bool, out: &mut Vec<UsedName>) {
    let used = |kind, w: &Word| UsedName {
        kind,
        name: w.text.clone(),
        line: w.line,
    };
    // `{% filter upper %}…{% endfilter %}` (after an optional `-`/`+`).
    let body = match words.first().map(|w| w.text.as_str()) {
        Some("-" | "+") => &words[1..],
        _ => words,
    };
    if statement && body.first().is_some_and(|w| w.text == "filter") {
        if let Some(w) = body.get(1).filter(|w| is_ident(&w.text)) {
            out.push(used(NameKind::Filter, w));
        }
    }
    for (k, w) in body.iter().enumerate() {
        if w.text == "|" {
            if let Some(n) = body.get(k + 1).filter(|n| is_ident(&n.text)) {
                out.push(used(NameKind::Filter, n));
            }
        } else if w.text == "is" {
            let mut n = body.get(k + 1);
            if n.is_some_and(|n| n.text == "not") {
                n = body.get(k + 2);
            }
            if let Some(n) = n.filter(|n| is_ident(&n.text)) {
                out.push(used(NameKind::Test, n));
            }
        }
    }
}

/// The first line on which `word` appears as a whole word, if any.
fn line_of_word(source: &str, word: &str) -> Option<usize> {
    source
        .lines()
        .position(|l| {
            l.match_indices(word).any(|(i, _)| {
                let before = l[..i].chars().next_back();
                let after = l[i + word.len()..].chars().next();
                let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !part(before) && !part(after)
            })
        })
        .map(|n| n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> serde_json::Value {
        json!({
            "contact": {"name": "Ada", "email": "ada@example.com",
                "traits": {"plan": "pro", "note": "<script>alert(1)</script>"}},
            "unsubscribe_url": "https://vibe.example/unsubscribe/preview",
            "data": {"items": ["a", "b"]},
        })
    }

    #[test]
    fn renders_variables_and_escapes_html_only() {
        let html = render(
            Part::BodyHtml,
            "<p>Hi {{ contact.name }} ({{ contact.traits.plan | upper }}) {{ contact.traits.note }}</p>",
            &ctx(),
        )
        .unwrap();
        assert_eq!(
            html,
            "<p>Hi Ada (PRO) &lt;script&gt;alert(1)&lt;&#x2f;script&gt;</p>"
        );
        for part in [Part::Subject, Part::BodyText, Part::PushBody] {
            let text = render(part, "{{ contact.traits.note }}", &ctx()).unwrap();
            assert_eq!(text, "<script>alert(1)</script>", "{part:?}");
        }
        // Missing values print as nothing, however deep.
        let out = render(
            Part::Subject,
            "[{{ contact.traits.missing.deeper }}]",
            &ctx(),
        )
        .unwrap();
        assert_eq!(out, "[]");
        let out = render(
            Part::BodyText,
            "{% for i in data.items %}{{ loop.index }}{{ i }} {% endfor %}{{ unsubscribe_url }}",
            &ctx(),
        )
        .unwrap();
        assert_eq!(out, "1a 2b https://vibe.example/unsubscribe/preview");
    }

    #[test]
    fn syntax_errors_name_the_field_and_line() {
        let e = check(Part::BodyHtml, "<p>\n{% if contact.name %}\nHi\n").unwrap_err();
        assert_eq!(e.field, "body_html");
        assert!(e.line.is_some(), "{e:?}");
        assert!(e.message.contains("syntax error"), "{e:?}");
        assert!(
            e.message.contains(&format!("line {}", e.line.unwrap())),
            "{e:?}"
        );

        let e = check(Part::Subject, "Hello {{ contact.name").unwrap_err();
        assert_eq!((e.field, e.line), ("subject", Some(1)));
        let e = check(Part::PushTitle, "a\nb\n{{ }}").unwrap_err();
        assert_eq!((e.field, e.line), ("push.title", Some(3)));
    }

    #[test]
    fn unknown_filters_and_tests_are_found_in_every_branch() {
        let src = "{% if false %}\n{{ contact.name | shout }}\n{% endif %}";
        let e = check(Part::BodyText, src).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("unknown filter `shout`"), "{e:?}");
        assert!(e.message.contains("line 2"), "{e:?}");
        // `safe` is deliberately not offered.
        let e = check(Part::BodyHtml, "{{ contact.traits.bio|safe }}").unwrap_err();
        assert!(e.message.contains("unknown filter `safe`"), "{e:?}");
        let e = check(Part::BodyHtml, "{% filter shout %}x{% endfilter %}").unwrap_err();
        assert!(e.message.contains("`shout`"), "{e:?}");
        let e = check(
            Part::Subject,
            "x\n{% if contact.name is not odd %}{% endif %}",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("unknown test `odd`"), "{e:?}");
        // Pipes and words inside strings, comments and raw blocks are text.
        check(
            Part::BodyText,
            "{{ \"a | shout\" }}{# x | shout #}{% raw %}{{ y | shout }}{% endraw %}{{ 'is odd' }}",
        )
        .unwrap();
        check(
            Part::BodyText,
            "{{ contact.name | default('there') | title }}{% if data.x is defined %}{% endif %}",
        )
        .unwrap();
    }

    #[test]
    fn unknown_variables_and_functions_are_refused() {
        let e = check(Part::BodyText, "Hi\n{{ contac.name }}").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("unknown variable `contac`"), "{e:?}");
        let e = check(Part::BodyText, "{% for i in range(10) %}{% endfor %}").unwrap_err();
        assert!(e.message.contains("`range`"), "{e:?}");
        // Variables a template sets itself are its own.
        check(
            Part::BodyText,
            "{% set n = contact.name %}{{ n }}{% for i in data.items %}{{ i }}{% endfor %}",
        )
        .unwrap();
    }

    #[test]
    fn a_render_has_a_budget() {
        let src = "{% for a in data.items %}{% for b in data.items %}{% for c in data.items %}{{ a }}{% endfor %}{% endfor %}{% endfor %}";
        let big = json!({"data": {"items": (0..200).collect::<Vec<_>>()}});
        let e = render(Part::BodyText, src, &big).unwrap_err();
        assert!(e.message.contains("too much work"), "{e:?}");
        let e = render(Part::BodyText, "{{ 'x' * 100000000 }}", &ctx());
        assert!(e.is_err(), "{e:?}");
    }

    #[test]
    fn every_listed_name_is_registered() {
        for f in FILTERS {
            let src = format!("{{{{ 1 | {f} }}}}");
            if let Err(e) = render(Part::BodyText, &src, &ctx()) {
                assert!(!e.message.contains("unknown filter"), "{f}: {e:?}");
            }
        }
        for t in TESTS {
            let src = format!("{{% if 1 is {t} %}}{{% endif %}}");
            if let Err(e) = render(Part::BodyText, &src, &ctx()) {
                assert!(!e.message.contains("unknown test"), "{t}: {e:?}");
            }
        }
        // And nothing else is.
        let e = render(Part::BodyText, "{{ 1 | safe }}", &ctx()).unwrap_err();
        assert!(e.message.contains("unknown filter"), "{e:?}");
    }
}
