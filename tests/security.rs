//! Tests: the attacks of the security review, run for real as uid 65534 against root
//! programs, and the outcomes asserted (target modes and contents unchanged, nothing
//! created where the caller could not create it, connections dropped, log lines escaped).
//! Each defence also gets its positive path: the same program still works when nobody
//! attacks. doc/security.md names these tests.

use crate::fifodir::{fifos, need_root, wait_fifos};
use crate::util::*;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// Permission bits (with setuid/setgid/sticky) of `p`, not following a link.
fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

/// A directory owned by uid 65534 inside `d`.
fn nobody_dir(d: &Dir, name: &str) -> PathBuf {
    let p = d.join(name);
    std::fs::create_dir(&p).unwrap();
    std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
    p
}

/// A fifodir made by uid 65534 at `p`.
fn nobody_fifodir(p: &Path) {
    run_timeout(
        as_nobody(&[bin("npt-mkfifodir").as_os_str(), p.as_os_str()]),
        10,
    )
    .assert_code(0);
}

/// A root file with mode 0600 and known content.
fn victim(d: &Dir, name: &str) -> PathBuf {
    let p = d.join(name);
    std::fs::write(&p, "root-only secret\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

fn assert_victim_intact(p: &Path) {
    assert_eq!(mode(p), 0o600, "{} changed mode", p.display());
    assert_eq!(std::fs::read_to_string(p).unwrap(), "root-only secret\n");
}

/// The inotify swapper (tests/security/swapper.c), compiled once per test run into a
/// root-owned directory uid 65534 may execute from. `None` (skip) when no C compiler
/// is installed outside CI.
fn swapper() -> Option<PathBuf> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| build_tool("swapper")).clone()
}

/// The directory swapper against ipcrules-fs (tests/security/rswap.c), built the same
/// way.
fn rswap() -> Option<PathBuf> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| build_tool("rswap")).clone()
}

/// Compile tests/security/NAME.c into a root-owned directory uid 65534 may execute
/// from.
fn build_tool(name: &str) -> Option<PathBuf> {
    if !have("cc") {
        return None;
    }
    let dir = PathBuf::from(format!("/tmp/ipct{}-swapper", std::process::id()));
    let _ = std::fs::create_dir(&dir);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/security/{name}.c"));
    run_timeout(
        cmd(&[
            os("cc"),
            os("-O2"),
            os("-o"),
            exe.as_os_str(),
            src.as_os_str(),
        ]),
        120,
    )
    .assert_code(0);
    Some(exe)
}

/// The swapper running as uid 65534, its stdout in a file; killed on drop.
struct Swapper {
    child: Child,
    out: PathBuf,
}

impl Swapper {
    fn start(exe: &Path, how: &str, dir: &Path, target: &Path) -> Swapper {
        Swapper::start_with(exe, &[os(how), dir.as_os_str(), target.as_os_str()], dir)
    }

    /// Run `exe args…`; its log goes beside `dir`.
    fn start_with(exe: &Path, args: &[&OsStr], dir: &Path) -> Swapper {
        let out = PathBuf::from(format!("{}.swaps", dir.display()));
        let f = std::fs::File::create(&out).unwrap();
        let mut argv = vec![exe.as_os_str()];
        argv.extend_from_slice(args);
        let child = as_nobody(&argv)
            .stdin(Stdio::null())
            .stdout(f)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let s = Swapper { child, out };
        assert!(
            eventually(20, || s.log().starts_with("ready\n")),
            "swapper never became ready"
        );
        s
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn swaps(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.starts_with("swapped"))
            .count()
    }
}

impl Drop for Swapper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.out);
    }
}

/// V1: the owner of a fifodir renames a symlink to a root file over a root listener's
/// temporary fifo, between mkfifo and open. The old code then chmodded the target 0622
/// and read it into its events (it lost within 3 tries). Now the listener opens with
/// O_NOFOLLOW and checks what it opened: it fails, the target is untouched, and no
/// secret byte reaches its output.
#[test]
fn swapped_temporary_fifo_is_never_followed() {
    if !need_root() {
        return;
    }
    let Some(exe) = swapper() else { return };
    let d = Dir::new("secswap");
    let home = nobody_dir(&d, "home");
    let fd = home.join("fifodir");
    nobody_fifodir(&fd);
    let v = victim(&d, "victim");
    let sw = Swapper::start(&exe, "fifo", &fd, &v);
    let mut refused = 0;
    // At least 60 attempts, more (up to 400) until the swapper has won a few races: a
    // swap that lands after our rename changes nothing, and a loaded machine may make
    // the swapper late for a while.
    for i in 0..400 {
        if i >= 60 && refused >= 3 {
            break;
        }
        let o = run_timeout(
            cmd(&[
                bin("npt-wait").as_os_str(),
                os("-t"),
                os("40"),
                fd.as_os_str(),
                os("."),
            ]),
            20,
        );
        assert!(
            !o.out().contains("secret"),
            "the secret leaked: {}",
            o.out()
        );
        assert_victim_intact(&v);
        match o.code() {
            Some(99) => {}
            Some(111) => {
                refused += 1;
                let e = o.err();
                assert!(
                    e.starts_with(&format!(
                        "npt-wait: fatal: unable to open fifo in {}: ",
                        fd.display()
                    )) || e.starts_with(&format!(
                        "npt-wait: fatal: unable to check fifo in {}: Operation not permitted",
                        fd.display()
                    )),
                    "{e}"
                );
            }
            _ => panic!("unexpected outcome: {:?}\n{}", o.status, o.err()),
        }
    }
    let swaps = sw.swaps();
    drop(sw);
    eprintln!("swapper: {swaps} swaps, {refused} subscriptions refused");
    assert!(swaps > 0, "the attack never ran; swapper: {swaps} swaps");
    assert!(refused > 0, "{swaps} swaps but no subscription was refused");
    assert_victim_intact(&v);
}

/// V1's positive path: root listens on a fifodir another user owns, and that user
/// notifies it; the listener's fifo has s6's mode 0622 whatever root's umask. V4's:
/// that user listens and root notifies.
#[test]
fn root_listens_on_a_users_fifodir() {
    if !need_root() {
        return;
    }
    let d = Dir::new("secpos");
    let home = nobody_dir(&d, "home");
    let fd = home.join("fifodir");
    nobody_fifodir(&fd);
    let mut c = Command::new("sh");
    c.args(["-c", "umask 077; exec \"$0\" -t 10000 \"$1\" u"])
        .arg(bin("npt-wait"))
        .arg(&fd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut w = c.spawn().unwrap();
    wait_fifos(&fd, 1);
    let f = fifos(&fd);
    assert_eq!((f[0].1, f[0].2), (0, 0o622), "{f:?}");
    run_timeout(
        as_nobody(&[bin("npt-notify").as_os_str(), fd.as_os_str(), os("xu")]),
        10,
    )
    .assert_code(0);
    let o = wait_output(&mut w, 20, "npt-wait");
    o.assert_code(0);
    assert_eq!(o.out(), "xu\n");
    assert!(fifos(&fd).is_empty());
    // And the other way: the user listens, root notifies (s6-supervise's role).
    let mut w = as_nobody(&[
        bin("npt-wait").as_os_str(),
        os("-t"),
        os("10000"),
        fd.as_os_str(),
        os("d$"),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    wait_fifos(&fd, 1);
    assert_eq!(fifos(&fd)[0].1, 65534);
    run_timeout(
        cmd(&[bin("npt-notify").as_os_str(), fd.as_os_str(), os("ud")]),
        10,
    )
    .assert_code(0);
    let o = wait_output(&mut w, 20, "npt-wait as 65534");
    o.assert_code(0);
    assert_eq!(o.out(), "ud\n");
}

/// V4: a symlink (and a regular file) named like a listener fifo, planted by uid 65534
/// in a public fifodir and in a group fifodir it belongs to. Root npt-notify writes only
/// to real fifos: the targets are unchanged, and a real listener still gets the event.
#[test]
fn notify_never_writes_through_planted_links() {
    if !need_root() {
        return;
    }
    let d = Dir::new("secnotify");
    let v = victim(&d, "victim");
    for args in [vec![], vec!["-g", "65534"]] {
        let fd = d.join(format!("fd{}", args.len()));
        let mut argv: Vec<OsString> = vec![bin("npt-mkfifodir").into()];
        argv.extend(args.iter().map(Into::into));
        argv.push(fd.clone().into());
        run_timeout(cmd(&argv), 10).assert_code(0);
        let link = fd.join("ftrig1:@400000006b02655f38659883:AAAAAA");
        run_timeout(
            as_nobody(&[os("ln"), os("-s"), v.as_os_str(), link.as_os_str()]),
            10,
        )
        .assert_code(0);
        let plain = fd.join("ftrig1:@400000006b02655f38659883:BBBBBB");
        run_timeout(
            as_nobody(&[
                os("sh"),
                os("-c"),
                os("printf mine > \"$0\""),
                plain.as_os_str(),
            ]),
            10,
        )
        .assert_code(0);
        let mut w = as_nobody(&[
            bin("npt-wait").as_os_str(),
            os("-t"),
            os("10000"),
            fd.as_os_str(),
            os("PWNED"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        wait_fifos(&fd, 1);
        run_timeout(
            cmd(&[bin("npt-notify").as_os_str(), fd.as_os_str(), os("PWNED")]),
            10,
        )
        .assert_code(0);
        assert_eq!(
            wait_output(&mut w, 20, "npt-wait").assert_code(0).out(),
            "PWNED\n"
        );
        assert_victim_intact(&v);
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "mine");
        // The planted entries are left alone, not removed through a race.
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    }
}

/// V5: `npt-mkfifodir -f` on a symlink planted by uid 65534 in a world-writable
/// directory is refused, and the target (a root directory, a root file) keeps its mode
/// and group; without `-f` the existing target is only looked at.
#[test]
fn mkfifodir_refuses_planted_symlinks() {
    if !need_root() {
        return;
    }
    let d = Dir::new("secmk");
    let shared = d.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let rootdir = d.join("rootdir");
    std::fs::create_dir(&rootdir).unwrap();
    std::fs::set_permissions(&rootdir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let v = victim(&d, "victim");
    for (target, want) in [(&rootdir, 0o755), (&v, 0o600)] {
        let link = shared.join("events");
        let _ = std::fs::remove_file(&link);
        run_timeout(
            as_nobody(&[os("ln"), os("-s"), target.as_os_str(), link.as_os_str()]),
            10,
        )
        .assert_code(0);
        for args in [vec!["-f"], vec!["-f", "-g", "65534"]] {
            let mut argv: Vec<OsString> = vec![bin("npt-mkfifodir").into()];
            argv.extend(args.iter().map(Into::into));
            argv.push(link.clone().into());
            let o = run_timeout(cmd(&argv), 10);
            o.assert_code(111);
            assert_eq!(
                o.err(),
                format!(
                    "npt-mkfifodir: fatal: unable to create fifodir at {}: \
                     Too many levels of symbolic links\n",
                    link.display()
                )
            );
            assert_eq!(mode(target), want);
            assert_eq!(std::fs::metadata(target).unwrap().gid(), 0);
        }
        // Without -f nothing is changed; a directory of ours is accepted as it is (as
        // s6 does), a file is not a directory.
        let o = run_timeout(
            cmd(&[bin("npt-mkfifodir").as_os_str(), link.as_os_str()]),
            10,
        );
        o.assert_code(if target == &rootdir { 0 } else { 111 });
        assert_eq!(mode(target), want);
    }
    assert_victim_intact(&v);
    // Positive path: in the same shared directory, a new fifodir is made as s6 makes it.
    let ok = shared.join("ok");
    run_timeout(cmd(&[bin("npt-mkfifodir").as_os_str(), ok.as_os_str()]), 10).assert_code(0);
    assert_eq!(mode(&ok), 0o1733);
}

/// V5, the race: uid 65534 watches the world-writable directory, renames root's fresh
/// directory away and plants a symlink to a root directory before the chmod. The old
/// code chmodded the target (won on the first try); now the fix-up goes through an
/// `O_NOFOLLOW` fd and the target keeps its mode.
#[test]
fn mkfifodir_race_never_chmods_the_target() {
    if !need_root() {
        return;
    }
    let Some(exe) = swapper() else { return };
    let d = Dir::new("secmkrace");
    let shared = d.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let rootdir = d.join("rootdir");
    std::fs::create_dir(&rootdir).unwrap();
    std::fs::set_permissions(&rootdir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sw = Swapper::start(&exe, "dir", &shared, &rootdir);
    let mut refused = 0;
    for i in 0..300 {
        if i >= 50 && refused >= 3 {
            break;
        }
        let p = shared.join(format!("ev{i}"));
        let o = run_timeout(cmd(&[bin("npt-mkfifodir").as_os_str(), p.as_os_str()]), 20);
        assert_eq!(mode(&rootdir), 0o755, "attempt {i}: {}", o.err());
        match o.code() {
            // Done before the swapper moved it (it may be moved since): the fifodir.
            Some(0) => {
                if let Ok(m) = std::fs::symlink_metadata(&p)
                    && m.is_dir()
                {
                    assert_eq!(m.mode() & 0o7777, 0o1733);
                }
            }
            Some(111) => refused += 1,
            _ => panic!("unexpected outcome: {:?}\n{}", o.status, o.err()),
        }
    }
    let swaps = sw.swaps();
    drop(sw);
    eprintln!("swapper: {swaps} swaps, {refused} mkfifodir refused");
    assert!(swaps > 0, "the attack never ran");
    assert!(refused > 0, "{swaps} swaps but nothing was refused");
    assert_eq!(mode(&rootdir), 0o755);
}

/// A server that writes no readiness line (socat): killed on drop, its log in a file.
struct Plain {
    child: Child,
    log: PathBuf,
}

impl Plain {
    fn start(mut c: Command, sock: &Path) -> Plain {
        let log = PathBuf::from(format!("{}.log", sock.display()));
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let child = c.spawn().unwrap();
        let p = Plain { child, log };
        assert!(
            eventually(20, || listening(sock)),
            "no socket listening at {}",
            sock.display()
        );
        p
    }
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Plain {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// npt-wait -s as uid 65534 through the service at `sock`.
fn npt_wait_s(sock: &Path, ms: &str, dir: &OsStr, re: &str) -> Command {
    let mut c = as_nobody(&[
        bin("npt-wait").as_os_str(),
        os("-s"),
        os("-t"),
        os(ms),
        dir,
        os(re),
    ]);
    c.env("NPT_IPCPATH", sock);
    c
}

/// The caller is served as itself: its fifo is its own, and a root-only directory is
/// refused with the caller's rights (nothing is created in it).
fn served_as_caller(d: &Dir, sock: &Path, log: impl Fn() -> String) {
    let home = nobody_dir(d, "home");
    let fd = home.join("fifodir");
    nobody_fifodir(&fd);
    let mut w = npt_wait_s(sock, "10000", fd.as_os_str(), "u")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_fifos(&fd, 1);
    let owners: Vec<(u32, u32)> = fifos(&fd).iter().map(|f| (f.1, f.2)).collect();
    assert_eq!(owners, [(65534, 0o622)], "the request runs as the caller");
    run_timeout(
        cmd(&[bin("npt-notify").as_os_str(), fd.as_os_str(), os("u")]),
        10,
    )
    .assert_code(0);
    assert_eq!(
        wait_output(&mut w, 20, "npt-wait -s").assert_code(0).out(),
        "u\n"
    );
    let closed = d.join("rootonly");
    std::fs::create_dir(&closed).unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
    let o = run_timeout(npt_wait_s(sock, "2000", closed.as_os_str(), "u"), 20);
    o.assert_code(111);
    let why = format!(
        "unable to create fifo in {}: Permission denied",
        closed.display()
    );
    assert_eq!(
        o.err(),
        format!(
            "npt-wait: fatal: nptlistend service at {} refused the request: {why}\n",
            sock.display()
        )
    );
    assert_eq!(std::fs::read_dir(&closed).unwrap().count(), 0);
    assert!(
        eventually(10, || log()
            .contains(&format!("nptlistend: fatal: {why}\n"))),
        "{}",
        log()
    );
}

/// V2: `ipcserver -P` sets no IPCREMOTEEUID/IPCREMOTEEGID; nptlistend as root used to
/// serve every caller as root. Now it takes the caller from SO_PEERCRED.
#[test]
fn service_under_ipcserver_p_serves_the_peer() {
    if !need_root() {
        return;
    }
    nptlistend_under_p_serves_the_peer("secP", &[bin("ipcserver").as_os_str()]);
}

/// The same with the server and nptlistend in a pid namespace of their own (a
/// container), the caller outside it: SO_PEERCRED's pid is 0 there, and the caller is
/// still served by its uid.
#[test]
fn service_in_another_pid_namespace_serves_the_peer() {
    if !need_root() || !have("unshare") {
        return;
    }
    let ipcserver = bin("ipcserver");
    let server = [
        os("unshare"),
        os("-pf"),
        os("--kill-child"),
        ipcserver.as_os_str(),
    ];
    nptlistend_under_p_serves_the_peer("secpidns", &server);
}

/// nptlistend behind `server -P` on a socket anyone may connect to.
fn nptlistend_under_p_serves_the_peer(tag: &str, server: &[&OsStr]) {
    let d = Dir::new(tag);
    let sock = d.join("sock");
    let nptlistend = bin("nptlistend");
    let mut argv = server.to_vec();
    argv.extend([
        os("-1"),
        os("-P"),
        os("-a"),
        os("0777"),
        sock.as_os_str(),
        nptlistend.as_os_str(),
    ]);
    let srv = Server::start(cmd(&argv));
    served_as_caller(&d, &sock, || srv.log());
}

/// V2 under s6-ipcserver -P (the review's other fail-open case): the same.
#[test]
fn service_under_s6_ipcserver_p_serves_the_peer() {
    if !need_root() || !have("s6-ipcserver") {
        return;
    }
    nptlistend_under_p_serves_the_peer("secs6P", &[os("s6-ipcserver")]);
}

/// V2 under socat: with `nofork`, the connection is nptlistend's stdin and the caller is
/// served as itself even though socat's environment claims root; without it, socat
/// relays through a socketpair of its own, the real client is unknown, and the request
/// is refused (never served as root).
#[test]
fn service_under_socat_serves_the_peer_or_refuses() {
    if !need_root() || !have("socat") {
        return;
    }
    let d = Dir::new("secsocat");
    let sock = d.join("sock");
    let listen = format!("UNIX-LISTEN:{},fork,umask=0000", sock.display());
    let exec = format!("EXEC:{},nofork", bin("nptlistend").display());
    let mut c = cmd(&[os("socat"), os(&listen), os(&exec)]);
    c.env("IPCREMOTEEUID", "0").env("IPCREMOTEEGID", "0");
    let srv = Plain::start(c, &sock);
    served_as_caller(&d, &sock, || srv.log());
    assert!(
        srv.log().contains(
            "nptlistend: warning: IPCREMOTEEUID/IPCREMOTEEGID disagree with the kernel's \
             peer credentials 65534:65534: using the kernel's\n"
        ),
        "{}",
        srv.log()
    );
    drop(srv);

    let sock2 = d.join("relay");
    let listen = format!("UNIX-LISTEN:{},fork,umask=0000", sock2.display());
    let exec = format!("EXEC:{}", bin("nptlistend").display());
    let srv = Plain::start(cmd(&[os("socat"), os(&listen), os(&exec)]), &sock2);
    let mine = nobody_dir(&d, "mine");
    let o = run_timeout(npt_wait_s(&sock2, "2000", mine.as_os_str(), "u"), 20);
    o.assert_code(111);
    // socat may drop the reason (or reset the client) when its child exits first: how
    // the client hears of it is socat's business; that nothing was served is ours.
    let refused = format!(
        "npt-wait: fatal: nptlistend service at {} refused the request",
        sock2.display()
    );
    let e = o.err();
    assert!(
        e.starts_with(&format!(
            "{refused}: refusing to serve: stdin is a socket and its peer is our parent (pid "
        )) || e == format!("{refused} (see its log)\n")
            || e.starts_with("npt-wait: fatal: unable to send request: ")
            || e.starts_with("npt-wait: fatal: unable to read from listener: "),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(&mine).unwrap().count(), 0);
    assert!(
        eventually(10, || {
            srv.log().contains(
            "nptlistend: fatal: refusing to serve: stdin is a socket and its peer is our parent (pid "
        )
        }),
        "{}\nclient: {}",
        srv.log(),
        o.err()
    );
}

/// `ipcserver` as root running nptlistend with `-t MS`, readiness awaited.
fn service(d: &Dir, extra: &[&str], t: &str) -> (Server, PathBuf) {
    let sock = d.join("sock");
    let mut argv: Vec<OsString> = vec![bin("ipcserver").into(), "-1".into()];
    argv.extend(extra.iter().map(Into::into));
    argv.extend([
        "-a".into(),
        "0777".into(),
        sock.clone().into(),
        bin("nptlistend").into(),
        "-t".into(),
        t.into(),
    ]);
    (Server::start(cmd(&argv)), sock)
}

/// A silent client as uid 65534 (socat, stdin kept open, nothing sent).
fn silent_client(sock: &Path) -> Child {
    as_nobody(&[
        os("socat"),
        os("-t"),
        os("1"),
        os(&format!("UNIX-CONNECT:{}", sock.display())),
        os("STDIO"),
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

/// W1: a client that connects and sends nothing is dropped once the request timeout
/// passes, told why, and the log says so.
#[test]
fn silent_client_is_dropped() {
    if !need_root() || !have("socat") {
        return;
    }
    let d = Dir::new("secslow");
    let (srv, sock) = service(&d, &[], "300");
    let mut c = silent_client(&sock);
    let o = wait_output(&mut c, 30, "silent socat");
    assert!(
        o.out()
            .starts_with("!no complete request after 0 bytes from 65534:65534 pid "),
        "{}",
        o.out()
    );
    assert!(
        eventually(10, || srv.log().lines().any(|l| {
            l.starts_with(
                "nptlistend: fatal: no complete request after 0 bytes from 65534:65534 pid ",
            ) && l.ends_with(" within 300 ms: dropping the connection")
        })),
        "{}",
        srv.log()
    );
}

/// W1, the victim: while a silent client holds the only slot (no request timeout), a
/// client waiting in the backlog is told the service did not take its request, not
/// that its wait timed out.
#[test]
fn unserved_client_is_not_told_timed_out() {
    if !need_root() || !have("socat") {
        return;
    }
    let d = Dir::new("secbusy");
    let (srv, sock) = service(&d, &["-c", "1"], "0");
    let mut holder = silent_client(&sock);
    assert!(eventually(10, || !srv.children().is_empty()));
    let home = nobody_dir(&d, "home");
    let fd = home.join("fifodir");
    nobody_fifodir(&fd);
    let o = run_timeout(npt_wait_s(&sock, "200", fd.as_os_str(), "u"), 30);
    let _ = holder.kill();
    let _ = holder.wait();
    o.assert_code(111);
    assert_eq!(
        o.err(),
        format!(
            "npt-wait: fatal: nptlistend service at {} did not take the request within \
             5200 ms (busy or stuck)\n",
            sock.display()
        )
    );
    drop(srv);
}

/// W2: newlines, ESC and invalid UTF-8 in FIFODIR and REGEX reach the root service's log
/// (and the client) escaped: no forged line, no raw escape sequence.
#[test]
fn control_bytes_in_requests_are_escaped() {
    if !need_root() {
        return;
    }
    let d = Dir::new("secesc");
    let (srv, sock) = service(&d, &[], "5000");
    let mut dir = b"/nonexistent\nipcserver: info: allow 0:0 pid 1 count 1/40\n\x1b[31m".to_vec();
    dir.push(0xff);
    let dir = OsString::from_vec(dir);
    let o = run_timeout(npt_wait_s(&sock, "2000", &dir, "u"), 20);
    o.assert_code(111);
    let shown = "/nonexistent\\nipcserver: info: allow 0:0 pid 1 count 1/40\\n\\x1b[31m\\xff";
    let why = format!("unable to subscribe to {shown}: No such file or directory");
    assert_eq!(
        o.err(),
        format!(
            "npt-wait: fatal: nptlistend service at {} refused the request: {why}\n",
            sock.display()
        )
    );
    let home = nobody_dir(&d, "home");
    let o = run_timeout(
        npt_wait_s(&sock, "2000", home.as_os_str(), "\x1b[2J(\n"),
        20,
    );
    o.assert_code(111);
    assert!(
        o.err().contains("invalid regex \\x1b[2J(\\n: "),
        "{}",
        o.err()
    );
    let log = srv.stop_with(15).err();
    assert!(
        log.contains(&format!("nptlistend: fatal: {why}\n")),
        "{log}"
    );
    assert!(
        log.contains("nptlistend: fatal: invalid regex \\x1b[2J(\\n: "),
        "{log}"
    );
    assert!(
        !log.lines()
            .any(|l| l.starts_with("ipcserver: info: allow 0:0 pid 1")),
        "{log}"
    );
    assert!(!log.contains('\x1b'), "{log}");
}

/// A relative FIFODIR: npt-wait -s resolves it against its own working directory; a
/// raw request with a relative path is refused, and the service says why.
#[test]
fn relative_fifodir_through_the_service() {
    if !need_root() {
        return;
    }
    let d = Dir::new("secrel");
    let (srv, sock) = service(&d, &[], "5000");
    let home = nobody_dir(&d, "home");
    nobody_fifodir(&home.join("ev"));
    let mut w = npt_wait_s(&sock, "10000", os("ev"), "x");
    w.current_dir(&home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut w = w.spawn().unwrap();
    wait_fifos(&home.join("ev"), 1);
    run_timeout(
        cmd(&[
            bin("npt-notify").as_os_str(),
            home.join("ev").as_os_str(),
            os("x"),
        ]),
        10,
    )
    .assert_code(0);
    assert_eq!(
        wait_output(&mut w, 20, "npt-wait -s").assert_code(0).out(),
        "x\n"
    );

    let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"ev\0x\x001000\0").unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"!fifodir ev is not an absolute path");
    let log = srv.stop_with(15).err();
    assert!(
        log.contains("nptlistend: fatal: fifodir ev is not an absolute path\n"),
        "{log}"
    );
}

/// The service compiles its clients' regexes with the C library, which copies bounded
/// repetitions (`a{0,32767}` takes gigabytes) and matches back-references in
/// exponential time: it refuses both, and says why; `a{0,1023}b` (1024) is still served.
#[test]
fn service_refuses_costly_regexes() {
    if !need_root() {
        return;
    }
    let d = Dir::new("secre");
    let (srv, sock) = service(&d, &[], "5000");
    let home = nobody_dir(&d, "home");
    let ev = home.join("ev");
    nobody_fifodir(&ev);
    for (re, why) in [
        ("a{0,32767}", "its repetitions expand past 1024 positions"),
        (
            "((a{0,40}){0,40})",
            "its repetitions expand past 1024 positions",
        ),
        (r"(u)\1", "back-references are not accepted by the service"),
    ] {
        let o = run_timeout(npt_wait_s(&sock, "1000", ev.as_os_str(), re), 20);
        o.assert_code(111);
        assert_eq!(
            o.err(),
            format!(
                "npt-wait: fatal: nptlistend service at {} refused the request: invalid regex {}: {why}\n",
                sock.display(),
                re.replace('\\', "\\\\")
            )
        );
    }
    let o = run_timeout(npt_wait_s(&sock, "300", ev.as_os_str(), "a{0,1023}b"), 20);
    o.assert_code(99);
    drop(srv);
}

/// W4 (audit of ipcsudod): a client cannot fill the super-server's variables. ipcserver
/// sets `IPCREMOTEPATH` empty for an unbound client; s6-sudod lets the client's value
/// through to the privileged command, ipcsudod does not. An empty variable the server
/// set on purpose (`FOO`) is still filled.
#[test]
fn sudo_client_cannot_fill_ucspi_variables() {
    if !need_root() {
        return;
    }
    let d = Dir::new("secsudo");
    let sock = d.join("sock");
    let mut c = cmd(&[
        bin("ipcserver").as_os_str(),
        os("-1"),
        os("-a"),
        os("0777"),
        sock.as_os_str(),
        bin("ipcsudod").as_os_str(),
        os("sh"),
        os("-c"),
        os("echo \"path=[$IPCREMOTEPATH] proto=[$PROTO] foo=[$FOO] uid=$(id -u)\""),
    ]);
    c.env("FOO", "");
    let _srv = Server::start(c);
    let mut cl = as_nobody(&[bin("ipcsudo").as_os_str(), sock.as_os_str()]);
    cl.env("IPCREMOTEPATH", "/run/trusted-admin.sock")
        .env("PROTO", "FORGED")
        .env("FOO", "client");
    let o = run_timeout(cl, 20);
    o.assert_code(0);
    assert_eq!(o.out(), "path=[] proto=[IPC] foo=[client] uid=0\n");
}

/// W5 (audit of ipcserver-access): a `deny` the checking uid cannot read still denies;
/// s6 (and R_OK) falls through to `uid/default/allow`. The positive path: an `allow`
/// for that uid still allows.
#[test]
fn unreadable_deny_still_denies() {
    if !need_root() {
        return;
    }
    let d = Dir::new("secrules");
    let rules = d.join("rules");
    for (key, file) in [("uid/65534", "deny"), ("uid/default", "allow")] {
        std::fs::create_dir_all(rules.join(key)).unwrap();
        std::fs::write(rules.join(key).join(file), "").unwrap();
    }
    std::fs::set_permissions(
        rules.join("uid/65534/deny"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let sock = d.join("sock");
    let _srv = Server::start(cmd(&[
        bin("ipcserver").as_os_str(),
        os("-1"),
        os("-u"),
        os("4321"),
        os("-g"),
        os("4321"),
        os("-a"),
        os("0777"),
        sock.as_os_str(),
        bin("ipcserver-access").as_os_str(),
        os("-i"),
        rules.as_os_str(),
        os("echo"),
        os("allowed"),
    ]));
    let client = |nobody: bool| {
        let argv = [
            bin("ipcclient").into_os_string(),
            sock.clone().into_os_string(),
            "sh".into(),
            "-c".into(),
            "cat <&6".into(),
        ];
        let c = if nobody { as_nobody(&argv) } else { cmd(&argv) };
        run_timeout(c, 10)
    };
    assert_eq!(client(true).out(), "", "uid 65534 has an unreadable deny");
    assert_eq!(
        client(false).out(),
        "allowed\n",
        "root falls to uid/default/allow"
    );
}

/// W2 in the other programs: a path with a newline, an ESC and a byte that is not UTF-8
/// is printed escaped by every program's diagnostics (`diag`), and ordinary paths as
/// they are.
#[test]
fn diagnostics_escape_paths_in_every_program() {
    let d = Dir::new("secdiag");
    let mut raw = d.path.as_os_str().as_encoded_bytes().to_vec();
    raw.extend_from_slice(b"/x\nPROG: info: forged\x1b[0m\xff/y");
    let bad = OsString::from_vec(raw);
    let shown = format!("{}/x\\nPROG: info: forged\\x1b[0m\\xff/y", d.path.display());
    for (prog, args, want) in [
        (
            "npt-notify",
            vec![bad.clone(), "e".into()],
            format!("npt-notify: fatal: unable to notify {shown}: No such file or directory\n"),
        ),
        (
            "npt-mkfifodir",
            vec![bad.clone()],
            format!(
                "npt-mkfifodir: fatal: unable to create fifodir at {shown}: \
                 No such file or directory\n"
            ),
        ),
        (
            "npt-wait",
            vec!["-t".into(), "100".into(), bad.clone(), "x".into()],
            format!("npt-wait: fatal: unable to subscribe to {shown}: No such file or directory\n"),
        ),
    ] {
        let mut argv: Vec<OsString> = vec![bin(prog).into()];
        argv.extend(args);
        let o = run_timeout(cmd(&argv), 10);
        o.assert_code(111);
        assert_eq!(String::from_utf8(o.stderr.clone()).unwrap(), want, "{prog}");
    }
}

/// F5: uid 65534, who may write to the directory where root makes a rules directory,
/// renames root's fresh temporary directory away and puts its own directory (or a
/// symlink to one) under that name. The old code filled and installed whatever was
/// there: DIR was the attacker's in 30 runs out of 30. Now ipcrules-fs either installs
/// the tree it made (root's, mode 0755 as s6 makes it here) or fails (111) and leaves no tree: in 30 runs
/// each, in a 0777 parent (own directory, then symlink) and in a 01777 one.
#[test]
fn rules_fs_installs_only_what_it_built() {
    if !need_root() {
        return;
    }
    let Some(exe) = rswap() else { return };
    let d = Dir::new("secrfs");
    let src = crate::ipcrules_fs::sample_rules(&d);
    let cdb = d.join("rules.cdb");
    run_timeout(
        cmd(&[
            bin("ipcrules-cdb").as_os_str(),
            cdb.as_os_str(),
            src.as_os_str(),
        ]),
        20,
    )
    .assert_code(0);
    // The tree when nobody attacks.
    let reference = d.join("ref");
    run_timeout(
        cmd(&[
            bin("ipcrules-fs").as_os_str(),
            reference.as_os_str(),
            cdb.as_os_str(),
        ]),
        20,
    )
    .assert_code(0);
    let expected = crate::ipcrules_fs::tree(&reference);
    assert!(expected.len() > 10, "{expected:?}");
    let evil = nobody_dir(&d, "evil");
    std::fs::set_permissions(&evil, std::fs::Permissions::from_mode(0o777)).unwrap();
    for (name, parent_mode, how) in [
        ("pub", 0o777, "own"),
        ("publ", 0o777, "link"),
        ("spub", 0o1777, "own"),
    ] {
        let parent = d.join(name);
        std::fs::create_dir(&parent).unwrap();
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(parent_mode)).unwrap();
        let sw = Swapper::start_with(
            &exe,
            &[
                os(how),
                parent.as_os_str(),
                os(".rules.ipcrules-fs."),
                evil.as_os_str(),
            ],
            &parent,
        );
        let rules = parent.join("rules");
        let (mut made, mut refused) = (0, 0);
        for _ in 0..30 {
            let o = run_timeout(
                cmd(&[
                    bin("ipcrules-fs").as_os_str(),
                    rules.as_os_str(),
                    cdb.as_os_str(),
                ]),
                20,
            );
            let what = format!("{name} ({how}): {:?} {}", o.status, o.err());
            match o.code() {
                Some(0) => {
                    made += 1;
                    let m = std::fs::symlink_metadata(&rules).unwrap();
                    assert!(m.is_dir() && m.uid() == 0, "{what}: DIR is not root's");
                    assert_eq!(m.mode() & 0o7777, 0o755, "{what}");
                    assert_eq!(crate::ipcrules_fs::tree(&rules), expected, "{what}");
                    std::fs::remove_dir_all(&rules).unwrap();
                }
                Some(111) => {
                    refused += 1;
                    assert!(o.err().starts_with("ipcrules-fs: fatal: "), "{what}");
                    assert!(
                        std::fs::symlink_metadata(&rules).is_err(),
                        "{what}: DIR exists"
                    );
                }
                _ => panic!("unexpected outcome: {what}"),
            }
            // Nothing of root's stays behind but, at worst, an empty directory.
            for e in std::fs::read_dir(&parent).unwrap() {
                let p = e.unwrap().path();
                // The swapper may still be renaming.
                let Ok(m) = std::fs::symlink_metadata(&p) else {
                    continue;
                };
                if m.uid() == 0 {
                    assert!(
                        m.is_dir() && std::fs::read_dir(&p).is_ok_and(|mut d| d.next().is_none()),
                        "{what}: root's {} left behind",
                        p.display()
                    );
                }
            }
            assert!(
                std::fs::read_dir(&evil).unwrap().next().is_none(),
                "{what}: root wrote into the attacker's directory"
            );
        }
        let swaps = sw.swaps();
        drop(sw);
        eprintln!("{name} ({how}): {swaps} swaps, {made} made, {refused} refused");
        if parent_mode == 0o777 {
            assert!(swaps > 0, "{name}: the attack never ran");
        }
    }
}

/// R1 of the 2026-12-06 review, kept as s6 has it and documented (ipcserver(1)
/// SECURITY): an fd the server itself inherited open reaches every handler, under
/// ipcserver as under s6-ipcserver, while none of the server's own fds does. A shell
/// opens fd 9 on a file and execs the server; the handler lists its fds and where fd 9
/// leads, and must list exactly what it lists when that shell execs it directly.
#[test]
fn fds_the_server_inherits_reach_handlers_as_with_s6() {
    if !have("socat") {
        return;
    }
    let d = Dir::new("secinh");
    let marker = d.join("inherited");
    std::fs::write(&marker, "x").unwrap();
    let handler = "cd /proc/$$/fd && echo * && readlink 9";
    let script = "exec 9<\"$1\"; shift; exec \"$@\"";
    let with_fd9 = |rest: &[&OsStr]| {
        let mut argv: Vec<&OsStr> = vec![os("sh"), os("-c"), os(script), os("sh")];
        argv.push(marker.as_os_str());
        argv.extend(rest);
        cmd(&argv)
    };
    let direct = run_timeout(with_fd9(&[os("sh"), os("-c"), os(handler)]), 20);
    direct.assert_code(0);
    let seen = direct.out();
    let (fds, target) = seen.split_once('\n').unwrap();
    assert!(fds.split(' ').any(|f| f == "9"), "{fds}");
    assert_eq!(target, format!("{}\n", marker.display()));
    let mut servers = vec![bin("ipcserver")];
    if have("s6-ipcserver") {
        servers.push(PathBuf::from("s6-ipcserver"));
    }
    for server in servers {
        let sock = d.join("s");
        let _ = std::fs::remove_file(&sock);
        let srv = Server::start(with_fd9(&[
            server.as_os_str(),
            os("-1"),
            sock.as_os_str(),
            os("sh"),
            os("-c"),
            os(handler),
        ]));
        let to = format!("UNIX-CONNECT:{}", sock.display());
        let o = run_timeout(cmd(&[os("socat"), os("-u"), os(&to), os("-")]), 20);
        drop(srv);
        o.assert_code(0);
        assert_eq!(
            o.out(),
            direct.out(),
            "{}: the handler has the fds its server's caller left open (9 among them), \
             and nothing of the server's",
            server.display()
        );
    }
}

/// F6 of the 2026-12-06 review (the same for any super-server with `-C`, documented in
/// service/nptlistend/README, "Sizing"): valid requests that wait for ever hold a slot
/// each, so ceil(c / C) uids fill the service. Scaled down to `-c 4 -C 2`: uid 2001's
/// third wait is refused by `-C` and another uid is still served; once uid 2002 holds
/// two more, a third uid is told the service did not take its request. The shipped run
/// script's numbers must give the count its README states.
#[test]
fn waiting_uids_fill_nptlistend_as_its_readme_says() {
    let svc = Path::new(env!("CARGO_MANIFEST_DIR")).join("service/nptlistend");
    let run = std::fs::read_to_string(svc.join("run")).unwrap();
    let readme = std::fs::read_to_string(svc.join("README")).unwrap();
    let line = run
        .lines()
        .rfind(|l| l.starts_with("exec ipcserver"))
        .unwrap();
    let opt = |o: &str| -> u32 {
        let (_, rest) = line.split_once(&format!(" {o} ")).unwrap();
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    let (c, cc) = (opt("-c"), opt("-C"));
    let uids = c.div_ceil(cc);
    assert!(
        readme.contains(&format!("-c {c} -C {cc}, {uids} cooperating uids")),
        "README's Sizing must state that {uids} uids fill -c {c} -C {cc}"
    );
    if !need_root() {
        return;
    }
    let d = Dir::new("secfill");
    let (srv, sock) = service(&d, &["-c", "4", "-C", "2"], "5000");
    let fd = d.join("pubfd");
    run_timeout(cmd(&[bin("npt-mkfifodir").as_os_str(), fd.as_os_str()]), 10).assert_code(0);
    let wait_as = |uid: u32, ms: &str| {
        let mut c = as_user(
            uid,
            &[bin("npt-wait").as_os_str(), os("-s"), os("-t"), os(ms)],
        );
        c.args([fd.as_os_str(), os("never")])
            .env("NPT_IPCPATH", &sock);
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    };
    let mut waiting: Vec<Child> = Vec::new();
    let hold = |uid: u32, n: usize, waiting: &mut Vec<Child>| {
        for _ in 0..n {
            waiting.push(wait_as(uid, "0").spawn().unwrap());
            let want = waiting.len().min(4);
            assert!(
                eventually(20, || srv.children().len() >= want),
                "{}",
                srv.log()
            );
        }
    };
    hold(2001, 2, &mut waiting);
    // -C 2: a third wait of uid 2001 is refused at once, and uid 2003 is still served
    // (its own wait times out: exit 99).
    run_timeout(wait_as(2001, "0"), 20).assert_code(111);
    let served = run_timeout(wait_as(2003, "300"), 20);
    hold(2002, 2, &mut waiting);
    let refused = run_timeout(wait_as(2003, "300"), 30);
    for mut w in waiting {
        let _ = w.kill();
        let _ = w.wait();
    }
    assert!(
        eventually(20, || srv.children().is_empty()),
        "{}",
        srv.log()
    );
    drop(srv);
    served.assert_code(99);
    refused.assert_code(111);
    assert_eq!(
        refused.err(),
        format!(
            "npt-wait: fatal: nptlistend service at {} did not take the request within \
             5300 ms (busy or stuck)\n",
            sock.display()
        )
    );
}
