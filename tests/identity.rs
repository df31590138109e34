//! Who is calling, beyond s6's uid and gid: every group (`SO_PEERGROUPS`) and the
//! process (`SO_PEERPIDFD`), in the handler's environment, the log, the access rules
//! and through the socket proxy. Real clients run with `setpriv`.

use crate::util::*;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};
use std::time::Duration;

const ENV_PROG: &str = "env | grep -E '^(PROTO|IPC)' ; exit 0";

/// `setpriv` as uid/gid `id` with supplementary `groups`, then `argv`.
pub fn as_member<S: AsRef<std::ffi::OsStr>>(id: u32, groups: &[u32], argv: &[S]) -> Command {
    let id = id.to_string();
    let list: Vec<String> = groups.iter().map(u32::to_string).collect();
    let mut c = Command::new("setpriv");
    c.args(["--reuid", &id, "--regid", &id]);
    if groups.is_empty() {
        c.arg("--clear-groups");
    } else {
        c.args(["--groups", &list.join(",")]);
    }
    c.arg("--").args(argv);
    c
}

/// Connect to `sock` with socat as `id` in `groups`, and return what the handler said
/// and the client's pid.
fn socat_as(id: u32, groups: &[u32], sock: &std::path::Path) -> (String, u32) {
    let mut c = as_member(
        id,
        groups,
        &["socat", "-", &format!("UNIX-CONNECT:{}", sock.display())],
    );
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    // setpriv execs socat: same pid.
    let pid = child.id();
    let out = wait_output(&mut child, 20, "socat");
    out.assert_code(0);
    (out.out(), pid)
}

/// `IPCREMOTEGIDLIST=…` and `IPCREMOTEPID=…` for a client that is this test process.
pub fn our_gidlist_and_pid() -> (String, String) {
    let mut g: Vec<u32> = rustix::process::getgroups()
        .unwrap()
        .iter()
        .map(|g| g.as_raw())
        .collect();
    g.sort_unstable();
    g.dedup();
    let list: Vec<String> = g.iter().map(u32::to_string).collect();
    (
        format!("IPCREMOTEGIDLIST={}", list.join(",")),
        format!("IPCREMOTEPID={}", std::process::id()),
    )
}

/// A sorted `PROTO|IPC` environment for this (root) test process as client, with no
/// client socket name and no `IPCLOCALPATH`.
pub fn expected_root_env() -> String {
    let (gids, pid) = our_gidlist_and_pid();
    format!(
        "IPCCONNNUM=1\nIPCREMOTEEGID=0\nIPCREMOTEEUID=0\n{gids}\nIPCREMOTEPATH=\n{pid}\nPROTO=IPC\n"
    )
}

fn var<'a>(out: &'a str, name: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
}

#[test]
fn handler_gets_gidlist_and_pid() {
    if !have("socat") {
        return;
    }
    let d = Dir::new("idenv");
    let p = d.join("s");
    let mut c = Command::new(bin("ipcserver"));
    c.env("IPCREMOTEPID", "inherited")
        .env("IPCREMOTEGIDLIST", "inherited")
        .args(["-v", "-1"])
        .arg(&p)
        .args(["sh", "-c", ENV_PROG]);
    let srv = Server::start(c);
    let (out, pid) = socat_as(1500, &[4244, 4243], &p);
    assert_eq!(var(&out, "IPCREMOTEEUID"), Some("1500"), "{out}");
    // The kernel's order: ascending.
    assert_eq!(var(&out, "IPCREMOTEGIDLIST"), Some("4243,4244"), "{out}");
    assert_eq!(
        var(&out, "IPCREMOTEPID"),
        Some(pid.to_string().as_str()),
        "{out}"
    );
    // No supplementary group: set, empty.
    let (out, _) = socat_as(1501, &[], &p);
    assert_eq!(var(&out, "IPCREMOTEGIDLIST"), Some(""), "{out}");
    // More groups than the first buffer holds (32): the getsockopt is made again.
    let many: Vec<u32> = (5000..5040).collect();
    let (out, _) = socat_as(1502, &many, &p);
    let want: Vec<String> = many.iter().map(u32::to_string).collect();
    assert_eq!(var(&out, "IPCREMOTEGIDLIST"), Some(want.join(",").as_str()));
    assert!(eventually(10, || srv.children().is_empty()));
    let log = srv.stop_with(libc::SIGTERM).err();
    let allow = log
        .lines()
        .find(|l| l.contains("allow 1500:1500 pid "))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        allow.ends_with(&format!(" count 1/40 client pid {pid} groups 4243,4244")),
        "{allow}"
    );
    assert!(log.contains(" groups -\n"), "{log}");
}

#[test]
fn minus_capital_p_sets_neither() {
    let d = Dir::new("idnop");
    let p = d.join("s");
    let mut c = Command::new(bin("ipcserver"));
    c.env("IPCREMOTEPID", "inherited")
        .env("IPCREMOTEGIDLIST", "inherited")
        .args(["-P", "-v", "-1"])
        .arg(&p)
        .args(["sh", "-c", ENV_PROG]);
    let srv = Server::start(c);
    let out = read_string(&mut connect(&p));
    assert!(!out.contains("IPCREMOTEGIDLIST"), "{out}");
    assert!(!out.contains("IPCREMOTEPID"), "{out}");
    assert!(eventually(10, || srv.children().is_empty()));
    let log = srv.stop_with(libc::SIGTERM).err();
    assert!(!log.contains("client pid"), "{log}");
}

/// ipcserverd (so also the listeners' path) sets them too.
#[test]
fn ipcserverd_sets_them_too() {
    if !have("socat") {
        return;
    }
    let d = Dir::new("idsd");
    let p = d.join("s");
    let mut c = Command::new(bin("ipcserver-socketbinder"));
    c.arg(&p)
        .arg(bin("ipcserverd"))
        .arg("-1")
        .args(["sh", "-c", ENV_PROG]);
    let _srv = Server::start(c);
    let (out, pid) = socat_as(1500, &[4243], &p);
    assert_eq!(var(&out, "IPCREMOTEGIDLIST"), Some("4243"), "{out}");
    assert_eq!(
        var(&out, "IPCREMOTEPID"),
        Some(pid.to_string().as_str()),
        "{out}"
    );
}

/// A client that is gone before its handler starts is not named, even when its pid is
/// given to another process at once. The server runs in a fresh pid namespace, where
/// `ns_last_pid` says which pid comes next: the client connects and exits, a sleeper
/// gets its pid, and only then does ipcserverd accept. SO_PEERCRED names the sleeper
/// (shown by a perl handler that asks the kernel itself); IPCREMOTEPID is unset.
#[test]
fn recycled_pid_is_never_reported() {
    if !have("unshare") || !have("socat") || !have("perl") {
        return;
    }
    let d = Dir::new("idrecycle");
    let script = r#"
set -e
cd "$DIR"
"$BINDER" s sh -c '
  # The listener is fd 0; the client connects into the backlog and exits.
  socat -u /dev/null UNIX-CONNECT:s </dev/null
  old=$(cat last)
  echo $((old - 1)) > /proc/sys/kernel/ns_last_pid
  sleep 100 </dev/null >/dev/null 2>&1 &
  echo "sleeper $!" >> facts
  exec "$SERVERD" sh -c "{ env | grep ^IPCREMOTE; perl -e '"'"'use Socket; my \$c = getsockopt(STDIN, SOL_SOCKET, SO_PEERCRED); my (\$p) = unpack(q(iII), \$c); print qq(PEERCRED_PID=\$p\n)'"'"'; } >out.tmp; mv out.tmp out"
' &
"#;
    // The client's pid: socat is started by a wrapper that records it first.
    let wrap = d.join("socat");
    std::fs::write(
        &wrap,
        "#!/bin/sh\necho $$ > \"$DIR/last\"\necho \"client $$\" >> \"$DIR/facts\"\nexec /usr/bin/socat \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&wrap, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut c = Command::new("unshare");
    c.args(["-pf", "--kill-child", "--mount-proc", "sh", "-c"])
        .arg(format!("{script}\nwait\n"))
        .env("DIR", &d.path)
        .env(
            "PATH",
            format!("{}:{}", d.path.display(), std::env::var("PATH").unwrap()),
        )
        .env("BINDER", bin("ipcserver-socketbinder"))
        .env("SERVERD", bin("ipcserverd"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let out_path = d.join("out");
    let ok = eventually(20, || {
        std::fs::read_to_string(&out_path).is_ok_and(|s| s.contains("PEERCRED_PID="))
    });
    // The whole namespace dies with its init.
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "no handler output");
    let out = std::fs::read_to_string(&out_path).unwrap();
    let facts = std::fs::read_to_string(d.join("facts")).unwrap();
    let num = |key: &str| -> String {
        facts
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{facts}"))
            .trim()
            .to_string()
    };
    let (client, sleeper) = (num("client "), num("sleeper "));
    // The pid was recycled, and the kernel's plain pid names the newcomer …
    assert_eq!(client, sleeper, "pid not recycled: {facts}");
    assert_eq!(var(&out, "PEERCRED_PID"), Some(sleeper.as_str()), "{out}");
    // … but the server did not hand it on.
    assert_eq!(var(&out, "IPCREMOTEPID"), None, "{out}");
    assert_eq!(var(&out, "IPCREMOTEEUID"), Some("0"), "{out}");
    std::thread::sleep(Duration::from_millis(10));
}

/// `ipcserver -1 SOCK ipcserver-access -v 2 RULESOPT RULES sh -c 'echo ok'`.
fn gated(sock: &std::path::Path, rules_opt: &str, rules: &std::path::Path) -> Server {
    let mut c = Command::new(bin("ipcserver"));
    c.arg("-1")
        .arg(sock)
        .arg(bin("ipcserver-access"))
        .args(["-v", "2", rules_opt])
        .arg(rules)
        .args(["sh", "-c", "echo ok"]);
    Server::start(c)
}

/// Whether `id` in `groups` gets through.
fn admitted(id: u32, groups: &[u32], sock: &std::path::Path) -> bool {
    let (out, _) = socat_as(id, groups, sock);
    assert!(out.is_empty() || out == "ok\n", "{out}");
    out == "ok\n"
}

#[test]
fn group_rules_match_every_group_and_deny_wins() {
    if !have("socat") {
        return;
    }
    let d = Dir::new("idgrp");
    let rules = d.join("rules");
    write_tree(
        &rules,
        &[
            ("group/4244/allow", ""),
            ("group/4245/deny", ""),
            ("group/1600/allow", ""),
            ("gid/4246/allow", ""),
            ("uid/default/deny", ""),
        ],
    );
    let cdb = d.join("rules.cdb");
    run_timeout(cmd(&[bin("ipcrules-cdb"), cdb.clone(), rules.clone()]), 20).assert_code(0);
    for (opt, r, tag) in [("-i", &rules, "dir"), ("-x", &cdb, "cdb")] {
        let p = d.join(format!("s-{tag}"));
        let srv = gated(&p, opt, r);
        // A supplementary group.
        assert!(admitted(1500, &[4243, 4244], &p), "{tag}");
        // None of the groups.
        assert!(!admitted(1500, &[4243], &p), "{tag}");
        // Rules for two of its groups: the deny wins, whatever the order.
        assert!(!admitted(1500, &[4244, 4245], &p), "{tag}");
        // The egid is one of the groups.
        assert!(admitted(1600, &[], &p), "{tag}");
        // gid/ keeps s6's meaning: the egid only.
        assert!(!admitted(1500, &[4246], &p), "{tag}");
        assert!(admitted(4246, &[], &p), "{tag}");
        assert!(eventually(10, || srv.children().is_empty()));
        let log = srv.stop_with(libc::SIGTERM).err();
        assert!(
            log.contains(" uid 1500 gid 1500 client pid ")
                && log.contains(" groups 4243,4244 (rule ")
                && log.contains(" groups 4244,4245: Permission denied (rule "),
            "{tag}: {log}"
        );
    }
}

/// Not behind a socket (fd 0 is /dev/null): the groups are not known, so a rules set
/// with `group/` rules refuses, and one without decides as s6 would.
#[test]
fn unknown_groups_fail_closed() {
    let d = Dir::new("idunk");
    let with = d.join("with");
    write_tree(&with, &[("group/4245/deny", ""), ("uid/default/allow", "")]);
    let without = d.join("without");
    write_tree(&without, &[("uid/default/allow", "")]);
    let cdb = d.join("with.cdb");
    run_timeout(cmd(&[bin("ipcrules-cdb"), cdb.clone(), with.clone()]), 20).assert_code(0);
    let run = |opt: &str, r: &std::path::Path| {
        let mut c = Command::new(bin("ipcserver-access"));
        c.args([opt]).arg(r).args(["sh", "-c", "echo ok"]);
        c.env("PROTO", "IPC")
            .env("IPCREMOTEEUID", "1500")
            .env("IPCREMOTEEGID", "1500")
            .env("IPCREMOTEGIDLIST", "1500")
            .env("IPCLOCALPATH", "x");
        run_timeout(c, 20)
    };
    for (opt, r) in [("-i", &with), ("-x", &cdb)] {
        let out = run(opt, r);
        out.assert_code(1);
        assert!(
            out.err().contains("there are group/ rules, and the client's group is not known: stdin is not the client's socket"),
            "{}",
            out.err()
        );
    }
    let out = run("-i", &without);
    out.assert_code(0);
    assert_eq!(out.out(), "ok\n");
}

/// The cdb compiler files the new keys and the decompiler gives the same tree back.
#[test]
fn new_keys_round_trip_through_the_cdb() {
    let d = Dir::new("idrt");
    let rules = d.join("rules");
    let tree: &[(&str, &str)] = &[
        ("group/4244/allow", ""),
        ("group/4244/env/WHO", "members\n"),
        ("cgroup/system.slice-a\\x2db.service/deny", ""),
        ("cgroup/-/allow", ""),
        ("exe/usr-bin-curl/allow", ""),
        ("exe/usr-bin-curl/exec", "echo hi"),
        ("uid/default/deny", ""),
    ];
    write_tree(&rules, tree);
    let cdb = d.join("r.cdb");
    run_timeout(cmd(&[bin("ipcrules-cdb"), cdb.clone(), rules.clone()]), 20).assert_code(0);
    let back = d.join("back");
    run_timeout(cmd(&[bin("ipcrules-fs"), back.clone(), cdb.clone()]), 20).assert_code(0);
    for (path, content) in tree {
        assert_eq!(
            std::fs::read_to_string(back.join(path)).unwrap_or_else(|e| panic!("{path}: {e}")),
            *content,
            "{path}"
        );
    }
    // And it compiles to the same bytes again.
    let again = d.join("again.cdb");
    run_timeout(cmd(&[bin("ipcrules-cdb"), again.clone(), back.clone()]), 20).assert_code(0);
    let mut a = ipccore_records(&cdb);
    let mut b = ipccore_records(&again);
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

fn ipccore_records(path: &std::path::Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let db = cdb2::CDB::open(path).unwrap();
    db.iter().map(|r| r.unwrap()).collect()
}

/// Our escape is systemd-escape's, so that admins can name rules with it.
#[test]
fn escape_is_systemd_escape() {
    if !have("systemd-escape") {
        return;
    }
    let mut rng = XorShift(0x5eed);
    let alphabet = b"ab-./_:@ \\\xc3\xa4x.";
    for _ in 0..200 {
        let len = 1 + (rng.next() % 12) as usize;
        let mut p = vec![b'/'];
        for _ in 0..len {
            p.push(alphabet[(rng.next() % alphabet.len() as u64) as usize]);
        }
        if p.windows(2).any(|w| w == b"..") {
            continue;
        }
        let arg = std::ffi::OsStr::from_bytes(&p);
        let out = run_timeout(
            cmd(&[
                std::ffi::OsStr::new("systemd-escape"),
                std::ffi::OsStr::new("--path"),
                std::ffi::OsStr::new("--"),
                arg,
            ]),
            10,
        );
        let Some(ours) = ipccore::base::rulekey::escape_path(&p) else {
            continue;
        };
        if out.status.success() {
            assert_eq!(out.out().trim_end(), ours, "{p:?}");
        }
    }
}

/// Two cgroups made under the writable cgroup v2 tree, removed on drop.
struct Cgroups {
    root: std::path::PathBuf,
    names: Vec<String>,
}

impl Cgroups {
    /// The cgroup v2 mount, if it is writable here.
    fn mount() -> Option<std::path::PathBuf> {
        ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
            .iter()
            .map(std::path::PathBuf::from)
            .find(|m| m.join("cgroup.procs").exists() && m.join("cgroup.subtree_control").exists())
    }

    fn new(names: &[&str]) -> Option<Cgroups> {
        let root = Cgroups::mount()?;
        let mut made = Cgroups {
            root,
            names: Vec::new(),
        };
        for n in names {
            std::fs::create_dir(made.root.join(n)).ok()?;
            made.names.push(n.to_string());
        }
        Some(made)
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for n in self.names.iter().rev() {
            let dir = self.root.join(n);
            // Its clients have exited; their cgroup empties once they are reaped.
            eventually(10, || std::fs::remove_dir(&dir).is_ok() || !dir.exists());
        }
    }
}

/// A client that moves itself into `cgroup` (a path under the mount) and then runs
/// socat: its answer.
fn client_in(cg: &Cgroups, cgroup: &str, sock: &std::path::Path) -> String {
    let procs = cg.root.join(cgroup).join("cgroup.procs");
    let script = format!(
        "echo $$ > '{}' && exec socat - UNIX-CONNECT:'{}'",
        procs.display(),
        sock.display()
    );
    let out = run_timeout(cmd(&["sh", "-c", &script]), 20);
    out.assert_code(0);
    out.out()
}

#[test]
fn cgroup_rules_tell_two_cgroups_apart() {
    if !have("socat") {
        return;
    }
    let tag = format!("ipct{}", std::process::id());
    let (a, b, sub, deep) = (
        format!("{tag}-a"),
        format!("{tag}-b"),
        format!("{tag}-a/sub"),
        format!("{tag}-a/sub/deep"),
    );
    let Some(cg) = Cgroups::new(&[&a, &b, &sub, &deep]) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "no writable cgroup v2 tree"
        );
        return;
    };
    let d = Dir::new("idcg");
    let rules = d.join("rules");
    let esc = |p: &str| ipccore::base::rulekey::escape_path(p.as_bytes()).unwrap();
    // The test's names contain `-`: `ipct123-a` is filed as `ipct123\x2da`.
    assert!(esc(&format!("/{a}")).contains("\\x2d"));
    write_tree(
        &rules,
        &[
            (
                format!("cgroup/{}/allow", esc(&format!("/{a}"))).as_str(),
                "",
            ),
            (
                format!("cgroup/{}/deny", esc(&format!("/{deep}"))).as_str(),
                "",
            ),
            ("uid/default/deny", ""),
        ],
    );
    let cdb = d.join("rules.cdb");
    run_timeout(cmd(&[bin("ipcrules-cdb"), cdb.clone(), rules.clone()]), 20).assert_code(0);
    for (opt, r, t) in [("-i", &rules, "dir"), ("-x", &cdb, "cdb")] {
        let p = d.join(format!("s-{t}"));
        let srv = gated(&p, opt, r);
        assert_eq!(client_in(&cg, &a, &p), "ok\n", "{t}: in a");
        assert_eq!(client_in(&cg, &b, &p), "", "{t}: in b");
        // A descendant matches its ancestor's rule; a deeper rule decides first.
        assert_eq!(client_in(&cg, &sub, &p), "ok\n", "{t}: in a/sub");
        assert_eq!(client_in(&cg, &deep, &p), "", "{t}: in a/sub/deep");
        // Our own cgroup (the test's) has no rule.
        assert_eq!(
            run_timeout(
                cmd(&["socat", "-", &format!("UNIX-CONNECT:{}", p.display())]),
                20
            )
            .out(),
            "",
            "{t}: outside"
        );
        assert!(eventually(10, || srv.children().is_empty()));
        drop(srv);
    }
}

#[test]
fn exe_rules_allow_curl_and_refuse_python() {
    if !have("curl") || !have("/usr/bin/python3") || !have("systemd-escape") {
        return;
    }
    let curl = std::fs::canonicalize("/usr/bin/curl").unwrap();
    // The key as an admin makes it, with systemd-escape.
    let out = run_timeout(
        cmd(&[
            std::ffi::OsStr::new("systemd-escape"),
            "--path".as_ref(),
            curl.as_os_str(),
        ]),
        10,
    );
    let name = out.out().trim_end().to_string();
    let d = Dir::new("idexe");
    let rules = d.join("rules");
    write_tree(
        &rules,
        &[
            (format!("exe/{name}/allow").as_str(), ""),
            ("uid/default/deny", ""),
        ],
    );
    let cdb = d.join("rules.cdb");
    run_timeout(cmd(&[bin("ipcrules-cdb"), cdb.clone(), rules.clone()]), 20).assert_code(0);
    // Reads the whole request first: closing with unread bytes would reset the client.
    let http = "while IFS= read -r l && [ \"${l%$'\\r'}\" ]; do :; done; \
                printf 'HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n'";
    for (opt, r, t) in [("-i", &rules, "dir"), ("-x", &cdb, "cdb")] {
        let p = d.join(format!("s-{t}"));
        let mut c = Command::new(bin("ipcserver"));
        c.arg("-1")
            .arg(&p)
            .arg(bin("ipcserver-access"))
            .args(["-v", "2", opt])
            .arg(r)
            .args(["bash", "-c", http]);
        let srv = Server::start(c);
        let sock = p.display().to_string();
        // curl as another user too: the rule is on the program, not the uid.
        let out = run_timeout(
            as_member(
                1500,
                &[],
                &["curl", "-s", "--unix-socket", &sock, "http://x/"],
            ),
            20,
        );
        assert_eq!(out.out(), "ok\n", "{t}: curl: {} {}", out.err(), srv.log());
        // The same curl in another mount namespace: its path there could name any file.
        if have("unshare") {
            let out = run_timeout(
                cmd(&[
                    "unshare",
                    "-m",
                    "curl",
                    "-s",
                    "--unix-socket",
                    &sock,
                    "http://x/",
                ]),
                20,
            );
            assert_eq!(out.out(), "", "{t}: curl in another mount namespace");
        }
        let py = format!(
            "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({sock:?})\n\
             try:\n  s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n  print(repr(s.recv(100)))\n\
             except (ConnectionResetError, BrokenPipeError):\n  print('reset')"
        );
        let out = run_timeout(as_member(1500, &[], &["/usr/bin/python3", "-c", &py]), 20);
        let log_has = |s: &str| srv.log().contains(s);
        // Refused: closed unread (a reset) or at least unanswered.
        assert!(
            ["b''\n", "reset\n"].contains(&out.out().as_str()),
            "{t}: python3: {} {}",
            out.out(),
            out.err()
        );
        assert!(eventually(10, || srv.children().is_empty()));
        assert!(
            log_has("the client's exe is not known: the client is in another mount namespace"),
            "{}",
            srv.log()
        );
        drop(srv);
    }
}

/// `ipcserver-access -E` unsets our two variables with the other `IPC*` ones.
#[test]
fn access_minus_capital_e_unsets_them() {
    let d = Dir::new("idE");
    let p = d.join("s");
    let mut c = Command::new(bin("ipcserver"));
    c.arg("-1")
        .arg(&p)
        .arg(bin("ipcserver-access"))
        .arg("-E")
        .args(["sh", "-c", "env | grep -c '^IPC' ; exit 0"]);
    let _srv = Server::start(c);
    assert_eq!(read_string(&mut connect(&p)), "0\n");
}
