//! Tests: ipcclient, against our ipcserver and s6-ipcserver, and side by side with
//! s6-ipcclient.

use crate::util::*;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Server side: report what ipcserver told us, then answer one line.
const SERVER_PROG: &str = r#"echo "srv PROTO=$PROTO REMOTEPATH=$IPCREMOTEPATH EUID=$IPCREMOTEEUID"; read x; echo "got $x""#;

/// Client side: one request, then everything the server says, then our env.
const CLIENT_PROG: &str =
    r#"echo ping >&7; cat <&6; echo "cli PROTO=$PROTO LOCALPATH=${IPCLOCALPATH-unset}""#;

fn ipcserver(path: &Path) -> Server {
    Server::start(cmd(&[
        bin("ipcserver").as_os_str(),
        "-1".as_ref(),
        path.as_os_str(),
        "sh".as_ref(),
        "-c".as_ref(),
        SERVER_PROG.as_ref(),
    ]))
}

fn s6_ipcserver(path: &Path) -> Server {
    Server::start(cmd(&[
        "s6-ipcserver".as_ref(),
        "-1".as_ref(),
        path.as_os_str(),
        "sh".as_ref(),
        "-c".as_ref(),
        SERVER_PROG.as_ref(),
    ]))
}

fn client_argv(client: &str, opts: &[&str], path: &Path, prog: &[&str]) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![if client == "ipcclient" {
        bin("ipcclient").into_os_string()
    } else {
        client.into()
    }];
    v.extend(opts.iter().map(OsString::from));
    v.push(path.into());
    v.extend(prog.iter().map(OsString::from));
    v
}

fn sh_client(client: &str, opts: &[&str], path: &Path) -> Vec<OsString> {
    client_argv(client, opts, path, &["sh", "-c", CLIENT_PROG])
}

/// A directory uid 65534 can bind in.
fn open_subdir(d: &Dir) -> std::path::PathBuf {
    let p = d.join("w");
    std::fs::create_dir(&p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
    p
}

fn request_response(server: fn(&Path) -> Server, nobody: bool) {
    let d = Dir::new("cli");
    let sock = d.join("s");
    let _srv = server(&sock);
    let w = open_subdir(&d);
    let bindpath = w.join("c");
    let bp = bindpath.to_str().unwrap();
    let argv = sh_client("ipcclient", &["-p", bp], &sock);
    let c = if nobody { as_nobody(&argv) } else { cmd(&argv) };
    let out = run_timeout(c, 10);
    out.assert_code(0);
    let euid = if nobody { 65534 } else { 0 };
    assert_eq!(
        out.out(),
        format!(
            "srv PROTO=IPC REMOTEPATH={bp} EUID={euid}\ngot ping\ncli PROTO=IPC LOCALPATH={bp}\n"
        )
    );
    assert_eq!(out.err(), "");
    // The bind path belongs to the caller: ipcclient never removes it.
    assert!(bindpath.exists());
}

#[test]
fn against_ipcserver_as_root() {
    request_response(ipcserver, false);
}

#[test]
fn against_ipcserver_as_nobody() {
    request_response(ipcserver, true);
}

#[test]
fn against_s6_ipcserver_as_root() {
    if have("s6-ipcserver") {
        request_response(s6_ipcserver, false);
    }
}

#[test]
fn against_s6_ipcserver_as_nobody() {
    if have("s6-ipcserver") {
        request_response(s6_ipcserver, true);
    }
}

#[test]
fn unbound_client_has_empty_local_path_and_l_overrides() {
    let d = Dir::new("cli");
    let sock = d.join("s");
    let _srv = ipcserver(&sock);
    let out = run_timeout(cmd(&sh_client("ipcclient", &[], &sock)), 10);
    out.assert_code(0);
    assert!(out.out().contains("srv PROTO=IPC REMOTEPATH= EUID=0\n"));
    assert!(
        out.out().ends_with("cli PROTO=IPC LOCALPATH=\n"),
        "{}",
        out.out()
    );
    let out = run_timeout(cmd(&sh_client("ipcclient", &["-l", "me"], &sock)), 10);
    out.assert_code(0);
    // -l names the client without binding anything.
    assert!(out.out().contains("REMOTEPATH= EUID=0\n"));
    assert!(
        out.out().ends_with("cli PROTO=IPC LOCALPATH=me\n"),
        "{}",
        out.out()
    );
}

/// Every fd of the process, as `ls -l` lines (plus ls's own directory fd, which points
/// to `/proc/PID/fd` and is filtered out by `parse_fds`).
const FD_LIST: &str = "ls -l /proc/self/fd";

fn parse_fds(s: &str) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = s
        .lines()
        .filter_map(|l| {
            let (n, t) = l.split_once(" -> ")?;
            let n = n.rsplit(' ').next()?;
            Some((n.parse().unwrap(), t.to_string()))
        })
        .filter(|(_, t)| !(t.starts_with("/proc/") && t.ends_with("/fd")))
        .collect();
    v.sort();
    v
}

/// Socket and pipe inode numbers differ from run to run.
fn strip_inodes(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(":[") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// The fds of the shell that execs ipcclient (after `pre`), and those of prog.
fn fds_of_prog(pre: &str, sock: &Path) -> (Vec<u32>, Vec<(u32, String)>) {
    let script = format!(
        "{pre} {FD_LIST}; echo --; exec {} {} {FD_LIST}",
        bin("ipcclient").display(),
        sock.display()
    );
    let out = run_timeout(cmd(&["sh", "-c", &script]), 10);
    out.assert_code(0);
    let text = out.out();
    let (before, after) = text.split_once("--\n").unwrap();
    let before = parse_fds(before).into_iter().map(|f| f.0).collect();
    (before, parse_fds(after))
}

/// prog has exactly the caller's fds plus 6 and 7, and 7 is a dup of 6.
fn assert_conn_on_6_and_7((before, fds): &(Vec<u32>, Vec<(u32, String)>)) {
    let nums: Vec<u32> = fds.iter().map(|f| f.0).collect();
    let mut want: Vec<u32> = before
        .iter()
        .copied()
        .filter(|&n| n != 6 && n != 7)
        .collect();
    want.extend([6, 7]);
    want.sort();
    assert_eq!(nums, want, "{fds:?}");
    let six = &fds.iter().find(|f| f.0 == 6).unwrap().1;
    let seven = &fds.iter().find(|f| f.0 == 7).unwrap().1;
    assert!(six.starts_with("socket:"), "{fds:?}");
    assert_eq!(six, seven, "fd 7 must be a dup of fd 6");
}

#[test]
fn prog_gets_only_std_fds_and_6_7() {
    let d = Dir::new("cli");
    let sock = d.join("s");
    let _srv = ipcserver(&sock);
    let fds = fds_of_prog("", &sock);
    assert!(fds.0.iter().all(|&n| n != 6 && n != 7), "{fds:?}");
    assert_conn_on_6_and_7(&fds);
}

#[test]
fn socket_born_on_fd_6_or_7() {
    let d = Dir::new("cli");
    let sock = d.join("s");
    let _srv = ipcserver(&sock);
    // fds 0-5 taken: the socket is created on fd 6.
    let fds = fds_of_prog("exec 3</dev/null 4</dev/null 5</dev/null;", &sock);
    assert!(fds.0.contains(&5) && !fds.0.contains(&6), "{fds:?}");
    assert_conn_on_6_and_7(&fds);
    // fds 0-6 taken: the socket is created on fd 7, and 6 is replaced.
    let fds = fds_of_prog(
        "exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null;",
        &sock,
    );
    assert!(fds.0.contains(&6) && !fds.0.contains(&7), "{fds:?}");
    assert_conn_on_6_and_7(&fds);
}

#[test]
fn long_path_and_abstract() {
    let d = Dir::new("cli");
    let mut long = d.path.clone();
    while long.as_os_str().len() < 150 {
        long.push("dddddddddddddddddddd");
    }
    std::fs::create_dir_all(&long).unwrap();
    let sock = long.join("s");
    let _srv = ipcserver(&sock);
    let bindpath = long.join("c");
    let out = run_timeout(
        cmd(&sh_client(
            "ipcclient",
            &["-p", bindpath.to_str().unwrap()],
            &sock,
        )),
        10,
    );
    out.assert_code(0);
    assert!(out.out().contains("got ping\n"), "{}", out.out());
    assert!(
        out.out()
            .ends_with(&format!("cli PROTO=IPC LOCALPATH={}\n", bindpath.display())),
        "{}",
        out.out()
    );
    assert!(bindpath.exists());

    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "@ipct-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let _srv2 = ipcserver(Path::new(&name));
    let out = run_timeout(cmd(&sh_client("ipcclient", &[], Path::new(&name))), 10);
    out.assert_code(0);
    assert!(out.out().contains("got ping\n"), "{}", out.out());
}

#[test]
fn retry_until_the_server_appears() {
    let d = Dir::new("cli");
    let sock = d.join("s");
    let mut c = cmd(&sh_client("ipcclient", &["-t", "8000"], &sock));
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "gave up too early");
    let _srv = ipcserver(&sock);
    let out = wait_output(&mut child, 10, "ipcclient -t");
    out.assert_code(0);
    assert!(out.out().contains("got ping\n"), "{}", out.out());

    // The deadline is honoured: absent server, -t 200 fails after about 200 ms.
    let t = std::time::Instant::now();
    let none = d.join("none");
    let out = run_timeout(
        cmd(&client_argv("ipcclient", &["-t", "200"], &none, &["true"])),
        10,
    );
    out.assert_code(111);
    let e = t.elapsed();
    assert!(e >= std::time::Duration::from_millis(190), "{e:?}");
    assert!(e < std::time::Duration::from_secs(3), "{e:?}");
}

#[test]
fn bad_input() {
    let d = Dir::new("cli");
    let none = d.join("none");
    let run = |opts: &[&str], path: &Path, prog: &[&str]| {
        run_timeout(cmd(&client_argv("ipcclient", opts, path, prog)), 10)
    };
    let out = run(&[], &none, &["true"]);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcclient: fatal: unable to connect to {}: No such file or directory\n",
            none.display()
        )
    );
    // A live socket refusing: a socket file nobody listens on.
    let dead = d.join("dead");
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    let out = run(&[], &dead, &["true"]);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcclient: fatal: unable to connect to {}: Connection refused\n",
            dead.display()
        )
    );
    // Too long for sun_path and for open() too.
    let huge = d.join("x".repeat(300));
    let out = run(&[], &huge, &["true"]);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcclient: fatal: unable to connect to {}: File name too long\n",
            huge.display()
        )
    );

    let sock = d.join("s");
    let _srv = ipcserver(&sock);
    let exists = d.join("exists");
    std::fs::write(&exists, "keep").unwrap();
    let out = run(&["-p", exists.to_str().unwrap()], &sock, &["true"]);
    out.assert_code(111);
    assert_eq!(
        out.err(),
        format!(
            "ipcclient: fatal: unable to bind socket to {}: Address already in use\n",
            exists.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&exists).unwrap(), "keep");

    let out = run(&[], &sock, &["/nonexistent/prog"]);
    out.assert_code(127);
    assert_eq!(
        out.err(),
        "ipcclient: fatal: unable to exec /nonexistent/prog: No such file or directory\n"
    );
    let out = run(&[], &sock, &["/etc/passwd"]);
    out.assert_code(126);
    assert_eq!(
        out.err(),
        "ipcclient: fatal: unable to exec /etc/passwd: Permission denied\n"
    );

    let usage = "ipcclient: usage: ipcclient [ -q | -Q | -v ] [ -p bindpath ] [ -l localname ] [ -t millisecs ] path prog...\n";
    for (opts, why) in [
        (&["-t", "x"][..], "-t: x is not a number"),
        (
            &["-t", "-5"],
            "-t: -5 is not a number (digits only, no sign)",
        ),
        (&["-Z"], "unknown option -Z"),
        (&["-t"], "-t: "),
    ] {
        let mut a = vec![bin("ipcclient").into_os_string()];
        a.extend(opts.iter().map(OsString::from));
        a.push(sock.clone().into());
        a.push("true".into());
        let out = run_timeout(cmd(&a), 10);
        out.assert_code(100);
        // The reason, then the usage line.
        assert!(
            out.err().starts_with(&format!("ipcclient: fatal: {why}")),
            "{opts:?}: {}",
            out.err()
        );
        assert!(out.err().ends_with(usage), "{opts:?}: {}", out.err());
        assert_eq!(out.err().lines().count(), 2, "{opts:?}");
    }
    let out = run_timeout(cmd(&[bin("ipcclient").as_os_str(), sock.as_os_str()]), 10);
    out.assert_code(100);
    let out = run_timeout(cmd(&[bin("ipcclient")]), 10);
    out.assert_code(100);
}

#[test]
fn verbose_logs_the_connection() {
    let d = Dir::new("cli");
    let sock = d.join("s");
    let _srv = ipcserver(&sock);
    let out = run_timeout(
        cmd(&client_argv("ipcclient", &["-v"], &sock, &["true"])),
        10,
    );
    out.assert_code(0);
    // s6-ipcclient doubles its prefix here; we do not.
    assert_eq!(
        out.err(),
        format!("ipcclient: info: connected to {}\n", sock.display())
    );
}

/// The same case through both clients must give the same code, output and messages
/// (modulo the program name and s6's doubled `-v` prefix).
#[test]
fn same_results_as_s6_ipcclient() {
    if !have("s6-ipcclient") {
        return;
    }
    let d = Dir::new("cli");
    let sock = d.join("s");
    let _srv = ipcserver(&sock);
    let w = open_subdir(&d);
    let bp = w.join("c");
    let bps = bp.to_str().unwrap();
    let none = d.join("none");
    let exists = d.join("exists");
    std::fs::write(&exists, "").unwrap();
    let env_prog: &[&str] = &["sh", "-c", CLIENT_PROG];
    let cases: Vec<(&str, Vec<&str>, &Path, &[&str])> = vec![
        ("plain", vec![], &sock, env_prog),
        ("bind", vec!["-p", bps], &sock, env_prog),
        ("localname", vec!["-l", "name"], &sock, env_prog),
        (
            "bind+localname",
            vec!["-p", bps, "-l", "x"],
            &sock,
            env_prog,
        ),
        ("verbose", vec!["-v"], &sock, &["true"]),
        ("quiet", vec!["-q"], &sock, &["true"]),
        ("exit code", vec![], &sock, &["sh", "-c", "exit 7"]),
        ("no server", vec![], &none, &["true"]),
        (
            "bindpath exists",
            vec!["-p", exists.to_str().unwrap()],
            &sock,
            &["true"],
        ),
        ("prog not found", vec![], &sock, &["/nonexistent"]),
        ("not executable", vec![], &sock, &["/etc/passwd"]),
        ("fds", vec![], &sock, &["sh", "-c", FD_LIST]),
        ("fds -p", vec!["-p", bps], &sock, &["sh", "-c", FD_LIST]),
    ];
    for (name, opts, path, prog) in cases {
        let mut results = Vec::new();
        for client in ["ipcclient", "s6-ipcclient"] {
            let _ = std::fs::remove_file(&bp);
            let out = run_timeout(cmd(&client_argv(client, &opts, path, prog)), 10);
            let err = out
                .err()
                .replace("s6-ipcclient: info: s6-ipcclient: ", "ipcclient: info: ")
                .replace("s6-ipcclient: ", "ipcclient: ");
            let mut stdout = strip_inodes(&out.out());
            if name.starts_with("fds") {
                stdout = format!("{:?}", parse_fds(&stdout));
            }
            results.push((out.code(), stdout, err));
        }
        assert_eq!(results[0], results[1], "case {name}: ours vs s6-ipcclient");
    }
}

#[test]
fn usage_errors_like_s6() {
    if !have("s6-ipcclient") {
        return;
    }
    for args in [&[][..], &["/x"], &["-Z", "/x", "true"]] {
        let ours = run_timeout(
            {
                let mut c = Command::new(bin("ipcclient"));
                c.args(args);
                c
            },
            10,
        );
        let theirs = run_timeout(
            {
                let mut c = Command::new("s6-ipcclient");
                c.args(args);
                c
            },
            10,
        );
        assert_eq!(ours.code(), Some(100), "{args:?}");
        assert_eq!(ours.code(), theirs.code(), "{args:?}");
    }
}
