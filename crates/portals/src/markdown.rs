//! Markdown documents as HTML (pulldown-cmark): raw HTML in the source is shown as text and
//! links to script URLs go nowhere, so a document cannot run code in a reader's session.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

/// Whether a link or image target is safe to keep (no `javascript:`, `vbscript:`, `data:`).
fn safe_url(url: &str) -> bool {
    // Browsers ignore tabs and newlines inside a URL's scheme: so does this check.
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let before_path = cleaned.split(['/', '?', '#']).next().unwrap_or_default();
    match before_path.split_once(':') {
        None => true,
        Some((scheme, _)) => matches!(
            scheme.to_ascii_lowercase().as_str(),
            "http" | "https" | "mailto"
        ),
    }
}

/// The Markdown `source` as HTML, safe to put into a page.
pub fn to_html(source: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Image {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown_and_neutralises_html_and_script_links() {
        let html = to_html("# Guide\n\n*Order* a [pizza](https://x.test/menu).\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) [also](JavaScript:alert(1))");
        assert!(html.contains("<h1>Guide</h1>"), "{html}");
        assert!(html.contains("<em>Order</em>"), "{html}");
        assert!(html.contains(r#"href="https://x.test/menu""#), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(to_html("[rel](/docs/a:b)").contains(r#"href="/docs/a:b""#));
    }
}
