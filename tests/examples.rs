//! Documented examples run as written: each test takes the document's own lines
//! (README.md, doc/guide.md, an EXAMPLES section of doc/*.1, found by a piece of their
//! text, so a test fails when its example changes or disappears), moves `/run`, `/srv`,
//! `/etc` and `/tmp` under a test directory, and runs them with `sh -e`, our programs
//! first in PATH. Between the lines, only what a person at a shell does without
//! thinking: wait for a server started with `&` to listen, look at the result. Other ids
//! than root's are taken with setpriv; a placeholder program (`prog`, `./handler`,
//! `mydaemon`, `/usr/bin/food`, `/sbin/reboot`) is a small script saying what it got.
//!
//! # Inventory (issue 26, item 6)
//!
//! One row per example: a code block of README.md or doc/guide.md, a `.Bd -literal`
//! block or `.Dl` line of an EXAMPLES section of doc/*.1. "before": run as written by
//! a test before this inventory (`=` only an equivalent test, not the document's lines).
//!
//! | example | where | before | test (here unless named) |
//! |---|---|---|---|
//! | `make demo`, `make check` | README, Quick start | no | none: `make check` is the whole suite (apt-get, every test); `make demo` a release build (minutes on 2 cores) |
//! | `make install`, `make deb && dpkg -i` | README, Install | = | `service::make_install_puts_the_service_examples_where_the_deb_does`; `make deb`/`dpkg -i` installs system-wide: not in a test |
//! | `RUSTFLAGS=… cargo install` | README, Install | no | none: a static release build of the workspace (minutes) |
//! | `exec ipcserver -1 -a 0660 -o 0:50 …/mysvc.sock ./handler` | README, run script | no | `readme_run_script_line_runs_as_written` |
//! | group-50 rules, `ipcrules-cdb`, `ipcserver … ipcserver-access -x` | README, Access control | = | `readme_access_control_example_runs_as_written` (`=`: `ipcserver_access::readme_example_group_only`) |
//! | `cargo test --workspace` | README, Tests | no | none: the suite itself |
//! | `cargo test … reliability::`, `bench/reliability.sh`, `fuzz/ci.sh` | README, Reliability | no | none: the suite, a benchmark and the fuzzers themselves |
//! | `exec ipcserver -a 0660 -o "0:$gid" … ipcsudod` | guide, ipcsudo | = | `guide_ipcsudo_quote_is_the_run_script` (the same words as service/ipcsudo-group/run, which `service::*` run under s6, runit and daemontools) |
//! | git clone through `git daemon --inetd`; rsync | guide, Relays | rsync | `git_clone_examples_run_as_written`, `guide_rsync_example_runs_as_written` |
//! | `ipcserver … ipchttpgate -r /etc/docker-operator.rules /run/docker.sock` + rules | guide, HTTP | = | `ipchttpgate_examples_run_as_written` (podman's API standing in for /run/docker.sock) |
//! | `ipcserver-socketbinder … ipchttpgate -c 100 -C 10 -r …` (listening mode) | guide, HTTP; ipchttpgate(1) | = | `ipchttpgate_examples_run_as_written` |
//! | fd holder: rules, daemon, store, retrieve | guide, fd holder | yes | `guide_fdholder_recipe_runs_as_written` |
//! | seqpacket service for group 1000; two sockets for one daemon | guide, Socket activation | no | `guide_seqpacket_service_runs_as_written`, `guide_two_sockets_for_one_daemon_runs_as_written` |
//! | `npt-wait … s6-svc -u`; `npt-wait -s` through nptlistend | guide, npt | no | `guide_npt_wait_example_runs_as_written` (real s6-supervise) |
//! | `ipcclient /run/svc sh -c 'echo status >&7; …'` | ipcclient(1) | no | `ipcclient_man_page_example_runs_as_written` |
//! | `ipcclient -t 5000 /run/db/socket myclient` | ipcclient(1) | no | `ipcclient_man_page_retry_runs_as_written` |
//! | IPCCONNMAX 3 for uid 1000 | ipcconnlimit(1) | = | `ipcconnlimit_man_page_example_runs_as_written` |
//! | `ipcfdholder-daemon -1 -u 999 -g 999 …` | ipcfdholder-daemon(1) | no | `fdholder_client_man_page_examples_run_as_written` |
//! | store, list, getdump, retrieve, setdump, transferdump, delete (7 `.Dl`) | ipcfdholder-*(1) | = | `fdholder_client_man_page_examples_run_as_written` |
//! | rules for uid 1000, `unix:/run/app/` | ipcfdholderd(1) | no | `ipcfdholderd_man_page_rules_run_as_written` |
//! | read-only docker socket, under ipcserver and listening; a rules file (3 blocks) | ipchttpgate(1) | = | `ipchttpgate_examples_run_as_written` (`docker-readers` → gid 4243) |
//! | listening under `s6-ipcserver-socketbinder` | ipchttpgate(1) | no | none as written (its `/run/api-real.sock` is a placeholder); the same command with s6's binder: `ipchttpgate::listening_mode_judges_by_the_kernels_identity` |
//! | git clone; rsync; access-control proxy (3 blocks) | ipcioconnect(1) | = | `git_clone_examples_run_as_written`, `ipcioconnect_man_page_rsync_runs_as_written`, `ipcioconnect_man_page_proxy_runs_as_written` (`=`: `bridges::*`) |
//! | service directory with notification-fd | ipcnotify-fd-from-socket(1) | no | `ipcnotify_man_page_service_runs_as_written` (real s6-supervise, `s6-svwait -U`) |
//! | systemd unit `Type=notify` | ipcnotify-socket-from-fd(1) | = | `ipcnotify_socket_from_fd_unit_runs_as_written` (its ExecStart, a python3 socket as systemd's NOTIFY_SOCKET) |
//! | `ipcrules-cdb -m 0644`, served as uid 1000 | ipcrules-cdb(1) | no | `ipcrules_cdb_man_page_example_runs_as_written` |
//! | decompile, list, edit, recompile | ipcrules-fs(1) | no | `ipcrules_fs_man_page_example_runs_as_written` |
//! | group-50 service as uid 1000; `group/50` | ipcserver-access(1) | no | `ipcserver_access_man_page_service_runs_as_written` |
//! | `exe/…curl`, `cgroup/…batch.service` | ipcserver-access(1) | = | `ipcserver_access_man_page_exe_rule_runs_as_written` (curl allowed, socat refused; the cgroup/ rule only written: `identity::*` run clients in cgroups) |
//! | what a client would get (`-E`), allow and deny | ipcserver-access(1) | yes | `ipcserver_access_man_page_check_runs_as_written` |
//! | with s6-ipcserverd; with s6-fdholderd | ipcserver-socketbinder(1) | no | `socketbinder_man_page_examples_run_as_written` |
//! | group-50 socket as uid 1000; HTTP with curl; s6-envuidgid names (3 blocks) | ipcserver(1) | no | `ipcserver_man_page_examples_run_as_written` |
//! | down-signal, `s6-svc -d`, `svc -hd` | ipcserver(1) | = | `ipcserver_man_page_stop_with_handlers_runs_as_written` (s6-supervise and daemontools' supervise) |
//! | `ipcserver-socketbinder … ipcserverd -c 10 cat` | ipcserverd(1) | no | `echo_service_man_page_examples_run_as_written` |
//! | `ipcsudo /run/reboot`; `ipcclient /run/reboot ipcsudoc -T 10000` | ipcsudo(1), ipcsudoc(1) | no | `ipcsudo_man_page_examples_run_as_written` |
//! | group-100 reboot service | ipcsudod(1) | no | `ipcsudo_man_page_examples_run_as_written` (`/sbin/reboot` → a script) |
//! | reboot-noargs wrapper | ipcsudod(1) | yes | `ipcsudod_man_page_wrapper_refuses_arguments` |
//! | datagram to stdout | local-datagram-socket-listen(1) | no | `datagram_man_page_example_runs_as_written` |
//! | seqpacket and stream with ipcserverd (2 `.Dl`) | local-*-socket-listen(1) | no | `echo_service_man_page_examples_run_as_written` |
//! | hourly clean-up (crontab line) | npt-cleanfifodir(1) | no | `npt_man_page_examples_run_as_written` |
//! | two services in execline; first of two fifodirs | npt-listen(1) | no | `npt_listen_man_page_examples_run_as_written` |
//! | `npt-mkfifodir -g 100`; `npt-notify … u`; `npt-wait … s6-svc -u` | npt-mkfifodir(1), npt-notify(1), npt-wait(1) | no | `npt_man_page_examples_run_as_written`, `guide_npt_wait_example_runs_as_written` |
//! | the service line, readiness on fd 3 | nptlistend(1) | no | `nptlistend_man_page_example_runs_as_written` |
//!
//! Counts: 62 examples (7 README, 7 guide, 48 man pages). Run as written before: 4 (the
//! guide's rsync and fd holder, ipcserver-access's check, ipcsudod's wrapper); after:
//! 56. Not run as written: 6: five that cannot run in a test, the suite, builds and
//! benchmarks themselves (the README rows above that say why), and ipchttpgate(1)'s
//! s6 binder line, whose command a test runs with its own paths.
//! Wrong as written, fixed: ipcrules-fs(1) (env directory), ipcioconnect(1) (git
//! `--export-all`, rsync module), ipcnotify-fd-from-socket(1) (run not executable),
//! the guide's ipcsudo-group quote (`-1` lost).

use crate::util::*;
use std::path::Path;
use std::process::Command;

/// The one line of doc/guide.md that contains `needle`, relocated under `d`.
fn guide_line(needle: &str, d: &Path) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/guide.md"))
            .unwrap();
    let found: Vec<&str> = readme.lines().filter(|l| l.contains(needle)).collect();
    assert_eq!(
        found.len(),
        1,
        "doc/guide.md lines with {needle:?}: {found:?}"
    );
    let root = d.display().to_string();
    // A trailing comment (`   # restart at will`) is the README's, not the shell's.
    let line = found[0].split("  #").next().unwrap_or_default().trim_end();
    line.replace("/run/", &format!("{root}/run/"))
        .replace("/srv/", &format!("{root}/srv/"))
        .replace("/etc/", &format!("{root}/etc/"))
}

/// Shell lines that wait (up to 20 s) for a socket to appear.
fn wait_for(sock: &str) -> String {
    format!("i=0; until [ -S {sock} ]; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done")
}

/// Run `script` with `sh -e` in `d`, our programs first in PATH; it adds the pid of
/// each job it starts with `&` to `$pids` (see [`bg`]), and those are killed when it
/// ends (SIGTERM, then SIGKILL for any left: a test must leave nothing running). Its output goes to files, which a server left running cannot hold open.
/// Returns (exit code, stdout, stderr).
fn run_script(d: &Path, script: &str) -> (Option<i32>, String, String) {
    let mut c = Command::new("sh");
    let wrapped = format!(
        "exec >script.out 2>script.err\npids=\ntrap 'rc=$?; kill $pids 2>/dev/null || :; sleep 0.2; kill -KILL $pids 2>/dev/null || :; exit $rc' EXIT\nset -e\n{script}\n"
    );
    c.args(["-c", &wrapped])
        .current_dir(d)
        .env("PATH", path_with_our_bins());
    let o = run_timeout(c, 120);
    kill_left_in(d);
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap_or_default();
    (o.status.code(), read("script.out"), read("script.err"))
}

/// SIGKILL every process still running in `d` (its cwd there): the daemon an example
/// starts with `&` must not outlive the test, whatever the trap above managed.
fn kill_left_in(d: &Path) {
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if std::fs::read_link(e.path().join("cwd")).is_ok_and(|c| c.starts_with(d)) {
            unsafe_kill(pid, libc::SIGKILL);
        }
    }
}

/// A README line that ends with `&`, then the shell line that records its pid.
fn bg(line: String) -> String {
    assert!(line.trim_end().ends_with('&'), "{line}");
    format!("{line}\npids=\"$pids $!\"")
}

/// doc/guide.md, "Relays": rsync's daemon behind ipcserver, reached with RSYNC_CONNECT_PROG.
#[test]
fn guide_rsync_example_runs_as_written() {
    if !have("rsync") {
        return;
    }
    let d = Dir::new("exrsync");
    let script = [
        "mkdir -p run etc srv/data/sub && echo through rsync > srv/data/sub/f".to_string(),
        guide_line("> /etc/rsyncd-ipc.conf", &d.path),
        bg(guide_line(
            "ipcserver /run/rsync.sock rsync --daemon",
            &d.path,
        )),
        wait_for("run/rsync.sock"),
        guide_line("RSYNC_CONNECT_PROG='ipcclient /run/rsync.sock", &d.path),
        "cat copy/sub/f".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!((code, out.as_str()), (Some(0), "through rsync\n"), "{err}");
}

/// doc/guide.md, "Restarts that refuse no connection": the fd holder recipe, its rules
/// included, then the echo service restarted at will on the held socket.
#[test]
fn guide_fdholder_recipe_runs_as_written() {
    let d = Dir::new("exfdh");
    let echo = format!("{}/run/echo", d.path.display());
    let talk = format!("ipcclient {echo} sh -c 'echo hello >&7; exec 7>&-; head -n 1 <&6'");
    let script = [
        guide_line("mkdir -p rules/uid/0/env /run/fdholder", &d.path),
        guide_line("> rules/uid/0/env/S6_FDHOLDER_STORE_REGEX", &d.path),
        guide_line("> rules/uid/0/env/S6_FDHOLDER_RETRIEVE_REGEX", &d.path),
        guide_line("> rules/uid/0/env/S6_FDHOLDER_LIST", &d.path),
        guide_line(
            "ipcfdholder-daemon -1 -i rules /run/fdholder/socket &",
            &d.path,
        ),
        wait_for("run/fdholder/socket"),
        guide_line(
            "local-stream-socket-listen /run/echo ipcfdholder-store",
            &d.path,
        ),
        // "restart at will": twice, each time in the background, then stopped.
        format!(
            "{} &\npids=\"$pids $!\"\n{talk}\nkill $!",
            guide_line(
                "ipcfdholder-retrieve /run/fdholder/socket unix:/run/echo",
                &d.path
            )
        ),
        format!(
            "{} &\npids=\"$pids $!\"\n{talk}\nkill $!",
            guide_line(
                "ipcfdholder-retrieve /run/fdholder/socket unix:/run/echo",
                &d.path
            )
        ),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    // The daemon's readiness line (-1: a bare newline, as s6-fdholder-daemon), then
    // one echo per restart.
    assert_eq!((code, out.as_str()), (Some(0), "\nhello\nhello\n"), "{err}");
}

/// The value of `key=` in a systemd unit file of service/systemd.
fn unit_value(unit: &str, key: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("service/systemd")
        .join(unit);
    let text = std::fs::read_to_string(&p).unwrap();
    let prefix = format!("{key}=");
    let found: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .collect();
    assert_eq!(found.len(), 1, "{unit}: {key}= lines: {found:?}");
    found[0].to_string()
}

/// service/systemd: the .socket's path and the .service's ExecStart, run the way
/// systemd would (`systemd-socket-activate` passes the socket as systemd does:
/// LISTEN_FDS, LISTEN_PID, fd 3); no systemd runs on the test machines.
#[test]
fn systemd_units_run_under_systemd_socket_activate() {
    if !have("systemd-socket-activate") {
        return;
    }
    let d = Dir::new("exsd");
    let listen = unit_value("ipcserver-echo.socket", "ListenStream");
    assert_eq!(listen, "/run/ipcserver-echo.sock");
    let sock = d.join("ipcserver-echo.sock");
    let exec = unit_value("ipcserver-echo.service", "ExecStart");
    let mut argv = exec.split_whitespace();
    assert_eq!(argv.next(), Some("/usr/bin/ipcserverd"), "{exec}");
    let mut c = Command::new("systemd-socket-activate");
    c.arg("-l").arg(&sock).arg(bin("ipcserverd")).args(argv);
    c.env("PATH", path_with_our_bins())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(c.spawn().unwrap());
    assert!(eventually(20, || sock.exists()), "no socket");
    // Each connection gets its own cat; the first starts ipcserverd.
    for word in ["one", "two"] {
        let o = run_timeout(
            cmd(&[
                bin("ipcclient").to_str().unwrap(),
                sock.to_str().unwrap(),
                "sh",
                "-c",
                &format!("echo {word} >&7; head -n 1 <&6"),
            ]),
            20,
        );
        assert_eq!(o.assert_code(0).out(), format!("{word}\n"));
    }
}

/// A running nginx, stopped on drop.
struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the master stops its workers before it exits.
        unsafe_kill(self.0.id() as i32, libc::SIGTERM);
        if wait_deadline(&mut self.0, 20).is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// nginx in `dir` with service/http-nginx/nginx.conf included (its socket path and
/// port replaced), its workers run as `user` (the `user` directive).
fn nginx_with_shipped_conf(dir: &Path, sock: &Path, port: u16, user: &str) -> Nginx {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("service/http-nginx/nginx.conf"),
    )
    .unwrap();
    assert!(shipped.contains("unix:/run/http-nginx/socket;"));
    assert!(shipped.contains("listen 127.0.0.1:8080;"));
    let site = shipped
        .replace(
            "unix:/run/http-nginx/socket;",
            &format!("unix:{};", sock.display()),
        )
        .replace(
            "listen 127.0.0.1:8080;",
            &format!("listen 127.0.0.1:{port};"),
        );
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "daemon off; worker_processes 1; user {user}; pid {d}/nginx.pid;\n\
         error_log {d}/error.log;\n\
         events {{}}\n\
         http {{ access_log off; client_body_temp_path {d}/tmp/body; proxy_temp_path {d}/tmp/proxy;\n\
         fastcgi_temp_path {d}/tmp/fcgi; uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;\n\
         include {d}/site.conf; }}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let child = Command::new("nginx")
        .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf")])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let n = Nginx(child);
    assert!(
        eventually(20, || std::net::TcpStream::connect(("127.0.0.1", port))
            .is_ok()),
        "nginx did not listen: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
    n
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// service/http-nginx: its run script behind nginx configured with its nginx.conf.
/// nginx's workers in the socket's group (www-data) are served; workers outside it
/// get EACCES on connect, and nginx answers 502, as its README says.
#[test]
fn http_nginx_service_behind_nginx() {
    if !have("nginx") || !have("busybox") || !have("curl") {
        return;
    }
    let d = Dir::new("exnginx");
    let svc = crate::service::copy_service("http-nginx", &d.path);
    let sock = d.join("http.sock");
    let mut c = Command::new("sh");
    // fd 3 open for readiness, as under s6 with notification-fd 3; the log to stderr.
    c.args(["-c", "exec ./run 3>&1 1>&2"])
        .current_dir(&svc)
        .env("PATH", path_with_our_bins())
        .env("SOCKET", &sock);
    let _backend = Server::start(c);
    let m = std::fs::metadata(&sock).unwrap();
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    assert_eq!((m.permissions().mode() & 0o777, m.gid()), (0o660, 33));
    for (user, code, body) in [
        (
            "www-data",
            "200",
            "<h1>served over a Unix socket, through nginx</h1>\n",
        ),
        ("nobody nogroup", "502", ""),
    ] {
        let nd = d.join(format!("nginx-{}", user.replace(' ', "-")));
        std::fs::create_dir_all(&nd).unwrap();
        let port = free_port();
        let _nginx = nginx_with_shipped_conf(&nd, &sock, port, user);
        let o = run_timeout(
            cmd(&[
                "curl",
                "-sS",
                "--max-time",
                "20",
                "-o",
                nd.join("body").to_str().unwrap(),
                "-w",
                "%{http_code}",
                &format!("http://127.0.0.1:{port}/"),
            ]),
            30,
        );
        assert_eq!(o.assert_code(0).out(), code, "{user}");
        if !body.is_empty() {
            assert_eq!(std::fs::read_to_string(nd.join("body")).unwrap(), body);
        } else {
            let log = std::fs::read_to_string(nd.join("error.log")).unwrap();
            assert!(log.contains("(13: Permission denied)"), "{log}");
        }
    }
}

/// The lines of `doc/PAGE.1` as a reader sees them in a literal display: `\e` is a
/// backslash, `\&` nothing.
fn man_lines(page: &str) -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("doc/{page}.1")),
    )
    .unwrap();
    text.lines()
        .map(|l| l.replace("\\e", "\\").replace("\\&", ""))
        .collect()
}

/// The one line of `lines` that contains `needle`, its index, relocated under `d`.
fn man_line(lines: &[String], needle: &str, d: &Path) -> (usize, String) {
    let found: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(needle))
        .collect();
    assert_eq!(found.len(), 1, "man page lines with {needle:?}");
    let root = d.display().to_string();
    (
        found[0],
        lines[found[0]].replace("/etc/", &format!("{root}/etc/")),
    )
}

/// ipcserver-access(1), EXAMPLES: the rules of the first example, then "what a client
/// would get" as written: each command prints the line the page shows (pid aside) and
/// exits 0 (allowed) or 1 (denied).
#[test]
fn ipcserver_access_man_page_check_runs_as_written() {
    let d = Dir::new("exaccess");
    let lines = man_lines("ipcserver-access");
    let setup = [
        man_line(
            &lines,
            "mkdir -p /etc/svc/rules/gid/50 /etc/svc/rules/uid/default",
            &d.path,
        )
        .1,
        man_line(
            &lines,
            "touch /etc/svc/rules/gid/50/allow /etc/svc/rules/uid/default/deny",
            &d.path,
        )
        .1,
    ]
    .join("\n");
    let (_, _, err) = run_script(&d.path, &setup);
    assert_eq!(err, "");
    let root = d.path.display().to_string();
    for (needle, code) in [
        ("$ PROTO=IPC IPCREMOTEEUID=1000 ", 0),
        ("$ PROTO=IPC IPCREMOTEEUID=1001 ", 1),
    ] {
        let (i, first) = man_line(&lines, needle, &d.path);
        // The command is continued on the next line; the page shows its output after.
        let command = format!(
            "{} {}",
            first
                .trim_start_matches("$ ")
                .trim_end_matches('\\')
                .trim_end(),
            lines[i + 1]
                .trim()
                .replace("/etc/", &format!("{root}/etc/"))
        );
        let shown = lines[i + 2].replace("/etc/", &format!("{root}/etc/"));
        let (got, _, err) = run_script(&d.path, &format!("{command} || exit $?"));
        assert_eq!(got, Some(code), "{command}: {err}");
        let pid = |l: &str| -> String {
            let (head, rest) = l.split_once(" pid ").unwrap_or((l, ""));
            let rest = rest.split_once(' ').map_or("", |(_, r)| r);
            format!("{head} pid P {rest}")
        };
        assert_eq!(pid(err.trim_end()), pid(&shown), "{command}");
    }
}

/// ipcsudod(1), EXAMPLES: the wrapper that refuses the client's arguments, as written
/// (`/sbin/reboot` replaced by `echo`): arguments are refused with its usage line and
/// 100, none runs the command.
#[test]
fn ipcsudod_man_page_wrapper_refuses_arguments() {
    let d = Dir::new("exsudo");
    let lines = man_lines("ipcsudod");
    let start = lines
        .iter()
        .position(|l| l == "#!/bin/sh")
        .expect("no wrapper script");
    let script: Vec<String> = lines[start..start + 3].to_vec();
    assert_eq!(script[2], "exec /sbin/reboot");
    let text = format!("{}\n{}\nexec echo rebooted\n", script[0], script[1]);
    let w = d.join("reboot-noargs");
    std::fs::write(&w, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = run_timeout(cmd(&[w.to_str().unwrap(), "-f"]), 10);
    o.assert_code(100);
    assert_eq!(o.err(), "usage: ipcsudo /run/reboot\n");
    assert_eq!(o.out(), "");
    let o = run_timeout(cmd(&[w.to_str().unwrap()]), 10);
    assert_eq!(o.assert_code(0).out(), "rebooted\n");
}

/// `line` with `/tmp/`, `/run/`, `/srv/` and `/etc/` moved under `d` (each once: the
/// test directory is itself under /tmp).
fn relocate(line: &str, d: &Path) -> String {
    let mut s = line.to_string();
    for dir in ["/tmp/", "/run/", "/srv/", "/etc/"] {
        s = s.replace(dir, &format!("\u{0}{}", &dir[1..]));
    }
    s.replace('\u{0}', &format!("{}/", d.display()))
}

/// The lines of the ```sh block of `doc` (README.md, doc/guide.md) that contains
/// `needle`, fences excluded, relocated under `d`.
fn md_block(doc: &str, needle: &str, d: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    let blocks: Vec<&str> = text
        .split("```")
        .skip(1)
        .step_by(2)
        .filter(|b| b.contains(needle))
        .collect();
    assert_eq!(blocks.len(), 1, "{doc}: blocks with {needle:?}");
    let body = blocks[0].strip_prefix("sh\n").expect("not a ```sh block");
    body.lines().map(|l| relocate(l, d)).collect()
}

/// The `.Dl` line of doc/PAGE.1 that contains `needle`, its macro dropped, relocated.
fn man_dl(page: &str, needle: &str, d: &Path) -> String {
    let lines = man_lines(page);
    let mut found: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with(".Dl ") && l.contains(needle))
        .collect();
    // A page may show the same line in several places.
    found.dedup();
    assert_eq!(found.len(), 1, "{page}(1) .Dl lines with {needle:?}");
    relocate(&found[0][4..], d)
}

/// Shell lines that talk to the stream socket `sock` once: send the line `msg`,
/// print the line answered.
fn talk(sock: &str, msg: &str) -> String {
    format!("ipcclient {sock} sh -c 'echo {msg} >&7; head -n 1 <&6'")
}

/// A python3 one-liner: send `msg` on the seqpacket socket `sock`, print the
/// packets received (`first` of them before sending).
fn seqpacket_talk(sock: &str, first: usize, msg: &str) -> String {
    format!(
        "python3 -c 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET)\ns.settimeout(20)\ns.connect(sys.argv[1])\nfor _ in range({first}): sys.stdout.write(s.recv(99).decode())\ns.send(b\"{msg}\\n\")\nsys.stdout.write(s.recv(99).decode())' {sock}"
    )
}

/// README.md, "Access control": the whole block as written (gid 50, uids 1000 and
/// 1001 as clients through setpriv): a member reads the greeting with its role, anyone
/// else end of file, and the log says why.
#[test]
fn readme_access_control_example_runs_as_written() {
    if !have("setpriv") {
        return;
    }
    let d = Dir::new("exreadme");
    let root = d.path.display().to_string();
    let mut block = md_block("README.md", "Members of group 50", &d.path);
    // The server, the block's last command, runs in the background.
    let last = block.len() - 1;
    block[last].push_str(" &\npids=\"$pids $!\"");
    let client = |ids: &str| {
        format!("setpriv {ids} --clear-groups ipcclient {root}/run/svc.sock sh -c 'cat <&6'")
    };
    let script = [
        "mkdir -p run".to_string(),
        block.join("\n"),
        wait_for("run/svc.sock"),
        client("--reuid 1000 --regid 50"),
        "echo ---".to_string(),
        client("--reuid 1001 --regid 100"),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    // -1: the readiness line first.
    let (_, answers) = out.split_once('\n').unwrap_or_default();
    assert_eq!(
        (code, answers),
        (Some(0), "hello uid 1000, role staff\n---\n"),
        "{out}{err}"
    );
    assert!(
        err.contains("ipcserver-access: info: deny pid ") && err.contains(" uid 1001 gid 100"),
        "{err}"
    );
}

/// doc/guide.md, "Worked example: waiting for a service": both ways, against a real
/// s6-supervise (its service `foo` down at first, as a `down` file makes it).
#[test]
fn guide_npt_wait_example_runs_as_written() {
    if !have("s6-supervise") {
        return;
    }
    let d = Dir::new("exnptw");
    let block = md_block("doc/guide.md", "npt-wait -t 5000", &d.path);
    let find = |needle: &str| -> String {
        let l: Vec<&String> = block.iter().filter(|l| l.contains(needle)).collect();
        assert_eq!(l.len(), 1, "{needle}");
        l[0].clone()
    };
    // The run script's line, from its comment; `exec` dropped, in the background.
    let service = find("exec ipcserver -1 -a 0777");
    let service = service.split("exec ").nth(1).unwrap();
    let script = [
        "mkdir -p run/service/foo run/nptlistend && touch run/service/foo/down".to_string(),
        "printf '#!/bin/sh\\nexec sleep 600\\n' > run/service/foo/run && chmod +x run/service/foo/run".to_string(),
        "s6-supervise run/service/foo &\npids=\"$pids $!\"".to_string(),
        "i=0; until [ -p run/service/foo/supervise/control ]; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done".to_string(),
        find("npt-wait -t 5000"),
        "s6-svstat -o up run/service/foo".to_string(),
        "s6-svc -d run/service/foo".to_string(),
        "i=0; until [ \"$(s6-svstat -o up run/service/foo)\" = false ]; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done".to_string(),
        format!("{service} &\npids=\"$pids $!\""),
        wait_for("run/nptlistend/socket"),
        format!("{} &\nw=$!", find("npt-wait -s -t 5000")),
        // Once it listens (its fifo is in event/), the service is started.
        "i=0; until ls -a run/service/foo/event | grep -q ftrig1; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done".to_string(),
        "s6-svc -u run/service/foo".to_string(),
        "wait $w".to_string(),
        "s6-svstat -o up run/service/foo".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(code, Some(0), "{out}{err}");
    let ups: Vec<&str> = out.lines().filter(|l| *l == "true").collect();
    assert_eq!(ups.len(), 2, "{out}{err}");
}

/// doc/guide.md, "Socket activation": two sockets for one daemon, as written, with
/// `mydaemon` a python3 program that says what it got.
#[test]
fn guide_two_sockets_for_one_daemon_runs_as_written() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("extwo");
    let daemon = "python3 -c 'import os,socket\nt=lambda n: socket.socket(fileno=n).type.name\nprint(os.environ[\"LISTEN_FDS\"], os.environ[\"LISTEN_FDNAMES\"], t(3), t(4))'";
    let mine = guide_line("  mydaemon", &d.path);
    assert_eq!(mine.trim(), "mydaemon");
    let script = [
        "mkdir -p run".to_string(),
        guide_line("--fdname control /run/d.ctl", &d.path),
        guide_line("--fdname=data /run/d.sock", &d.path),
        format!("  {daemon}"),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "2 control:data SOCK_SEQPACKET SOCK_STREAM\n"),
        "{err}"
    );
}

/// doc/guide.md, "Socket activation": the seqpacket service for group 1000, as written
/// (`myservice` → nobody): the greeting names the client's uid, then it echoes.
#[test]
fn guide_seqpacket_service_runs_as_written() {
    if !have("s6-setuidgid") || !have("python3") {
        return;
    }
    let d = Dir::new("exseq");
    let root = d.path.display().to_string();
    let block = md_block("doc/guide.md", "A seqpacket service", &d.path);
    let end = block.iter().position(|l| l.trim().is_empty()).unwrap();
    let mut service: Vec<String> = block[1..end]
        .iter()
        .map(|l| l.replace("s6-setuidgid myservice", "s6-setuidgid nobody"))
        .collect();
    service[end - 2].push_str(" &\npids=\"$pids $!\"");
    let script = [
        "mkdir -p run".to_string(),
        service.join("\n"),
        wait_for("run/myservice.sock"),
        "stat -c %a:%g run/myservice.sock".to_string(),
        seqpacket_talk(&format!("{root}/run/myservice.sock"), 1, "ping"),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "660:1000\nhello uid 0\nping\n"),
        "{err}"
    );
}

/// ipcserverd(1), local-stream-socket-listen(1), local-seqpacket-socket-listen(1),
/// EXAMPLES: each echo service as written, in the background, answers.
#[test]
fn echo_service_man_page_examples_run_as_written() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("execho");
    let root = d.path.display().to_string();
    let stream = [
        ("ipcserverd", "ipcserver-socketbinder", "run/echo.sock"),
        (
            "local-stream-socket-listen",
            "-g 100 -m 0660",
            "run/app.sock",
        ),
    ];
    for (page, needle, sock) in stream {
        let script = [
            "mkdir -p run && rm -f run/*".to_string(),
            bg(format!("{} &", man_dl(page, needle, &d.path))),
            wait_for(sock),
            talk(&format!("{root}/{sock}"), "echoed"),
        ]
        .join("\n");
        let (code, out, err) = run_script(&d.path, &script);
        assert_eq!((code, out.as_str()), (Some(0), "echoed\n"), "{page}: {err}");
    }
    let script = [
        "mkdir -p run && rm -f run/*".to_string(),
        bg(format!(
            "{} &",
            man_dl("local-seqpacket-socket-listen", "-b 64", &d.path)
        )),
        wait_for("run/app.sock"),
        seqpacket_talk(&format!("{root}/run/app.sock"), 0, "packet"),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!((code, out.as_str()), (Some(0), "packet\n"), "{err}");
}

/// local-datagram-socket-listen(1), EXAMPLES: a datagram sent to the socket is copied
/// to standard output.
#[test]
fn datagram_man_page_example_runs_as_written() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("exdgram");
    let script = [
        "mkdir -p run".to_string(),
        bg(format!(
            "{} &",
            man_dl("local-datagram-socket-listen", "/run/log.sock", &d.path)
        )),
        wait_for("run/log.sock"),
        "stat -c %a run/log.sock >&2".to_string(),
        "setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 -c 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.sendto(b\"logged\\n\",sys.argv[1])' run/log.sock".to_string(),
        "i=0; until grep -q logged script.out; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (Some(0), "logged\n", "666\n")
    );
}

/// ipcrules-fs(1), EXAMPLES: decompile, list, edit, recompile, as written; the edit
/// is in the new cdb.
#[test]
fn ipcrules_fs_man_page_example_runs_as_written() {
    let d = Dir::new("exrfs");
    let lines = man_lines("ipcrules-fs");
    let start = lines
        .iter()
        .position(|l| l == "ipcrules-fs /tmp/rules /etc/app/rules.cdb")
        .expect("no example");
    let end = start + lines[start..].iter().position(|l| l == ".Ed").unwrap();
    let example: Vec<String> = lines[start..end]
        .iter()
        .map(|l| relocate(l, &d.path))
        .collect();
    assert!(
        example[end - start - 1].starts_with("ipcrules-cdb "),
        "{example:?}"
    );
    let script = [
        "mkdir -p tmp etc/app src/uid/1000/env && touch src/uid/1000/allow".to_string(),
        "ipcrules-cdb etc/app/rules.cdb src".to_string(),
        example.join("\n"),
        "ipcrules-fs check etc/app/rules.cdb".to_string(),
        "cat check/uid/1000/env/IPCCONNMAX".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    let root = d.path.display();
    assert_eq!(
        (code, out.as_str()),
        (
            Some(0),
            format!("{root}/tmp/rules/uid/1000/allow\n5\n").as_str()
        ),
        "{err}"
    );
}

/// ipcclient(1), EXAMPLES: one question to a line-based service.
#[test]
fn ipcclient_man_page_example_runs_as_written() {
    let d = Dir::new("excli");
    let script = [
        "mkdir -p run".to_string(),
        bg(relocate(
            "ipcserver /run/svc sh -c 'read q; echo \"answer to $q\"' &",
            &d.path,
        )),
        wait_for("run/svc"),
        man_dl("ipcclient", "echo status", &d.path),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "answer to status\n"),
        "{err}"
    );
}

/// The fd holder clients' man pages, EXAMPLES, in one sequence, as written (two
/// daemons started by ipcfdholder-daemon(1)'s line, as uid and gid 999): store, list,
/// getdump, retrieve and serve, getdump into setdump, transferdump, delete.
#[test]
fn fdholder_client_man_page_examples_run_as_written() {
    let d = Dir::new("exfdc");
    let root = d.path.display().to_string();
    let id = format!("unix:{root}/run/web.sock");
    let daemon = man_dl("ipcfdholder-daemon", "-u 999 -g 999", &d.path);
    let rules = "etc/fdholder/rules/uid/0/env";
    let mut script = vec![
        format!("mkdir -p {rules} run/fdholder run/fdholder2 && touch {rules}/../allow"),
        format!(
            "for v in STORE_REGEX RETRIEVE_REGEX; do echo '^unix:' > {rules}/S6_FDHOLDER_$v; done"
        ),
        format!("for v in LIST GETDUMP SETDUMP; do echo > {rules}/S6_FDHOLDER_$v; done"),
        "printf '#!/bin/sh\\necho served\\n' > handler && chmod +x handler".to_string(),
        bg(format!("{daemon} &")),
        bg(format!(
            "{} &",
            daemon.replace("fdholder/socket", "fdholder2/socket")
        )),
        wait_for("run/fdholder/socket"),
        wait_for("run/fdholder2/socket"),
        man_dl("ipcfdholder-store", "socketbinder /run/web.sock", &d.path),
        "echo '# list'".to_string(),
        man_dl("ipcfdholder-list", "-t 2000 /run/", &d.path),
        "echo '# getdump'".to_string(),
        format!(
            "{} | grep '^S6_FDID_'",
            man_dl("ipcfdholder-getdump", "socket env", &d.path)
        ),
        "echo '# retrieve'".to_string(),
        bg(format!(
            "{} &",
            man_dl("ipcfdholder-retrieve", "ipcserverd", &d.path)
        )),
        format!("ipcclient {root}/run/web.sock sh -c 'head -n 1 <&6'"),
        "kill $!".to_string(),
        "echo '# setdump'".to_string(),
        man_dl("ipcfdholder-setdump", "ipcfdholder-setdump /run/", &d.path),
        "ipcfdholder-list run/fdholder2/socket".to_string(),
        format!("ipcfdholder-delete run/fdholder2/socket {id}"),
        "echo '# transferdump'".to_string(),
        man_dl("ipcfdholder-transferdump", "-t 2000:2000", &d.path),
        "ipcfdholder-list run/fdholder2/socket".to_string(),
        "echo '# delete'".to_string(),
        man_dl("ipcfdholder-delete", "socket unix:/run/web.sock", &d.path),
        "ipcfdholder-list run/fdholder/socket".to_string(),
    ];
    script.push("echo '# end'".to_string());
    let (code, out, err) = run_script(&d.path, &script.join("\n"));
    // The daemons' readiness lines (-1) are empty lines, written when they are.
    let out: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    let want = format!(
        "# list\n{id}\n# getdump\nS6_FDID_0={id}\n# retrieve\nserved\n# setdump\n{id}\n# transferdump\n{id}\n# delete\n# end"
    );
    assert_eq!((code, out.join("\n")), (Some(0), want), "{err}");
}

/// ipcfdholderd(1), EXAMPLES: the rules as written; uid 1000 (through setpriv) may
/// store an identifier under `unix:/run/app/`, not another one.
#[test]
fn ipcfdholderd_man_page_rules_run_as_written() {
    if !have("setpriv") {
        return;
    }
    let d = Dir::new("exfdd");
    let root = d.path.display().to_string();
    let lines = man_lines("ipcfdholderd");
    let start = lines
        .iter()
        .position(|l| l == "mkdir -p rules/uid/1000/env")
        .expect("no example");
    let end = start + lines[start..].iter().position(|l| l == ".Ed").unwrap();
    let mut example: Vec<String> = lines[start..end]
        .iter()
        .map(|l| relocate(l, &d.path))
        .collect();
    let last = example.len() - 1;
    assert!(example[last].starts_with("ipcfdholder-daemon "));
    example[last].push_str(" &\npids=\"$pids $!\"");
    let store = |name: &str| {
        format!(
            "setpriv --reuid 1000 --regid 1000 --clear-groups ipcserver-socketbinder run/app/{name} ipcfdholder-store run/fdholder/socket unix:{root}/run/app/{name}"
        )
    };
    let script = [
        "mkdir -p run/fdholder run/app && chown 1000 run/app".to_string(),
        example.join("\n"),
        wait_for("run/fdholder/socket"),
        store("a.sock"),
        "echo stored".to_string(),
        format!(
            "sed -i 's,/run/app/,/run/other/,' {}",
            "run/../rules/uid/1000/env/S6_FDHOLDER_STORE_REGEX"
        ),
        format!("if {}; then echo stored again; fi", store("b.sock")),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    let out: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!((code, out), (Some(0), vec!["stored"]), "{err}");
    assert!(err.contains("ipcfdholder-store: fatal: "), "{err}");
}

/// The lines of doc/PAGE.1's literal block that starts with the line containing
/// `needle`, up to its `.Ed`, relocated under `d`; a line ending with `&` also adds
/// its job to `$pids`.
fn man_block(page: &str, needle: &str, d: &Path) -> Vec<String> {
    let lines = man_lines(page);
    let found: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(needle))
        .collect();
    assert_eq!(found.len(), 1, "{page}(1) lines with {needle:?}");
    let start = found[0];
    let end = start + lines[start..].iter().position(|l| l == ".Ed").unwrap();
    lines[start..end]
        .iter()
        .map(|l| relocate(l, d))
        .map(|l| {
            if l.ends_with(" &") {
                format!("{l}\npids=\"$pids $!\"")
            } else {
                l
            }
        })
        .collect()
}

/// A bare repository `srv/git/repo.git` with one commit, in the script's directory.
const GIT_REPO: &str = "mkdir -p srv/git run && git init -q srv/src && echo through git > srv/src/f && git -C srv/src add f && git -C srv/src -c user.name=t -c user.email=t@t commit -qm one && git clone -q --bare srv/src srv/git/repo.git";

/// doc/guide.md and ipcioconnect(1): `git clone` through `git daemon --inetd` behind
/// ipcserver, as written.
#[test]
fn git_clone_examples_run_as_written() {
    if !have("git") {
        return;
    }
    let d = Dir::new("exgit");
    let guide = [
        bg(guide_line("ipcserver /run/git.sock git daemon", &d.path)),
        wait_for("run/git.sock"),
        guide_line("clone \"ext::ipcclient /run/git.sock", &d.path),
    ];
    let mut man = man_block("ipcioconnect", "ipcserver /run/git.sock", &d.path);
    man.insert(1, wait_for("run/git.sock"));
    for (doc, lines) in [("guide", guide.to_vec()), ("ipcioconnect(1)", man)] {
        let script = [
            "rm -rf srv run repo".to_string(),
            GIT_REPO.to_string(),
            lines.join("\n"),
            "cat repo/f".to_string(),
        ]
        .join("\n");
        let (code, out, err) = run_script(&d.path, &script);
        assert_eq!(
            (code, out.as_str()),
            (Some(0), "through git\n"),
            "{doc}: {err}"
        );
    }
}

/// ipcioconnect(1): the rsync example, as written (its module in the configuration
/// file the example writes).
#[test]
fn ipcioconnect_man_page_rsync_runs_as_written() {
    if !have("rsync") {
        return;
    }
    let d = Dir::new("exiorsync");
    let script = [
        "mkdir -p run etc srv/data/sub && echo through rsync > srv/data/sub/f".to_string(),
        man_block("ipcioconnect", "> /etc/rsyncd-ipc.conf", &d.path)[..2].join("\n"),
        wait_for("run/rsync.sock"),
        man_block("ipcioconnect", "> /etc/rsyncd-ipc.conf", &d.path)[2..].join("\n"),
        "cat copy/sub/f".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!((code, out.as_str()), (Some(0), "through rsync\n"), "{err}");
}

/// ipcioconnect(1): the proxy that adds access control, as written (group staff, the
/// rules allowing uid 1000): uid 1000 in staff reads the backend's line; uid 1001 in staff
/// is refused by the rules; uid 1000 outside staff cannot connect.
#[test]
fn ipcioconnect_man_page_proxy_runs_as_written() {
    if !have("setpriv") {
        return;
    }
    let d = Dir::new("exioproxy");
    let root = d.path.display().to_string();
    let mut proxy = man_block("ipcioconnect", "-o :staff /run/public.sock", &d.path);
    let last = proxy.len() - 1;
    proxy[last].push_str(" &\npids=\"$pids $!\"");
    let client = |ids: &str| {
        format!(
            "setpriv {ids} ipcclient {root}/run/public.sock sh -c 'head -n 1 <&6' || echo refused"
        )
    };
    let script = [
        "mkdir -p run etc/proxy-rules/uid/1000 && touch etc/proxy-rules/uid/1000/allow".to_string(),
        bg(relocate(
            "ipcserver /run/backend.sock sh -c 'echo backend' &",
            &d.path,
        )),
        proxy.join("\n"),
        wait_for("run/backend.sock"),
        wait_for("run/public.sock"),
        client("--reuid 1000 --regid 1000 --groups 50"),
        "echo ---".to_string(),
        client("--reuid 1001 --regid 1001 --groups 50"),
        "echo ---".to_string(),
        client("--reuid 1000 --regid 1000 --clear-groups"),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "backend\n---\n---\nrefused\n"),
        "{err}"
    );
    assert!(err.contains("Permission denied"), "{err}");
}

/// Write an executable shell script `name` in `d`.
fn script_file(d: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let p = d.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A client line: as `ids` (setpriv options), read one line from `sock` (under the
/// test directory), or print `refused` if the connection fails.
fn read_as(ids: &str, sock: &str) -> String {
    format!("setpriv {ids} ipcclient $PWD/{sock} sh -c 'head -n 1 <&6' || echo refused")
}

/// ipcserver(1), EXAMPLES: the group-50 socket served as uid 1000, and the HTTP
/// handler behind curl, with numbers and with s6-envuidgid's names, as written
/// (`prog` and `./http-handler` are small scripts saying who runs them).
#[test]
fn ipcserver_man_page_examples_run_as_written() {
    if !have("setpriv") || !have("curl") || !have("s6-envuidgid") {
        return;
    }
    let d = Dir::new("exsrv");
    script_file(&d.path, "prog", "echo \"prog as $(id -u):$(id -g)\"\n");
    script_file(
        &d.path,
        "http-handler",
        "cr=$(printf '\\r')\nwhile IFS= read -r l && [ \"$l\" != \"$cr\" ]; do :; done\nprintf 'HTTP/1.0 200 OK\\r\\n\\r\\nhandled by %s\\n' \"$(id -u)\"\n",
    );
    let group = man_block(
        "ipcserver",
        "-o 0:50 -u 1000 -g 1000 /run/svc/socket",
        &d.path,
    );
    let http = man_block("ipcserver", "-o 0:33 -u 33 -g 33 /run/app.sock", &d.path);
    let names = man_block("ipcserver", "s6-envuidgid www-data", &d.path);
    let script = [
        "export PATH=\"$PWD:$PATH\"; mkdir -p run/svc".to_string(),
        format!("{} &\npids=\"$pids $!\"", group.join("\n")),
        wait_for("run/svc/socket"),
        "stat -c %a:%u:%g run/svc/socket".to_string(),
        read_as("--reuid 1001 --regid 1001 --groups 50", "run/svc/socket"),
        read_as("--reuid 1001 --regid 1001 --clear-groups", "run/svc/socket"),
        http[0].clone(),
        wait_for("run/app.sock"),
        http[1].clone(),
        "kill $!; rm run/app.sock".to_string(),
        format!("{} &\npids=\"$pids $!\"", names.join("\n")),
        wait_for("run/app.sock"),
        http[1].clone(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    let out: Vec<&str> = out.lines().filter(|l| !l.contains("/run/")).collect();
    assert_eq!(
        (code, out.join("\n")),
        (
            Some(0),
            "660:0:50\nprog as 1000:1000\nrefused\nhandled by 33\nhandled by 33".to_string()
        ),
        "{err}"
    );
}

/// ipcserver-access(1) and ipcrules-cdb(1), EXAMPLES: the group-50 service as
/// written (checker and `prog` as uid 1000), then the `group/50` rule that admits
/// supplementary members.
#[test]
fn ipcserver_access_man_page_service_runs_as_written() {
    if !have("setpriv") {
        return;
    }
    let d = Dir::new("exacc2");
    script_file(&d.path, "prog", "echo \"allowed uid $IPCREMOTEEUID\"\n");
    let service = man_block(
        "ipcserver-access",
        "mkdir -p /etc/svc/rules/gid/50",
        &d.path,
    );
    let group = man_block(
        "ipcserver-access",
        "mkdir -p /etc/svc/rules/group/50",
        &d.path,
    );
    let cdb = &service[2];
    assert!(cdb.starts_with("ipcrules-cdb -m 0644 "), "{cdb}");
    let sock = "run/svc.sock";
    let script = [
        "export PATH=\"$PWD:$PATH\"; mkdir -p run".to_string(),
        format!("{} &\npids=\"$pids $!\"", service.join("\n")),
        wait_for(sock),
        read_as("--reuid 1001 --regid 50 --clear-groups", sock),
        read_as("--reuid 1001 --regid 100 --groups 50", sock),
        group.join("\n"),
        cdb.clone(),
        read_as("--reuid 1001 --regid 100 --groups 50", sock),
        read_as("--reuid 1001 --regid 100 --clear-groups", sock),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    // Less the readiness line (-1).
    let out: Vec<&str> = out.lines().filter(|l| !l.contains("/run/")).collect();
    assert_eq!(
        (code, out),
        (Some(0), vec!["allowed uid 1001", "allowed uid 1001"]),
        "{err}"
    );
    assert_eq!(err.matches(": info: deny pid ").count(), 2, "{err}");
    // group/ is a category a lookup reads: nothing to warn about.
    assert!(!err.contains("ipcrules-cdb: warning"), "{err}");
}

/// ipcrules-cdb(1), EXAMPLES: compile 0644, serve as uid 1000 (`prog` a script; the
/// rules directory allows every uid).
#[test]
fn ipcrules_cdb_man_page_example_runs_as_written() {
    if !have("setpriv") {
        return;
    }
    let d = Dir::new("excdb");
    script_file(
        &d.path,
        "prog",
        "echo \"prog as $(id -u) for $IPCREMOTEEUID\"\n",
    );
    let example = man_block("ipcrules-cdb", "ipcrules-cdb -m 0644", &d.path);
    let script = [
        "export PATH=\"$PWD:$PATH\"; mkdir -p run etc/svc/rules/uid/default && touch etc/svc/rules/uid/default/allow".to_string(),
        format!("{} &\npids=\"$pids $!\"", example.join("\n")),
        "stat -c %a etc/svc/rules.cdb".to_string(),
        wait_for("run/svc.sock"),
        read_as("--reuid 1001 --regid 1001 --clear-groups", "run/svc.sock"),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "644\nprog as 1000 for 1001\n"),
        "{err}"
    );
}

/// ipcsudod(1), ipcsudo(1), ipcsudoc(1), EXAMPLES: the group-100 service as written,
/// `/sbin/reboot` replaced by a script that records its arguments: a member's
/// `ipcsudo /run/reboot` and `ipcclient /run/reboot ipcsudoc -T 10000` run it, with
/// the client's arguments appended (the page's warning); a non-member is refused.
#[test]
fn ipcsudo_man_page_examples_run_as_written() {
    if !have("setpriv") {
        return;
    }
    let d = Dir::new("exsudod");
    let root = d.path.display().to_string();
    script_file(
        &d.path,
        "reboot",
        &format!("echo \"ran $*\" >> {root}/ran\n"),
    );
    let server: Vec<String> = man_block(
        "ipcsudod",
        "ipcserver -a 0660 -o 0:100 /run/reboot",
        &d.path,
    )
    .iter()
    .map(|l| l.replace("/sbin/reboot", &format!("{root}/reboot")))
    .collect();
    let member = "setpriv --reuid 1001 --regid 100 --clear-groups";
    let script = [
        "mkdir -p run etc/reboot-rules/gid/100 && touch etc/reboot-rules/gid/100/allow".to_string(),
        format!("{} &\npids=\"$pids $!\"", server.join("\n")),
        wait_for("run/reboot"),
        format!(
            "{member} {}",
            man_dl("ipcsudo", "ipcsudo /run/reboot", &d.path)
        ),
        format!(
            "{member} {} -f",
            man_dl("ipcsudo", "ipcsudo /run/reboot", &d.path)
        ),
        format!(
            "{member} {}",
            man_dl("ipcsudoc", "ipcsudoc -T 10000", &d.path)
        ),
        format!(
            "if setpriv --reuid 1001 --regid 1001 --groups 100 {}; then echo ran; fi",
            man_dl("ipcsudo", "ipcsudo /run/reboot", &d.path)
        ),
        "cat ran".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "ran \nran -f\nran \n"),
        "{err}"
    );
}

/// ipcserver-socketbinder(1), EXAMPLES: s6's super-server and fd holder on our
/// socket, as written.
#[test]
fn socketbinder_man_page_examples_run_as_written() {
    if !have("s6-ipcserverd") || !have("s6-fdholderd") || !have("s6-fdholder-list") {
        return;
    }
    let d = Dir::new("exbinder");
    script_file(&d.path, "handler", "echo handled\n");
    let server = man_block("ipcserver-socketbinder", "-a 0660 /run/app.sock", &d.path);
    let holder = man_block(
        "ipcserver-socketbinder",
        "-a 0700 /run/fdholder.sock",
        &d.path,
    );
    let rules = "etc/fdholder/rules/uid/0";
    let script = [
        format!(
            "mkdir -p run {rules}/env && touch {rules}/allow && echo > {rules}/env/S6_FDHOLDER_LIST"
        ),
        format!("{} &\npids=\"$pids $!\"", server.join("\n")),
        format!("{} &\npids=\"$pids $!\"", holder.join("\n")),
        wait_for("run/app.sock"),
        wait_for("run/fdholder.sock"),
        "stat -c %a run/app.sock run/fdholder.sock".to_string(),
        "ipcclient run/app.sock sh -c 'head -n 1 <&6'".to_string(),
        "s6-fdholder-list run/fdholder.sock; echo listed".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    let out: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        (code, out),
        (Some(0), vec!["660", "700", "handled", "listed"]),
        "{err}"
    );
}

/// ipcconnlimit(1), EXAMPLES: as written, uid 1000 through setpriv: three
/// connections held open, the fourth closed at once.
#[test]
fn ipcconnlimit_man_page_example_runs_as_written() {
    if !have("setpriv") {
        return;
    }
    let d = Dir::new("exclim");
    script_file(&d.path, "handler", "echo in\nexec sleep 60\n");
    let example = man_block("ipcconnlimit", "mkdir -p rules/uid/1000/env", &d.path);
    let mut example = example.clone();
    let last = example.len() - 1;
    example[last].push_str(" &\npids=\"$pids $!\"");
    let as1000 = "setpriv --reuid 1000 --regid 1000 --clear-groups";
    let mut script = vec![
        "mkdir -p run out && chown 1000 out".to_string(),
        example.join("\n"),
        wait_for("run/app.sock"),
    ];
    for _ in 0..3 {
        script.push(format!(
            "{as1000} ipcclient run/app.sock sh -c 'head -n 1 <&6 >> out/held; exec sleep 60' &\npids=\"$pids $!\""
        ));
    }
    script.push("i=0; until [ \"$(cat out/held 2>/dev/null | wc -l)\" = 3 ]; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done".to_string());
    script.push(format!(
        "{as1000} timeout 20 ipcclient run/app.sock sh -c 'cat <&6; echo closed'"
    ));
    let (code, out, err) = run_script(&d.path, &script.join("\n"));
    assert_eq!((code, out.as_str()), (Some(0), "closed\n"), "{err}");
}

/// Shell lines: the s6 service directory `dir` (a `sleep`, down at first) under a
/// real s6-supervise, started in the background, once it listens for commands.
fn s6_service(dir: &str) -> String {
    [
        format!("mkdir -p {dir} && touch {dir}/down"),
        format!("printf '#!/bin/sh\\nexec sleep 600\\n' > {dir}/run && chmod +x {dir}/run"),
        format!("s6-supervise {dir} &\npids=\"$pids $!\""),
        format!("i=0; until [ -p {dir}/supervise/control ]; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done"),
    ]
    .join("\n")
}

/// Shell lines that wait (up to 20 s) until someone listens on the fifodir `dir`.
fn wait_listener(dir: &str) -> String {
    format!(
        "i=0; until ls -a {dir} | grep -q ftrig1; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done"
    )
}

/// npt-mkfifodir(1), npt-notify(1), npt-wait(1), npt-cleanfifodir(1), EXAMPLES, as
/// written: the fifodir made for group 100, a waiter woken by the notify line, the
/// hourly clean-up removing a listener fifo nobody reads.
#[test]
fn npt_man_page_examples_run_as_written() {
    let d = Dir::new("exnpt");
    let ev = "run/service/foo/event";
    let guide = guide_line("npt-wait -t 5000 /run/service/foo/event u s6-svc", &d.path);
    assert_eq!(
        man_dl("npt-wait", "npt-wait -t 5000", &d.path),
        guide,
        "npt-wait(1) and the guide differ"
    );
    let cron = man_block(
        "npt-cleanfifodir",
        "npt-cleanfifodir /run/service/web/event",
        &d.path,
    );
    let clean = cron[0].splitn(6, ' ').nth(5).unwrap().to_string();
    let stale = "run/service/web/event/ftrig1:@400000006560000000000000:abcdef";
    let script = [
        "mkdir -p run/service/foo run/service/web".to_string(),
        man_dl("npt-mkfifodir", "npt-mkfifodir -g 100", &d.path),
        format!("stat -c %a:%g {ev}"),
        format!(
            "npt-wait -t 5000 $PWD/{ev} u {}",
            man_dl("npt-notify", "npt-notify /run/", &d.path)
        ),
        "echo woken".to_string(),
        "npt-mkfifodir run/service/web/event".to_string(),
        format!("mkfifo -m 0622 '{stale}'"),
        clean,
        format!("[ ! -e '{stale}' ] && echo cleaned"),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "3730:100\nu\nwoken\ncleaned\n"),
        "{err}"
    );
}

/// npt-listen(1), EXAMPLES: both, as written: two s6-supervise services started and
/// waited for in execline; the first of two fifodirs to say `x`.
#[test]
fn npt_listen_man_page_examples_run_as_written() {
    if !have("execlineb") || !have("s6-supervise") {
        return;
    }
    let d = Dir::new("exnptl");
    let both = man_block("npt-listen", "execlineb -Pc 'npt-listen -t 5000", &d.path);
    let first = man_block("npt-listen", "npt-listen -o \" /run/a\"", &d.path);
    let script = [
        s6_service("run/s/web"),
        s6_service("run/s/db"),
        both.join("\n"),
        "s6-svstat -o up run/s/web && s6-svstat -o up run/s/db".to_string(),
        "npt-mkfifodir run/a && npt-mkfifodir run/b".to_string(),
        format!("{} &\nw=$!", first.join("\n")),
        wait_listener("run/b"),
        "npt-notify run/b x && wait $w && echo first".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "true\ntrue\nfirst\n"),
        "{err}"
    );
}

/// nptlistend(1), EXAMPLES: the service line as written (its readiness on fd 3, as
/// under s6), then `npt-wait -s` through it.
#[test]
fn nptlistend_man_page_example_runs_as_written() {
    let d = Dir::new("exnptd");
    let line = man_dl("nptlistend", "nptlistend -t 5000", &d.path);
    let script = [
        "mkdir -p run/nptlistend && npt-mkfifodir run/ev".to_string(),
        "export NPT_IPCPATH=$PWD/run/nptlistend/socket".to_string(),
        format!("exec 3>ready\n{line} &\npids=\"$pids $!\"\nexec 3>&-"),
        wait_for("run/nptlistend/socket"),
        "npt-wait -s -t 5000 $PWD/run/ev x &\nw=$!".to_string(),
        wait_listener("run/ev"),
        "npt-notify run/ev x && wait $w && echo woken".to_string(),
        "i=0; until [ -s ready ]; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done; echo ready"
            .to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "x\nwoken\nready\n"),
        "{err}"
    );
}

/// ipcnotify-fd-from-socket(1), EXAMPLES: the service directory as written
/// (`/usr/bin/food` a python3 daemon that calls sd_notify's protocol), under a real
/// s6-supervise: `s6-svwait -U` returns once it is ready.
#[test]
fn ipcnotify_man_page_service_runs_as_written() {
    if !have("s6-supervise") || !have("s6-svwait") || !have("python3") {
        return;
    }
    let d = Dir::new("exnotify");
    let root = d.path.display().to_string();
    script_file(
        &d.path,
        "food",
        "exec /usr/bin/python3 -c 'import os,socket,time\na=os.environ[\"NOTIFY_SOCKET\"]\na=\"\\0\"+a[1:] if a[0]==\"@\" else a\nsocket.socket(socket.AF_UNIX,socket.SOCK_DGRAM).sendto(b\"READY=1\",a)\ntime.sleep(600)'\n",
    );
    let block: Vec<String> = man_block(
        "ipcnotify-fd-from-socket",
        "echo 3 > /run/service/foo/notification-fd",
        &d.path,
    )
    .iter()
    .map(|l| l.replace("/usr/bin/food", &format!("{root}/food")))
    .collect();
    let wait = man_lines("ipcnotify-fd-from-socket")
        .iter()
        .find(|l| l.starts_with(".Ql s6-svwait -U /run/service/foo"))
        .map(|l| relocate(&l[4..], &d.path))
        .expect("no s6-svwait line");
    let script = [
        "mkdir -p run/service/foo".to_string(),
        block.join("\n"),
        "s6-supervise run/service/foo &\npids=\"$pids $!\"".to_string(),
        // s6-svwait needs supervise/status, which s6-supervise writes once it runs.
        "for i in $(seq 300); do [ -e run/service/foo/supervise/status ] && break; sleep 0.1; done"
            .to_string(),
        format!("timeout 30 {wait}"),
        "s6-svstat -o up,ready run/service/foo".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!((code, out.as_str()), (Some(0), "true true\n"), "{err}");
}

/// README.md, "Running as a service": the run script's line, as written (`./handler`
/// a script): the socket 0660 root:50, the handler as 1000:1000, a member served.
#[test]
fn readme_run_script_line_runs_as_written() {
    if !have("setpriv") {
        return;
    }
    let d = Dir::new("exrunline");
    script_file(
        &d.path,
        "handler",
        "echo \"handler as $(id -u):$(id -g)\"\n",
    );
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let line: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("    exec ipcserver "))
        .collect();
    assert_eq!(line.len(), 1, "{line:?}");
    let line = relocate(line[0].trim().trim_start_matches("exec "), &d.path);
    let script = [
        "mkdir -p run".to_string(),
        format!("{line} &\npids=\"$pids $!\""),
        wait_for("run/mysvc.sock"),
        "stat -c %a:%u:%g run/mysvc.sock".to_string(),
        read_as("--reuid 1001 --regid 1001 --groups 50", "run/mysvc.sock"),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    let out: Vec<&str> = out.lines().filter(|l| !l.contains("/run/")).collect();
    assert_eq!(
        (code, out),
        (Some(0), vec!["660:0:50", "handler as 1000:1000"]),
        "{err}"
    );
}

/// ipcclient(1), EXAMPLES: `-t 5000` in a run script that starts before its server
/// (`myclient` a script): it connects once the server is there.
#[test]
fn ipcclient_man_page_retry_runs_as_written() {
    let d = Dir::new("exclit");
    script_file(&d.path, "myclient", "head -n 1 <&6\n");
    let script = [
        "export PATH=\"$PWD:$PATH\"; mkdir -p run/db".to_string(),
        format!("{} &\nc=$!", man_dl("ipcclient", "-t 5000", &d.path)),
        "sleep 0.5".to_string(),
        bg(relocate("ipcserver /run/db/socket echo db &", &d.path)),
        "wait $c".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!((code, out.as_str()), (Some(0), "db\n"), "{err}");
}

/// doc/guide.md, ipcsudo: the command line it shows is service/ipcsudo-group/run's
/// own (which `service::*` run under s6, runit and daemontools).
#[test]
fn guide_ipcsudo_quote_is_the_run_script() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("doc/guide.md")).unwrap();
    let run = std::fs::read_to_string(root.join("service/ipcsudo-group/run")).unwrap();
    let words = |text: &str, from: &str| -> Vec<String> {
        let start = text.find(from).unwrap_or_else(|| panic!("no {from:?}"));
        let lines: Vec<&str> = text[start + from.len()..].lines().take(3).collect();
        lines
            .join(" ")
            .split_whitespace()
            .filter(|w| *w != "\\")
            .map(String::from)
            .collect()
    };
    assert_eq!(
        words(&guide, "    exec ipcserver "),
        words(&run, "\nset -- ")
    );
}

/// ipcserver-access(1), EXAMPLES: the exe/ and cgroup/ rules as written, behind a
/// server: curl (/usr/bin/curl) is served; another program (socat) is refused.
#[test]
fn ipcserver_access_man_page_exe_rule_runs_as_written() {
    if !have("systemd-escape") || !have("curl") || !have("socat") {
        return;
    }
    let d = Dir::new("exexe");
    script_file(
        &d.path,
        "http-handler",
        "cr=$(printf '\\r')\nwhile IFS= read -r l && [ \"$l\" != \"$cr\" ]; do :; done\nprintf 'HTTP/1.0 200 OK\\r\\n\\r\\nhello curl\\n'\n",
    );
    let block = man_block("ipcserver-access", "cd /etc/svc/rules", &d.path);
    let script = [
        "mkdir -p run etc/svc/rules".to_string(),
        format!("( {} )", block.join("\n")),
        bg(relocate(
            "ipcserver /run/svc.sock ipcserver-access -v2 -i /etc/svc/rules ./http-handler &",
            &d.path,
        )),
        wait_for("run/svc.sock"),
        "curl -s --unix-socket run/svc.sock http://localhost/".to_string(),
        "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | socat - UNIX-CONNECT:run/svc.sock; echo socat: $?"
            .to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "hello curl\nsocat: 0\n"),
        "{err}"
    );
    assert!(err.contains("exe/usr-bin-curl/allow)"), "{err}");
    assert!(err.contains("uid/default/deny)"), "{err}");
}

/// Shell lines: a service directory `dir` whose run script serves `sock` with a
/// handler that says `in` and then sleeps; a client connected to it in the background
/// that prints what it reads until end of file, then `ended`; returns once it is in.
fn held_connection(dir: &str, sock: &str, supervisor: &str) -> String {
    [
        format!("mkdir -p {dir}"),
        format!("printf '#!/bin/sh\\nexec ipcserver %s/{sock} sh -c \"echo in; exec sleep 600\"\\n' \"$PWD\" > {dir}/run && chmod +x {dir}/run"),
        format!("{supervisor} {dir} &\npids=\"$pids $!\""),
        wait_for(sock),
        format!("n=$(grep -c ended script.out || :)\nipcclient {sock} sh -c 'cat <&6; echo ended' &\npids=\"$pids $!\""),
        "i=0; until [ \"$(grep -c '^in$' script.out)\" -gt \"$n\" ]; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done".to_string(),
    ]
    .join("\n")
}

/// ipcserver(1), EXAMPLES: stopping a supervised server together with its handlers,
/// as written, under s6-supervise (down-signal SIGQUIT, `s6-svc -d`) and daemontools'
/// supervise (`svc -hd`, `/service/app` → the test's): the connection in progress ends.
#[test]
fn ipcserver_man_page_stop_with_handlers_runs_as_written() {
    if !have("s6-supervise") || !have("supervise") || !have("svc") {
        return;
    }
    let d = Dir::new("exstop");
    let block = man_block(
        "ipcserver",
        "echo SIGQUIT > /run/service/app/down-signal",
        &d.path,
    );
    let ended = |n: usize| {
        format!(
            "i=0; until [ \"$(grep -c ended script.out || :)\" = {n} ]; do i=$((i+1)); [ $i -lt 400 ]; sleep 0.05; done"
        )
    };
    let script = [
        held_connection("run/service/app", "run/app.sock", "s6-supervise"),
        block[0].clone(),
        block[1].clone(),
        ended(1),
        held_connection("service/app", "run/app2.sock", "supervise"),
        block[2].replace("/service/app", "$PWD/service/app"),
        ended(2),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "in\nended\nin\nended\n"),
        "{err}"
    );
}

/// Shell lines: podman's Docker-compatible API on `run/docker.sock` (own storage, no
/// network, nothing pulled), standing in for the docker daemon, once it listens.
const PODMAN_AS_DOCKER: &str = "mkdir -p pod/root pod/runroot pod/xdg
XDG_RUNTIME_DIR=$PWD/pod/xdg HOME=$PWD/pod/xdg podman --root $PWD/pod/root --runroot $PWD/pod/runroot --storage-driver vfs --events-backend none --cgroup-manager cgroupfs system service -t 0 unix://$PWD/run/docker.sock 2>pod.log &
pids=\"$pids $!\"
i=0; until [ -S run/docker.sock ]; do i=$((i+1)); [ $i -lt 1200 ]; sleep 0.05; done";

/// A shell line: the HTTP status `ids` (setpriv options) get for `request` (curl
/// options and URL path) through `sock`; 000 when it cannot connect.
fn status_as(ids: &str, sock: &str, request: &str) -> String {
    format!(
        "setpriv {ids} curl -s -o /dev/null -w '%{{http_code}}\\n' --max-time 30 --unix-socket {sock} {request} || :"
    )
}

/// doc/guide.md and ipchttpgate(1), EXAMPLES: the gates as written, podman's API
/// standing in for /run/docker.sock (`docker-readers` → gid 4243): who may read,
/// start, exec, as each rules file says.
#[test]
fn ipchttpgate_examples_run_as_written() {
    if !have("podman") || !have("curl") || !have("setpriv") {
        return;
    }
    let d = Dir::new("exgate");
    let guide = md_block(
        "doc/guide.md",
        "ipchttpgate -r /etc/docker-operator.rules",
        &d.path,
    );
    let rules = |lines: &[String]| -> String {
        let r: Vec<&str> = lines
            .iter()
            .map(String::as_str)
            .filter(|l| l.starts_with("allow ") || l.starts_with("deny "))
            .collect();
        r.join("\n") + "\n"
    };
    std::fs::create_dir_all(d.join("etc")).unwrap();
    std::fs::write(d.join("etc/docker-operator.rules"), rules(&guide)).unwrap();
    // The guide's listening gate serves the same path: moved beside it.
    let guide_listen: Vec<String> = md_block(
        "doc/guide.md",
        "ipcserver-socketbinder -a 0666 /run/docker-gate.sock",
        &d.path,
    )
    .iter()
    .map(|l| l.replace("docker-gate.sock", "docker-gate-l.sock"))
    .collect();
    let readonly = man_block(
        "ipchttpgate",
        "ipcserver -a 0660 -o :docker-readers /run/docker-ro.sock",
        &d.path,
    );
    let listening = man_block(
        "ipchttpgate",
        "install -d -m 0750 -g docker-readers",
        &d.path,
    );
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("service/httpgate/docker-readonly.rules"),
        d.join("etc/docker-readonly.rules"),
    )
    .unwrap();
    let file = man_block(
        "ipchttpgate",
        "allow POST (/v[0-9.]+)?/containers/[^/]+/(start",
        &d.path,
    );
    std::fs::write(d.join("etc/man.rules"), rules(&file)).unwrap();
    let (member, other) = (
        "--reuid 1501 --regid 1501 --groups 4243",
        "--reuid 1502 --regid 1502 --clear-groups",
    );
    let uid1000 = "--reuid 1000 --regid 1000 --clear-groups";
    let start = "-XPOST http://localhost/v1.40/containers/x/start";
    let list = "http://localhost/v1.40/containers/json";
    let script = [
        "mkdir -p run".to_string(),
        PODMAN_AS_DOCKER.to_string(),
        format!("{}\n{} &\npids=\"$pids $!\"", guide[0], guide[1]),
        format!(
            "{}\n{} &\npids=\"$pids $!\"",
            guide_listen[0], guide_listen[1]
        ),
        format!(
            "{}\n{} &\npids=\"$pids $!\"",
            readonly[0].replace(":docker-readers", ":4243"),
            readonly[1]
        ),
        listening[0].replace("docker-readers", "4243"),
        format!("{}\n{} &\npids=\"$pids $!\"", listening[1], listening[2]),
        bg(relocate(
            "ipcserver -a 0666 /run/man.sock ipchttpgate -r /etc/man.rules /run/docker.sock &",
            &d.path,
        )),
        wait_for("run/docker-gate.sock"),
        wait_for("run/docker-gate-l.sock"),
        wait_for("run/docker-ro.sock"),
        wait_for("run/docker-ro/docker.sock"),
        wait_for("run/man.sock"),
        "echo '# guide'".to_string(),
        status_as(other, "run/docker-gate.sock", list),
        status_as(member, "run/docker-gate.sock", start),
        status_as(other, "run/docker-gate.sock", start),
        "echo '# guide, listening'".to_string(),
        status_as(other, "run/docker-gate-l.sock", list),
        status_as(member, "run/docker-gate-l.sock", start),
        status_as(other, "run/docker-gate-l.sock", start),
        "echo '# read-only'".to_string(),
        status_as(member, "run/docker-ro.sock", list),
        status_as(member, "run/docker-ro.sock", start),
        status_as(other, "run/docker-ro.sock", list),
        "echo '# listening'".to_string(),
        status_as(member, "run/docker-ro/docker.sock", list),
        status_as(member, "run/docker-ro/docker.sock", start),
        status_as(other, "run/docker-ro/docker.sock", list),
        "echo '# rules file'".to_string(),
        status_as(
            uid1000,
            "run/man.sock",
            "-XPOST http://localhost/v1.40/containers/web/exec",
        ),
        status_as(
            uid1000,
            "run/man.sock",
            "-XPOST http://localhost/v1.40/containers/db/exec",
        ),
        status_as(
            other,
            "run/man.sock",
            "-XPOST http://localhost/v1.40/containers/web/exec",
        ),
        status_as(other, "run/man.sock", "http://localhost/v1.40/info"),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    let log = std::fs::read_to_string(d.join("pod.log")).unwrap_or_default();
    // 403: refused by the gate; 000: no connection; any other status is podman's
    // answer to a request the gate let through.
    let seen: Vec<&str> = out
        .lines()
        .map(|l| match l {
            "403" | "000" => l,
            _ if l.starts_with('#') => l,
            _ => "through",
        })
        .collect();
    assert_eq!(
        (code, seen.join(" ")),
        (
            Some(0),
            "# guide through through 403 # guide, listening through through 403 # read-only through 403 000 # listening through 403 000 # rules file through 403 403 through".to_string()
        ),
        "{out}{err}\n{log}"
    );
}

/// ipcnotify-socket-from-fd(1), EXAMPLES: the unit's ExecStart as systemd would run
/// it for `Type=notify` (a python3 datagram socket standing in for systemd's
/// NOTIFY_SOCKET; `/usr/bin/foobard` a script that writes its newline on fd 3): the
/// notification says `READY=1`.
#[test]
fn ipcnotify_socket_from_fd_unit_runs_as_written() {
    if !have("python3") {
        return;
    }
    let d = Dir::new("exnotsock");
    let root = d.path.display().to_string();
    script_file(&d.path, "foobard", "echo >&3\nexec sleep 600\n");
    let unit = man_block("ipcnotify-socket-from-fd", "[Service]", &d.path);
    assert!(unit.iter().any(|l| l == "Type=notify"), "{unit:?}");
    let exec = unit
        .iter()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("no ExecStart")
        .replace(
            "/usr/bin/ipcnotify-socket-from-fd",
            "ipcnotify-socket-from-fd",
        )
        .replace("/usr/bin/foobard", &format!("{root}/foobard"));
    let script = [
        "mkdir -p run".to_string(),
        "python3 -c 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\ns.settimeout(20)\nprint(s.recv(999).decode())' run/notify &\nl=$!".to_string(),
        wait_for("run/notify").replace("-S", "-e"),
        format!("NOTIFY_SOCKET=$PWD/run/notify {exec} &\npids=\"$pids $!\""),
        "wait $l".to_string(),
    ]
    .join("\n");
    let (code, out, err) = run_script(&d.path, &script);
    // READY=1, then the MAINPID of the daemon (hence NotifyAccess=all).
    assert_eq!(
        (code, out.lines().next()),
        (Some(0), Some("READY=1")),
        "{err}"
    );
    assert!(out.contains("\nMAINPID="), "{out}");
}
