//! Which repositories a deployment serves, or a token may use: `owner/name` or
//! `owner/*`. GitHub's names are case-insensitive, and so is matching.

/// Whether `s` can be a GitHub owner or repository name: letters, digits, '.', '_'
/// and '-', and not `.` or `..`.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// One repository (`owner/name`) or every repository of an owner (`owner/*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPattern {
    owner: String,
    /// `None` for `owner/*`.
    name: Option<String>,
}

impl RepoPattern {
    /// Parses `owner/name` or `owner/*`.
    pub fn parse(s: &str) -> Result<RepoPattern, String> {
        let s = s.trim();
        let bad = || format!("{s:?} is not owner/name or owner/*");
        let (owner, name) = s.split_once('/').ok_or_else(bad)?;
        if !is_name(owner) {
            return Err(bad());
        }
        let name = match name {
            "*" => None,
            n if is_name(n) => Some(n.to_string()),
            _ => return Err(bad()),
        };
        Ok(RepoPattern {
            owner: owner.to_string(),
            name,
        })
    }

    /// Exactly `owner/name`.
    pub fn exact(owner: &str, name: &str) -> RepoPattern {
        RepoPattern {
            owner: owner.to_string(),
            name: Some(name.to_string()),
        }
    }

    /// Parses a comma-separated list; blanks between commas are skipped.
    pub fn parse_list(s: &str) -> Result<Vec<RepoPattern>, String> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(RepoPattern::parse)
            .collect()
    }

    /// Whether `owner/name` is one this pattern names.
    pub fn matches(&self, owner: &str, name: &str) -> bool {
        self.owner.eq_ignore_ascii_case(owner)
            && self
                .name
                .as_ref()
                .is_none_or(|n| n.eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for RepoPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name.as_deref().unwrap_or("*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_name_one_repository_or_an_owner() {
        let p = RepoPattern::parse_list(" acme/threads, Team/* ,").unwrap();
        assert_eq!(p.len(), 2);
        assert!(p[0].matches("ACME", "Threads"));
        assert!(!p[0].matches("acme", "other"));
        assert!(p[1].matches("team", "anything"));
        assert!(!p[1].matches("teams", "anything"));
        assert_eq!(p[1].to_string(), "Team/*");
        for bad in [
            "acme",
            "*/x",
            "acme/../x",
            "acme/a b",
            "/x",
            "acme/",
            "a/b/c",
            "acme/th*",
        ] {
            assert!(RepoPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
