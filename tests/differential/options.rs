//! Options, numbers and argument counts: each program and its peer on the same argv.
//!
//! Most rows need no server: a refused command line exits 100 before anything is
//! done, and an accepted one is made to fail at its first system step (a socket in a
//! directory that does not exist, a stdin that is not a socket, a missing `PROTO`), which
//! shows that parsing let it through. Every `{D}` in an argument or an environment value
//! is a fresh directory per run (ours and the peer's apart), written back as `{D}` in the
//! output before comparing.
//!
//! See `Want` for what a row asserts. A usage error is printed by s6 as its usage line
//! alone, by us as the reason, then the usage line: every page says so in COMPATIBILITY
//! ("reported with its reason before the usage line").

use super::PAIRS;
use crate::util::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// What a row asserts.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// Same exit code, same stdout and stderr once program names and `{D}` are
    /// normalised.
    Same,
    /// Same exit code; the messages differ in wording only, for the reason given
    /// (the operation is named differently, as each page's DIAGNOSTICS shows).
    SameCode(&'static str),
    /// Both refuse the command line (100). s6 prints only its usage line; we print
    /// `PROG: fatal: REASON` and then ours.
    Usage(&'static str),
    /// An intended difference, explained by the COMPATIBILITY text `compat` of our page:
    /// we exit `code` and our stderr contains `msg`; the peer, when run
    /// (`peer_code: Some`), exits that code.
    Ours {
        code: i32,
        msg: &'static str,
        peer_code: Option<i32>,
        compat: &'static str,
    },
    /// What is wanted against s6 2.11, and against 2.15, where the versions differ.
    Versions(&'static Want, &'static Want),
}

/// One case.
#[derive(Clone, Copy, Debug)]
struct Row {
    ours: &'static str,
    /// The peer program; empty when there is none to run (nosh is not in Debian).
    peer: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    want: Want,
}

/// The COMPATIBILITY text every page has for usage errors.
const REASON_FIRST: &str = "reported with its reason before the usage line";

const NONE: &[(&str, &str)] = &[];

macro_rules! rows {
    ($($ours:literal / $peer:literal [$($a:expr),* $(,)?] $(env [$($k:literal = $v:literal),*])? => $want:expr;)*) => {
        &[$(Row {
            ours: $ours,
            peer: $peer,
            args: &[$($a),*],
            env: rows!(@env $([$($k = $v),*])?),
            want: $want,
        }),*]
    };
    (@env) => { NONE };
    (@env [$($k:literal = $v:literal),*]) => { &[$(($k, $v)),*] };
}

use Want::*;

const BIND: Want = SameCode("ours names the directory step (`open directory`), s6 the bind");

/// ipcfdholder-daemon creates its socket as ipcserver does; s6 runs its socket binder.
const DAEMON_BIND: Want = SameCode(
    "ours names the directory step (`open directory`), s6-ipcserver-socketbinder the bind",
);

/// `--help` as the first argument: ours prints the help (0), the peer refuses an
/// unknown option (100). After the first argument it is still refused by both
/// (the `-1 --help` rows).
const HELP_ADDED: Want = Ours {
    code: 0,
    msg: "",
    peer_code: Some(100),
    compat: "are additions, recognised only as the first argument",
};

/// s6-connlimit takes `--help` as prog (and here, without `PROTO`, refuses to run).
const HELP_ADDED_EXEC: Want = Ours {
    code: 0,
    msg: "",
    peer_code: None,
    compat: "are additions, recognised only as the first argument",
};

const ROWS: &[Row] = rows! {
    // ---- ipcserver / s6-ipcserver: accepted options fail at the socket (111).
    "ipcserver" / "s6-ipcserver" ["{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-1", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-q", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-Q", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-v", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-qQv1dDPp", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-d", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-D", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-P", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-p", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-c", "0", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-c", "5", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-c5", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-c", "007", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-c", "4294967295", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-C", "0", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-C", "7", "-c", "3", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-b", "0", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-b", "4294967295", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-a", "0", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-a", "0660", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-a", "660", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-a", "7777", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-a", "77777", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-G", "", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-G", "1,2", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-G", "1,,2", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-G", "1,", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-G", "1 2", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-G", "1:2;3", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-g", "0", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-g", "5", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-u", "0", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-u", "5", "-g", "5", "-G", "5,6", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-U", "{D}/no/s", "true"]
        env ["UID" = "5", "GID" = "5", "GIDLIST" = "1,,2"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-U", "{D}/no/s", "true"]
        env ["UID" = "5", "GID" = "5", "GIDLIST" = ""] => BIND;
    "ipcserver" / "s6-ipcserver" ["-U", "-u", "7", "{D}/no/s", "true"]
        env ["UID" = "5", "GID" = "5", "GIDLIST" = "1"] => BIND;
    "ipcserver" / "s6-ipcserver" ["--", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["{D}/no/s", "-c", "x"] => BIND;
    // -U: the environment is read after binding by s6, before by us; same outcome.
    "ipcserver" / "s6-ipcserver" ["-U", "{D}/s", "true"]
        env ["UID" = "5", "GID" = "5"] => Same;
    "ipcserver" / "s6-ipcserver" ["-U", "{D}/s", "true"]
        env ["GID" = "5", "GIDLIST" = ""] => Same;
    "ipcserver" / "s6-ipcserver" ["-U", "{D}/s", "true"]
        env ["UID" = "+5", "GID" = "5", "GIDLIST" = ""] => Same;
    "ipcserver" / "s6-ipcserver" ["-U", "{D}/s", "true"]
        env ["UID" = "5", "GID" = "x", "GIDLIST" = ""] => Same;
    "ipcserver" / "s6-ipcserver" ["-U", "{D}/s", "true"]
        env ["UID" = "5", "GID" = "5", "GIDLIST" = "x"] => Same;
    "ipcserver" / "s6-ipcserver" ["-U", "{D}/s", "true"]
        env ["UID" = "5", "GID" = "5", "GIDLIST" = ",1"] => Same;
    // Refused command lines.
    "ipcserver" / "s6-ipcserver" [] => Usage("missing path");
    "ipcserver" / "s6-ipcserver" ["{D}/s"] => Usage("missing prog");
    "ipcserver" / "s6-ipcserver" ["-c"] => Usage("-c: missing argument");
    "ipcserver" / "s6-ipcserver" ["-c", "", "{D}/s", "true"] => Usage("-c: \"\" is not a number");
    "ipcserver" / "s6-ipcserver" ["-c", "+5", "{D}/s", "true"] => Usage("-c: +5 is not a number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-c", "-5", "{D}/s", "true"] => Usage("-c: -5 is not a number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-c", " 5", "{D}/s", "true"] => Usage("-c:  5 is not a number");
    "ipcserver" / "s6-ipcserver" ["-c", "5 ", "{D}/s", "true"] => Usage("-c: 5  is not a number");
    "ipcserver" / "s6-ipcserver" ["-c", "0x5", "{D}/s", "true"] => Usage("-c: 0x5 is not a number");
    "ipcserver" / "s6-ipcserver" ["-c", "5k", "{D}/s", "true"] => Usage("-c: 5k is not a number");
    "ipcserver" / "s6-ipcserver" ["-c", "x", "{D}/s", "true"] => Usage("-c: x is not a number");
    "ipcserver" / "s6-ipcserver" ["-c", "4294967296", "{D}/s", "true"] => Usage("-c: 4294967296 is too large (at most 4294967295)");
    "ipcserver" / "s6-ipcserver" ["-c=5", "{D}/s", "true"] => Usage("-c: =5 is not a number");
    "ipcserver" / "s6-ipcserver" ["-C", "+1", "{D}/s", "true"] => Usage("-C: +1 is not a number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-C", "x", "{D}/s", "true"] => Usage("-C: x is not a number");
    "ipcserver" / "s6-ipcserver" ["-b", "+1", "{D}/s", "true"] => Usage("-b: +1 is not a number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-b", "-1", "{D}/s", "true"] => Usage("-b: -1 is not a number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-a", "8", "{D}/s", "true"] => Usage("-a: 8 is not an octal number");
    "ipcserver" / "s6-ipcserver" ["-a", "0x1ff", "{D}/s", "true"] => Usage("-a: 0x1ff is not an octal number");
    "ipcserver" / "s6-ipcserver" ["-a", "+660", "{D}/s", "true"] => Usage("-a: +660 is not an octal number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-a", "", "{D}/s", "true"] => Usage("-a: \"\" is not an octal number");
    "ipcserver" / "s6-ipcserver" ["-a", "rw", "{D}/s", "true"] => Usage("-a: rw is not an octal number");
    "ipcserver" / "s6-ipcserver" ["-u", "ipct-no-such-user", "{D}/s", "true"] => Usage("-u: no user ipct-no-such-user in /etc/passwd (it is read directly, without NSS: for an LDAP or sssd user, use s6-envuidgid ipct-no-such-user ipcserver -U …)");
    "ipcserver" / "s6-ipcserver" ["-u", "nobody", "{D}/no/s", "true"] => Ours {
        code: 111, msg: "unable to", peer_code: Some(100), compat: "User and group names are read from",
    };
    "ipcserver" / "s6-ipcserver" ["-u", "+5", "{D}/s", "true"] => Usage("-u: +5 is not a number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-u", "-1", "{D}/s", "true"] => Usage("-u: -1 is not a number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-u", "4294967296", "{D}/s", "true"] => Usage("-u: 4294967296 is too large (at most 4294967295)");
    "ipcserver" / "s6-ipcserver" ["-g", "ipct-no-such-group", "{D}/s", "true"] => Usage("-g: no group ipct-no-such-group in /etc/group (it is read directly, without NSS: for an LDAP or sssd group, give the number: getent group ipct-no-such-group)");
    "ipcserver" / "s6-ipcserver" ["-g", "root", "-G", "root,7", "{D}/no/s", "true"] => Ours {
        code: 111, msg: "unable to", peer_code: Some(100), compat: "User and group names are read from",
    };
    "ipcserver" / "s6-ipcserver" ["-g", "+5", "{D}/s", "true"] => Usage("-g: +5 is not a number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-G", "x", "{D}/s", "true"] => Usage("-G: no group x in /etc/group (it is read directly, without NSS: for an LDAP or sssd group, give the number: getent group x)");
    "ipcserver" / "s6-ipcserver" ["-G", ",1", "{D}/s", "true"] => Usage("-G: ,1 is not a list of gids or group names separated by commas");
    "ipcserver" / "s6-ipcserver" ["-G", " 1", "{D}/s", "true"] => Usage("-G:  1 is not a list of gids or group names separated by commas");
    "ipcserver" / "s6-ipcserver" ["-G", "+1", "{D}/s", "true"] => Usage("-G: +1 is not a list of gids or group names separated by commas");
    "ipcserver" / "s6-ipcserver" ["-Z", "{D}/s", "true"] => Usage("unknown option -Z");
    "ipcserver" / "s6-ipcserver" ["--help"] => HELP_ADDED;
    "ipcserver" / "s6-ipcserver" ["-1", "--help"] => Usage("unknown option --help");
    "ipcserver" / "s6-ipcserver" ["--", "{D}/s"] => Usage("missing prog");
    // Intended differences.
    "ipcserver" / "s6-ipcserver" ["-G", "1,x", "{D}/no/s", "true"] => Ours {
        code: 100, msg: "-G: no group x in /etc/group", peer_code: Some(111),
        compat: "a gid list with anything but numbers and separators is refused",
    };
    "ipcserver" / "s6-ipcserver" ["-G", "99999999999", "{D}/no/s", "true"] => Ours {
        code: 100, msg: "-G: 99999999999 is not a list of gids or group names", peer_code: Some(111),
        compat: "a gid list with anything but numbers and separators is refused",
    };
    "ipcserver" / "s6-ipcserver" ["-U", "{D}/no/s", "true"]
        env ["UID" = "5", "GID" = "5", "GIDLIST" = "1,x"] => Ours {
        code: 100, msg: "invalid $GIDLIST", peer_code: Some(111),
        compat: "a gid list with anything but numbers and separators is refused",
    };
    "ipcserver" / "s6-ipcserver" ["-o", "5:6", "{D}/no/s", "true"] => Ours {
        code: 111, msg: "unable to", peer_code: Some(100),
        compat: "are additions",
    };
    "ipcserver" / "s6-ipcserver" ["-o", "www-data:www-data", "{D}/no/s", "true"] => Ours {
        code: 111, msg: "unable to", peer_code: Some(100), compat: "User and group names are read from",
    };
    "ipcserver" / "s6-ipcserver" ["-o", "ipct-no-such-user:", "{D}/s", "true"] => Ours {
        code: 100, msg: "-o: no user ipct-no-such-user in /etc/passwd", peer_code: Some(100), compat: "User and group names are read from",
    };
    "ipcserver" / "s6-ipcserver" ["-o", ":staff", "{D}/no/s", "true"] => Ours {
        code: 111, msg: "unable to", peer_code: Some(100), compat: "User and group names are read from",
    };
    "ipcserver" / "s6-ipcserver" ["-o", "5", "{D}/s", "true"] => Ours {
        code: 100, msg: "-o: 5 is not UID:GID (numbers or names, either may be empty)", peer_code: Some(100),
        compat: "are additions",
    };
    "ipcserver" / "s6-ipcserver" ["{D}/no/s", ""] => Ours {
        code: 100, msg: "prog is empty", peer_code: Some(111),
        compat: "An empty path or prog is refused",
    };
    // s6-ipcserver binds an unnamed socket and serves it: the peer is not run.
    "ipcserver" / "s6-ipcserver" ["", "true"] => Ours {
        code: 100, msg: "empty socket path", peer_code: None,
        compat: "An empty path or prog is refused",
    };

    // ---- ipcserverd / s6-ipcserverd: accepted options meet a stdin that is a pipe.
    "ipcserverd" / "s6-ipcserverd" ["true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-1", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-P", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-p", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-Pp1", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-c", "0", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-c", "99999", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-c5", "-C5", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-C", "0", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-v", "0", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-v2", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-v", "4294967295", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["--", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["true", "-c", "x"] => Same;
    "ipcserverd" / "s6-ipcserverd" [] => Usage("missing prog");
    "ipcserverd" / "s6-ipcserverd" [""] => Usage("prog is empty");
    "ipcserverd" / "s6-ipcserverd" ["--"] => Usage("missing prog");
    "ipcserverd" / "s6-ipcserverd" ["-v"] => Usage("-v: missing argument");
    "ipcserverd" / "s6-ipcserverd" ["-v", "true"] => Usage("-v: true is not a number");
    "ipcserverd" / "s6-ipcserverd" ["-v", "x", "true"] => Usage("-v: x is not a number");
    "ipcserverd" / "s6-ipcserverd" ["-v", "+1", "true"] => Usage("-v: +1 is not a number (digits only, no sign)");
    "ipcserverd" / "s6-ipcserverd" ["-c", "+5", "true"] => Usage("-c: +5 is not a number (digits only, no sign)");
    "ipcserverd" / "s6-ipcserverd" ["-c", " 5", "true"] => Usage("-c:  5 is not a number");
    "ipcserverd" / "s6-ipcserverd" ["-c", "0x5", "true"] => Usage("-c: 0x5 is not a number");
    "ipcserverd" / "s6-ipcserverd" ["-c", "99999999999", "true"] => Usage("-c: 99999999999 is too large (at most 4294967295)");
    "ipcserverd" / "s6-ipcserverd" ["-c", "", "true"] => Usage("-c: \"\" is not a number");
    "ipcserverd" / "s6-ipcserverd" ["-C", "-1", "true"] => Usage("-C: -1 is not a number (digits only, no sign)");
    "ipcserverd" / "s6-ipcserverd" ["-Z", "true"] => Usage("unknown option -Z");
    "ipcserverd" / "s6-ipcserverd" ["--x", "true"] => Usage("unknown option --x");
    // A LISTEN_PID for another process: the message says why.
    "ipcserverd" / "s6-ipcserverd" ["true"] env ["LISTEN_FDS" = "1", "LISTEN_PID" = "1"] => Ours {
        code: 100, msg: "PROG: fatal: stdin is not a socket: LISTEN_FDS is set but LISTEN_PID is 1, not us\n",
        peer_code: Some(100), compat: "is set for another process, the message says so",
    };
    "ipcserverd" / "s6-ipcserverd" ["true"] env ["LISTEN_FDS" = "1"] => Ours {
        code: 100, msg: "PROG: fatal: stdin is not a socket: LISTEN_FDS is set but LISTEN_PID is not\n",
        peer_code: Some(100), compat: "is set for another process, the message says so",
    };
    "ipcserverd" / "s6-ipcserverd" ["-q", "true"] => Ours {
        code: 100, msg: "stdin is not a socket", peer_code: Some(100),
        compat: "are short forms of",
    };
    "ipcserverd" / "s6-ipcserverd" ["-Q", "true"] => Ours {
        code: 100, msg: "stdin is not a socket", peer_code: Some(100),
        compat: "are short forms of",
    };

    // ---- ipcclient / s6-ipcclient: accepted options fail at connect (111).
    "ipcclient" / "s6-ipcclient" ["{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-q", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-Q", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-v", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-qv", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-vvq", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-l", "name", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-l", "", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-p", "{D}/b", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-p", "{D}/b", "-l", "x", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["--", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["{D}/none", "-v"] => Same;
    "ipcclient" / "s6-ipcclient" ["", "true"] => Same;
    "ipcclient" / "s6-ipcclient" [] => Usage("missing path");
    "ipcclient" / "s6-ipcclient" ["{D}/none"] => Usage("missing prog");
    "ipcclient" / "s6-ipcclient" ["-p"] => Usage("-p: missing argument");
    "ipcclient" / "s6-ipcclient" ["-Z", "{D}/none", "true"] => Usage("unknown option -Z");
    "ipcclient" / "s6-ipcclient" ["-t", "+5", "{D}/none", "true"] => Usage("-t: +5 is not a number (digits only, no sign)");
    "ipcclient" / "s6-ipcclient" ["-t", "0", "{D}/none", "true"] => Ours {
        code: 111, msg: "unable to connect to", peer_code: Some(100),
        compat: "is an addition",
    };

    // ---- ipcserver-access / s6-ipcserver-access: accepted options meet an unset PROTO.
    "ipcserver-access" / "s6-ipcserver-access" ["true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-v", "0", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-v2", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-v", "4294967295", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-E", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-e", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-Ee", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-l", "x", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-i", "{D}/r", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-x", "{D}/r.cdb", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-i", "{D}/r", "-x", "{D}/c", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["--", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["true", "-v", "x"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-E", "-v0", "true"]
        env ["PROTO" = "IPC", "IPCREMOTEEUID" = "0", "IPCREMOTEEGID" = "0"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["true"]
        env ["PROTO" = "IPC", "IPCREMOTEEUID" = "+1", "IPCREMOTEEGID" = "0"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["true"]
        env ["PROTO" = "IPC", "IPCREMOTEEUID" = "1", "IPCREMOTEEGID" = " 0"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" [] => Usage("missing prog");
    "ipcserver-access" / "s6-ipcserver-access" [""] => Usage("prog is empty");
    "ipcserver-access" / "s6-ipcserver-access" ["-v", "+1", "true"] => Usage("-v: +1 is not a number (digits only, no sign)");
    "ipcserver-access" / "s6-ipcserver-access" ["-v", "x", "true"] => Usage("-v: x is not a number");
    "ipcserver-access" / "s6-ipcserver-access" ["-v", "", "true"] => Usage("-v: \"\" is not a number");
    "ipcserver-access" / "s6-ipcserver-access" ["-v", "true"] => Usage("-v: true is not a number");
    "ipcserver-access" / "s6-ipcserver-access" ["-i"] => Usage("-i: missing argument");
    "ipcserver-access" / "s6-ipcserver-access" ["-Z", "true"] => Usage("unknown option -Z");

    // ---- ipcrules-cdb / s6-accessrules-cdb-from-fs (2.11: no options at all).
    "ipcrules-cdb" / "s6-accessrules-cdb-from-fs" ["{D}/c.cdb", "{D}/none"] => SameCode("s6 says `opendir`, we say `open directory`");
    "ipcrules-cdb" / "s6-accessrules-cdb-from-fs" ["{D}/c.cdb", "{D}/none", "extra"] => SameCode("s6 says `opendir`, we say `open directory`");
    "ipcrules-cdb" / "s6-accessrules-cdb-from-fs" [] => Usage("missing cdbfile");
    "ipcrules-cdb" / "s6-accessrules-cdb-from-fs" ["{D}/c.cdb"] => Usage("missing rulesdir");
    "ipcrules-cdb" / "s6-accessrules-cdb-from-fs" ["-m", "8", "{D}/c.cdb", "{D}/none"] => Versions(
        &Ours {
            code: 100, msg: "mode needs to be an unsigned integer (in octal)", peer_code: Some(111),
            compat: "as s6 2.14 and later",
        },
        &Usage("mode needs to be an unsigned integer (in octal)"),
    );
    "npt-wait" / "s6-ftrig-wait" ["--timeout=300", "{D}", "re"] => Versions(
        &Ours {
            code: 99, msg: "", peer_code: Some(100),
            compat: "accepted as by s6 2.15",
        },
        &SameCode("s6 also names the regex"),
    );
    "npt-wait" / "s6-ftrig-listen1" ["--timeout=300", "{D}", "re", "true"] => Versions(
        &Ours {
            code: 1, msg: "", peer_code: Some(100),
            compat: "accepted as by s6 2.15",
        },
        &Same,
    );
    "npt-wait" / "s6-ftrig-listen1" ["-t", "300", "{D}", "re", "true"] => Same;
    "npt-wait" / "s6-ftrig-wait" ["--timeout", "300", "{D}", "re"] => Usage("--timeout: missing value (write --timeout=value)");
    "ipcrules-cdb" / "s6-accessrules-cdb-from-fs" ["-m", "10000", "{D}/c.cdb", "{D}/none"] => Ours {
        code: 100, msg: "-m: 10000 is not a file mode (at most 07777)", peer_code: Some(111),
        compat: "as s6 2.14 and later",
    };
    "ipcrules-cdb" / "s6-accessrules-cdb-from-fs" ["--mode=600", "{D}/c.cdb", "{D}/none"] => Ours {
        code: 111, msg: "unable to open directory", peer_code: Some(111),
        compat: "as s6 2.14 and later",
    };

    // ---- ipcsudo / s6-sudo: both exec the client, which fails to connect (111).
    "ipcsudo" / "s6-sudo" ["{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["{D}/none", "a", "-b"] => Same;
    "ipcsudo" / "s6-sudo" ["-q", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["-Q", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["-v", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["-vv", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["-e", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["-t", "0", "-T", "0", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["-t", "5", "-T", "4294967295", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["-l", "x", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["-p", "{D}/b", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["--", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" [] => Usage("missing path");
    "ipcsudo" / "s6-sudo" ["-t", "+1", "{D}/none"] => Usage("-t: +1 is not a number (digits only, no sign)");
    "ipcsudo" / "s6-sudo" ["-T", "x", "{D}/none"] => Usage("-T: x is not a number");
    "ipcsudo" / "s6-sudo" ["-t", "4294967296", "{D}/none"] => Usage("-t: 4294967296 is too large (at most 4294967295)");
    "ipcsudo" / "s6-sudo" ["-t"] => Usage("-t: missing argument");
    "ipcsudo" / "s6-sudo" ["-Z", "{D}/none"] => Usage("unknown option -Z");

    // ---- ipcsudoc / s6-sudoc: accepted options meet missing fds 6 and 7.
    "ipcsudoc" / "s6-sudoc" [] => Ours {
        code: 100, msg: "fds 6 and 7 must be the connection", peer_code: Some(111),
        compat: "Missing fds 6 and 7 are reported as such",
    };
    "ipcsudoc" / "s6-sudoc" ["-e", "-t", "5", "-T", "0", "a", "-b"] => Ours {
        code: 100, msg: "fds 6 and 7 must be the connection", peer_code: Some(111),
        compat: "Missing fds 6 and 7 are reported as such",
    };
    "ipcsudoc" / "s6-sudoc" ["-t", "+5"] => Usage("-t: +5 is not a number (digits only, no sign)");
    "ipcsudoc" / "s6-sudoc" ["-T", "-1"] => Usage("-T: -1 is not a number (digits only, no sign)");
    "ipcsudoc" / "s6-sudoc" ["-t", ""] => Usage("-t: \"\" is not a number");
    "ipcsudoc" / "s6-sudoc" ["-t", "0x10"] => Usage("-t: 0x10 is not a number");
    "ipcsudoc" / "s6-sudoc" ["-t"] => Usage("-t: missing argument");
    "ipcsudoc" / "s6-sudoc" ["-Z"] => Usage("unknown option -Z");

    // ---- ipcsudod / s6-sudod: accepted options meet a stdin that is a pipe (111).
    "ipcsudod" / "s6-sudod" [] => SameCode("s6 fails reading the request, we writing the banner");
    "ipcsudod" / "s6-sudod" ["true"] => SameCode("s6 fails reading the request, we writing the banner");
    "ipcsudod" / "s6-sudod" ["-0", "-1", "-2", "-d", "true"] => SameCode("s6 fails reading the request, we writing the banner");
    "ipcsudod" / "s6-sudod" ["-012d", "-t", "5", "true"] => SameCode("s6 fails reading the request, we writing the banner");
    "ipcsudod" / "s6-sudod" ["--", "-x"] => SameCode("s6 fails reading the request, we writing the banner");
    "ipcsudod" / "s6-sudod" ["-t", "+5", "true"] => Usage("-t: +5 is not a number (digits only, no sign)");
    "ipcsudod" / "s6-sudod" ["-t", "x", "true"] => Usage("-t: x is not a number");
    "ipcsudod" / "s6-sudod" ["-t"] => Usage("-t: missing argument");
    "ipcsudod" / "s6-sudod" ["-Z", "true"] => Usage("unknown option -Z");
    "ipcsudod" / "s6-sudod" ["-v", "true"] => Ours {
        code: 111, msg: "unable to", peer_code: Some(100),
        compat: "are additions",
    };

    // ---- npt-mkfifodir / s6-mkfifodir.
    "npt-mkfifodir" / "s6-mkfifodir" ["{D}/f"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" ["-f", "{D}/f"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" ["-g", "0", "{D}/f"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" ["-g", "5", "{D}/f"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" ["-g", "4294967295", "{D}/f"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" ["-fg5", "{D}/f"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" ["{D}/f", "extra"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" ["{D}/f", "-g", "x"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" ["--", "-x"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" ["{D}/no/f"] => Same;
    "npt-mkfifodir" / "s6-mkfifodir" [] => Usage("missing fifodir");
    "npt-mkfifodir" / "s6-mkfifodir" ["-f"] => Usage("missing fifodir");
    "npt-mkfifodir" / "s6-mkfifodir" ["-g"] => Usage("-g: missing argument");
    "npt-mkfifodir" / "s6-mkfifodir" ["-g", "+5", "{D}/f"] => Usage("-g: +5 is not a number (digits only, no sign)");
    "npt-mkfifodir" / "s6-mkfifodir" ["-g", "ipct-no-such-group", "{D}/f"] => Usage("-g: no group ipct-no-such-group in /etc/group (it is read directly, without NSS: for an LDAP or sssd group, give the number: getent group ipct-no-such-group)");
    "npt-mkfifodir" / "s6-mkfifodir" ["-g", "root", "{D}/f"] => Ours {
        code: 0, msg: "", peer_code: Some(100), compat: "User and group names are read from",
    };
    "npt-mkfifodir" / "s6-mkfifodir" ["-g", "", "{D}/f"] => Usage("-g: \"\" is not a number");
    "npt-mkfifodir" / "s6-mkfifodir" ["-g", "4294967296", "{D}/f"] => Usage("-g: 4294967296 is too large (at most 4294967295)");
    "npt-mkfifodir" / "s6-mkfifodir" ["-x", "{D}/f"] => Usage("unknown option -x");

    // ---- npt-notify / s6-ftrig-notify: no options at all.
    "npt-notify" / "s6-ftrig-notify" ["{D}/none", "e"] => Same;
    "npt-notify" / "s6-ftrig-notify" ["{D}", "e"] => Same;
    "npt-notify" / "s6-ftrig-notify" ["{D}/none", "e", "extra"] => Same;
    "npt-notify" / "s6-ftrig-notify" ["-x", "e"] => Same;
    "npt-notify" / "s6-ftrig-notify" ["--", "-x"] => Same;
    "npt-notify" / "s6-ftrig-notify" ["-", "e"] => Same;
    "npt-notify" / "s6-ftrig-notify" ["{D}", ""] => Same;
    "npt-notify" / "s6-ftrig-notify" [] => Usage("missing fifodir");
    "npt-notify" / "s6-ftrig-notify" ["{D}"] => Usage("missing message");
    "npt-notify" / "s6-ftrig-notify" ["-x"] => Usage("missing message");

    // ---- ipcioconnect / s6-ioconnect: accepted options meet a closed fd 7 (or -r/-w's).
    "ipcioconnect" / "s6-ioconnect" [] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-t", "0"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-t", "1000"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-t1000"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-t", "4294967295"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-0", "-1", "-6", "-7"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-0167"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-r", "6", "-w", "7"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-r", "3", "-w", "3"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-r", "2147483647"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-r", "2", "-r", "9"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["--", "-Z"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["extra", "-Z"] => Same;
    "ipcioconnect" / "s6-ioconnect" ["-t"] => Usage("-t: missing argument");
    "ipcioconnect" / "s6-ioconnect" ["-t", "x"] => Usage("-t: x is not a number");
    "ipcioconnect" / "s6-ioconnect" ["-t", ""] => Usage("-t: \"\" is not a number");
    "ipcioconnect" / "s6-ioconnect" ["-t", "+5"] => Usage("-t: +5 is not a number (digits only, no sign)");
    "ipcioconnect" / "s6-ioconnect" ["-t", "-1"] => Usage("-t: -1 is not a number (digits only, no sign)");
    "ipcioconnect" / "s6-ioconnect" ["-t", "4294967296"] => Usage("-t: 4294967296 is too large (at most 4294967295)");
    "ipcioconnect" / "s6-ioconnect" ["-t=5"] => Usage("-t: =5 is not a number");
    "ipcioconnect" / "s6-ioconnect" ["-r", "2"] => Usage("remote fds must be 3 or more");
    "ipcioconnect" / "s6-ioconnect" ["-w", "0"] => Usage("remote fds must be 3 or more");
    "ipcioconnect" / "s6-ioconnect" ["-w", "-1"] => Usage("-w: -1 is not a number (digits only, no sign)");
    "ipcioconnect" / "s6-ioconnect" ["-r", "abc"] => Usage("-r: abc is not a number");
    "ipcioconnect" / "s6-ioconnect" ["-r", "2147483648"] => Usage("-r: 2147483648 is too large (at most 2147483647)");
    "ipcioconnect" / "s6-ioconnect" ["-Z"] => Usage("unknown option -Z");
    "ipcioconnect" / "s6-ioconnect" ["--help"] => HELP_ADDED;

    // ---- ipcconnlimit / s6-connlimit: no options, no usage line; the environment decides.
    "ipcconnlimit" / "s6-connlimit" [] => Same;
    "ipcconnlimit" / "s6-connlimit" ["-x"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["--help"] => HELP_ADDED_EXEC;
    "ipcconnlimit" / "s6-connlimit" ["true"] env ["PROTO" = ""] => Same;
    "ipcconnlimit" / "s6-connlimit" [] env ["PROTO" = "IPC", "IPCCONNNUM" = "1"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"] env ["PROTO" = "IPC", "IPCCONNNUM" = "1"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["-x"] env ["PROTO" = "IPC", "IPCCONNNUM" = "1"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["--", "true"] env ["PROTO" = "IPC", "IPCCONNNUM" = "1"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"] env ["PROTO" = "IPC"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"]
        env ["PROTO" = "IPC", "IPCCONNNUM" = "2", "IPCCONNMAX" = "2"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"]
        env ["PROTO" = "IPC", "IPCCONNNUM" = "3", "IPCCONNMAX" = "2"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"]
        env ["PROTO" = "IPC", "IPCCONNNUM" = "4294967295", "IPCCONNMAX" = "0"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"]
        env ["PROTO" = "IPC", "IPCCONNNUM" = "4294967296"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"] env ["PROTO" = "IPC", "IPCCONNNUM" = "+1"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"] env ["PROTO" = "IPC", "IPCCONNNUM" = ""] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"]
        env ["PROTO" = "IPC", "IPCCONNNUM" = "1", "IPCCONNMAX" = " 2"] => Same;
    "ipcconnlimit" / "s6-connlimit" ["true"]
        env ["PROTO" = "TCP", "TCPCONNNUM" = "3", "TCPCONNMAX" = "2"] => Same;

    // ---- ipcrules-fs / s6-accessrules-fs-from-cdb: no options; a missing cdb fails (111).
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" ["{D}/t", "{D}/none.cdb"] => SameCode("s6 says `cdb_init`, we name the cdb");
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" ["{D}/t", "{D}/none.cdb", "extra"] => SameCode("s6 says `cdb_init`, we name the cdb");
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" ["-x", "y"] => SameCode("s6 says `cdb_init`, we name the cdb");
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" ["--", "x"] => SameCode("s6 says `cdb_init`, we name the cdb");
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" ["", ""] => SameCode("s6 says `cdb_init`, we name the cdb");
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" [] => Usage("missing dir");
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" ["{D}/t"] => Usage("missing cdbfile");
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" ["-x"] => Usage("missing cdbfile");
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" ["--"] => Usage("missing cdbfile");
    "ipcrules-fs" / "s6-accessrules-fs-from-cdb" ["{D}/t", "{D}/none.cdb"] => Ours {
        code: 111, msg: "unable to open cdb ruleset {D}/none.cdb: No such file or directory", peer_code: Some(111),
        compat: "A missing cdb is reported as",
    };

    // ---- npt-cleanfifodir / s6-cleanfifodir: no options.
    "npt-cleanfifodir" / "s6-cleanfifodir" ["{D}"] => Same;
    "npt-cleanfifodir" / "s6-cleanfifodir" ["{D}", "extra"] => Same;
    "npt-cleanfifodir" / "s6-cleanfifodir" ["{D}/none"] => Same;
    "npt-cleanfifodir" / "s6-cleanfifodir" ["-x"] => Same;
    "npt-cleanfifodir" / "s6-cleanfifodir" ["--"] => Same;
    "npt-cleanfifodir" / "s6-cleanfifodir" ["--", "{D}"] => Same;
    "npt-cleanfifodir" / "s6-cleanfifodir" ["-"] => Same;
    "npt-cleanfifodir" / "s6-cleanfifodir" [""] => Same;
    "npt-cleanfifodir" / "s6-cleanfifodir" [] => Usage("missing fifodir");

    // ---- npt-listen / s6-ftrig-listen: accepted command lines time out (exit 1).
    "npt-listen" / "s6-ftrig-listen" ["-t", "100", "{D}", "a", "", "true"] => Same;
    "npt-listen" / "s6-ftrig-listen" ["-t100", "{D}", "a", "", "true"] => Same;
    "npt-listen" / "s6-ftrig-listen" ["-o", "-t", "100", "{D}", "a", "", "true"] => Same;
    "npt-listen" / "s6-ftrig-listen" ["-a", "-t", "100", "{D}", "a", "", "true"] => Same;
    "npt-listen" / "s6-ftrig-listen" ["-aot100", "{D}", "a", "", "true"] => Same;
    "npt-listen" / "s6-ftrig-listen" ["-t", "100", "--", "{D}", "a", "", "true"] => Same;
    "npt-listen" / "s6-ftrig-listen" ["-t", "100", " {D}", " a", "", "true", "-t", "x"] => Same;
    "npt-listen" / "s6-ftrig-listen" ["-t", "100", "{D}/none", "a", "", "true"] => Same;
    "npt-listen" / "s6-ftrig-listen" ["-t", "100", "{D}", "a", "{D}", "b", "true"] => Same;
    "npt-listen" / "s6-ftrig-listen" [] => Usage("too few arguments");
    "npt-listen" / "s6-ftrig-listen" ["{D}", "a", ""] => Usage("too few arguments");
    "npt-listen" / "s6-ftrig-listen" ["", "a", "b", "c"] => Usage("empty block");
    "npt-listen" / "s6-ftrig-listen" ["{D}", "a", "{D}", "", "p"] => Usage("the block is not fifodir regexp pairs");
    "npt-listen" / "s6-ftrig-listen" ["{D}", "a", "{D}", "p"] => Usage("the block is not fifodir regexp pairs");
    "npt-listen" / "s6-ftrig-listen" ["{D}", "a", "{D}", "b", ""] => Usage("missing prog");
    "npt-listen" / "s6-ftrig-listen" ["-t"] => Usage("-t: missing argument");
    "npt-listen" / "s6-ftrig-listen" ["-t", "x", "{D}", "a", "", "true"] => Usage("-t: x is not a number");
    "npt-listen" / "s6-ftrig-listen" ["-t", "+5", "{D}", "a", "", "true"] => Usage("-t: +5 is not a number (digits only, no sign)");
    "npt-listen" / "s6-ftrig-listen" ["-t", "4294967296", "{D}", "a", "", "true"] => Usage("-t: 4294967296 is too large (at most 4294967295)");
    "npt-listen" / "s6-ftrig-listen" ["-Z", "{D}", "a", "", "true"] => Usage("unknown option -Z");

    // ---- npt-wait / s6-ftrig-wait and s6-ftrig-listen1.
    "npt-wait" / "s6-ftrig-wait" ["-t", "5000", "{D}/none", "re"] => SameCode("s6 also names the regex");
    "npt-wait" / "s6-ftrig-wait" ["-t5000", "{D}/none", "re"] => SameCode("s6 also names the regex");
    "npt-wait" / "s6-ftrig-wait" ["-t", "4294967295", "{D}/none", "re"] => SameCode("s6 also names the regex");
    "npt-wait" / "s6-ftrig-wait" [] => Usage("missing fifodir");
    "npt-wait" / "s6-ftrig-wait" ["{D}"] => Usage("missing regex");
    "npt-wait" / "s6-ftrig-wait" ["-t", "+500", "{D}", "re"] => Usage("-t: +500 is not a number (digits only, no sign)");
    "npt-wait" / "s6-ftrig-wait" ["-t", "x", "{D}", "re"] => Usage("-t: x is not a number");
    "npt-wait" / "s6-ftrig-wait" ["-t", "4294967296", "{D}", "re"] => Usage("-t: 4294967296 is too large (at most 4294967295)");
    "npt-wait" / "s6-ftrig-wait" ["-t", "", "{D}", "re"] => Usage("-t: \"\" is not a number");
    "npt-wait" / "s6-ftrig-wait" ["-t"] => Usage("-t: missing argument");
    "npt-wait" / "s6-ftrig-wait" ["-Z", "{D}", "re"] => Usage("unknown option -Z");
    "npt-wait" / "s6-ftrig-listen1" ["-t", "5000", "{D}/none", "re", "true"] => SameCode("s6 also names the regex");
    "npt-wait" / "s6-ftrig-listen1" ["-t", "+5", "{D}/none", "re", "true"] => Usage("-t: +5 is not a number (digits only, no sign)");

    // ---- getopt corners, as skalibs' subgetopt reads them.
    "ipcserverd" / "s6-ipcserverd" ["-vc5", "true"] => Usage("-v: c5 is not a number");
    "ipcserverd" / "s6-ipcserverd" ["-1c5", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["-c", "--", "true"] => Usage("-c: -- is not a number");
    "ipcserverd" / "s6-ipcserverd" ["-c", "-1", "true"] => Usage("-c: -1 is not a number (digits only, no sign)");
    "ipcserverd" / "s6-ipcserverd" ["--", "--", "true"] => Same;
    "ipcserverd" / "s6-ipcserverd" ["--c=5", "true"] => Usage("unknown option --c");
    "ipcserverd" / "s6-ipcserverd" ["-c5", "-", "-c"] => Same;
    "ipcserver" / "s6-ipcserver" ["-vc5", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-1qG", "1,2", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-G", "-1", "{D}/s", "true"] => Usage("-G: -1 is not a list of gids or group names separated by commas");
    "ipcserver" / "s6-ipcserver" ["-u", "-v", "{D}/s", "true"] => Usage("-u: -v is not a number");
    "ipcserver" / "s6-ipcserver" ["-a", "-1", "{D}/s", "true"] => Usage("-a: -1 is not an octal number (digits only, no sign)");
    "ipcserver" / "s6-ipcserver" ["-a", "37777777777", "{D}/no/s", "true"] => BIND;
    "ipcserver" / "s6-ipcserver" ["-a", "40000000000", "{D}/s", "true"] => Usage("-a: 40000000000 is too large (at most 037777777777)");
    "ipcclient" / "s6-ipcclient" ["-vp", "{D}/b", "{D}/none", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-l"] => Usage("-l: missing argument");
    "ipcclient" / "s6-ipcclient" ["--", "--", "true"] => Same;
    "ipcclient" / "s6-ipcclient" ["-", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-v0E", "true"] => Usage("-v: 0E is not a number");
    "ipcserver-access" / "s6-ipcserver-access" ["-Ev0", "true"] => Same;
    "ipcserver-access" / "s6-ipcserver-access" ["-", "true"] => Same;
    "ipcsudo" / "s6-sudo" ["-et5", "{D}/none"] => Same;
    "ipcsudo" / "s6-sudo" ["-t5e", "{D}/none"] => Usage("-t: 5e is not a number");
    "ipcsudoc" / "s6-sudoc" ["-et", "5x"] => Usage("-t: 5x is not a number");
    "ipcsudod" / "s6-sudod" ["-t5", "-0", "true"] => SameCode("s6 fails reading the request, we writing the banner");
    "npt-mkfifodir" / "s6-mkfifodir" ["-g5f", "{D}/f"] => Usage("-g: 5f is not a number");
    "npt-mkfifodir" / "s6-mkfifodir" ["-", "x"] => Same;
    "npt-wait" / "s6-ftrig-wait" ["-t5000", "--", "{D}/none", "re"] => SameCode("s6 also names the regex");
    "npt-wait" / "s6-ftrig-wait" ["--t=5", "{D}", "re"] => Usage("unknown option --t");

    // ---- The ipcfdholder family / s6-fdholder-*: accepted options meet a socket
    // nobody listens on (111), a stdin that is a pipe (ipcfdholderd, 100), or a socket
    // that cannot be bound (ipcfdholder-daemon, 111).
    "ipcfdholder-list" / "s6-fdholder-list" ["{D}/none"] => Same;
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", "0", "{D}/none"] => Same;
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", "5000", "{D}/none"] => Same;
    "ipcfdholder-list" / "s6-fdholder-list" ["-t5000", "{D}/none"] => Same;
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", "007", "{D}/none"] => Same;
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", "4294967295", "{D}/none"] => Same;
    "ipcfdholder-list" / "s6-fdholder-list" ["{D}/none", "extra"] => Same;
    "ipcfdholder-list" / "s6-fdholder-list" ["--", "{D}/none"] => Same;
    "ipcfdholder-list" / "s6-fdholder-list" [""] => SameCode("an empty socket path: we say `Invalid argument`, s6 `Connection refused`");
    "ipcfdholder-list" / "s6-fdholder-list" [] => Usage("missing socket");
    "ipcfdholder-list" / "s6-fdholder-list" ["-t"] => Usage("-t: missing argument");
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", "+5", "{D}/none"] => Usage("-t: +5 is not a number (digits only, no sign)");
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", "-1", "{D}/none"] => Usage("-t: -1 is not a number (digits only, no sign)");
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", "", "{D}/none"] => Usage("-t: \"\" is not a number");
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", " 5", "{D}/none"] => Usage("-t:  5 is not a number");
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", "0x5", "{D}/none"] => Usage("-t: 0x5 is not a number");
    "ipcfdholder-list" / "s6-fdholder-list" ["-t5x", "{D}/none"] => Usage("-t: 5x is not a number");
    "ipcfdholder-list" / "s6-fdholder-list" ["-t", "4294967296", "{D}/none"] => Usage("-t: 4294967296 is too large (at most 4294967295)");
    "ipcfdholder-list" / "s6-fdholder-list" ["-Z", "{D}/none"] => Usage("unknown option -Z");
    "ipcfdholder-list" / "s6-fdholder-list" ["--help"] => HELP_ADDED;
    "ipcfdholder-store" / "s6-fdholder-store" ["{D}/none", "id"] => Same;
    "ipcfdholder-store" / "s6-fdholder-store" ["-d", "0", "{D}/none", "id"] => Same;
    "ipcfdholder-store" / "s6-fdholder-store" ["-d", "4294967295", "{D}/none", "id"] => Same;
    "ipcfdholder-store" / "s6-fdholder-store" ["-t", "0", "-T", "0", "{D}/none", "id"] => Same;
    "ipcfdholder-store" / "s6-fdholder-store" ["-d3", "-t5", "-T4294967295", "{D}/none", "id"] => Same;
    "ipcfdholder-store" / "s6-fdholder-store" ["{D}/none", "id", "extra"] => Same;
    "ipcfdholder-store" / "s6-fdholder-store" ["--", "{D}/none", "-d"] => Same;
    "ipcfdholder-store" / "s6-fdholder-store" [] => Usage("missing socket");
    "ipcfdholder-store" / "s6-fdholder-store" ["{D}/none"] => Usage("missing id");
    "ipcfdholder-store" / "s6-fdholder-store" ["-d"] => Usage("-d: missing argument");
    "ipcfdholder-store" / "s6-fdholder-store" ["-d", "+1", "{D}/none", "id"] => Usage("-d: +1 is not a number (digits only, no sign)");
    "ipcfdholder-store" / "s6-fdholder-store" ["-d", "x", "{D}/none", "id"] => Usage("-d: x is not a number");
    "ipcfdholder-store" / "s6-fdholder-store" ["-d3t5", "{D}/none", "id"] => Usage("-d: 3t5 is not a number");
    "ipcfdholder-store" / "s6-fdholder-store" ["-T", "-1", "{D}/none", "id"] => Usage("-T: -1 is not a number (digits only, no sign)");
    "ipcfdholder-store" / "s6-fdholder-store" ["-t", "4294967296", "{D}/none", "id"] => Usage("-t: 4294967296 is too large (at most 4294967295)");
    "ipcfdholder-store" / "s6-fdholder-store" ["-D", "{D}/none", "id"] => Usage("unknown option -D");
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["{D}/none", "id", "true"] => Same;
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["-D", "{D}/none", "id", "true"] => Same;
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["-Dt5", "{D}/none", "id", "true"] => Same;
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["-t", "0", "{D}/none", "id", "true"] => Same;
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["{D}/none", "id", "true", "-D"] => Same;
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["{D}/none", "id", ""] => Same;
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" [] => Usage("missing socket");
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["{D}/none"] => Usage("missing id");
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["{D}/none", "id"] => Usage("missing prog");
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["-t", "x", "{D}/none", "id", "true"] => Usage("-t: x is not a number");
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["-t", "+5", "{D}/none", "id", "true"] => Usage("-t: +5 is not a number (digits only, no sign)");
    "ipcfdholder-retrieve" / "s6-fdholder-retrieve" ["-D5", "{D}/none", "id", "true"] => Usage("unknown option -5");
    "ipcfdholder-delete" / "s6-fdholder-delete" ["{D}/none", "id"] => Same;
    "ipcfdholder-delete" / "s6-fdholder-delete" ["-t", "5", "{D}/none", "id"] => Same;
    "ipcfdholder-delete" / "s6-fdholder-delete" ["{D}/none", "id", "extra"] => Same;
    "ipcfdholder-delete" / "s6-fdholder-delete" [] => Usage("missing socket");
    "ipcfdholder-delete" / "s6-fdholder-delete" ["{D}/none"] => Usage("missing id");
    "ipcfdholder-delete" / "s6-fdholder-delete" ["-t", "+5", "{D}/none", "id"] => Usage("-t: +5 is not a number (digits only, no sign)");
    "ipcfdholder-delete" / "s6-fdholder-delete" ["-t", "", "{D}/none", "id"] => Usage("-t: \"\" is not a number");
    "ipcfdholder-getdump" / "s6-fdholder-getdump" ["{D}/none", "true"] => Same;
    "ipcfdholder-getdump" / "s6-fdholder-getdump" ["-t", "0", "{D}/none", "true"] => Same;
    "ipcfdholder-getdump" / "s6-fdholder-getdump" ["{D}/none", "true", "-t", "x"] => Same;
    "ipcfdholder-getdump" / "s6-fdholder-getdump" [] => Usage("missing socket");
    "ipcfdholder-getdump" / "s6-fdholder-getdump" ["{D}/none"] => Usage("missing prog");
    "ipcfdholder-getdump" / "s6-fdholder-getdump" ["-t", "x", "{D}/none", "true"] => Usage("-t: x is not a number");
    "ipcfdholder-getdump" / "s6-fdholder-getdump" ["-t", "99999999999", "{D}/none", "true"] => Usage("-t: 99999999999 is too large (at most 4294967295)");
    "ipcfdholder-setdump" / "s6-fdholder-setdump" ["{D}/none"] env ["S6_FD#" = "0"] => Same;
    "ipcfdholder-setdump" / "s6-fdholder-setdump" ["-t", "5", "{D}/none"] env ["S6_FD#" = "0"] => Same;
    "ipcfdholder-setdump" / "s6-fdholder-setdump" ["{D}/none", "extra"] env ["S6_FD#" = "0"] => Same;
    "ipcfdholder-setdump" / "s6-fdholder-setdump" ["{D}/none"] => Same;
    "ipcfdholder-setdump" / "s6-fdholder-setdump" [] env ["S6_FD#" = "0"] => Usage("missing socket");
    "ipcfdholder-setdump" / "s6-fdholder-setdump" ["-t", "x", "{D}/none"] env ["S6_FD#" = "0"] => Usage("-t: x is not a number");
    "ipcfdholder-setdump" / "s6-fdholder-setdump" ["-t", "-5", "{D}/none"] => Usage("-t: -5 is not a number (digits only, no sign)");
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["{D}/none", "{D}/none"] => Same;
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "5:7", "{D}/none", "{D}/none"] => Same;
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", ":7", "{D}/none", "{D}/none"] => Same;
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "5:", "{D}/none", "{D}/none"] => Same;
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "5", "{D}/none", "{D}/none"] => Same;
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", ":", "{D}/none", "{D}/none"] => Same;
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "4294967295:4294967295", "{D}/none", "{D}/none"] => Same;
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["{D}/none", "{D}/none", "extra"] => Same;
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" [] => Usage("missing socketfrom");
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["{D}/none"] => Usage("missing socketto");
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "", "{D}/none", "{D}/none"] => Usage("-t: \"\" is not timeoutfrom:timeoutto (milliseconds, either may be empty)");
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "+5:7", "{D}/none", "{D}/none"] => Usage("-t: +5:7 is not timeoutfrom:timeoutto (milliseconds, either may be empty)");
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "5:+7", "{D}/none", "{D}/none"] => Usage("-t: 5:+7 is not timeoutfrom:timeoutto (milliseconds, either may be empty)");
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "5:7:9", "{D}/none", "{D}/none"] => Usage("-t: 5:7:9 is not timeoutfrom:timeoutto (milliseconds, either may be empty)");
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "4294967296:1", "{D}/none", "{D}/none"] => Usage("-t: 4294967296:1 is not timeoutfrom:timeoutto (milliseconds, either may be empty)");
    "ipcfdholder-transferdump" / "s6-fdholder-transferdump" ["-t", "1:4294967296", "{D}/none", "{D}/none"] => Usage("-t: 1:4294967296 is not timeoutfrom:timeoutto (milliseconds, either may be empty)");
    "ipcfdholderd" / "s6-fdholderd" [] => Same;
    "ipcfdholderd" / "s6-fdholderd" ["extra"] => Same;
    "ipcfdholderd" / "s6-fdholderd" ["-i", "{D}/r"] => Same;
    "ipcfdholderd" / "s6-fdholderd" ["-x", "{D}/r.cdb"] => Same;
    "ipcfdholderd" / "s6-fdholderd" ["-1", "-v", "0", "-c", "0", "-n", "0", "-t", "0", "-T", "0", "-i", "{D}/r"] => Same;
    "ipcfdholderd" / "s6-fdholderd" ["-c", "99999", "-n", "4294967295", "-v", "4294967295", "-i", "{D}/r"] => Same;
    "ipcfdholderd" / "s6-fdholderd" ["-v2", "-x", "{D}/c", "-i", "{D}/r", "extra"] => Same;
    "ipcfdholderd" / "s6-fdholderd" ["-1c5", "-i", "{D}/r"] => Same;
    "ipcfdholderd" / "s6-fdholderd" ["-c", "+5", "-i", "{D}/r"] => Usage("-c: +5 is not a number (digits only, no sign)");
    "ipcfdholderd" / "s6-fdholderd" ["-v", "x", "-i", "{D}/r"] => Usage("-v: x is not a number");
    "ipcfdholderd" / "s6-fdholderd" ["-n", "", "-i", "{D}/r"] => Usage("-n: \"\" is not a number");
    "ipcfdholderd" / "s6-fdholderd" ["-t", "4294967296", "-i", "{D}/r"] => Usage("-t: 4294967296 is too large (at most 4294967295)");
    "ipcfdholderd" / "s6-fdholderd" ["-T", "-1", "-i", "{D}/r"] => Usage("-T: -1 is not a number (digits only, no sign)");
    "ipcfdholderd" / "s6-fdholderd" ["-i"] => Usage("-i: missing argument");
    "ipcfdholderd" / "s6-fdholderd" ["-Z", "-i", "{D}/r"] => Usage("unknown option -Z");
    "ipcfdholderd" / "s6-fdholderd" ["-vc5", "-i", "{D}/r"] => Usage("-v: c5 is not a number");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["{D}/no/s"] => Same;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-x", "{D}/r.cdb", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-x", "{D}/c", "-i", "{D}/r", "{D}/no/s", "extra"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-1", "-v", "0", "-d", "-c", "0", "-n", "0", "-t", "0", "-T", "0", "-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-D", "-b", "0", "-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-b", "4294967295", "-c", "4294967295", "-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-1Dd", "-v2", "-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-G", "", "-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-G", "1,,2", "-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-G", "1:2;3 4", "-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-u", "0", "-g", "0", "-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-u", "5", "-g", "5", "-G", "5,6", "-i", "{D}/r", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-U", "-i", "{D}/r", "{D}/no/s"]
        env ["UID" = "5", "GID" = "5", "GIDLIST" = ""] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-i", "{D}/r", "--", "{D}/no/s"] => DAEMON_BIND;
    "ipcfdholder-daemon" / "s6-fdholder-daemon" [] => Usage("missing path");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-i", "{D}/r"] => Usage("missing path");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-i"] => Usage("-i: missing argument");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-c", "+5", "-i", "{D}/r", "{D}/s"] => Usage("-c: +5 is not a number (digits only, no sign)");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-n", "x", "-i", "{D}/r", "{D}/s"] => Usage("-n: x is not a number");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-v", "", "-i", "{D}/r", "{D}/s"] => Usage("-v: \"\" is not a number");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-t", "0x5", "-i", "{D}/r", "{D}/s"] => Usage("-t: 0x5 is not a number");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-T", "4294967296", "-i", "{D}/r", "{D}/s"] => Usage("-T: 4294967296 is too large (at most 4294967295)");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-b", "-1", "-i", "{D}/r", "{D}/s"] => Usage("-b: -1 is not a number (digits only, no sign)");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-u", "ipct-no-such-user", "-i", "{D}/r", "{D}/s"] => Usage("-u: no user ipct-no-such-user in /etc/passwd (it is read directly, without NSS: for an LDAP or sssd user, use s6-envuidgid ipct-no-such-user ipcfdholder-daemon -U …)");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-u", "+5", "-i", "{D}/r", "{D}/s"] => Usage("-u: +5 is not a number (digits only, no sign)");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-g", "ipct-no-such-group", "-i", "{D}/r", "{D}/s"] => Usage("-g: no group ipct-no-such-group in /etc/group (it is read directly, without NSS: for an LDAP or sssd group, give the number: getent group ipct-no-such-group)");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-G", "x", "-i", "{D}/r", "{D}/s"] => Usage("-G: no group x in /etc/group (it is read directly, without NSS: for an LDAP or sssd group, give the number: getent group x)");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-G", ",1", "-i", "{D}/r", "{D}/s"] => Usage("-G: ,1 is not a list of gids or group names separated by commas");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-G", "+1", "-i", "{D}/r", "{D}/s"] => Usage("-G: +1 is not a list of gids or group names separated by commas");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-Z", "-i", "{D}/r", "{D}/s"] => Usage("unknown option -Z");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-P", "-i", "{D}/r", "{D}/s"] => Usage("unknown option -P");
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-G", "1,x", "-i", "{D}/r", "{D}/no/s"] => Ours {
        code: 100, msg: "-G: no group x in /etc/group", peer_code: Some(111),
        compat: "A gid list with anything but numbers and separators is refused",
    };
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-G", "99999999999", "-i", "{D}/r", "{D}/no/s"] => Ours {
        code: 100, msg: "-G: 99999999999 is not a list of gids or group names", peer_code: Some(111),
        compat: "A gid list with anything but numbers and separators is refused",
    };
    // s6-fdholder-daemon serves an unnamed socket until killed: the peer is not run.
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-i", "{D}/r", ""] => Ours {
        code: 100, msg: "PROG: fatal: empty socket path\nPROG: usage: ", peer_code: None,
        compat: "s6-fdholder-daemon serves an unnamed socket",
    };
    "ipcfdholder-daemon" / "s6-fdholder-daemon" ["-c", "+5", "-i", "{D}/r", "{D}/s"] => Ours {
        code: 100, msg: "PROG: fatal: -c: +5", peer_code: Some(100),
        compat: "reported with its reason before the usage line",
    };

    // ---- ipcserver-socketbinder / s6-ipcserver-socketbinder: accepted options fail at
    // the socket (111), or bind and run true (0).
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-d", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-D", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-M", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-m", "-b0", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-B", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-dDMmB", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b", "0", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b", "007", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b", "4294967295", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-a", "0", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-a", "0660", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-a", "7777", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-a", "37777777777", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["--", "{D}/no/s", "true"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["{D}/no/s", "true", "-b", "x"] => BIND;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["{D}/s", "true"] => Same;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-a", "0600", "-B", "{D}/s", "true"] => Same;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-m", "-b", "0", "{D}/s", "true"] => Same;
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["{D}/s", "{D}/none"] => Same;
    // Refused command lines.
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" [] => Usage("missing path");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["{D}/s"] => Usage("missing prog");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["--", "{D}/s"] => Usage("missing prog");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b"] => Usage("-b: missing argument");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b", "", "{D}/s", "true"] => Usage("-b: \"\" is not a number");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b", "+5", "{D}/s", "true"] => Usage("-b: +5 is not a number (digits only, no sign)");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b", "-1", "{D}/s", "true"] => Usage("-b: -1 is not a number (digits only, no sign)");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b", " 5", "{D}/s", "true"] => Usage("-b:  5 is not a number");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b", "0x5", "{D}/s", "true"] => Usage("-b: 0x5 is not a number");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b", "4294967296", "{D}/s", "true"] => Usage("-b: 4294967296 is too large (at most 4294967295)");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-b=5", "{D}/s", "true"] => Usage("-b: =5 is not a number");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-a", "8", "{D}/s", "true"] => Usage("-a: 8 is not an octal number");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-a", "+660", "{D}/s", "true"] => Usage("-a: +660 is not an octal number (digits only, no sign)");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-a", "", "{D}/s", "true"] => Usage("-a: \"\" is not an octal number");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-a", "40000000000", "{D}/s", "true"] => Usage("-a: 40000000000 is too large (at most 037777777777)");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-Z", "{D}/s", "true"] => Usage("unknown option -Z");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-1", "{D}/s", "true"] => Usage("unknown option -1");
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["--help"] => HELP_ADDED;
    // Intended differences.
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["{D}/s", ""] => Ours {
        code: 100, msg: "PROG: fatal: prog is empty\nPROG: usage: ", peer_code: Some(126),
        compat: "An empty path or prog is refused",
    };
    // s6 binds an unnamed socket and runs prog.
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["", "true"] => Ours {
        code: 100, msg: "PROG: fatal: empty socket path\nPROG: usage: ", peer_code: Some(0),
        compat: "An empty path or prog is refused",
    };
    "ipcserver-socketbinder" / "s6-ipcserver-socketbinder" ["-m", "{D}/s", "true"] => Ours {
        code: 111, msg: "PROG: fatal: unable to listen on {D}/s: Operation not supported", peer_code: Some(111),
        compat: "A failed start leaves nothing behind",
    };

    // ---- The nosh-derived listeners: no peer binary; our documented behaviour.
    "local-stream-socket-listen" / "" ["--mode", "660", "{D}/s", "true"] => Ours {
        code: 100, msg: "--mode: 660 is decimal, that is octal 01224, which has bits outside 0777 (a socket mode is permission bits only): write 0660 for octal 660",
        peer_code: None, compat: "a mode with bits outside 0777 is refused",
    };
    "local-seqpacket-socket-listen" / "" ["-m", "777", "{D}/s", "true"] => Ours {
        code: 100, msg: "-m: 777 is decimal, that is octal 01411",
        peer_code: None, compat: "a mode with bits outside 0777 is refused",
    };
    "local-datagram-socket-listen" / "" ["--mode=01777", "{D}/s", "true"] => Ours {
        code: 100, msg: "--mode: 01777 is octal 01777, which has bits outside 0777",
        peer_code: None, compat: "a mode with bits outside 0777 is refused",
    };
    "local-stream-socket-listen" / "" ["--mode", "0660", "{D}/s", "true"] => Ours {
        code: 0, msg: "", peer_code: None, compat: "a mode with bits outside 0777 is refused",
    };
    "local-stream-socket-listen" / "" ["--mode", "0x1b6", "{D}/s", "true"] => Ours {
        code: 0, msg: "", peer_code: None, compat: "a mode with bits outside 0777 is refused",
    };
    "local-stream-socket-listen" / "" ["--uid", "ipct-no-such-user", "{D}/s", "true"] => Ours {
        code: 100, msg: "--uid: no user ipct-no-such-user in /etc/passwd (it is read directly, without NSS: for an LDAP or sssd user, give the number: id -u ipct-no-such-user)",
        peer_code: None, compat: "User and group names are read from",
    };
    "local-stream-socket-listen" / "" ["--user", "nobody", "--group", "nogroup", "{D}/s", "true"] => Ours {
        code: 0, msg: "", peer_code: None, compat: "User and group names are read from",
    };
    "local-seqpacket-socket-listen" / "" ["-b", "+5", "{D}/s", "true"] => Ours {
        code: 100, msg: "-b: +5 is not a number (decimal, 0octal or 0xhex)",
        peer_code: None, compat: "reported with its reason before the usage line",
    };
    // ---- the ipcnotify pair: s6 2.15's programs are not in Debian; the rows against
    // target/s6-upstream are in ipcnotify.rs. Here, ours alone.
    "ipcnotify-socket-from-fd" / "" ["-t", "x", "true"] => Ours {
        code: 100, msg: "PROG: fatal: timeout must be an unsigned integer\nPROG: usage: ",
        peer_code: None, compat: REASON_FIRST,
    };
    "ipcnotify-socket-from-fd" / "" ["-d", "3", "-fk", "--timeout=5", "{D}/none"] => Ours {
        code: 127, msg: "PROG: fatal: unable to exec {D}/none: No such file or directory\n",
        peer_code: None, compat: REASON_FIRST,
    };
    "ipcnotify-fd-from-socket" / "" ["-3", "x", "true"] => Ours {
        code: 100, msg: "PROG: fatal: notification-fd must be an unsigned integer\nPROG: usage: ",
        peer_code: None, compat: REASON_FIRST,
    };
    "ipcnotify-fd-from-socket" / "" ["-f", "true"] => Ours {
        code: 111,
        msg: "PROG: fatal: unable to read ./notification-fd: No such file or directory\n",
        peer_code: None, compat: REASON_FIRST,
    };
    "nptlistend" / "" ["-t", "+5"] => Ours {
        code: 100, msg: "PROG: fatal: -t: +5 is not a number (digits only, no sign)\nPROG: usage: ",
        peer_code: None, compat: "reported with its reason before the usage line",
    };
    "nptlistend" / "" ["-t"] => Ours {
        code: 100, msg: "PROG: fatal: -t: missing argument\n", peer_code: None,
        compat: "reported with its reason before the usage line",
    };
    "nptlistend" / "" ["x"] => Ours {
        code: 100, msg: "unexpected argument x", peer_code: None,
        compat: "reported with its reason before the usage line",
    };
    "ipchttpgate" / "" ["-t", "1s", "-r", "{D}/r", "{D}/b"] => Ours {
        code: 100, msg: "PROG: fatal: -t: 1s is not a number\nPROG: usage: ", peer_code: None,
        compat: "reported with its reason before the usage line",
    };
    "ipchttpgate" / "" ["{D}/b"] => Ours {
        code: 100, msg: "PROG: fatal: -r rulesfile is required\nPROG: usage: ", peer_code: None,
        compat: "reported with its reason before the usage line",
    };
    "ipchttpgate" / "" ["-r", "{D}/r", "{D}/b", "x"] => Ours {
        code: 100, msg: "PROG: fatal: unexpected argument x\nPROG: usage: ", peer_code: None,
        compat: "reported with its reason before the usage line",
    };
    "ipchttpgate" / "" ["-r", "{D}/r", "{D}/b"] => Ours {
        code: 100, msg: "PROG: fatal: IPCREMOTEEUID not set\n", peer_code: None,
        compat: "refuses to run (exit 100)",
    };
    "ipchttpgate" / "" ["-r", "{D}/r", "{D}/b"] env ["IPCREMOTEEUID" = "0", "IPCREMOTEEGID" = "x"] => Ours {
        code: 100, msg: "PROG: fatal: invalid $IPCREMOTEEGID\n", peer_code: None,
        compat: "refuses to run (exit 100)",
    };
    "ipchttpgate" / "" ["-r", "{D}/r", "{D}/b"] env ["IPCREMOTEEUID" = "0", "IPCREMOTEEGID" = "0"] => Ours {
        code: 111, msg: "PROG: fatal: unable to open {D}/r: No such file or directory\n",
        peer_code: None, compat: "the rules file unreadable",
    };
};

/// Normalise `out` of `name` run in `dir`: program names (ours, the peers and the
/// programs they chain to) become `PROG`, `dir` becomes `{D}`.
fn seen(out: &Output, dir: &Path) -> (Option<i32>, String, String) {
    let mut names: Vec<&str> = PAIRS
        .iter()
        .flat_map(|(a, b)| [*a, *b])
        .chain([
            "s6-applyuidgid",
            "s6-ipcserver-socketbinder",
            "s6-ftrig-listen1",
            "s6-ipcclient",
            "s6-sudoc",
        ])
        .collect();
    // Longest first, so `s6-ipcserver-access: ` is not read as `…ipcserver: `.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let norm = |b: &[u8]| {
        let mut s = String::from_utf8_lossy(b).replace(&*dir.to_string_lossy(), "{D}");
        for n in &names {
            s = s.replace(&format!("{n}: "), "PROG: ");
        }
        s
    };
    (out.status.code(), norm(&out.stdout), norm(&out.stderr))
}

/// Run `prog` with `row`'s argv and environment in a fresh directory.
fn run_row(prog: &str, row: &Row) -> ((Option<i32>, String, String), Dir) {
    let d = Dir::new("opt");
    let ds = d
        .join("")
        .to_string_lossy()
        .trim_end_matches('/')
        .to_string();
    let args: Vec<String> = row.args.iter().map(|a| a.replace("{D}", &ds)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(String, String)> = row
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.replace("{D}", &ds)))
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let path = if prog.starts_with("s6-") {
        s6(prog).into()
    } else {
        bin(prog)
    };
    let mut c = Command::new(path);
    c.env("PATH", peer_path());
    c.args(&args).current_dir(&ds);
    // The variables rows play with are unset unless the row sets them.
    for k in [
        "UID",
        "GID",
        "GIDLIST",
        "PROTO",
        "IPCREMOTEEUID",
        "IPCREMOTEEGID",
        "LISTEN_FDS",
        "NOTIFY_SOCKET",
        "LISTEN_PID",
        "IPCCONNNUM",
        "IPCCONNMAX",
    ] {
        c.env_remove(k);
    }
    c.envs(env.iter().copied());
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let desc = format!("{c:?}");
    let mut child = c.spawn().unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    // stdin: a pipe at EOF (not a socket).
    drop(child.stdin.take());
    let out = wait_output(&mut child, 20, &desc);
    (seen(&out, Path::new(&ds)), d)
}

/// A man page's source with its lines joined and white space collapsed, so that a
/// sentence the page wraps across lines is still found whole.
fn page(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("doc/{name}.1"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check(row: &Row) -> Result<(), String> {
    let (ours, _d1) = run_row(row.ours, row);
    let peer = || run_row(row.peer, row);
    let usage_of = |s: &str| s.lines().last().unwrap_or("").starts_with("PROG: usage: ");
    // s6 2.15's option parser (skalibs gol) prints its own reason, without the usage
    // line, where 2.11 printed the usage line alone.
    let refused_2_15 =
        |s: &str| peer_is(S6::V2_15) && s.lines().count() == 1 && s.starts_with("PROG: fatal: ");
    let want = match row.want {
        Versions(a, b) => {
            if peer_is(S6::V2_15) {
                *b
            } else {
                *a
            }
        }
        w => w,
    };
    match want {
        Versions(..) => return Err("nested Versions".into()),
        Same => {
            let (theirs, _d2) = peer();
            if ours != theirs {
                return Err(format!("ours {ours:?}\npeer {theirs:?}"));
            }
        }
        SameCode(_) => {
            let (theirs, _d2) = peer();
            if ours.0 != theirs.0 {
                return Err(format!("exit codes differ: ours {ours:?}\npeer {theirs:?}"));
            }
            if ours.0 == Some(100) || ours.0 == Some(0) {
                return Err(format!(
                    "a SameCode row must show a failure past parsing: {ours:?}"
                ));
            }
        }
        Usage(reason) => {
            let (theirs, _d2) = peer();
            let want = format!("PROG: fatal: {reason}\n");
            if ours.0 != Some(100)
                || !ours.2.starts_with(&want)
                || !usage_of(&ours.2)
                || ours.2.lines().count() != 2
            {
                return Err(format!(
                    "ours {ours:?}, wanted 100 and {want:?} then the usage line"
                ));
            }
            if theirs.0 != Some(100)
                || theirs.2.lines().count() != 1
                || !(usage_of(&theirs.2) || refused_2_15(&theirs.2))
            {
                return Err(format!(
                    "peer {theirs:?}, wanted 100 and its usage line alone"
                ));
            }
            if !page(row.ours).contains(REASON_FIRST) {
                return Err(format!("doc/{}.1 does not say {REASON_FIRST:?}", row.ours));
            }
        }
        Ours {
            code,
            msg,
            peer_code,
            compat,
        } => {
            if ours.0 != Some(code) || !ours.2.contains(msg) {
                return Err(format!("ours {ours:?}, wanted {code} and {msg:?}"));
            }
            if let Some(pc) = peer_code {
                let (theirs, _d2) = peer();
                if theirs.0 != Some(pc) {
                    return Err(format!("peer {theirs:?}, wanted {pc}"));
                }
            }
            if !page(row.ours).contains(compat) {
                return Err(format!("doc/{}.1 does not say {compat:?}", row.ours));
            }
        }
    }
    Ok(())
}

row! { [V2_11, V2_15]
fn options_against_the_peers() {
    let peers: Vec<&str> = ROWS
        .iter()
        .map(|r| r.peer)
        .filter(|p| !p.is_empty())
        .collect();
    let missing: Vec<&&str> = peers.iter().filter(|p| !have(p)).collect();
    if !missing.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI=true and peers are missing: {missing:?}"
        );
        eprintln!("skipping: peers missing: {missing:?}");
        return;
    }
    let mut failed = Vec::new();
    for row in ROWS {
        if let Err(e) = check(row) {
            failed.push(format!(
                "{} {:?} env {:?} ({:?}):\n{e}",
                row.ours, row.args, row.env, row.want
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} rows failed:\n\n{}",
        failed.len(),
        ROWS.len(),
        failed.join("\n\n")
    );
    assert!(ROWS.len() >= 200, "{} rows", ROWS.len());
}
}

#[test]
fn every_program_has_option_rows() {
    for (ours, _) in PAIRS {
        assert!(
            ROWS.iter().any(|r| r.ours == *ours),
            "{ours} has no row in options.rs"
        );
    }
}

row! { [V2_11, V2_15]
/// `-C 0` as each server takes it: s6-ipcserverd (and so ipcserverd) refuses every
/// connection, s6-ipcserver (and so ipcserver) means 1. Both servers are run on a socket
/// bound by `s6-ipcserver-socketbinder`, and a client must read end of file at once.
fn ipcserverd_c0_denies_every_connection_as_s6() {
    use std::io::Read;
    if !have("s6-ipcserver-socketbinder") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI=true and s6 is missing"
        );
        return;
    }
    let mut logs = Vec::new();
    for server in [bin("ipcserverd").into_os_string(), s6("s6-ipcserverd")] {
        let d = Dir::new("c0");
        let p = d.join("s");
        let mut c = Command::new(s6("s6-ipcserver-socketbinder"));
        c.env("PATH", peer_path());
    c.env("PATH", peer_path());
        c.arg("--").arg(&p).arg(&server);
        c.args(["-1", "-C", "0", "--", "echo", "served"]);
        let srv = Server::start(c);
        let mut conn = std::os::unix::net::UnixStream::connect(&p).unwrap();
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut got = String::new();
        conn.read_to_string(&mut got).unwrap();
        assert_eq!(got, "", "{server:?} served a connection with -C 0");
        assert!(
            eventually(10, || srv.log().contains("deny 0:0 count 0/0")),
            "{server:?}: {}",
            srv.log()
        );
        let log = srv.log();
        let line = log
            .lines()
            .find(|l| l.contains("deny"))
            .unwrap_or("")
            .to_string();
        logs.push(
            line.replace("s6-ipcserverd: ", "PROG: ")
                .replace("ipcserverd: ", "PROG: "),
        );
    }
    // s6 ends the line with ": Success" (ipcserverd(1) COMPATIBILITY, `deny` lines).
    assert_eq!(logs[0], "PROG: info: deny 0:0 count 0/0");
    assert!(
        logs[1].starts_with("PROG: info: deny 0:0 count 0/0: "),
        "{}",
        logs[1]
    );
    // And ipcserver -C 0 serves one client per uid, as s6-ipcserver.
    let o = ipctools_limits(&["-C", "0", "/s", "true"]);
    assert_eq!(o, 1);
}
}

fn ipctools_limits(args: &[&str]) -> u32 {
    let args = args.iter().map(std::ffi::OsString::from);
    match ipctools::cli::ipcserver::parse(args) {
        Ok(o) => o.cfg.serve.limits.localmaxconn,
        Err(e) => panic!("{e}"),
    }
}

/// Start `prog` (ipcserver or s6-ipcserver) with `args`, `-1`, on `{dir}/s`, running
/// `script` for each client; return the first client's output and the socket's mode.
fn serve_once(prog: &str, args: &[&str], env: &[(&str, &str)], script: &str) -> (String, u32) {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let d = Dir::new("optsrv");
    let p = d.join("s");
    let mut c = Command::new(if prog.starts_with("s6-") {
        s6(prog).into()
    } else {
        bin(prog)
    });
    c.env("PATH", peer_path());
    for k in ["UID", "GID", "GIDLIST"] {
        c.env_remove(k);
    }
    c.envs(env.iter().copied());
    c.args(args).arg("-1").arg(&p).args(["sh", "-c", script]);
    let srv = Server::start(c);
    let mode = std::fs::symlink_metadata(&p).unwrap().permissions().mode() & 0o7777;
    let mut conn = std::os::unix::net::UnixStream::connect(&p).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut out = String::new();
    conn.read_to_string(&mut out).unwrap();
    drop(srv);
    (out, mode)
}

/// The supplementary groups in `id -G` output, less the primary gid 65534.
fn groups(out: &str) -> Vec<u32> {
    let mut g: Vec<u32> = out
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .filter(|&g| g != 65534)
        .collect();
    g.sort_unstable();
    g
}

row! { [V2_11, V2_15]
/// `-a 7777` keeps only the permission bits, and `-G 4242,,4243` and
/// `GIDLIST=4242,,4243` (empty elements) give groups 4242 and 4243, as with s6.
/// (Whether the primary gid is in the list too is compared in the ids family.)
fn modes_and_gid_lists_on_a_real_server_as_s6() {
    if !have("s6-ipcserver") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI=true and s6 is missing"
        );
        return;
    }
    for prog in ["ipcserver", "s6-ipcserver"] {
        let (_, mode) = serve_once(prog, &["-a", "7777"], &[], "true");
        assert_eq!(mode, 0o777, "{prog} -a 7777");
        let (_, mode) = serve_once(prog, &["-a", "660"], &[], "true");
        assert_eq!(mode, 0o660, "{prog} -a 660");
        let (out, _) = serve_once(
            prog,
            &["-u", "65534", "-g", "65534", "-G", "4242,,4243,"],
            &[],
            "id -G",
        );
        assert_eq!(groups(&out), [4242, 4243], "{prog} -G: {out}");
        let (out, _) = serve_once(
            prog,
            &["-U"],
            &[
                ("UID", "65534"),
                ("GID", "65534"),
                ("GIDLIST", "4243,,4242"),
            ],
            "id -G",
        );
        assert_eq!(groups(&out), [4242, 4243], "{prog} GIDLIST: {out}");
        // -U, then -u: the option wins over UID, as s6-applyuidgid -U -u does.
        let (out, _) = serve_once(
            prog,
            &["-U", "-u", "65534"],
            &[("UID", "1"), ("GID", "65534"), ("GIDLIST", "")],
            "id -u",
        );
        assert_eq!(out, "65534\n", "{prog} -U -u");
    }
}
}

row! { [V2_11, V2_15]
/// A regex that is not UTF-8: refused by npt-wait (npt-wait(1) COMPATIBILITY), taken by
/// s6-ftrig-wait, which then times out (exit 1) on a fifodir nobody notifies.
fn non_utf8_regex_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let d = Dir::new("rx");
    let fd = d.join("f");
    let re = std::ffi::OsStr::from_bytes(b"a\xff");
    let mut c = Command::new(bin("npt-mkfifodir"));
    c.arg(&fd);
    run_timeout(c, 10).assert_code(0);
    let mut c = Command::new(bin("npt-wait"));
    c.args(["-t", "300"]).arg(&fd).arg(re);
    let o = run_timeout(c, 10);
    o.assert_code(100);
    assert!(
        o.err()
            .starts_with("npt-wait: fatal: regex a\\xff is not valid UTF-8\n"),
        "{}",
        o.err()
    );
    assert!(page("npt-wait").contains("A regex that is not valid UTF-8 is refused"));
    if have("s6-ftrig-wait") {
        let mut c = Command::new(s6("s6-ftrig-wait"));
        c.env("PATH", peer_path());
    c.env("PATH", peer_path());
        c.args(["-t", "300"]).arg(&fd).arg(re);
        // s6-ftrig-wait's timeout: 1 in 2.11, 99 in 2.15 (as npt-wait).
        run_timeout(c, 10).assert_code(if peer_is(S6::V2_15) { 99 } else { 1 });
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI=true and s6 is missing"
        );
    }
}
}
