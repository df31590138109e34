//! Tests: ipcioconnect, the full-duplex relay, through real sockets, pipes and files.

use crate::util::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn ioc() -> String {
    bin("ipcioconnect").to_string_lossy().into_owned()
}

/// Bytes that are not all alike, so a lost or reordered chunk shows.
fn pattern(n: usize) -> Vec<u8> {
    let mut rng = XorShift(0x1234_5678);
    (0..n).map(|_| rng.next() as u8).collect()
}

fn server(sock: &Path, script: &str) -> Server {
    Server::start(cmd(&[
        bin("ipcserver").as_os_str(),
        "-1".as_ref(),
        sock.as_os_str(),
        "sh".as_ref(),
        "-c".as_ref(),
        script.as_ref(),
    ]))
}

/// `ipcclient SOCK ipcioconnect ARGS…` with `input` on stdin, fed by a thread while the
/// output is read: both directions at once.
fn relay(sock: &Path, args: &[&str], input: Vec<u8>, secs: u64) -> std::process::Output {
    let mut c = Command::new(bin("ipcclient"));
    c.arg(sock).arg(bin("ipcioconnect")).args(args);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let desc = format!("{c:?}");
    let mut child = c.spawn().unwrap();
    let mut i = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = i.write_all(&input);
    });
    let out = wait_output(&mut child, secs, &desc);
    feeder.join().unwrap();
    out
}

#[test]
fn echo_both_directions_at_once_no_deadlock() {
    // 8 MiB each way, far beyond every socket and pipe buffer: a relay that wrote
    // before reading (or read one side only) would block for ever.
    let d = Dir::new("iocecho");
    let s = d.join("s");
    let _srv = server(&s, "exec cat");
    let data = pattern(8 << 20);
    let out = relay(&s, &[], data.clone(), 60);
    out.assert_code(0);
    assert!(
        out.stdout == data,
        "echo differs ({} bytes back)",
        out.stdout.len()
    );
    assert_eq!(out.err(), "");
}

#[test]
fn end_of_input_is_passed_on_as_shutdown_while_the_reply_flows() {
    // The server reads to end of file, then answers: it can only answer if our EOF
    // reached it as a half-close (the hang of `sh -c 'cat >&7 & cat <&6'`).
    let d = Dir::new("iochalf");
    let s = d.join("s");
    let f = d.join("got");
    let script = format!(
        "cat > {f}; echo \"server saw EOF after $(wc -c < {f}) bytes\"; head -c 300000 /dev/zero | tr '\\0' x",
        f = f.display()
    );
    let _srv = server(&s, &script);
    let data = pattern(1 << 20);
    let out = relay(&s, &[], data.clone(), 30);
    out.assert_code(0);
    assert_eq!(std::fs::read(&f).unwrap(), data);
    let text = out.out();
    assert!(
        text.starts_with("server saw EOF after 1048576 bytes\n"),
        "{text:.80}"
    );
    assert_eq!(
        text.len(),
        "server saw EOF after 1048576 bytes\n".len() + 300000
    );
}

#[test]
fn server_half_close_reaches_our_stdout_while_stdin_keeps_flowing() {
    // The server side is a relay too: a greeting file to the socket (then
    // shutdown(SHUT_WR), the file being at its end), the socket to a file.
    let d = Dir::new("iocrhalf");
    let s = d.join("s");
    let f = d.join("got");
    std::fs::write(d.join("hello"), b"hello").unwrap();
    let script = format!(
        "exec {ioc} -r 3 -w 4 3<{h} 4>{f}",
        ioc = ioc(),
        h = d.join("hello").display(),
        f = f.display()
    );
    let _srv = server(&s, &script);
    let data = pattern(200_000);
    let out = relay(&s, &[], data.clone(), 30);
    out.assert_code(0);
    assert_eq!(out.out(), "hello");
    assert!(eventually(10, || std::fs::read(&f)
        .map(|v| v == data)
        .unwrap_or(false)));
}

#[test]
fn idle_timeout_exits_1() {
    let d = Dir::new("ioctime");
    let s = d.join("s");
    let _srv = server(&s, "exec sleep 30");
    let mut c = Command::new(bin("ipcclient"));
    c.arg(&s).arg(bin("ipcioconnect")).args(["-t", "300"]);
    // stdin stays open and silent: only the timeout can end this.
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let _keep = child.stdin.take();
    let out = wait_output(&mut child, 20, "ipcioconnect -t 300");
    out.assert_code(1);
    assert_eq!(out.err(), "");
}

#[test]
fn files_and_remote_fds_given_with_r_and_w() {
    let d = Dir::new("iocfiles");
    let a = pattern(3 << 20);
    let b = pattern(100_000);
    std::fs::write(d.join("a"), &a).unwrap();
    std::fs::write(d.join("b"), &b).unwrap();
    let out = run_timeout(
        cmd(&[
            "sh",
            "-c",
            &format!(
                "cd {} && exec {} -r 8 -w 9 <a >outb 8<b 9>outa",
                d.path.display(),
                ioc()
            ),
        ]),
        30,
    );
    out.assert_code(0);
    assert_eq!(std::fs::read(d.join("outa")).unwrap(), a);
    assert_eq!(std::fs::read(d.join("outb")).unwrap(), b);
}

#[test]
fn append_only_output_falls_back_to_read_write() {
    // splice(2) refuses a file opened with O_APPEND (EINVAL): the direction must move
    // to the read/write loop without losing what is already in its pipe.
    let d = Dir::new("iocappend");
    let a = pattern(2 << 20);
    std::fs::write(d.join("a"), &a).unwrap();
    std::fs::write(d.join("out"), b"head:").unwrap();
    let out = run_timeout(
        cmd(&[
            "sh",
            "-c",
            &format!(
                "cd {} && exec {} </dev/null >>out 6<a 7>/dev/null",
                d.path.display(),
                ioc()
            ),
        ]),
        30,
    );
    out.assert_code(0);
    let got = std::fs::read(d.join("out")).unwrap();
    assert_eq!(&got[..5], b"head:");
    assert!(got[5..] == a[..], "appended data differs");
}

#[test]
fn reader_gone_ends_that_direction_and_exits_0() {
    let out = run_timeout(
        cmd(&[
            "sh",
            "-c",
            &format!(
                "{{ {} 6</dev/zero 7>/dev/null </dev/null; echo rc=$? >&2; }} | head -c 100000 | wc -c",
                ioc()
            ),
        ]),
        30,
    );
    out.assert_code(0);
    assert_eq!(out.out(), "100000\n");
    // Whether a warning comes depends on when the reader left (bytes waiting or not);
    // s6-ioconnect words it the same.
    let err = out.err();
    let warning = err
        .strip_suffix("rc=0\n")
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        warning.is_empty()
            || warning == "ipcioconnect: warning: unable to write to fd 1: Broken pipe\n",
        "{err}"
    );
}

#[test]
fn sigterm_is_trapped_and_does_not_stop_the_relay() {
    // As s6-ioconnect: SIGTERM is caught and the relay carries on.
    let mut c = Command::new("sh");
    c.args(["-c", &format!("exec {} 6</dev/null 7>/dev/null", ioc())]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"x").unwrap();
    // Wait until the relay has the pipe open and is running (its stdin is ours).
    std::thread::sleep(std::time::Duration::from_millis(300));
    unsafe_kill(child.id() as i32, 15);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGTERM stopped the relay"
    );
    drop(input);
    let out = wait_output(&mut child, 10, "ipcioconnect");
    out.assert_code(0);
    assert_eq!(out.out(), "");
}

#[test]
fn bad_input() {
    for (args, code, err) in [
        (
            &["-t", "x"][..],
            100,
            "ipcioconnect: fatal: -t: x is not a number\nipcioconnect: usage: ",
        ),
        (
            &["-t"][..],
            100,
            "ipcioconnect: fatal: -t: missing argument\nipcioconnect: usage: ",
        ),
        (
            &["-r", "2"][..],
            100,
            "ipcioconnect: fatal: remote fds must be 3 or more\nipcioconnect: usage: ",
        ),
        (
            &["-w", "-1"][..],
            100,
            "ipcioconnect: fatal: -w: -1 is not a number (digits only, no sign)\nipcioconnect: usage: ",
        ),
        (
            &["-z"][..],
            100,
            "ipcioconnect: fatal: unknown option -z\nipcioconnect: usage: ",
        ),
        (
            &["-r", "9"][..],
            111,
            "ipcioconnect: fatal: unable to fstat fd 9: Bad file descriptor\n",
        ),
    ] {
        let mut c = Command::new("sh");
        c.args([
            "-c",
            &format!("exec {} \"$@\" 6</dev/null 7>/dev/null", ioc()),
            "sh",
        ]);
        c.args(args);
        let out = run_timeout(c, 10);
        out.assert_code(code);
        assert!(out.err().starts_with(err), "{args:?}: {}", out.err());
    }
    // fd 7 closed: named, 111.
    let out = run_timeout(
        cmd(&["sh", "-c", &format!("exec {} 6</dev/null 7>&-", ioc())]),
        10,
    );
    out.assert_code(111);
    assert_eq!(
        out.err(),
        "ipcioconnect: fatal: unable to fstat fd 7: Bad file descriptor\n"
    );
}

#[test]
fn data_moves_by_splice_not_read_write() {
    // Zero-copy is the point: 8 MiB each way must take splice(2) calls, not a read and
    // a write per buffer (a 64 KiB read loop would need over 250 of them).
    if !have("strace") {
        return;
    }
    let d = Dir::new("iocsplice");
    let a = pattern(8 << 20);
    std::fs::write(d.join("a"), &a).unwrap();
    let s = d.join("s");
    let _srv = server(&s, "exec cat");
    let script = format!(
        "exec strace -f -qq -c -o {trace} -e trace=splice,read,write,readv,writev,sendmsg,recvmsg {client} {s} {ioc} <{a} >{out}",
        trace = d.join("trace").display(),
        client = bin("ipcclient").display(),
        s = s.display(),
        ioc = ioc(),
        a = d.join("a").display(),
        out = d.join("out").display()
    );
    run_timeout(cmd(&["sh", "-c", &script]), 120).assert_code(0);
    assert!(
        std::fs::read(d.join("out")).unwrap() == a,
        "relayed data differs"
    );
    let trace = std::fs::read_to_string(d.join("trace")).unwrap();
    let calls = |name: &str| -> u64 {
        trace
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.last() == Some(&name)).then(|| f.get(3)?.parse::<u64>().ok())?
            })
            .sum()
    };
    assert!(calls("splice") >= 4, "{trace}");
    let rw = calls("read") + calls("write") + calls("readv") + calls("writev");
    assert!(rw < 40, "data went through read/write:\n{trace}");
}
