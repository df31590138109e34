//! Documentation checks: every program has a lint-clean mdoc page that renders every
//! error text it quotes, whose SYNOPSIS is the program's usage line, and the README
//! names it.

use crate::util::*;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn programs() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("src/bin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every page in doc/, programs' or not.
fn pages() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("doc"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "1"))
        .collect();
    v.sort();
    v
}

/// `mandoc -Tascii PAGE` with the overstrike (bold, underline) removed.
fn render(page: &Path) -> String {
    let out = run_timeout(cmd(&["mandoc", "-Tascii", page.to_str().unwrap()]), 20);
    out.assert_code(0);
    let mut text = String::new();
    for c in out.out().chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    text
}

/// Runs of whitespace as one space, so that line filling does not matter.
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The C library's text for every errno: the strings our diagnostics end with.
fn strerrors() -> Vec<String> {
    (1..134)
        .filter_map(|e| {
            // SAFETY: strerror returns a pointer to a NUL-terminated string that stays
            // valid until the next strerror call on this thread; it is copied at once.
            let p = unsafe { libc::strerror(e) };
            if p.is_null() {
                return None;
            }
            // SAFETY: as above, p is a valid C string.
            let s = unsafe { std::ffi::CStr::from_ptr(p) };
            let s = s.to_string_lossy().into_owned();
            (!s.starts_with("Unknown error")).then_some(s)
        })
        .collect()
}

#[test]
fn every_program_has_a_lint_clean_man_page() {
    if !have("mandoc") {
        return;
    }
    let doc = root().join("doc");
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

/// mandoc takes a callable macro name at the start of a macro's arguments (`.Dl No such
/// file` loses `No`), and `.Dq`, `.Ql`, `.Dl` quote diagnostics: every error text quoted
/// in a page's source must be in the rendered page, every time it is quoted.
#[test]
fn quoted_error_texts_survive_rendering() {
    if !have("mandoc") {
        return;
    }
    let errors = strerrors();
    assert!(errors.iter().any(|e| e == "No such file or directory"));
    let mut checked = 0;
    for page in pages() {
        let source = squeeze(&std::fs::read_to_string(&page).unwrap().replace("\\&", ""));
        let rendered = squeeze(&render(&page));
        for e in &errors {
            let want = source.matches(e.as_str()).count();
            let got = rendered.matches(e.as_str()).count();
            assert!(
                got >= want,
                "{}: {e:?} is quoted {want} times in the source but rendered {got} times \
                 (a line-initial macro name? write \\&No)",
                page.display()
            );
            checked += want;
        }
    }
    assert!(checked > 10, "only {checked} quoted error texts found");
}

/// A usage line in SYNOPSIS form: `[ -x ]` as `[-x]`, `prog...` as `prog ...`, and
/// the program's own remark in parentheses left out.
fn normalize_usage(usage: &str) -> String {
    let usage = match usage.find(" (") {
        Some(i) => &usage[..i],
        None => usage,
    };
    let mut s = squeeze(usage).replace("[ ", "[").replace(" ]", "]");
    let mut out = String::new();
    while let Some(i) = s.find("...") {
        out.push_str(&s[..i]);
        // `prog...` is `.Ar prog ...`; `gid,gid,...` is one argument, as written.
        if out.ends_with(|c: char| c.is_ascii_alphanumeric()) {
            out.push(' ');
        }
        out.push_str("...");
        s = s[i + 3..].to_string();
    }
    out.push_str(&s);
    out
}

/// The SYNOPSIS entries of a rendered page, each on one line.
fn synopsis_entries(rendered: &str) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    let mut inside = false;
    for line in rendered.lines() {
        if line.starts_with("SYNOPSIS") {
            inside = true;
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with(' ') && !line.starts_with('\t') {
            break;
        }
        if !inside || line.trim().is_empty() {
            continue;
        }
        // An entry starts at the section's indentation; its continuation lines are
        // indented further (aligned after the program name).
        let indent = line.len() - line.trim_start().len();
        if indent <= 5 && !line.starts_with('\t') {
            entries.push(line.trim().to_string());
        } else if let Some(last) = entries.last_mut() {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    entries.iter().map(|e| squeeze(e)).collect()
}

/// Programs that, as their s6 peer, refuse no command line at all, so never print their
/// usage line: s6-connlimit takes everything after its name as prog, and no prog as
/// "check only". Their SYNOPSIS is checked against the usage line of `--help` only.
const NEVER_REFUSE: &[&str] = &["ipcconnlimit"];

/// The usage line of `prog --help` (its first line, `usage: USAGE`): `pub const USAGE`
/// of `src/cli/PROG.rs`, as the program prints it.
fn usage_const(prog: &str) -> String {
    let out = run_timeout(cmd(&[bin(prog).to_str().unwrap(), "--help"]), 20);
    out.assert_code(0);
    let first = out.out().lines().next().unwrap_or_default().to_string();
    first
        .strip_prefix("usage: ")
        .unwrap_or_else(|| panic!("{prog} --help does not start with `usage: `: {first:?}"))
        .to_string()
}

/// The usage line `prog` prints for a refused command line: tried with an unknown
/// option, then (for programs whose peer takes no options, where `--no-such-option` is
/// an operand) with no arguments at all.
fn printed_usage(prog: &str) -> Option<String> {
    let prefix = format!("{prog}: usage: ");
    for args in [&["--no-such-option"][..], &[]] {
        let mut c = cmd(&[bin(prog).to_str().unwrap()]);
        c.args(args);
        for k in ["PROTO", "IPCCONNNUM", "IPCCONNMAX"] {
            c.env_remove(k);
        }
        let out = run_timeout(c, 20);
        let err = out.err();
        if let Some(u) = err.lines().find_map(|l| l.strip_prefix(&prefix)) {
            out.assert_code(100);
            return Some(u.to_string());
        }
    }
    None
}

#[test]
fn synopsis_matches_the_usage_line() {
    if !have("mandoc") {
        return;
    }
    for prog in programs() {
        let source = usage_const(&prog);
        let usage = match printed_usage(&prog) {
            Some(u) => {
                assert!(
                    !NEVER_REFUSE.contains(&prog.as_str()),
                    "{prog} printed a usage line: take it off NEVER_REFUSE"
                );
                assert_eq!(u, source, "{prog}: printed usage line vs --help's");
                u
            }
            None => {
                assert!(
                    NEVER_REFUSE.contains(&prog.as_str()),
                    "{prog}: no `{prog}: usage: ` line, for an unknown option or no arguments"
                );
                source
            }
        };
        let want = normalize_usage(&usage);
        let page = root().join("doc").join(format!("{prog}.1"));
        let entries = synopsis_entries(&render(&page));
        assert!(
            entries.contains(&want),
            "{prog}.1 SYNOPSIS does not match the usage line\nusage:    {want}\nSYNOPSIS: {}",
            entries.join("\n          ")
        );
    }
}

#[test]
fn normalize_usage_forms() {
    assert_eq!(
        normalize_usage("p [ -q | -v ] [ -t ms ] path prog..."),
        "p [-q | -v] [-t ms] path prog ..."
    );
    assert_eq!(normalize_usage("p [ args... ]"), "p [args ...]");
    assert_eq!(normalize_usage("p (request on stdin: a NUL b)"), "p");
    assert_eq!(
        normalize_usage("p [ -G gid,gid,... ]"),
        "p [-G gid,gid,...]"
    );
}

#[test]
fn readme_names_every_program() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for prog in programs() {
        assert!(
            readme.contains(&format!("`{prog}`")),
            "README.md does not list {prog}"
        );
    }
}

/// The sections of every page, in mandoc's conventional order (EXAMPLES before
/// DIAGNOSTICS, as `mandoc -Tlint -W all` wants) with our own OPTIONS,
/// COMPATIBILITY and SECURITY where style.md puts them. All are required but
/// SECURITY, which a page has only where there is something to say.
const SECTIONS: &[(&str, bool)] = &[
    ("NAME", true),
    ("SYNOPSIS", true),
    ("DESCRIPTION", true),
    ("OPTIONS", true),
    ("ENVIRONMENT", true),
    ("EXIT STATUS", true),
    ("EXAMPLES", true),
    ("DIAGNOSTICS", true),
    ("COMPATIBILITY", true),
    ("SEE ALSO", true),
    ("SECURITY", false),
];

/// The `.Sh` titles of an mdoc source, in order.
fn section_titles(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.strip_prefix(".Sh "))
        .map(|t| t.trim().trim_matches('"').to_string())
        .collect()
}

/// The titles `section_titles` should find in a conforming page: every required
/// section, and SECURITY only if the page has one.
fn expected_titles(found: &[String]) -> Vec<String> {
    SECTIONS
        .iter()
        .filter(|(name, required)| *required || found.iter().any(|t| t == name))
        .map(|(name, _)| name.to_string())
        .collect()
}

#[test]
fn every_page_has_the_same_sections_in_the_same_order() {
    let pages = pages();
    assert!(!pages.is_empty(), "no pages in doc/");
    let mut bad = Vec::new();
    for page in pages {
        let source = std::fs::read_to_string(&page).unwrap();
        let found = section_titles(&source);
        let want = expected_titles(&found);
        if found != want {
            bad.push(format!(
                "{}:\n  has  {found:?}\n  want {want:?}",
                page.display()
            ));
        }
        if !source.lines().any(|l| l == ".Os") {
            bad.push(format!("{}: .Os is not bare", page.display()));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn section_check_rejects_disorder_and_gaps() {
    let titles = |s: &str| section_titles(s);
    let good = ".Sh NAME\n.Sh SYNOPSIS\n.Sh DESCRIPTION\n.Sh OPTIONS\n.Sh ENVIRONMENT\n\
                .Sh \"EXIT STATUS\"\n.Sh EXAMPLES\n.Sh DIAGNOSTICS\n.Sh COMPATIBILITY\n\
                .Sh SEE ALSO\n";
    let found = titles(good);
    assert_eq!(found, expected_titles(&found));
    let with_security = format!("{good}.Sh SECURITY\n");
    let found = titles(&with_security);
    assert_eq!(found, expected_titles(&found));
    let early_security = good.replace(".Sh OPTIONS\n", ".Sh SECURITY\n.Sh OPTIONS\n");
    let found = titles(&early_security);
    assert_ne!(found, expected_titles(&found));
    let late_examples = good
        .replace(".Sh EXAMPLES\n", "")
        .replace(".Sh COMPATIBILITY\n", ".Sh EXAMPLES\n.Sh COMPATIBILITY\n");
    let found = titles(&late_examples);
    assert_ne!(found, expected_titles(&found));
    let no_environment = good.replace(".Sh ENVIRONMENT\n", "");
    let found = titles(&no_environment);
    assert_ne!(found, expected_titles(&found));
}

/// The options a usage line names: `-x` letters (`-qQv` style groups are not used in
/// usage lines) and `--long` names.
fn usage_options(usage: &str) -> Vec<String> {
    usage
        .split(|c: char| c.is_whitespace() || c == '|' || c == '[' || c == ']')
        .filter(|w| w.len() >= 2 && w.starts_with('-') && w != &"--")
        .map(str::to_string)
        .collect()
}

#[test]
fn usage_options_are_found() {
    assert_eq!(
        usage_options("p [ -q | -Q ] [ -t ms ] [ --fdname name ] path prog..."),
        ["-q", "-Q", "-t", "--fdname"]
    );
}

/// `--help` and `--version` as the first argument, on every program: exit 0, on stdout,
/// nothing on stderr; the help starts with the usage line and has a line for every
/// option the usage line names; the version line is `PROG (ipctools) VERSION`.
#[test]
fn every_program_answers_help_and_version() {
    for prog in programs() {
        let out = run_timeout(cmd(&[bin(prog.as_str()).to_str().unwrap(), "--help"]), 20);
        out.assert_code(0);
        assert_eq!(out.err(), "", "{prog} --help wrote on stderr");
        let help = out.out();
        let usage = help
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("usage: "))
            .unwrap_or_else(|| panic!("{prog} --help does not start with `usage: `"));
        assert!(usage.starts_with(&format!("{prog} ")), "{prog}: {usage:?}");
        let body: Vec<&str> = help.lines().skip(1).collect();
        for opt in usage_options(usage) {
            assert!(
                body.iter().any(|l| l
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .any(|w| w == opt)),
                "{prog} --help has no line for {opt}:\n{help}"
            );
        }
        for opt in ["--help", "--version"] {
            assert!(
                body.iter().any(|l| l.trim_start().starts_with(opt)),
                "{prog}: {opt}"
            );
        }
        let out = run_timeout(
            cmd(&[bin(prog.as_str()).to_str().unwrap(), "--version"]),
            20,
        );
        out.assert_code(0);
        assert_eq!(out.err(), "", "{prog} --version wrote on stderr");
        assert_eq!(
            out.out(),
            format!("{prog} (ipctools) {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

/// Only the first argument: after it, `--help` is what it always was (here an argument
/// of the next program, which prints it), so an s6 command line keeps its meaning.
#[test]
fn help_is_only_the_first_argument() {
    let mut c = cmd(&[
        bin("ipcconnlimit").to_str().unwrap(),
        "printf",
        "%s\\n",
        "--help",
    ]);
    c.env("PROTO", "IPC").env("IPCCONNNUM", "1");
    let out = run_timeout(c, 20);
    out.assert_code(0);
    assert_eq!(out.out(), "--help\n");
    let out = run_timeout(
        cmd(&[bin("ipcserver").to_str().unwrap(), "-1", "--help"]),
        20,
    );
    out.assert_code(100);
    assert!(
        out.err()
            .contains("ipcserver: fatal: unknown option --help"),
        "{}",
        out.err()
    );
}
