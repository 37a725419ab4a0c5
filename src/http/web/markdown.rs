//! Entry bodies as HTML for the page: CommonMark (pulldown-cmark, with tables,
//! strikethrough and task lists), where raw HTML is shown as the text it is, never
//! passed through, links go only to http(s), mailto or this site, and images become
//! links (the page loads nothing from other origins).

use pulldown_cmark::{html, Alignment, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// The HTML of a markdown text: safe to put inside an element as it is.
pub fn render(md: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(md, options).map(|e| match e {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // Column alignment would be a style attribute, which the CSP refuses.
        Event::Start(Tag::Table(columns)) => {
            Event::Start(Tag::Table(vec![Alignment::None; columns.len()]))
        }
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            dest_url,
            title,
            id,
            ..
        }) => Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// A link target the page may follow: a relative one, or http, https or mailto.
/// Anything else (`javascript:`, `data:`, `vbscript:`, even when disguised with case,
/// whitespace or control characters) becomes `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let plain: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let scheme_end = plain.find(':');
    let before_path = plain.find(['/', '?', '#']).unwrap_or(plain.len());
    let allowed = match scheme_end {
        Some(i) if i < before_path => {
            let scheme = plain[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    };
    if allowed {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_text() {
        let out = render("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> <b>b</b>");
        assert!(
            !out.contains("<script") && !out.contains("<img") && !out.contains("<b>"),
            "{out}"
        );
        assert!(
            out.contains("&lt;script&gt;") && out.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{out}"
        );
    }

    #[test]
    fn only_safe_links_are_followed() {
        for bad in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](java\tscript:alert(1))",
            "<javascript:alert(1)>",
            "[x](data:text/html,<script>alert(1)</script>)",
            "[x](vbscript:msgbox)",
        ] {
            let out = render(bad);
            // Either no link at all, or one to `#`.
            let hrefs = out.matches("href=\"").count();
            assert_eq!(hrefs, out.matches("href=\"#\"").count(), "{bad}: {out}");
            assert!(
                !out.contains("href=\"j")
                    && !out.contains("href=\"J")
                    && !out.contains("href=\"d")
                    && !out.contains("href=\"v"),
                "{bad}: {out}"
            );
        }
        for good in [
            "[x](https://example.com/a?b#c)",
            "[x](/threads/t)",
            "[x](#e-2)",
            "<mailto:a@b.c>",
            "[x](notes/a:b)",
        ] {
            assert!(!render(good).contains("href=\"#\""), "{good}");
        }
    }

    #[test]
    fn images_become_links_and_markdown_renders() {
        let out = render("![cat](https://cdn.example/cat.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n~~old~~ `code`");
        assert!(!out.contains("<img"), "{out}");
        assert!(
            out.contains("<a href=\"https://cdn.example/cat.png\">cat</a>"),
            "{out}"
        );
        assert!(
            out.contains("<table>")
                && out.contains("<del>old</del>")
                && out.contains("<code>code</code>"),
            "{out}"
        );
        assert!(out.contains("checkbox"), "{out}");
        let aligned = render("| a | b |\n|:--|--:|\n| 1 | 2 |");
        assert!(
            aligned.contains("<td>1</td>") && !aligned.contains("style"),
            "{aligned}"
        );
    }
}
