//! Agent names, the `Agent (user)` author form, and the ball's counterpart rule.

/// Well-known agent names, canonicalised case-insensitively (as the reference tools do).
const CANONICAL: [(&str, &str); 3] = [("codex", "Codex"), ("claude", "Claude"), ("team", "Team")];

/// The default counterpart pairs: the ball moves from one to the other on `say`.
const COUNTERPARTS: [(&str, &str); 2] = [("Codex", "Claude"), ("Claude", "Codex")];

/// The longest agent name accepted, in characters.
pub const MAX_AGENT_LEN: usize = 64;

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
    Empty,
    TooLong,
    BadCharacters,
    ForeignUser { given: String },
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentError::Empty => write!(f, "agent must not be empty"),
            AgentError::TooLong => write!(f, "agent is longer than {MAX_AGENT_LEN} characters"),
            AgentError::BadCharacters => write!(
                f,
                "agent may contain only letters, digits, spaces, '.', '_' and '-' (for example \"Claude\" or \"Claude Code\")"
            ),
            AgentError::ForeignUser { given } => write!(
                f,
                "agent names user {given:?}, but your token belongs to another user; send the agent name alone, the user comes from your token"
            ),
        }
    }
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
    if base.is_empty() {
        return Err(AgentError::Empty);
    }
    if base.chars().count() > MAX_AGENT_LEN {
        return Err(AgentError::TooLong);
    }
    if !base
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-'))
    {
        return Err(AgentError::BadCharacters);
    }
    Ok(canonical(base))
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
            Err(AgentError::BadCharacters)
        );
        assert_eq!(validate("  ", "mira"), Err(AgentError::Empty));
        assert_eq!(validate(&"a".repeat(65), "mira"), Err(AgentError::TooLong));
    }

    #[test]
    fn handoff_targets_get_a_user_tag() {
        assert_eq!(resolve_target("claude", "mira"), "Claude (mira)");
        assert_eq!(resolve_target("Codex (bob)", "mira"), "Codex (bob)");
    }
}
