//! The page's HTML (maud: every value escaped unless marked as HTML, which only the
//! markdown renderer's output is). Server-rendered; `/assets/app.js` adds the live
//! updates and the keys, and everything works without it but for those.

use crate::store::summary::ThreadSummary;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// What every signed-in page shows around its content.
pub struct Frame {
    /// The page's title.
    pub title: String,
    /// The URL prefix of the repository's pages: empty, or `/repos/{owner}/{name}`.
    pub prefix: String,
    /// `owner/name`.
    pub repo: String,
    /// The `repo` parameter of sign-in links: empty for the default repository.
    pub repo_param: String,
    /// Who is signed in.
    pub login: String,
    /// The forms' token.
    pub csrf: String,
    /// The long-poll URL of the live updates (with its cursor), if any.
    pub live: Option<String>,
    /// What the search box holds.
    pub query: String,
    /// Repositories to suggest in the picker (`owner/name`); `None` when one is
    /// served (no picker).
    pub repos: Option<Vec<String>>,
}

/// The relative time of a timestamp, `now` in Unix seconds.
pub fn ago(timestamp: &str, now: i64) -> String {
    let Some(t) = crate::thread::timestamp::parse(timestamp) else {
        return timestamp.to_string();
    };
    let s = (now - t).max(0);
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        86_400..=2_591_999 => format!("{} d ago", s / 86_400),
        _ => timestamp.get(..10).unwrap_or(timestamp).to_string(),
    }
}

fn time(timestamp: &str, now: i64) -> Markup {
    html! { time datetime=(timestamp) title=(timestamp) { (ago(timestamp, now)) } }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            title { (title) " · watercooler" }
            link rel="stylesheet" href="/assets/app.css";
            script src="/assets/app.js" defer {}
        }
    }
}

/// A signed-in page.
pub fn layout(f: &Frame, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(&f.title))
            body data-live=[f.live.as_deref()] data-repo=(f.repo) {
                header.top {
                    a.brand href={ (f.prefix) "/" } { "watercooler" }
                    span.repo { (f.repo) }
                    @if let Some(repos) = &f.repos {
                        form.pick action="/pick" method="get" {
                            input name="repo" list="repos" placeholder="owner/name" aria-label="Repository" required;
                            datalist #repos { @for r in repos { option value=(r) {} } }
                            button { "Open" }
                        }
                    }
                    form.search action={ (f.prefix) "/search" } method="get" role="search" {
                        input type="search" name="q" value=(f.query) placeholder="Search entries" aria-label="Search entries";
                    }
                    span.who { (f.login) }
                    form.signout action="/auth/signout" method="post" {
                        input type="hidden" name="csrf" value=(f.csrf);
                        input type="hidden" name="repo" value=(f.repo_param);
                        button { "Sign out" }
                    }
                }
                main #main { (content) }
            }
        }
    }
}

/// The page for someone not signed in: a sign-in button and nothing else.
/// `notice` says why (a form sent after the session ended).
pub fn signin(repo: &str, href: &str, enabled: bool, notice: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in"))
            body.signin {
                main #main {
                    h1 { "watercooler" }
                    @if let Some(n) = notice { p.error role="alert" { (n) } }
                    @if enabled {
                        p { "The threads of " b { (repo) } ", for the people on the team." }
                        a.button href=(href) { "Sign in with GitHub" }
                    } @else {
                        p { "Sign-in is not enabled on this server: the operator sets GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET and OAUTH_SIGNING_KEY." }
                    }
                }
            }
        }
    }
}

/// Whether the ball is with `login`'s side: its user tag (`Agent (user)`) is theirs.
pub fn yours(ball: &str, login: &str) -> bool {
    ball.trim()
        .rsplit_once('(')
        .map(|(_, user)| user.trim_end_matches(')').trim())
        .is_some_and(|u| u.eq_ignore_ascii_case(login))
}

/// The thread list's sections for `login`: your turn, new for you, waiting on
/// others, closed (each most recent first, as given).
pub fn sections<'a>(
    threads: &'a [ThreadSummary],
    login: &str,
) -> [(&'static str, &'static str, Vec<&'a ThreadSummary>); 4] {
    let mine = |t: &ThreadSummary| t.open && yours(&t.ball, login);
    [
        (
            "your-turn",
            "Your turn",
            threads
                .iter()
                .filter(|t| mine(t) && !t.new_for_ball)
                .collect(),
        ),
        (
            "new",
            "New for you",
            threads
                .iter()
                .filter(|t| mine(t) && t.new_for_ball)
                .collect(),
        ),
        (
            "waiting",
            "Waiting on others",
            threads.iter().filter(|t| t.open && !mine(t)).collect(),
        ),
        (
            "closed",
            "Closed",
            threads.iter().filter(|t| !t.open).collect(),
        ),
    ]
}

fn row(prefix: &str, t: &ThreadSummary, now: i64) -> Markup {
    html! {
        li.row data-topic=(t.topic) data-entries=(t.entries) {
            a.topic href={ (prefix) "/threads/" (t.topic) } { (t.topic) }
            span.status { (t.status) }
            span.ball title="Ball" { "⚑ " (t.ball) }
            span.count { (t.entries) @if t.entries == 1 { " entry" } @else { " entries" } }
            @if let Some(p) = t.pending.filter(|p| *p > 0) { span.badge.pending { (p) " pending" } }
            @if let Some(a) = &t.last_author { span.last { (a) } }
            @if let Some(at) = &t.last_entry_at { (time(at, now)) }
        }
    }
}

/// `/`: the threads in sections.
pub fn list(prefix: &str, threads: &[ThreadSummary], login: &str, now: i64) -> Markup {
    html! {
        div #content {
            @if threads.is_empty() { p.empty { "No threads yet. Agents start one with watercooler_say." } }
            @for (id, heading, rows) in sections(threads, login) {
                @if id == "closed" {
                    details.section #(id) {
                        summary { h2 { (heading) " " span.n { (rows.len()) } } }
                        ul.rows { @for t in &rows { (row(prefix, t, now)) } }
                    }
                } @else {
                    section.section #(id) {
                        h2 { (heading) " " span.n { (rows.len()) } }
                        @if rows.is_empty() { p.empty { "Nothing here." } }
                        ul.rows { @for t in &rows { (row(prefix, t, now)) } }
                    }
                }
            }
        }
    }
}

/// One entry as the thread page shows it.
pub struct EntryView {
    /// Its position.
    pub index: usize,
    /// `Agent (user)`.
    pub author: String,
    /// The Role line.
    pub role: Option<String>,
    /// The Type line.
    pub kind: Option<String>,
    /// When (as written).
    pub at: String,
    /// The Title line.
    pub title: Option<String>,
    /// The body, rendered (safe HTML).
    pub body_html: String,
    /// Accepted, not committed yet.
    pub pending: bool,
}

/// The thread page's parts.
pub struct ThreadView {
    /// The topic.
    pub topic: String,
    /// The Status line.
    pub status: String,
    /// The Ball line.
    pub ball: String,
    /// The entries, oldest first.
    pub entries: Vec<EntryView>,
    /// The file on GitHub, and its history.
    pub links: Option<(String, String)>,
    /// The agents who wrote here (to answer as, or hand off to).
    pub agents: Vec<String>,
}

/// What the reply form held, when it comes back with an error.
#[derive(Default)]
pub struct Reply {
    /// Answering as.
    pub agent: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Handoff target.
    pub target: String,
    /// Why it was refused.
    pub error: Option<String>,
}

/// `/threads/{topic}`.
pub fn thread(f: &Frame, t: &ThreadView, can_write: bool, reply: &Reply, now: i64) -> Markup {
    html! {
        div #content data-topic=(t.topic) data-entries=(t.entries.len()) {
            h1.topic { (t.topic) }
            p.meta {
                span.status { (t.status) } " "
                span.ball { "⚑ Ball: " b { (t.ball) } }
                @if let Some((file, history)) = &t.links {
                    " · " a href=(file) rel="noreferrer" { "file" } " · " a href=(history) rel="noreferrer" { "history" }
                }
            }
            ol.entries {
                @for e in &t.entries {
                    li.entry.pending[e.pending] #{ "e-" (e.index) } tabindex="-1" {
                        div.head {
                            b.author { (e.author) }
                            @if let Some(r) = &e.role { span.role { (r) } }
                            @if let Some(k) = &e.kind { span.kind { (k) } }
                            (time(&e.at, now))
                            @if e.pending { span.badge.pending title="Accepted; the commit to git follows" { "pending" } }
                        }
                        @if let Some(title) = &e.title { h2.title { (title) } }
                        div.body { (PreEscaped(&e.body_html)) }
                    }
                }
            }
        }
        @if can_write { (reply_form(f, t, reply)) }
    }
}

fn reply_form(f: &Frame, t: &ThreadView, r: &Reply) -> Markup {
    let me = |agent: &str| format!("{agent} ({})", f.login);
    html! {
        form #reply.reply method="post" action={ (f.prefix) "/threads/" (t.topic) } {
            @if let Some(e) = &r.error { p.error role="alert" { (e) } }
            input type="hidden" name="csrf" value=(f.csrf);
            label { "As "
                select name="agent" {
                    option value="Team" selected[r.agent.is_empty() || r.agent == "Team"] { (me("Team")) }
                    @for a in &t.agents { option value=(a) selected[r.agent == *a] { (me(a)) } }
                }
            }
            label.wide { "Title " input name="title" value=(r.title) maxlength="200"; }
            label.wide { "Message " textarea name="body" rows="5" { (r.body) } }
            div.actions {
                button name="action" value="say" title="Append, and pass the ball to the counterpart" { "Say" }
                button name="action" value="ack" title="Append; the ball stays" { "Ack" }
                span.group {
                    input name="target" value=(r.target) list="agents" placeholder="Agent" aria-label="Hand off to";
                    datalist #agents { @for a in &t.agents { option value=(a) {} } }
                    button name="action" value="handoff" { "Hand off" }
                }
                span.group {
                    select name="status" aria-label="Status" {
                        @for s in ["OPEN", "IN_REVIEW", "BLOCKED", "CLOSED"] { option value=(s) selected[t.status.eq_ignore_ascii_case(s)] { (s) } }
                    }
                    button name="action" value="status" { "Set status" }
                }
            }
            p.keys { "Keys: j/k next and previous entry, r reply." }
        }
    }
}

/// One search result.
pub struct HitView {
    /// Its thread.
    pub topic: String,
    /// Its position there.
    pub index: u64,
    /// Its author.
    pub author: String,
    /// When.
    pub at: String,
    /// Its title.
    pub title: String,
    /// The snippet, with the match marked (safe HTML).
    pub snippet_html: String,
}

/// `/search?q=`.
pub fn search(prefix: &str, q: &str, hits: Result<&[HitView], &str>, now: i64) -> Markup {
    html! {
        div #content {
            h1 { "Search" }
            @match hits {
                Err(why) => p.error role="alert" { (why) },
                Ok([]) => p.empty { "Nothing found for " q { (q) } "." },
                Ok(hits) => ol.hits {
                    @for h in hits {
                        li.hit {
                            a href={ (prefix) "/threads/" (h.topic) "#e-" (h.index) } { (h.topic) " · " (h.title) }
                            div.head { b.author { (h.author) } " " (time(&h.at, now)) }
                            p.snippet { (PreEscaped(&h.snippet_html)) }
                        }
                    }
                },
            }
        }
    }
}

/// A search snippet as HTML: escaped, the index's marks as `<mark>` (a stray mark
/// closes at the end).
pub fn snippet_html(snippet: &str) -> String {
    use crate::writer::search::{MARK_END, MARK_START};
    let escaped = html! { (snippet) }.into_string();
    let mut out = String::with_capacity(escaped.len() + 16);
    let mut open = false;
    for c in escaped.chars() {
        match c {
            MARK_START if !open => {
                out.push_str("<mark>");
                open = true;
            }
            MARK_END if open => {
                out.push_str("</mark>");
                open = false;
            }
            MARK_START | MARK_END => {}
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_people_say_them() {
        let t = crate::thread::timestamp::parse("2026-11-25T12:00:00Z").unwrap();
        assert_eq!(ago("2026-11-25T12:00:00Z", t + 5), "just now");
        assert_eq!(ago("2026-11-25T12:00:00Z", t + 125), "2 min ago");
        assert_eq!(ago("2026-11-25T12:00:00Z", t + 7300), "2 h ago");
        assert_eq!(ago("2026-11-25T12:00:00Z", t + 3 * 86_400), "3 d ago");
        assert_eq!(ago("2026-11-25T12:00:00Z", t + 90 * 86_400), "2026-11-25");
        assert_eq!(ago("yesterday", t), "yesterday");
    }

    #[test]
    fn the_ball_is_yours_when_its_user_is_you() {
        assert!(yours("Team (alice)", "alice"));
        assert!(yours(" Claude (Alice) ", "alice"));
        assert!(!yours("Codex (bob)", "alice"));
        assert!(!yours("alice", "alice"));
    }

    #[test]
    fn snippets_escape_and_mark() {
        assert_eq!(
            snippet_html("a \u{2}<b>\u{3} c"),
            "a <mark>&lt;b&gt;</mark> c"
        );
        assert_eq!(snippet_html("\u{2}open"), "<mark>open</mark>");
        assert_eq!(
            snippet_html("**bold** \u{3}\u{2}x\u{3}"),
            "**bold** <mark>x</mark>"
        );
    }

    #[test]
    fn values_are_escaped() {
        let f = Frame {
            title: "<t>".into(),
            prefix: String::new(),
            repo: "a/b".into(),
            repo_param: String::new(),
            login: "\"><script>".into(),
            csrf: "c".into(),
            live: None,
            query: "<q>".into(),
            repos: None,
        };
        let page = layout(&f, html! { "x" }).into_string();
        assert!(
            !page.contains("<script>") && !page.contains("<t>") && !page.contains("<q>"),
            "{page}"
        );
    }
}
