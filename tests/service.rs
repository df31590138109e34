//! The shipped service directories (`service/*`) under real supervisors: s6-supervise,
//! runit's runsv and daemontools' supervise. Each is started from a copy of its
//! directory with only its documented settings (files in `env/`), comes up, is ready,
//! restarts after `kill -9`, and stops cleanly, its handlers with it.

use crate::util::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SERVICES: [&str; 6] = [
    "httpgate",
    "httpgate-listen",
    "ipcserver-echo",
    "ipcsudo-group",
    "nptlistend",
    "socket-proxy",
];

/// Copy a service directory from `service/` into `dir`.
pub fn copy_service(name: &str, dir: &Path) -> PathBuf {
    // httpgate-listen: service/httpgate with MODE=listen (`configured`).
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("service")
        .join(name.strip_suffix("-listen").unwrap_or(name));
    let dst = dir.join(name);
    let out = run_timeout(
        cmd(&["cp", "-r", src.to_str().unwrap(), dst.to_str().unwrap()]),
        10,
    );
    out.assert_code(0);
    dst
}

/// A setting, the documented way: a file in the service's `env/` directory.
fn set(svc: &Path, name: &str, value: &str) {
    std::fs::create_dir_all(svc.join("env")).unwrap();
    std::fs::write(svc.join("env").join(name), format!("{value}\n")).unwrap();
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Sup {
    S6,
    Runit,
    Daemontools,
}

impl Sup {
    const ALL: [Sup; 3] = [Sup::S6, Sup::Runit, Sup::Daemontools];

    /// The supervisor and its control tools, all of which the test needs.
    fn programs(self) -> &'static [&'static str] {
        match self {
            Sup::S6 => &["s6-supervise", "s6-svc", "s6-svstat", "s6-svwait"],
            Sup::Runit => &["runsv", "sv"],
            Sup::Daemontools => &["supervise", "svc", "svstat"],
        }
    }

    fn available(self) -> bool {
        self.programs().iter().all(|p| have(p))
    }

    /// The pid of the service's process, if it is up.
    fn pid(self, svc: &Path) -> Option<i32> {
        let dir = svc.to_str().unwrap();
        match self {
            Sup::S6 => run_timeout(cmd(&["s6-svstat", "-p", dir]), 20)
                .out()
                .trim()
                .parse()
                .ok()
                .filter(|&p| p > 0),
            Sup::Runit => std::fs::read_to_string(svc.join("supervise/pid"))
                .ok()?
                .trim()
                .parse()
                .ok(),
            Sup::Daemontools => {
                let out = run_timeout(cmd(&["svstat", dir]), 20).out();
                let rest = out.split("(pid ").nth(1)?;
                rest.split(')').next()?.parse().ok()
            }
        }
    }

    /// Whether the supervisor reports the service down.
    fn is_down(self, svc: &Path) -> bool {
        let dir = svc.to_str().unwrap();
        let out = match self {
            Sup::S6 => run_timeout(cmd(&["s6-svstat", dir]), 20).out(),
            Sup::Runit => run_timeout(cmd(&["sv", "status", dir]), 20).out(),
            Sup::Daemontools => run_timeout(cmd(&["svstat", dir]), 20).out(),
        };
        out.starts_with("down") || out.contains(": down")
    }

    /// The documented way to stop the service and its handlers: s6 sends the signal in
    /// ./down-signal, runsv runs ./control/t, daemontools needs `svc -hd`.
    fn down(self, svc: &Path) {
        let dir = svc.to_str().unwrap();
        let c = match self {
            Sup::S6 => cmd(&["s6-svc", "-d", dir]),
            Sup::Runit => cmd(&["sv", "down", dir]),
            Sup::Daemontools => cmd(&["svc", "-hd", dir]),
        };
        run_timeout(c, 20).assert_code(0);
    }

    /// Tell the supervisor to exit once the service is down.
    fn exit(self, svc: &Path) {
        let dir = svc.to_str().unwrap();
        let c = match self {
            Sup::S6 => cmd(&["s6-svc", "-x", dir]),
            Sup::Runit => cmd(&["sv", "exit", dir]),
            Sup::Daemontools => cmd(&["svc", "-x", dir]),
        };
        run_timeout(c, 20).assert_code(0);
    }
}

/// A supervisor running one service directory; on drop, it and the service are killed.
struct Supervised {
    sup: Sup,
    svc: PathBuf,
    child: Child,
    log: PathBuf,
}

impl Supervised {
    fn start(sup: Sup, svc: &Path, log: PathBuf) -> Supervised {
        let f = std::fs::File::create(&log).unwrap();
        let child = Command::new(sup.programs()[0])
            .arg(svc)
            .env("PATH", path_with_our_bins())
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap();
        Supervised {
            sup,
            svc: svc.to_path_buf(),
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Up, and ready: under s6 through its readiness notification (`s6-svwait -U`);
    /// elsewhere there is none, so the socket must accept a connection.
    fn wait_ready(&self, sock: &Path) -> i32 {
        let mut pid = None;
        assert!(
            eventually(30, || {
                pid = self.sup.pid(&self.svc);
                pid.is_some()
            }),
            "{:?}: {} never came up; log:\n{}",
            self.sup,
            self.svc.display(),
            self.log()
        );
        if self.sup == Sup::S6 {
            let out = run_timeout(
                cmd(&["s6-svwait", "-U", "-t", "30000", self.svc.to_str().unwrap()]),
                40,
            );
            out.assert_code(0);
            UnixStream::connect(sock).expect("the socket must listen once s6 says ready");
        } else {
            assert!(
                eventually(30, || UnixStream::connect(sock).is_ok()),
                "{:?}: {} never listened; log:\n{}",
                self.sup,
                sock.display(),
                self.log()
            );
        }
        pid.unwrap()
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some(pid) = self.sup.pid(&self.svc) {
            unsafe_kill(pid, 9);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gone(pid: i32) -> bool {
    matches!(proc_state(pid), None | Some('Z'))
}

/// An echo connection that stays open: its handler runs until the server stops it.
fn echo_connection(sock: &Path) -> UnixStream {
    let mut s = UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"ping\n").unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping\n");
    s
}

/// One request to the service, as a client of the documentation would make it.
fn use_service(name: &str, d: &Dir, sock: &Path) {
    match name {
        "fdholder" => use_fdholder(sock),
        "fdholder-echo" => drop(echo_connection(sock)),
        "ipcserver-echo" | "ipcserver-echo-execline" => drop(echo_connection(sock)),
        "ipcsudo-group" => {
            // gid 65534 is the group of env/GROUP (nogroup): uid 65534 may.
            let out = run_timeout(
                as_nobody(&[bin("ipcsudo").to_str().unwrap(), sock.to_str().unwrap()]),
                30,
            );
            out.assert_code(0);
            assert_eq!(out.out(), "running as uid 0 for a member of the group\n");
        }
        "nptlistend" => {
            let fifodir = d.join("fifodir");
            if !fifodir.exists() {
                let out = run_timeout(
                    cmd(&[
                        bin("npt-mkfifodir").to_str().unwrap(),
                        fifodir.to_str().unwrap(),
                    ]),
                    20,
                );
                out.assert_code(0);
            }
            let f = fifodir.to_str().unwrap();
            let mut c = cmd(&[
                bin("npt-wait").to_str().unwrap(),
                "-s",
                "-t",
                "30000",
                f,
                "x",
                bin("npt-notify").to_str().unwrap(),
                f,
                "x",
            ]);
            c.env("NPT_IPCPATH", sock);
            let out = run_timeout(c, 40);
            out.assert_code(0);
            assert_eq!(out.out(), "x\n");
        }
        "httpgate" | "httpgate-listen" => {
            // The shipped read-only preset: a read passes, a create is refused.
            let ask = |req: &str| {
                let mut c = UnixStream::connect(sock).unwrap();
                c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                c.write_all(req.as_bytes()).unwrap();
                let mut got = String::new();
                c.read_to_string(&mut got).unwrap();
                got
            };
            let got = ask("GET /v1.40/containers/json HTTP/1.1\r\nHost: x\r\n\r\n");
            assert!(got.starts_with("HTTP/1.1 200 OK\r\n") && got.ends_with("\r\n\r\nok\n"));
            let got = ask(
                "POST /v1.40/containers/create HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            assert!(got.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{got}");
        }
        "socket-proxy" => {
            // Root (gid 0, GROUP) is served through the proxy by the backend's `cat`;
            // an outsider is refused by the kernel (the socket is 0660, root:root).
            drop(echo_connection(sock));
            let out = run_timeout(
                as_nobody(&[
                    bin("ipcclient").to_str().unwrap(),
                    sock.to_str().unwrap(),
                    "true",
                ]),
                30,
            );
            out.assert_code(111);
            assert!(out.err().contains("Permission denied"), "{}", out.err());
        }
        _ => unreachable!(),
    }
}

/// The copy of service NAME with its documented settings, and its socket.
fn configured(name: &str, d: &Dir) -> (PathBuf, PathBuf) {
    let svc = copy_service(name, &d.join("sv"));
    let sock = d.join("s");
    match name {
        "fdholder" => set(&svc, "FDHOLDER_SOCKET", sock.to_str().unwrap()),
        "fdholder-echo" => {
            set(&svc, "FDHOLDER_SOCKET", d.join("h").to_str().unwrap());
            set(&svc, "FDHOLDER_ECHO_SOCKET", sock.to_str().unwrap());
        }
        "ipcserver-echo" | "ipcserver-echo-execline" => {
            set(&svc, "IPCSERVER_ECHO_SOCKET", sock.to_str().unwrap())
        }
        "nptlistend" => set(&svc, "NPT_IPCPATH", sock.to_str().unwrap()),
        "ipcsudo-group" => {
            set(&svc, "SOCKET", sock.to_str().unwrap());
            set(&svc, "RULES", d.join("rules").to_str().unwrap());
            set(&svc, "GROUP", "nogroup");
        }
        "socket-proxy" => {
            set(&svc, "PUBLIC", sock.to_str().unwrap());
            set(&svc, "BACKEND", d.join("b").to_str().unwrap());
            set(&svc, "RULES", d.join("rules").to_str().unwrap());
            set(&svc, "GROUP", "root");
        }
        "httpgate" | "httpgate-listen" => {
            set(&svc, "PUBLIC", sock.to_str().unwrap());
            set(&svc, "BACKEND", d.join("b").to_str().unwrap());
            if name == "httpgate-listen" {
                set(&svc, "MODE", "listen");
            }
        }
        _ => unreachable!(),
    }
    (svc, sock)
}

/// The daemon a service fronts, started by the test: for socket-proxy, an echo server
/// on its own socket (`configured`'s BACKEND).
fn backend(name: &str, d: &Dir) -> Option<Server> {
    // httpgate's: one HTTP answer per connection, after the request line.
    let http = "read line; printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 3\\r\\n\
                Connection: close\\r\\n\\r\\nok\\n'";
    let prog: &[&str] = match name {
        "socket-proxy" => &["cat"],
        "httpgate" | "httpgate-listen" => &["sh", "-c", http],
        _ => return None,
    };
    let b = d.join("b");
    let mut argv = vec![bin("ipcserver").to_str().unwrap().to_string(), "-1".into()];
    argv.push(b.to_str().unwrap().into());
    argv.extend(prog.iter().map(|s| s.to_string()));
    Some(Server::start(cmd(&argv)))
}

fn lifecycle(sup: Sup, name: &str) {
    let d = Dir::new("sup");
    std::fs::create_dir(d.join("sv")).unwrap();
    let (svc, sock) = configured(name, &d);
    let _backend = backend(name, &d);
    // fdholder-echo keeps its socket in service/fdholder, run beside it.
    let holder = (name == "fdholder-echo").then(|| start_holder(sup, &d));
    let s = Supervised::start(sup, &svc, d.join("log"));
    let what = format!("{sup:?} {name}");

    let pid = s.wait_ready(&sock);
    use_service(name, &d, &sock);
    if name == "httpgate-listen" {
        // MODE=listen: the supervised process is the gate itself, serving the socket.
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_eq!(comm.trim(), "ipchttpgate", "{what}: not the listening gate");
    }

    // kill -9: the supervisor starts it again, the stale socket is replaced.
    unsafe_kill(pid, 9);
    let mut again = None;
    assert!(
        eventually(30, || {
            again = sup.pid(&svc).filter(|&p| p != pid);
            again.is_some()
        }),
        "{what}: not restarted after kill -9; log:\n{}",
        s.log()
    );
    let pid = s.wait_ready(&sock);
    use_service(name, &d, &sock);

    // Stop: the server and the handlers it is running.
    let mut held = echo_or_none(name, &sock);
    let handlers = children_of(pid);
    assert!(held.is_none() || !handlers.is_empty(), "{what}: no handler");
    sup.down(&svc);
    assert!(
        eventually(30, || gone(pid) && handlers.iter().all(|&h| gone(h))),
        "{what}: server or handlers still running after down; log:\n{}",
        s.log()
    );
    assert!(eventually(30, || sup.is_down(&svc)), "{what}: not down");
    if let Some(c) = held.as_mut() {
        let mut rest = Vec::new();
        let _ = c.read_to_end(&mut rest);
        assert!(rest.is_empty(), "{what}: {rest:?} after down");
    }
    sup.exit(&svc);
    let mut s = s;
    assert!(
        wait_deadline(&mut s.child, 30).is_some(),
        "{what}: the supervisor did not exit; log:\n{}",
        s.log()
    );
    // (nptlistend logs each readiness probe above, which sent no request.)
    let log = s
        .log()
        .replace("nptlistend: fatal: malformed request: missing fields\n", "");
    assert!(
        !log.contains("fatal"),
        "{what}: the service logged an error:\n{}",
        s.log()
    );
    if let Some(h) = holder {
        stop_holder(sup, h);
    }
}

fn echo_or_none(name: &str, sock: &Path) -> Option<UnixStream> {
    matches!(
        name,
        "ipcserver-echo" | "ipcserver-echo-execline" | "fdholder-echo" | "socket-proxy"
    )
    .then(|| echo_connection(sock))
}

fn lifecycle_all(sup: Sup) {
    if !sup.available() {
        return;
    }
    for name in SERVICES {
        lifecycle(sup, name);
    }
}

#[test]
fn services_under_s6_supervise() {
    lifecycle_all(Sup::S6);
}

/// Services that need s6-supervise's notification fd (an execline run script with the
/// fd-3 readiness idiom).
const S6_ONLY_SERVICES: [&str; 1] = ["ipcserver-echo-execline"];

/// Directories under service/ that are not supervision services, each with its own
/// test: systemd units (tests/examples.rs), the nginx front (tests/examples.rs).
const TESTED_ELSEWHERE: [&str; 2] = ["http-nginx", "systemd"];

#[test]
fn execline_service_under_s6_supervise() {
    if !Sup::S6.available() || !have("execlineb") || !have("s6-envdir") {
        return;
    }
    for name in S6_ONLY_SERVICES {
        lifecycle(Sup::S6, name);
    }
}

#[test]
fn services_under_runsv() {
    lifecycle_all(Sup::Runit);
}

#[test]
fn services_under_daemontools_supervise() {
    lifecycle_all(Sup::Daemontools);
}

impl Sup {
    /// The restart each service README documents as keeping connections in progress:
    /// SIGTERM to the server alone (it exits and leaves its handlers running; the
    /// supervisor starts a new server). s6: `s6-svc -t`; daemontools: `svc -t`; runit:
    /// `kill -TERM` of supervise/pid (`sv term` and `sv restart` run control/t).
    fn restart_keeping_connections(self, svc: &Path) {
        let dir = svc.to_str().unwrap();
        let pid = self.pid(svc).expect("no pid").to_string();
        let c = match self {
            Sup::S6 => cmd(&["s6-svc", "-t", dir]),
            Sup::Daemontools => cmd(&["svc", "-t", dir]),
            Sup::Runit => cmd(&["kill", "-TERM", &pid]),
        };
        run_timeout(c, 20).assert_code(0);
    }

    /// The restart that also stops the connections in progress, as the READMEs say:
    /// s6-svc -r (down-signal, SIGQUIT), sv restart (control/t), svc -h then svc -t.
    fn restart_dropping_connections(self, svc: &Path) {
        let dir = svc.to_str().unwrap();
        let c = match self {
            Sup::S6 => cmd(&["s6-svc", "-r", dir]),
            Sup::Runit => cmd(&["sv", "restart", dir]),
            Sup::Daemontools => {
                run_timeout(cmd(&["svc", "-h", dir]), 20).assert_code(0);
                cmd(&["svc", "-t", dir])
            }
        };
        run_timeout(c, 20).assert_code(0);
    }
}

/// Whether an echo connection opened before a restart still echoes.
fn still_echoes(c: &mut UnixStream) -> bool {
    let _ = c.set_read_timeout(Some(Duration::from_secs(20)));
    let mut buf = [0u8; 6];
    c.write_all(b"again\n").is_ok() && c.read_exact(&mut buf).is_ok() && &buf == b"again\n"
}

/// Restart the service under `sup` with `restart` while `N` connections are in
/// progress, wait for the new server, and return how many of them were dropped.
fn dropped_by_restart(
    sup: Sup,
    s: &Supervised,
    svc: &Path,
    sock: &Path,
    restart: fn(Sup, &Path),
) -> usize {
    const N: usize = 5;
    let pid = sup.pid(svc).unwrap();
    let mut held: Vec<UnixStream> = (0..N).map(|_| echo_connection(sock)).collect();
    restart(sup, svc);
    assert!(
        eventually(30, || sup.pid(svc).is_some_and(|p| p != pid)),
        "{sup:?}: not restarted; log:\n{}",
        s.log()
    );
    s.wait_ready(sock);
    drop(echo_connection(sock));
    held.iter_mut().map(still_echoes).filter(|ok| !ok).count()
}

/// The documented restart (README: `s6-svc -t`, `svc -t`, runit's `kill -TERM`) of
/// the services that serve long connections drops none of the connections in
/// progress, under each real supervisor; the restart documented as stopping them
/// (`s6-svc -r`, `sv restart`, `svc -h`) drops them all. (fdholder-echo: the same run
/// script shape, and tests/ipcfdholder.rs restarts it under load.)
#[test]
fn documented_restarts_keep_connections_in_progress() {
    for sup in Sup::ALL {
        if !sup.available() {
            continue;
        }
        let names: &[&str] = if sup == Sup::S6 && have("execlineb") {
            &["ipcserver-echo", "socket-proxy", "ipcserver-echo-execline"]
        } else {
            &["ipcserver-echo", "socket-proxy"]
        };
        for &name in names {
            let d = Dir::new("rst");
            std::fs::create_dir(d.join("sv")).unwrap();
            let (svc, sock) = configured(name, &d);
            let _backend = backend(name, &d);
            let s = Supervised::start(sup, &svc, d.join("log"));
            s.wait_ready(&sock);
            let kept = dropped_by_restart(sup, &s, &svc, &sock, Sup::restart_keeping_connections);
            assert_eq!(
                kept, 0,
                "{sup:?} {name}: connections dropped by the documented restart"
            );
            let dropped =
                dropped_by_restart(sup, &s, &svc, &sock, Sup::restart_dropping_connections);
            assert_eq!(dropped, 5, "{sup:?} {name}: the dropping restart kept some");
            sup.down(&svc);
            assert!(
                eventually(30, || sup.is_down(&svc)),
                "{sup:?} {name}: not down"
            );
        }
    }
}

/// Every directory under service/ is one the tests above run.
#[test]
fn every_shipped_service_is_tested() {
    let mut found: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("service"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    found.sort();
    let mut tested: Vec<&str> = SERVICES
        .iter()
        .chain(&FDHOLDER_SERVICES)
        .chain(&S6_ONLY_SERVICES)
        .chain(&TESTED_ELSEWHERE)
        .copied()
        .filter(|name| !name.ends_with("-listen"))
        .collect();
    tested.sort_unstable();
    assert_eq!(found, tested);
}

/// A service with a group that does not exist refuses to start, says why in its log,
/// and asks its supervisor not to restart it, instead of failing every second.
fn unknown_group_does_not_spin(name: &str) {
    let line = format!("{name}: fatal: unknown group no-such-group-zz");
    bad_setting_does_not_spin(name, ("GROUP", "no-such-group-zz"), &line);
}

/// Service `name` with one bad setting logs `line` once, is marked down by each
/// supervisor, and is not restarted.
fn bad_setting_does_not_spin(name: &str, (setting, value): (&str, &str), line: &str) {
    for sup in Sup::ALL {
        if !sup.available() {
            continue;
        }
        let d = Dir::new("badset");
        std::fs::create_dir(d.join("sv")).unwrap();
        let (svc, _sock) = configured(name, &d);
        set(&svc, setting, value);
        let s = Supervised::start(sup, &svc, d.join("log"));
        assert!(
            eventually(30, || s.log().contains(line)),
            "{sup:?}: no refusal in the log:\n{}",
            s.log()
        );
        assert!(eventually(30, || sup.is_down(&svc)), "{sup:?}: not down");
        // Supervisors restart a failed service after about a second.
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(
            s.log().matches(line).count(),
            1,
            "{sup:?}: restarted:\n{}",
            s.log()
        );
        assert!(sup.is_down(&svc), "{sup:?}: up again");
    }
}

#[test]
fn ipcsudo_group_with_an_unknown_group_does_not_spin() {
    unknown_group_does_not_spin("ipcsudo-group");
}

#[test]
fn socket_proxy_with_an_unknown_group_does_not_spin() {
    unknown_group_does_not_spin("socket-proxy");
}

#[test]
fn httpgate_with_an_unknown_mode_does_not_spin() {
    bad_setting_does_not_spin(
        "httpgate",
        ("MODE", "fast"),
        "httpgate: fatal: MODE is fast: write handler or listen to ./env/MODE, then start the service again",
    );
}

#[test]
fn ipcserver_echo_without_a_supervisor() {
    // Run by hand: no fd 3, no env/, no supervise/: the run script must still serve.
    let d = Dir::new("svr");
    let svc = copy_service("ipcserver-echo", &d.path);
    let sock = d.join("echo.sock");
    let mut c = Command::new("./run");
    c.current_dir(&svc)
        .env("PATH", path_with_our_bins())
        .env("IPCSERVER_ECHO_SOCKET", &sock)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    assert!(eventually(10, || UnixStream::connect(&sock).is_ok()));
    drop(echo_connection(&sock));
    let _ = child.kill();
    let _ = child.wait();
}

// ---- service/fdholder and service/fdholder-echo (which needs the holder running).

const FDHOLDER_SERVICES: [&str; 2] = ["fdholder", "fdholder-echo"];

/// Store /dev/null under an identifier the shipped rules allow, see it listed, take
/// it back out: what a client of the holder does.
fn use_fdholder(sock: &Path) {
    let s = sock.to_str().unwrap();
    let id = "unix:/service-test";
    let client = |name: &str, args: &[&str]| {
        let mut c = cmd(&[bin(&format!("ipcfdholder-{name}")).to_str().unwrap()]);
        c.args(["-t", "20000"]).args(args).stdin(Stdio::null());
        run_timeout(c, 30)
    };
    client("store", &[s, id]).assert_code(0);
    let out = client("list", &[s]);
    out.assert_code(0);
    assert_eq!(out.out(), format!("{id}\n"));
    client("retrieve", &["-D", s, id, "true"]).assert_code(0);
    let out = client("list", &[s]);
    out.assert_code(0);
    assert_eq!(out.out(), "");
}

/// service/fdholder, for fdholder-echo, on the socket `d/h`, up and ready.
fn start_holder(sup: Sup, d: &Dir) -> Supervised {
    let svc = copy_service("fdholder", &d.join("sv"));
    let sock = d.join("h");
    set(&svc, "FDHOLDER_SOCKET", sock.to_str().unwrap());
    let s = Supervised::start(sup, &svc, d.join("holder.log"));
    s.wait_ready(&sock);
    s
}

fn stop_holder(sup: Sup, mut h: Supervised) {
    sup.down(&h.svc);
    assert!(
        eventually(30, || sup.is_down(&h.svc)),
        "{sup:?}: holder not down"
    );
    sup.exit(&h.svc);
    assert!(
        wait_deadline(&mut h.child, 30).is_some(),
        "{sup:?}: the holder's supervisor did not exit; log:\n{}",
        h.log()
    );
    assert!(!h.log().contains("fatal"), "{sup:?}: holder:\n{}", h.log());
}

fn fdholder_lifecycle_all(sup: Sup) {
    if !sup.available() {
        return;
    }
    for name in FDHOLDER_SERVICES {
        lifecycle(sup, name);
    }
}

#[test]
fn fdholder_services_under_s6_supervise() {
    fdholder_lifecycle_all(Sup::S6);
}

#[test]
fn fdholder_services_under_runsv() {
    fdholder_lifecycle_all(Sup::Runit);
}

#[test]
fn fdholder_services_under_daemontools_supervise() {
    fdholder_lifecycle_all(Sup::Daemontools);
}

/// service/fdholder with rules that do not exist refuses to start, says why in its
/// log, and has its supervisor mark it down (`d`, then waits to be signalled), instead of
/// failing every second.
#[test]
fn fdholder_without_rules_does_not_spin() {
    let rules = "/nonexistent/ipctools-no-rules";
    let line = format!("fdholder: fatal: no rules at {rules}");
    bad_setting_does_not_spin("fdholder", ("FDHOLDER_RULES", rules), &line);
}

/// `make install` puts the service directories where the .deb does
/// (PREFIX/share/doc/ipctools/examples/service), run scripts still executable, and
/// `make uninstall` takes them away again. (install-examples is the part of install
/// that does it; install itself first builds the static release binaries.)
#[test]
fn make_install_puts_the_service_examples_where_the_deb_does() {
    if !have("make") || !have("git") {
        return;
    }
    let d = Dir::new("mkinst");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let make = |target: &str| {
        let mut c = Command::new("make");
        c.current_dir(root)
            .args(["--no-print-directory", "-s", target, "PREFIX=/usr/local"])
            .arg(format!("DESTDIR={}", d.path.display()));
        run_timeout(c, 60).assert_code(0);
    };
    make("install-examples");
    let examples = d.join("usr/local/share/doc/ipctools/examples");
    let tracked = run_timeout(
        {
            let mut c = Command::new("git");
            c.current_dir(root).args(["ls-files", "service"]);
            c
        },
        10,
    );
    let tracked: Vec<String> = tracked.out().lines().map(str::to_string).collect();
    assert!(tracked.len() > 20, "{tracked:?}");
    for f in &tracked {
        let src = std::fs::metadata(root.join(f)).unwrap();
        let dst = std::fs::metadata(examples.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            dst.permissions().mode() & 0o111 != 0,
            src.permissions().mode() & 0o111 != 0,
            "{f}: executable bit"
        );
    }
    let run = examples.join("service/ipcserver-echo/run");
    assert!(run.is_file(), "{}", run.display());
    make("uninstall");
    assert!(!examples.exists(), "left behind: {}", examples.display());
}
