//! Shared pieces of the differential families: the probe that reports what a next
//! program sees (signal state, groups, fds, UCSPI environment), a caller that starts a
//! program with a chosen signal state, a runner with a socket or nothing on stdin, and
//! the normalisation of pids and program names.
//!
//! The probe is perl, not sh: dash clears the signal mask at start-up, so a shell probe
//! would hide exactly what the signal rows compare. perl leaves the mask and the
//! dispositions alone (it ignores nothing but what it inherited, and SIGFPE, on both
//! sides alike).

use crate::util::*;
use std::ffi::OsString;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Print the probed state: `Sig{Blk,Ign,Cgt}` and `Groups` from /proc/self/status, the
/// open fds (kind only: `socket`, `pipe`, `/dev/null`, or a path relative to the case
/// directory), and the variables a UCSPI tool sets or unsets.
pub const PROBE_PL: &str = r#"
my $out = "";
open(my $f, "<", "/proc/self/status") or die;
while (<$f>) { $out .= $_ if /^(SigBlk|SigIgn|SigCgt|Groups):/ }
close($f);
opendir(my $d, "/proc/self/fd") or die;
my @fds = sort { $a <=> $b } grep { /^\d+$/ } readdir($d);
my $dfd = fileno($d);
for my $n (@fds) {
    next if $n == $dfd;
    my $t = readlink("/proc/self/fd/$n");
    next unless defined $t;
    $t =~ s/\[\d+\]$//;
    $t =~ s/^.*\/case-[^\/]*\///;
    $out .= "fd $n $t\n";
}
closedir($d);
for my $k (sort keys %ENV) {
    $out .= "env $k=$ENV{$k}\n" if $k =~ /^(PROTO|IPC|LISTEN_|UPSTART_|FOO|UID$|GID$|GIDLIST$|[A-Z]*REMOTE|[A-Z]*LOCALPATH|[A-Z]*CONNNUM)/;
}
$out .= "arg $_\n" for @ARGV;
if ($ENV{PROBE_OUT}) { open(my $o, ">", $ENV{PROBE_OUT}) or die; print $o $out; close($o) } else { print $out }
"#;

/// Write the probe into `dir` and return the argv that runs it (`perl PATH`).
pub fn probe(dir: &Path) -> Vec<String> {
    let p = dir.join("probe.pl");
    if !p.exists() {
        std::fs::write(&p, PROBE_PL).unwrap();
    }
    vec!["perl".into(), p.to_string_lossy().into_owned()]
}

/// The signal state a caller gives the program it starts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Caller {
    /// Signals set to SIG_IGN.
    pub ignore: &'static [&'static str],
    /// Signals blocked.
    pub block: &'static [&'static str],
}

impl Caller {
    pub const PLAIN: Caller = Caller {
        ignore: &[],
        block: &[],
    };
    /// What the issue asks to compare: SIGPIPE and SIGINT ignored, a blocked mask.
    pub const HOSTILE: Caller = Caller {
        ignore: &["PIPE", "INT"],
        block: &["USR1", "TERM"],
    };

    /// The probe run in `dir` directly under this caller: what a program the caller
    /// execs sees, the reference every chain-loader's row is compared with.
    pub fn probe_directly(&self, dir: &Path) -> Output {
        exec_case(&self.wrap(&probe(dir)), &[], &[], Stdin::Null, dir)
    }

    /// `argv` prefixed with a perl that sets this state and execs it.
    pub fn wrap(&self, argv: &[String]) -> Vec<String> {
        if self.ignore.is_empty() && self.block.is_empty() {
            return argv.to_vec();
        }
        let mut code = String::from("use POSIX;");
        // glibc's posix_spawn, which starts this harness's programs, leaves its
        // internal signals 32 and 33 ignored; the caller puts them back to their
        // default (raw rt_sigaction: glibc's sigaction refuses them), so that a row
        // sees exactly the state listed here and what the program under test adds.
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            code.push_str(
                "for my $s (32, 33) { my $a = pack('Q4', 0, 0, 0, 0); syscall(13, $s, $a, 0, 8) }",
            );
        }
        for s in self.ignore {
            code.push_str(&format!("$SIG{{{s}}}='IGNORE';"));
        }
        if !self.block.is_empty() {
            let sigs: Vec<String> = self
                .block
                .iter()
                .map(|s| format!("POSIX::SIG{s}"))
                .collect();
            code.push_str(&format!(
                "sigprocmask(SIG_BLOCK, POSIX::SigSet->new({}));",
                sigs.join(",")
            ));
        }
        code.push_str("exec {$ARGV[0]} @ARGV or die;");
        let mut v = vec!["perl".to_string(), "-e".into(), code, "--".into()];
        v.push(resolve(&argv[0]).to_string_lossy().into_owned());
        v.extend(argv[1..].iter().cloned());
        v
    }
}

/// What a row expects of ours, in a table where ours may differ from the peer only
/// in its messages.
#[derive(Clone, Copy, Debug)]
pub enum SameOr {
    /// Exit code, stdout and stderr equal to the peer's.
    Same,
    /// Our documented behaviour: stderr as given (after normalisation), the peer's
    /// exit code and stdout; `compat` must be in the man page's COMPATIBILITY.
    Documented {
        compat: &'static str,
        ours_stderr: &'static str,
    },
}

/// What goes on a case's stdin.
pub enum Stdin {
    Null,
    Closed,
    /// One end of a fresh socketpair (getsockname gives an empty path).
    Socket,
    Bytes(Vec<u8>),
    Fd(std::os::fd::OwnedFd),
}

/// A handler's view from s6-ipcserverd with its `IPCCONNNUM` as 2.11 (and ours) count
/// it: 2.15 counts only the earlier connections (0 for a uid's first), ours this one
/// too (ipcserver(1) COMPATIBILITY; ipcconnlimit's `connnum_pairings_…` row shows what
/// that changes). The tables make one connection per server, so 0 becomes 1.
pub fn connnum_as_2_11(view: &str) -> String {
    if peer_is(S6::V2_15) {
        assert_documented("ipcserver", "counts this connection (the first is 1)");
        view.replace("env IPCCONNNUM=0\n", "env IPCCONNNUM=1\n")
    } else {
        view.to_string()
    }
}

/// The resolved path of a program: ours from the build directory, s6's from the running
/// row's version (`s6`), others from PATH.
pub fn resolve(prog: &str) -> OsString {
    if !prog.starts_with("s6-") && !prog.contains('/') && bin(prog).exists() {
        bin(prog).into_os_string()
    } else {
        in_path(&s6(prog))
    }
}

/// `prog` found in `peer_path()` (as is if it has a slash or is not there). A command
/// run with a changed PATH and a bare name is started by fork and exec, one with an
/// absolute path by posix_spawn, and the two leave different signals ignored: every
/// case is started the same way.
pub fn in_path(prog: &std::ffi::OsStr) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    if prog.as_bytes().contains(&b'/') {
        return prog.into();
    }
    std::env::split_paths(&peer_path())
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
        .map_or_else(|| prog.into(), PathBuf::into_os_string)
}

/// `argv` (argv[0] resolved with `resolve`) to run in `cwd`, with `env` added and
/// the variables `unset` removed.
pub fn case_command(argv: &[String], env: &[(&str, &str)], unset: &[&str], cwd: &Path) -> Command {
    let mut c = Command::new(resolve(&argv[0]));
    c.args(&argv[1..]).current_dir(cwd).env("PATH", peer_path());
    for (k, v) in env {
        c.env(k, v);
    }
    for k in unset {
        c.env_remove(k);
    }
    c
}

/// Run `argv` (argv[0] resolved with `resolve`) in `cwd` with `env` added and `stdin`.
pub fn exec_case(
    argv: &[String],
    env: &[(&str, &str)],
    unset: &[&str],
    stdin: Stdin,
    cwd: &Path,
) -> Output {
    let mut c = case_command(argv, env, unset, cwd);
    let mut keep = None;
    let mut bytes = None;
    match stdin {
        Stdin::Null => {
            c.stdin(Stdio::null());
        }
        Stdin::Closed => {
            use std::os::unix::process::CommandExt;
            c.stdin(Stdio::null());
            let close_stdin = || {
                // SAFETY: close(2) is async-signal-safe, and fd 0 of the child about to
                // exec is nobody else's.
                unsafe { libc::close(0) };
                Ok(())
            };
            // SAFETY: the closure only calls close(2), which is async-signal-safe.
            unsafe { c.pre_exec(close_stdin) };
        }
        Stdin::Socket => {
            let (a, b) = UnixStream::pair().unwrap();
            c.stdin(Stdio::from(std::os::fd::OwnedFd::from(b)));
            keep = Some(a);
        }
        Stdin::Bytes(b) => {
            c.stdin(Stdio::piped());
            bytes = Some(b);
        }
        Stdin::Fd(f) => {
            c.stdin(Stdio::from(f));
        }
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let desc = format!("{c:?}");
    let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    drop(c);
    if let Some(b) = bytes {
        use std::io::Write;
        let mut i = child.stdin.take().unwrap();
        let _ = i.write_all(&b);
    }
    let out = wait_output(&mut child, 20, &desc);
    drop(keep);
    out
}

/// Normalise a log or message: the names in `progs` become `PROG`, every `pid N`
/// becomes `pid P`, and the case directory's absolute path disappears.
pub fn norm(s: &[u8], progs: &[&str], dir: &Path) -> String {
    let mut s = String::from_utf8_lossy(s).into_owned();
    s = s.replace(&format!("{}/", dir.display()), "");
    // Longest names first, so `s6-ipcserver` does not eat into `s6-ipcserverd`.
    let mut progs = progs.to_vec();
    progs.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in progs {
        s = s.replace(&format!("{p}: "), "PROG: ");
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("pid ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push('P');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// One side of a case, normalised.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct Got {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Got {
    pub fn of(out: &Output, progs: &[&str], dir: &Path) -> Got {
        Got {
            code: out.status.code(),
            stdout: norm(&out.stdout, progs, dir),
            stderr: norm(&out.stderr, progs, dir),
        }
    }
}

/// A fresh per-side directory `dir/case-NAME-SIDE`, so that both sides use the same
/// relative paths and their outputs compare equal.
pub fn side_dir(dir: &Path, case: &str, side: &str) -> PathBuf {
    let p = dir.join(format!("case-{case}-{side}"));
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// The COMPATIBILITY section of `doc/PAGE.1`, for rows asserting a documented
/// difference: the line they name must be there.
pub fn assert_documented(page: &str, needle: &str) {
    assert!(
        documented(page, needle),
        "{page}.1 COMPATIBILITY does not say: {needle}"
    );
}

/// Whether `doc/PAGE.1`'s COMPATIBILITY section contains `needle` (words compared, mdoc
/// macros and line breaks ignored).
pub fn documented(page: &str, needle: &str) -> bool {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("doc/{page}.1"));
    let text = std::fs::read_to_string(&p).unwrap();
    let compat = text
        .split(".Sh COMPATIBILITY")
        .nth(1)
        .and_then(|s| s.split("\n.Sh ").next())
        .unwrap_or_else(|| panic!("{page}.1 has no COMPATIBILITY section"));
    // mdoc splits sentences over lines and macros: compare words only.
    let words = |s: &str| -> String {
        s.lines()
            .map(|l| {
                l.split_whitespace()
                    .filter(|w| !(w.starts_with('.') && w.len() <= 3))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    words(compat).contains(needle)
}

/// Failures collected over a table, reported together.
#[derive(Default)]
pub struct Report {
    pub failures: Vec<String>,
    pub ran: usize,
}

impl Report {
    pub fn check<T: PartialEq + std::fmt::Debug>(&mut self, case: &str, what: &str, a: &T, b: &T) {
        self.ran += 1;
        if a != b {
            self.failures.push(format!(
                "case {case}: {what} differ:\n  ours: {a:?}\n  peer: {b:?}"
            ));
        }
    }

    /// Check that ours exited as the peer and wrote the same stdout.
    pub fn check_code_and_stdout(&mut self, case: &str, ours: &Got, peer: &Got) {
        self.check(case, "exit code", &ours.code, &peer.code);
        self.check(case, "stdout", &ours.stdout, &peer.stdout);
    }

    /// Check that ours exited as the peer and wrote the same stdout and stderr.
    pub fn check_same(&mut self, case: &str, ours: &Got, peer: &Got) {
        self.check_code_and_stdout(case, ours, peer);
        self.check(case, "stderr", &ours.stderr, &peer.stderr);
    }

    /// Check that `compat` is in the COMPATIBILITY section of `page`(1), which a row
    /// where ours differs from the peer names.
    pub fn check_documented(&mut self, case: &str, page: &str, compat: &str) {
        let what = format!("documented in {page}(1)");
        self.check(case, &what, &documented(page, compat), &true);
    }

    pub fn finish(self, family: &str) {
        assert!(
            self.failures.is_empty(),
            "{family}: {} of {} comparisons failed:\n{}",
            self.failures.len(),
            self.ran,
            self.failures.join("\n")
        );
    }
}
