//! Topics and the file names they map to.
//!
//! The mapping is the one the local watercooler tools use: every run of characters
//! outside `[A-Za-z0-9._-]` becomes one `-`, then leading and trailing `-`, `.` and `_`
//! are stripped, then `.md` is added. The Worker is stricter on input: it accepts only
//! topics that the mapping leaves unchanged, so no two spellings name one file and
//! nothing but a plain file name can ever reach a repository path.

/// The longest topic accepted, in bytes.
pub const MAX_TOPIC_LEN: usize = 128;

/// Why a topic was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicError {
    /// The topic is empty.
    Empty,
    /// The topic is longer than [`MAX_TOPIC_LEN`] bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The topic is not its own slug.
    NotCanonical {
        /// The topic's slug, to send instead (may be empty).
        suggestion: String,
    },
}

impl std::fmt::Display for TopicError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TopicError::Empty => write!(f, "topic must not be empty"),
            TopicError::TooLong { len } => write!(
                f,
                "topic is {len} bytes long; the limit is {MAX_TOPIC_LEN}"
            ),
            TopicError::NotCanonical { suggestion } if suggestion.is_empty() => write!(
                f,
                "topic may contain only letters, digits, '.', '_' and '-', and must start and end with a letter or digit"
            ),
            TopicError::NotCanonical { suggestion } => write!(
                f,
                "topic may contain only letters, digits, '.', '_' and '-', and must start and end with a letter or digit; try {suggestion:?}"
            ),
        }
    }
}

impl std::error::Error for TopicError {}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// The slug the reference tools derive from a topic (without `.md`). May be empty.
pub fn slug(topic: &str) -> String {
    let mut out = String::with_capacity(topic.len());
    let mut in_run = false;
    for c in topic.chars() {
        if is_name_char(c) {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('-');
            in_run = true;
        }
    }
    out.trim_matches(|c| matches!(c, '-' | '.' | '_'))
        .to_string()
}

/// A valid topic, parsed once at the edge of the service and trusted below it
/// (persisted as a plain string).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Topic(String);

impl Topic {
    /// Checks a topic as given (see [`validate`]).
    pub fn parse(s: &str) -> Result<Topic, TopicError> {
        validate(s).map(|t| Topic(t.to_string()))
    }

    /// The topic as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Topic {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Topic {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Topic {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that `topic` is acceptable as given and returns it unchanged.
pub fn validate(topic: &str) -> Result<&str, TopicError> {
    if topic.is_empty() {
        return Err(TopicError::Empty);
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong { len: topic.len() });
    }
    let canonical = slug(topic);
    if canonical != topic {
        return Err(TopicError::NotCanonical {
            suggestion: canonical,
        });
    }
    Ok(topic)
}

/// The file name of a topic: `<slug>.md`. `None` when the slug is empty.
pub fn file_name(topic: &str) -> Option<String> {
    let s = slug(topic);
    (!s.is_empty()).then(|| format!("{s}.md"))
}

/// The topic a file name stands for, if it is a thread file (`*.md`).
pub fn topic_of_file_name(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".md")?;
    (!stem.is_empty() && !stem.contains('/')).then_some(stem)
}

/// The topic of a file at `path` (from the repository root), by its file name.
pub fn topic_of_path(path: &str) -> Option<&str> {
    topic_of_file_name(path.rsplit('/').next().unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn maps_like_the_reference_tools() {
        assert_eq!(slug("release-plan"), "release-plan");
        assert_eq!(slug("Release Plan!"), "Release-Plan");
        assert_eq!(slug("a  /  b"), "a-b");
        assert_eq!(slug("../x"), "x");
        assert_eq!(slug("_.-x-._"), "x");
        assert_eq!(slug("///"), "");
        assert_eq!(file_name("Release Plan"), Some("Release-Plan.md".into()));
        assert_eq!(file_name("??"), None);
    }

    #[test]
    fn refuses_what_the_issue_names() {
        assert_eq!(validate(""), Err(TopicError::Empty));
        assert!(matches!(
            validate("../x"),
            Err(TopicError::NotCanonical { .. })
        ));
        assert!(matches!(
            validate("a/b"),
            Err(TopicError::NotCanonical { .. })
        ));
        assert!(matches!(
            validate(".hidden"),
            Err(TopicError::NotCanonical { .. })
        ));
        assert!(matches!(
            validate(&"a".repeat(300)),
            Err(TopicError::TooLong { len: 300 })
        ));
        assert_eq!(validate("release-plan.v2"), Ok("release-plan.v2"));
    }

    #[test]
    fn error_messages_suggest_a_fix() {
        let e = validate("Release Plan").unwrap_err();
        assert!(e.to_string().contains("\"Release-Plan\""), "{e}");
    }

    proptest! {
        #[test]
        fn a_valid_topic_is_always_a_safe_file_name(s in "\\PC{0,200}") {
            if let Ok(t) = validate(&s) {
                let name = file_name(t).unwrap();
                prop_assert!(!name.contains('/'));
                prop_assert!(!name.starts_with('.'));
                prop_assert_eq!(topic_of_file_name(&name), Some(t));
            }
        }

        #[test]
        fn slug_is_idempotent(s in "\\PC{0,64}") {
            let once = slug(&s);
            prop_assert_eq!(slug(&once), once.clone());
        }
    }
}
