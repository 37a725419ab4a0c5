//! Agent names, the `Agent (user)` author form, and the ball's counterpart rule.

/// Well-known agent names, canonicalised case-insensitively (as the reference tools do).
const CANONICAL: [(&str, &str); 3] = [("codex", "Codex"), ("claude", "Claude"), ("team", "Team")];

/// The default counterpart pairs: the ball moves from one to the other on `say`.
const COUNTERPARTS: [(&str, &str); 2] = [("Codex", "Claude"), ("Claude", "Codex")];

/// The longest agent name accepted, in characters.
pub const MAX_AGENT_LEN: usize = 64;

/// The longest user tag accepted, in bytes.
pub const MAX_USER_LEN: usize = 64;

/// Splits `"Name (tag)"` into `("Name", Some("tag"))`; anything else is `(s, None)`.
pub fn split_tag(s: &str) -> (&str, Option<&str>) {
    let s = s.trim();
    if let Some(open) = s.strip_suffix(')').and_then(|rest| rest.rfind(" (")) {
        let name = s[..open].trim_end();
        let tag = &s[open + 2..s.len() - 1];
        if !name.is_empty() && !tag.is_empty() && !tag.contains(['(', ')']) {
            return (name, Some(tag));
        }
    }
    (s, None)
}

/// The canonical spelling of a base agent name (`claude` -> `Claude`).
pub fn canonical(name: &str) -> String {
    let name = name.trim();
    CANONICAL
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| (*v).to_string())
        .unwrap_or_else(|| name.to_string())
}

/// `Agent (user)`, with the agent canonicalised.
pub fn author(agent: &str, user: &str) -> String {
    format!("{} ({user})", canonical(agent))
}

/// The counterpart of an author or ball value, keeping its user tag. An agent with no
/// counterpart is its own.
pub fn counterpart(who: &str) -> String {
    let (base, tag) = split_tag(who);
    let base = canonical(base);
    let other = COUNTERPARTS
        .iter()
        .find(|(a, _)| *a == base)
        .map(|(_, b)| (*b).to_string())
        .unwrap_or(base);
    match tag {
        Some(t) => format!("{other} ({t})"),
        None => other,
    }
}

/// Resolves a handoff target: canonical name, with `default_user` as the tag when the
/// target names none.
pub fn resolve_target(target: &str, default_user: &str) -> String {
    let (base, tag) = split_tag(target);
    author(base, tag.unwrap_or(default_user))
}

/// Why an agent name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_AGENT_LEN`] characters.
    TooLong,
    /// The name holds a character other than letters, digits, spaces, '.', '_' and '-'.
    BadCharacter(char),
    /// The `(user)` tag names a user other than the token's.
    ForeignUser {
        /// The user tag sent.
        given: String,
    },
    /// The user tag breaks the user tag rule; says why.
    BadUser(String),
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentError::Empty => write!(f, "agent must not be empty"),
            AgentError::TooLong => write!(f, "agent is longer than {MAX_AGENT_LEN} characters"),
            AgentError::BadCharacter(c) => write!(
                f,
                "agent contains {}: it may contain only letters, digits, spaces, '.', '_' and '-' (for example \"Claude\" or \"Claude Code\")",
                shown_char(*c)
            ),
            AgentError::BadUser(why) => write!(f, "user tag {why}"),
            AgentError::ForeignUser { given } => write!(
                f,
                "agent names user {given:?}, but your token belongs to another user; send the agent name alone, the user comes from your token"
            ),
        }
    }
}

impl std::error::Error for AgentError {}

/// A character for an error message: its code point and name, and the character
/// itself when it is visible.
fn shown_char(c: char) -> String {
    let d = super::text::describe_char(c);
    if c.is_control() || c.is_whitespace() || c.len_utf8() > 1 && !c.is_alphanumeric() {
        d
    } else {
        format!("{c:?} ({d})")
    }
}

/// The rule for user tags, shared with AUTH_TOKENS: 1 to 64 ASCII letters, digits,
/// '.', '_' or '-'.
pub fn validate_user(user: &str) -> Result<(), String> {
    let bad = user
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
    match bad {
        _ if user.is_empty() || user.len() > MAX_USER_LEN => Err(format!(
            "must be 1-{MAX_USER_LEN} letters, digits, '.', '_' or '-'"
        )),
        Some(c) => Err(format!(
            "contains {}: it must be 1-{MAX_USER_LEN} letters, digits, '.', '_' or '-'",
            shown_char(c)
        )),
        None => Ok(()),
    }
}

/// Checks an agent's base name and returns its canonical spelling.
fn validate_base(base: &str) -> Result<String, AgentError> {
    if base.is_empty() {
        return Err(AgentError::Empty);
    }
    if base.chars().count() > MAX_AGENT_LEN {
        return Err(AgentError::TooLong);
    }
    if let Some(c) = base
        .chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-')))
    {
        return Err(AgentError::BadCharacter(c));
    }
    Ok(canonical(base))
}

/// Validates an agent name sent by a client and returns its base name. A trailing
/// `(user)` tag is accepted only when it names the token's own user.
pub fn validate(agent: &str, token_user: &str) -> Result<String, AgentError> {
    let (base, tag) = split_tag(agent);
    if let Some(tag) = tag {
        if tag != token_user {
            return Err(AgentError::ForeignUser {
                given: tag.to_string(),
            });
        }
    }
    validate_base(base)
}

/// Validates `Agent` or `Agent (user)`, where the user may be anyone (a handoff
/// target, a Ball value). Returns the canonical `Agent (user)`, with `default_user`
/// when no tag is given.
pub fn validate_author(s: &str, default_user: &str) -> Result<String, AgentError> {
    let (base, tag) = split_tag(s);
    // A tag that split_tag did not see (an unclosed or nested one) fails the base rule.
    let base = validate_base(base)?;
    let user = tag.unwrap_or(default_user);
    validate_user(user).map_err(AgentError::BadUser)?;
    Ok(author(&base, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_well_known_names_only() {
        assert_eq!(canonical("CLAUDE"), "Claude");
        assert_eq!(canonical("codex"), "Codex");
        assert_eq!(canonical("team"), "Team");
        assert_eq!(canonical("Cursor"), "Cursor");
        assert_eq!(canonical("claude code"), "claude code");
    }

    #[test]
    fn counterpart_flips_the_pair_and_keeps_the_tag() {
        assert_eq!(counterpart("Claude (mira)"), "Codex (mira)");
        assert_eq!(counterpart("codex (mira)"), "Claude (mira)");
        assert_eq!(counterpart("Cursor (mira)"), "Cursor (mira)");
        assert_eq!(counterpart("Codex"), "Claude");
    }

    #[test]
    fn split_tag_handles_multi_word_names() {
        assert_eq!(
            split_tag("Claude Code (caleb)"),
            ("Claude Code", Some("caleb"))
        );
        assert_eq!(split_tag("Claude"), ("Claude", None));
        assert_eq!(split_tag("(x)"), ("(x)", None));
    }

    #[test]
    fn validation_never_lets_a_user_be_forged() {
        assert_eq!(validate("claude", "mira"), Ok("Claude".into()));
        assert_eq!(validate("Claude (mira)", "mira"), Ok("Claude".into()));
        assert!(matches!(
            validate("Claude (bob)", "mira"),
            Err(AgentError::ForeignUser { .. })
        ));
        assert_eq!(
            validate("Claude (bob", "mira"),
            Err(AgentError::BadCharacter('('))
        );
        assert_eq!(validate("  ", "mira"), Err(AgentError::Empty));
        assert_eq!(validate(&"a".repeat(65), "mira"), Err(AgentError::TooLong));
    }

    #[test]
    fn authors_with_any_user_are_checked_whole() {
        assert_eq!(validate_author("codex", "mira"), Ok("Codex (mira)".into()));
        assert_eq!(
            validate_author("Codex (bob)", "mira"),
            Ok("Codex (bob)".into())
        );
        let forged = validate_author("Codex (x\n``````````)", "mira").unwrap_err();
        assert!(forged.to_string().contains("U+000A"), "{forged}");
        assert!(validate_author("Codex (a b)", "mira").is_err());
        assert!(validate_author("Codex (x) (y)", "mira").is_err());
        assert!(validate_author("Co\u{2028}dex", "mira")
            .unwrap_err()
            .to_string()
            .contains("U+2028"));
        assert!(validate_user(&"u".repeat(65)).is_err());
    }

    #[test]
    fn handoff_targets_get_a_user_tag() {
        assert_eq!(resolve_target("claude", "mira"), "Claude (mira)");
        assert_eq!(resolve_target("Codex (bob)", "mira"), "Codex (bob)");
    }
}
