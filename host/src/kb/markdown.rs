//! Article bodies: Markdown in, safe HTML and plain text out.
//!
//! Whatever a merchant (or an attacker holding their key) writes, no script
//! reaches a storefront: raw HTML is shown as text, and links and images
//! keep only `http(s)`, `mailto` and same-site addresses. The plain text is
//! what the search index sees (no URLs, no markup).

use pulldown_cmark::{Event, Parser, Tag, TagEnd, html};

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"))
        || lower.starts_with('#')
}

/// Render `markdown` to HTML that is safe to insert into a page. A link
/// or image with an unsafe address keeps its text and loses the element.
pub fn to_html(markdown: &str) -> String {
    // Per open link/image: whether it was dropped (so its end is too).
    let mut dropped: Vec<bool> = Vec::new();
    let events = Parser::new(markdown).filter_map(|event| match event {
        // Raw HTML is shown, never interpreted.
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { ref dest_url, .. } | Tag::Image { ref dest_url, .. }) => {
            let unsafe_url = !safe_url(dest_url);
            dropped.push(unsafe_url);
            (!unsafe_url).then_some(event)
        }
        Event::End(TagEnd::Link | TagEnd::Image) => {
            (!dropped.pop().unwrap_or(false)).then_some(event)
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The words of `markdown`, without markup or addresses, for indexing.
pub fn to_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut lead_done = false;
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                out.push_str(&t)
            }
            // The first paragraph ends with a blank line: search weighs it
            // more than the rest.
            Event::End(TagEnd::Paragraph) if !lead_done => {
                lead_done = true;
                out.push_str("\n\n")
            }
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => out.push(' '),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders() {
        let html = to_html("# Returns\n\nSend it **back** within [14 days](/returns).");
        assert!(html.contains("<h1>Returns</h1>"), "{html}");
        assert!(html.contains("<strong>back</strong>"), "{html}");
        assert!(html.contains(r#"<a href="/returns">14 days</a>"#), "{html}");
    }

    #[test]
    fn no_script_or_handler_survives() {
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "![x](data:text/html,<script>alert(1)</script>)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[x](//evil.example/steal)",
            "<svg onload=alert(1)>",
        ] {
            let html = to_html(attack).to_ascii_lowercase();
            // Every tag in the output is one Markdown makes, and no
            // address in it can run code.
            for tag in html.split('<').skip(1) {
                let tag = tag.split('>').next().unwrap_or("");
                let name: String = tag
                    .trim_start_matches('/')
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                assert!(
                    [
                        "p",
                        "a",
                        "img",
                        "strong",
                        "em",
                        "code",
                        "pre",
                        "h1",
                        "h2",
                        "h3",
                        "ul",
                        "ol",
                        "li",
                        "blockquote",
                        "br",
                        "hr"
                    ]
                    .contains(&name.as_str()),
                    "{attack} -> {html}"
                );
                assert!(
                    !tag.contains("javascript:") && !tag.contains("data:") && !tag.contains("\"//"),
                    "{attack} -> {html}"
                );
                assert!(!tag.contains(" on"), "{attack} -> {html}");
            }
        }
    }

    #[test]
    fn unsafe_links_become_plain_text() {
        let html = to_html("[click me](javascript:alert(1)) and ![alt](data:x)");
        assert!(!html.contains("<a") && !html.contains("<img"), "{html}");
        assert!(html.contains("click me") && html.contains("alt"), "{html}");
        assert!(
            to_html("[ok](https://a.example)").contains("<a href=\"https://a.example\">ok</a>")
        );
    }

    #[test]
    fn text_keeps_words_and_drops_addresses() {
        let text = to_text("## Refunds\nSee [our policy](https://shop.example/policy) and `code`.");
        assert!(
            text.contains("Refunds") && text.contains("our policy") && text.contains("code"),
            "{text}"
        );
        assert!(!text.contains("https"), "{text}");
    }
}
