//! Documentation checks: every program has a lint-clean mdoc page, and the README
//! names it. See: issue 2 §6.

use crate::util::*;
use std::path::Path;

fn programs() -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
    v.sort();
    v
}

#[test]
fn every_program_has_a_lint_clean_man_page() {
    if !have("mandoc") {
        return;
    }
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("doc");
    for prog in programs() {
        let page = doc.join(format!("{prog}.1"));
        assert!(page.exists(), "no man page for {prog}");
        let out = run_timeout(
            cmd(&["mandoc", "-Tlint", "-W", "warning", page.to_str().unwrap()]),
            20,
        );
        assert!(
            out.status.success() && out.out().is_empty() && out.err().is_empty(),
            "mandoc -Tlint {}:\n{}{}",
            page.display(),
            out.out(),
            out.err()
        );
        let text = std::fs::read_to_string(&page).unwrap();
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "SEE ALSO"] {
            if !text.starts_with(".so ") {
                assert!(
                    text.contains(&format!(".Sh {section}")),
                    "{prog}.1 lacks {section}"
                );
            }
        }
    }
}

#[test]
fn readme_names_every_program() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for prog in programs() {
        assert!(
            readme.contains(&format!("`{prog}`")),
            "README.md does not list {prog}"
        );
    }
}
