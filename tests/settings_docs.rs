//! Every setting in `config::SETTINGS` is documented, with its default, in README.md's
//! configuration table and in .dev.vars.example; and nothing is documented that the
//! Worker does not read.

use watercooler_worker::config::SETTINGS;

fn read(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

#[test]
fn the_readme_documents_every_setting_with_its_default() {
    let readme = read("README.md");
    for s in SETTINGS {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", s.name)))
            .unwrap_or_else(|| panic!("README.md has no row for {}", s.name));
        if !s.default.is_empty() {
            assert!(
                row.contains(&format!("`{}`", s.default)),
                "README.md: {} should say its default {}",
                s.name,
                s.default
            );
        }
    }
    // Rows for settings the Worker does not read (bindings aside) would mislead.
    for line in readme
        .lines()
        .filter(|l| l.starts_with("| `") && (l.contains("| var |") || l.contains("| secret |")))
    {
        let name = line
            .trim_start_matches("| `")
            .split('`')
            .next()
            .unwrap_or("");
        assert!(
            SETTINGS.iter().any(|s| s.name == name),
            "README.md documents {name}, which is not read"
        );
    }
}

#[test]
fn the_dev_vars_example_documents_every_setting() {
    let example = read(".dev.vars.example");
    for s in SETTINGS {
        assert!(
            example.contains(&format!("#   {} ", s.name)),
            ".dev.vars.example does not explain {}",
            s.name
        );
        if !s.default.is_empty() {
            let at = example.find(&format!("#   {} ", s.name)).unwrap();
            let para: String = example[at..].lines().take(3).collect();
            assert!(
                para.contains(s.default),
                ".dev.vars.example: {} should say its default {}",
                s.name,
                s.default
            );
        }
    }
}
