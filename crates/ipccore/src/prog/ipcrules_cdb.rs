//! ipcrules-cdb (s6-accessrules-cdb-from-fs's job): compile a rules directory with
//! [`access::compile`] and write it as a cdb with [`rulescdb::write_cdb`]. Both steps
//! live where their format does; this module only joins them for the program, and
//! [`lint`]s the directory first: s6-accessrules-cdb-from-fs compiles a misspelt
//! `alow` without a word, and every client is then denied.

use crate::base::error::Error;
use crate::formats::rulescdb;
use crate::prog::ipcserver_access as access;
use crate::sys::diag::Diag;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What ipcrules-cdb was asked to do.
#[derive(Clone, Debug)]
pub struct IpcrulesCdbConfig {
    /// `-m`: the mode of the cdb file (default 0644).
    pub mode: u32,
    /// The cdb file to write (replaced atomically).
    pub cdbfile: PathBuf,
    /// The rules directory to read.
    pub rulesdir: PathBuf,
}

/// ipcrules-cdb: compile `cfg.rulesdir` into `cfg.cdbfile`.
///
/// # Errors
/// Those of [`access::compile`] and [`rulescdb::write_cdb`].
pub fn ipcrules_cdb(cfg: &IpcrulesCdbConfig, diag: &Diag) -> Result<(), Error> {
    for w in lint(&cfg.rulesdir) {
        diag.warn(w);
    }
    let recs = access::compile(&cfg.rulesdir)?;
    rulescdb::write_cdb(&cfg.cdbfile, &recs, cfg.mode)
}

/// The key categories a checker looks up, each with the names it takes besides
/// decimal ids. A new kind of key (a checker that looks up more) is one row here.
const CATEGORIES: &[(&str, &[&str])] = &[
    ("uid", &["default", "self"]),
    ("gid", &["self"]),
    ("group", &[]),
];

/// Our categories whose names are not ids (an escaped cgroup or program path): any
/// name may match a client, so none is warned about.
const NAMED_CATEGORIES: &[&str] = &["cgroup", "exe"];

/// s6-tcpserver-access's categories: compiled by the same tool, never warned about.
const TCP_CATEGORIES: &[&str] = &["ip4", "ip6", "reversedns"];

/// The files of a rule's directory that a checker reads.
const RULE_FILES: &[&str] = &["allow", "deny", "env", "exec"];

/// What is wrong with the top-level directory `category`, if no checker looks there.
fn bad_category(category: &[u8]) -> Option<String> {
    let known = |c: &&str| c.as_bytes() == category;
    let ours = CATEGORIES.iter().map(|(c, _)| c).chain(NAMED_CATEGORIES);
    if ours.clone().any(known) || TCP_CATEGORIES.iter().any(known) {
        return None;
    }
    let names: Vec<&str> = ours.copied().collect();
    Some(format!(
        "not {}: no client is looked up there",
        names.join(" or ")
    ))
}

/// What is wrong with the key `category/name`, if no lookup can ever reach it (None
/// for a category that is not ours: [`bad_category`] says so).
fn bad_key(category: &[u8], name: &[u8]) -> Option<String> {
    let (_, specials) = CATEGORIES.iter().find(|(c, _)| c.as_bytes() == category)?;
    let id = !name.is_empty() && name.iter().all(u8::is_ascii_digit);
    if id || specials.iter().any(|s| s.as_bytes() == name) {
        return None;
    }
    let what: Vec<&str> = ["a number"]
        .into_iter()
        .chain(specials.iter().copied())
        .collect();
    Some(format!(
        "not {}: no client is looked up there",
        what.join(" or ")
    ))
}

/// Warnings, one per entry of `rulesdir` that compiles to nothing useful or that no
/// lookup reads: a misspelt rule file (`alow`), a key directory with neither `allow`
/// nor `deny`, or with both, a uid that is not a number, an unknown category, an env
/// file whose name has `=`. Each names the path. Entries the compiler cannot read are
/// left to it (it fails and says why); the cdb does not change.
pub fn lint(rulesdir: &Path) -> Vec<String> {
    let mut warnings = Vec::new();
    for category in names(rulesdir) {
        let cdir = rulesdir.join(&category);
        if !cdir.is_dir() {
            continue;
        }
        if TCP_CATEGORIES
            .iter()
            .any(|c| c.as_bytes() == category.as_bytes())
        {
            continue;
        }
        if let Some(why) = bad_category(category.as_bytes()) {
            warnings.push(format!("{}: {why}", crate::base::text::path(&cdir)));
            continue;
        }
        for key in names(&cdir) {
            let kdir = cdir.join(&key);
            if let Some(why) = bad_key(category.as_bytes(), key.as_bytes()) {
                warnings.push(format!("{}: {why}", crate::base::text::path(&kdir)));
            }
            if kdir.is_dir() {
                lint_rule(&kdir, &mut warnings);
            }
        }
    }
    warnings
}

/// [`lint`] for one key's directory.
fn lint_rule(kdir: &Path, warnings: &mut Vec<String>) {
    let shown = |p: &Path| crate::base::text::path(p).to_string();
    let files = names(kdir);
    let has = |f: &str| files.iter().any(|n| n.as_bytes() == f.as_bytes());
    for f in &files {
        if !RULE_FILES.iter().any(|r| r.as_bytes() == f.as_bytes()) {
            warnings.push(format!(
                "{}: not one of {}: ignored",
                shown(&kdir.join(f)),
                RULE_FILES.join(", ")
            ));
        }
    }
    match (has("allow"), has("deny")) {
        (false, false) => warnings.push(format!(
            "{}: neither allow nor deny: holds no rule",
            shown(kdir)
        )),
        (true, true) => warnings.push(format!("{}: both allow and deny: allow wins", shown(kdir))),
        _ => {}
    }
    let env = kdir.join("env");
    if has("env") && env.is_dir() {
        for v in names(&env) {
            if !access::envfile_name_ok(v.as_bytes()) {
                warnings.push(format!(
                    "{}: a variable name cannot contain =: ignored",
                    shown(&env.join(v))
                ));
            }
        }
    }
}

/// The non-dot names in `dir`, sorted (warnings in a stable order); none when it
/// cannot be read.
fn names(dir: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.file_name()))
                .filter(|n| !n.as_bytes().starts_with(b"."))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_no_lookup_reaches() {
        assert_eq!(bad_key(b"uid", b"1000"), None);
        assert_eq!(bad_key(b"uid", b"default"), None);
        assert_eq!(bad_key(b"gid", b"self"), None);
        assert_eq!(bad_key(b"ip4", b"127.0.0.1_32"), None);
        assert_eq!(
            bad_key(b"uid", b"bob").as_deref(),
            Some("not a number or default or self: no client is looked up there")
        );
        assert_eq!(
            bad_key(b"gid", b"default").as_deref(),
            Some("not a number or self: no client is looked up there")
        );
        assert_eq!(
            bad_category(b"uids").as_deref(),
            Some("not uid or gid or group or cgroup or exe: no client is looked up there")
        );
        assert_eq!(bad_category(b"gid"), None);
        for ours in ["group", "cgroup", "exe"] {
            assert_eq!(bad_category(ours.as_bytes()), None, "{ours}");
        }
        assert_eq!(bad_key(b"group", b"50"), None);
        assert_eq!(
            bad_key(b"group", b"staff").as_deref(),
            Some("not a number: no client is looked up there")
        );
        assert_eq!(bad_category(b"reversedns"), None);
        assert!(bad_key(b"uid", b"").is_some());
        assert!(bad_key(b"uid", b"-1").is_some());
    }
}
