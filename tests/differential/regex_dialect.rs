//! Regular expressions mean what they mean to s6: the same (pattern, subject) pairs
//! decided by s6-fdholderd (a store regex in a rules directory, `s6-fdholder-store`
//! storing a pipe under the subject) and by ipcfdholderd with ipcfdholder-store, and by
//! upstream s6 2.15's s6-ftrig-listen1 (events written by s6-ftrig-notify) and
//! npt-wait with npt-notify. s6 2.15, not Debian's 2.11, on the event side: ours
//! follows 2.15's matching against the whole accumulated events.
//!
//! Event subjects are at most 31 bytes: s6-ftrigrd reads 31 bytes at a time and
//! matches after each read, ipctools after each read of what is there (npt-wait(1)
//! COMPATIBILITY).

use crate::ipcfdholder::{Grant, Side, client, daemon, have_s6, rules};
use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Patterns and the subjects each is tried on: the review's four rows, brackets with
/// backslashes, classes, intervals, alternation, anchors, `.` and newline, empty
/// alternatives, glibc's extensions, and invalid patterns.
const CASES: &[(&str, &[&str])] = &[
    (
        r"^pub:\d+$",
        &["pub:123", "pub:ddd", "pub:d", "pub:12d", "pub:"],
    ),
    (
        r"^pub:[\w.]+$",
        &["pub:secret", r"pub:\w", "pub:w.w", r"pub:\\", "pub:."],
    ),
    (
        r"^pub:[^\/]*$",
        &[r"pub:a\b", "pub:ab", "pub:a/b", "pub:", "xpub:a"],
    ),
    ("^(?i)pub:", &["PUB:x", "pub:x"]),
    (r"[\]]", &["]", r"\", r"\]", "a"]),
    (r"^[a\-z]$", &["-", r"\", "b", "a", "z"]),
    (r"^[\n]$", &["n", r"\", "\n"]),
    (r"^[[:alpha:]]+$", &["abc", "ab1", "A", "\u{e9}", "a_b"]),
    ("^[[:digit:][:space:]]+$", &["1 2", "12", "a1", "1\t2"]),
    ("^[[:upper:]]{2,3}$", &["AB", "ABC", "ABCD", "A", "aB"]),
    ("^[[:punct:]]$", &["!", "a", "_", " "]),
    ("[[:foo:]]", &["f", "o"]),
    ("^a{2,3}$", &["aa", "aaa", "aaaa", "a"]),
    ("^(ab){2}$", &["abab", "ab", "ababab"]),
    ("^a{,2}$", &["a", "aa", "aaa", "a{,2}"]),
    ("^a{2,}$", &["a", "aa", "aaaaa"]),
    ("a{1", &["a{1", "a", "a1"]),
    ("a{3,2}", &["aaa", "a"]),
    ("^a{1,2}{2}$", &["a", "aa", "aaaa", "aaaaa"]),
    ("^(foo|bar)$", &["foo", "bar", "foobar", "fo"]),
    ("^(|a)$", &["a", "b", "aa"]),
    ("^(a|)+$", &["a", "aa", "b"]),
    ("a||b", &["a", "b", "c"]),
    ("^(a|b|)c$", &["ac", "c", "bc", "abc"]),
    ("^$", &["a", " "]),
    ("", &["anything", "x"]),
    ("^a.b$", &["a\nb", "axb", "ab", "a\tb", "a\u{e9}b"]),
    ("^a[^x]b$", &["a\nb", "axb", "ayb"]),
    ("^.$", &["x", "\n", "\u{e9}", "xy"]),
    ("^.{3}$", &["abc", "a\nb", "ab"]),
    (r"\.", &[".", "a"]),
    (r"a\+", &["a+", "aa"]),
    (r"\(a\)", &["(a)", "a"]),
    (r"^\w+$", &["abc", "a-b", "a_b", "w"]),
    (r"\<foo\>", &["a foo b", "afoo", "foo", "foob"]),
    (r"\bfoo", &["foo", "afoo", "b"]),
    (r"\d", &["d", "1"]),
    (r"\s", &[" ", "s"]),
    (r"^\x41$", &["A", "x41"]),
    (r"^\^", &["^a", "a"]),
    ("(a)\\1", &["aa", "ab"]),
    ("a**", &["a", "b"]),
    ("*a", &["a", "*a", "b"]),
    ("a|*b", &["a", "b", "*b"]),
    ("(", &["(", "a"]),
    (")", &[")", "a"]),
    ("a)", &["a)", "a"]),
    ("[a", &["[a", "a"]),
    ("[z-a]", &["z", "a"]),
    ("\\", &["\\", "a"]),
    ("(?:a)", &["a", "?:a"]),
    ("^[a-c]+$", &["abc", "abd", "b"]),
    ("x$", &["x", "xa", "ax"]),
    ("^x", &["x", "ax"]),
    ("a?b+c*", &["b", "abbc", "ac"]),
    ("^[.]$", &[".", "a"]),
    ("^[[.-.]]$", &["-", "a"]),
    ("^[[=a=]]$", &["a", "b"]),
    ("^[^]a]$", &["]", "a", "b"]),
    ("^[]a]$", &["]", "a", "b"]),
    ("^\u{e9}$", &["\u{e9}", "e"]),
    ("(^a|b$)", &["ab", "ba", "xbx"]),
    ("a^b", &["a^b", "ab"]),
    ("a$b", &["a$b", "ab"]),
    ("^(a(b(c)))$", &["abc", "ab"]),
    (
        "^unix:/run/app/",
        &["unix:/run/app/x", "unix:/run/apps", "xunix:/run/app/"],
    ),
    (
        r"^pipe:[a-z0-9._-]{1,8}$",
        &["pipe:a.b", "pipe:A", "pipe:abcdefghi", "pipe:-"],
    ),
    ("^(x|y)*z{2}$", &["zz", "xyzz", "xyz", "xyzzz"]),
    (r"[[:alnum:]_]+\$", &["a_1\\", "a_1", "\\"]),
    ("^[^[:space:]]+$", &["ab", "a b", "a\nb"]),
    ("^a+?$", &["a", "aa", "a?"]),
];

fn pairs() -> usize {
    CASES.iter().map(|(_, s)| s.len()).sum()
}

#[test]
fn at_least_200_pairs() {
    assert!(pairs() >= 200, "{} pairs", pairs());
}

/// What a store under `id` got: stored (0), refused (`EPERM`), or dropped by a daemon
/// that could not compile the rule (`dropped`).
fn store_outcome(o: &std::process::Output) -> &'static str {
    let err = String::from_utf8_lossy(&o.stderr);
    match o.status.code() {
        Some(0) => "stored",
        Some(1) if err.contains("Operation not permitted") => "EPERM",
        // Which of the two depends on when the daemon's close overtakes the store.
        Some(1) if err.contains("Connection reset by peer") || err.contains("Broken pipe") => {
            "dropped"
        }
        _ => "other",
    }
}

/// Run a daemon of `side` whose rule for uid 0 stores under `pattern`, store a pipe
/// under each subject; the outcomes, and the daemon's warning about the rule.
fn store_all(
    side: Side,
    pattern: &str,
    subjects: &[&str],
    d: &Dir,
    n: usize,
) -> (Vec<&'static str>, String) {
    let tag = match side {
        Side::Ours => "o",
        Side::S6 => "s",
    };
    let rdir = d.join(format!("r{n}{tag}"));
    rules(
        &rdir,
        "uid/0",
        Grant {
            store: Some(pattern),
            ..Grant::default()
        },
    );
    let sock = d.join(format!("s{n}{tag}"));
    let srv = daemon(side, &sock, &["-i", rdir.to_str().unwrap()]);
    let got = subjects
        .iter()
        .map(|id| {
            let (_r, w) = pipe();
            store_outcome(&client(side, "store", &[&sock, id], Some(w)))
        })
        .collect();
    let log = srv.log();
    let warning = log
        .lines()
        .find(|l| l.contains(": warning: invalid "))
        .and_then(|l| l.split_once(": warning: "))
        .map(|(_, w)| w.to_string())
        .unwrap_or_default();
    (got, warning)
}

#[test]
fn fdholder_rules_decide_as_s6_fdholderd() {
    if !have_s6() {
        return;
    }
    let d = Dir::new("drx-fd");
    let mut diffs = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (n, (pattern, subjects)) in CASES.iter().enumerate() {
        let (ours, our_warning) = store_all(Side::Ours, pattern, subjects, &d, n);
        let (s6, s6_warning) = store_all(Side::S6, pattern, subjects, &d, n);
        seen.extend(s6.iter().copied());
        for ((id, o), s) in subjects.iter().zip(&ours).zip(&s6) {
            if o != s {
                diffs.push(format!("{pattern:?} on {id:?}: ours {o}, s6-fdholderd {s}"));
            }
        }
        // The C library's reason, word for word (ours escapes a backslash in the
        // pattern itself).
        if !pattern.contains('\\') && our_warning != s6_warning {
            diffs.push(format!(
                "{pattern:?}: ours warns {our_warning:?}, s6-fdholderd {s6_warning:?}"
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    // Every outcome occurs: a broken setup that refuses everything would agree too.
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["EPERM", "dropped", "stored"]
    );
}

/// Upstream s6 2.15's binaries, built by `../shared/peers/build-s6.sh` into the
/// target directory (under CI=true, missing is a failure, as for any peer).
fn upstream(prog: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/s6-upstream/bin")
        .join(prog);
    if p.is_file() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "peer {} is not built (CI=true: a missing peer is a failure)",
            p.display()
        );
    }
    eprintln!("skipping: peer {} is not built", p.display());
    None
}

/// How a wait ended: matched, timed out, or failed (an invalid pattern).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Waited {
    Matched,
    TimedOut,
    Failed,
}

/// Start a waiter on a fresh fifodir that notifies `subject` once subscribed.
fn start_wait(listen: &Path, notify: &Path, dir: &Path, pattern: &str, subject: &str) -> Child {
    std::fs::create_dir(dir).unwrap();
    let mut c = Command::new(listen);
    c.args(["-t", "3000"])
        .arg(dir)
        .arg(pattern)
        .arg(notify)
        .arg(dir)
        .arg(subject)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.spawn().unwrap()
}

/// Events with a NUL byte (no notifier sends one, but anyone may write it to a fifo):
/// s6-ftrigrd hands the events to regexec as a C string, so the regex sees them up to
/// the first NUL; so does ours. Subjects are printf(1) formats.
const NUL_CASES: &[(&str, &str)] = &[
    ("^a$", r"a\000b"),
    ("b", r"a\000b"),
    ("^a", r"\000a"),
    ("", r"\000"),
    ("^$", r"\000x"),
    ("a.b", r"a\000b"),
];

#[test]
fn events_with_nul_bytes_decide_as_s6_ftrigrd() {
    let Some(listen) = upstream("s6-ftrig-listen1") else {
        return;
    };
    let d = Dir::new("drx-nul");
    let mut running = Vec::new();
    for (i, (pattern, subject)) in NUL_CASES.iter().enumerate() {
        let script = format!("for f in \"$1\"/ftrig1:*; do printf '{subject}' > \"$f\"; done");
        let mut both = Vec::new();
        for (tag, prog) in [("o", bin("npt-wait")), ("s", listen.clone())] {
            let dir = d.join(format!("{i}{tag}"));
            std::fs::create_dir(&dir).unwrap();
            let child = Command::new(prog)
                .args(["-t", "3000"])
                .arg(&dir)
                .arg(pattern)
                .args(["sh", "-c", &script, "sh"])
                .arg(&dir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            both.push(child);
        }
        running.push((pattern, subject, both));
    }
    let mut diffs = Vec::new();
    let mut matched = 0;
    for (pattern, subject, both) in running {
        let what = format!("{pattern:?} on {subject:?}");
        let codes: Vec<Option<i32>> = both
            .into_iter()
            .map(|mut c| wait_output(&mut c, 60, &what).status.code())
            .collect();
        // npt-wait times out with 99, s6-ftrig-listen1 with 1.
        let ours = codes.first().copied().flatten() == Some(0);
        let peer = codes.get(1).copied().flatten() == Some(0);
        matched += usize::from(peer);
        if ours != peer {
            diffs.push(format!("{what}: {codes:?}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "differences (ours, s6 2.15):\n{}",
        diffs.join("\n")
    );
    assert!(
        matched > 0 && matched < NUL_CASES.len(),
        "{matched} matched"
    );
}

#[test]
fn fifodir_events_decide_as_s6_ftrigrd() {
    let (Some(listen), Some(notify)) = (upstream("s6-ftrig-listen1"), upstream("s6-ftrig-notify"))
    else {
        return;
    };
    let d = Dir::new("drx-ev");
    let (wait, our_notify) = (bin("npt-wait"), bin("npt-notify"));
    let all: Vec<(&str, &str)> = CASES
        .iter()
        .flat_map(|(p, s)| s.iter().map(move |s| (*p, *s)))
        .collect();
    let mut diffs = Vec::new();
    let mut seen = Vec::new();
    // In batches, so that a few hundred waiters, not a thousand, run at once; the
    // ones that never match all time out together.
    for (b, batch) in all.chunks(60).enumerate() {
        let mut running = Vec::new();
        for (i, (pattern, subject)) in batch.iter().enumerate() {
            assert!(
                subject.len() <= 31,
                "{subject:?}: over s6-ftrigrd's read size"
            );
            let o = start_wait(
                &wait,
                &our_notify,
                &d.join(format!("{b}.{i}o")),
                pattern,
                subject,
            );
            let s = start_wait(
                &listen,
                &notify,
                &d.join(format!("{b}.{i}s")),
                pattern,
                subject,
            );
            running.push((pattern, subject, o, s));
        }
        for (pattern, subject, mut o, mut s) in running {
            let what = format!("{pattern:?} on {subject:?}");
            let o = wait_output(&mut o, 60, &what);
            let s = wait_output(&mut s, 60, &what);
            // With a prog, npt-wait times out as s6-ftrig-listen1 does: exit 1.
            let ours = match o.status.code() {
                Some(0) => Waited::Matched,
                Some(1) => Waited::TimedOut,
                _ => Waited::Failed,
            };
            let peer = match s.status.code() {
                Some(0) => Waited::Matched,
                Some(1) => Waited::TimedOut,
                _ => Waited::Failed,
            };
            if !seen.contains(&peer) {
                seen.push(peer);
            }
            if ours != peer {
                diffs.push(format!(
                    "{what}: ours {ours:?} {:?}, s6 2.15 {peer:?} {:?}",
                    String::from_utf8_lossy(&o.stderr),
                    String::from_utf8_lossy(&s.stderr)
                ));
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert_eq!(seen.len(), 3, "not every outcome occurred: {seen:?}");
}
