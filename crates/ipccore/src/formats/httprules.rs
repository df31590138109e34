//! ipchttpgate's rules file: which client may send which HTTP method to which path.
//!
//! One rule per line, `ACTION METHODS PATH WHO`, fields separated by blanks (spaces or
//! tabs); blank lines and lines whose first non-blank character is `#` are ignored (a
//! `#` later in a line belongs to its field: PATH may contain one).
//! - ACTION: `allow` or `deny`.
//! - METHODS: `*`, or methods separated by commas (`GET,HEAD`), matched exactly (HTTP
//!   methods are case-sensitive).
//! - PATH: a regular expression matched against the whole request path, the query
//!   string left out, after percent-decoding (the gate has refused every request whose
//!   decoding could change the path's segments: `%2F`, `%2E`, `%5C`). The dialect is
//!   regex-automata's (the `regex` crate's syntax): bytes, not Unicode; `.` matches
//!   any byte; `(?i)` and the other inline flags work; the match is anchored at both
//!   ends, so `/containers/json` matches that path only.
//! - WHO: `*`, or `uid=N`, `gid=N` (the client's effective gid) and `group=N` (the
//!   effective gid or any supplementary group) separated by commas: any one of them
//!   matching is enough.
//!
//! The first rule whose three conditions match decides; with none, the request is
//! denied. Parsing is all or nothing: one bad line refuses the whole file, naming the
//! line. This module holds no I/O: the gate reads the file.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind};
use regex_syntax::hir::Hir;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Largest rules file read, in bytes: a file this size is a mistake, not a policy.
pub const MAX_FILE: usize = 1 << 20;

/// The largest automaton a PATH may compile to (regex-automata's meta regex default).
const NFA_SIZE_LIMIT: usize = 10 << 20;

/// The longest PATH whose compilation may wait for its first use (see
/// [`compile_path`]).
const DEFER_MAX: usize = 1024;

/// Who is asking: the kernel's view of the client, as the super-server passed it on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// The effective uid.
    pub uid: u32,
    /// The effective gid.
    pub egid: u32,
    /// The supplementary groups (may repeat the egid).
    pub groups: Vec<u32>,
}

impl Client {
    /// Whether `gid` is one of the client's groups: its egid or a supplementary one.
    pub fn in_group(&self, gid: u32) -> bool {
        self.egid == gid || self.groups.contains(&gid)
    }
}

/// What the rules say about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed by the rule on this line.
    Allow(usize),
    /// Denied by the rule on this line, or (`None`) because no rule matched.
    Deny(Option<usize>),
}

/// A line that is not a rule: its number (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub why: String,
}

/// One of the conditions of WHO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Principal {
    Uid(u32),
    Gid(u32),
    Group(u32),
}

impl Principal {
    fn matches(self, c: &Client) -> bool {
        match self {
            Principal::Uid(u) => c.uid == u,
            Principal::Gid(g) => c.egid == g,
            Principal::Group(g) => c.in_group(g),
        }
    }
}

/// One rule; an empty list (`methods`, `who`) is `*`.
#[derive(Debug, Clone)]
struct Rule {
    line: usize,
    allow: bool,
    methods: Vec<String>,
    path: Path,
    who: Vec<Principal>,
}

/// PATH as a rule holds it: compiled at load, or, when its compilation cannot fail
/// (see [`compile_path`]), parsed at load and compiled at its first use. A gate runs
/// per connection and most connections reach only the first few rules.
#[derive(Debug, Clone)]
enum Path {
    Ready(PathRegex),
    Deferred {
        hir: Hir,
        compiled: OnceLock<Option<PathRegex>>,
    },
}

impl Path {
    /// Whether the whole of `path` matches; `None` if a deferred PATH failed to compile
    /// after all (which the size bound of [`compile_path`] rules out).
    fn is_match(&self, path: &[u8]) -> Option<bool> {
        match self {
            Path::Ready(r) => Some(r.is_match(path)),
            Path::Deferred { hir, compiled } => compiled
                .get_or_init(|| build_alone(hir))
                .as_ref()
                .map(|r| r.is_match(path)),
        }
    }
}

/// A compiled PATH: a lazy DFA, whose states are built as paths need them. The meta
/// regex it replaced also compiled a reverse automaton, captures and literal
/// prefilters, none of which a whole-path yes/no uses: that was most of a gate's start.
/// It reports every match (`MatchKind::All`), so a search over the whole path ends at
/// its end exactly when the whole path matches.
#[derive(Debug)]
struct PathRegex {
    dfa: DFA,
    /// Shared by the threads of a listening gate; each search holds it for the few
    /// hundred nanoseconds a path takes.
    cache: Mutex<Cache>,
}

impl Clone for PathRegex {
    /// The same automaton, with a cache of its own.
    fn clone(&self) -> PathRegex {
        let dfa = self.dfa.clone();
        let cache = Mutex::new(dfa.create_cache());
        PathRegex { dfa, cache }
    }
}

impl PathRegex {
    /// Whether the whole of `path` matches. A search error (the lazy DFA giving up,
    /// which its configuration rules out) counts as a match: for a deny rule that
    /// refuses, for an allow rule it lets through what the rule was written for, and
    /// which rule applies stays the first matching one.
    fn is_match(&self, path: &[u8]) -> bool {
        let input = Input::new(path).anchored(Anchored::Yes);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        self.dfa
            .try_search_fwd(&mut cache, &input)
            .map_or(true, |m| m.is_some_and(|m| m.offset() == path.len()))
    }
}

impl Rule {
    fn matches(&self, method: &[u8], path: &[u8], c: &Client) -> bool {
        (self.methods.is_empty() || self.methods.iter().any(|m| m.as_bytes() == method))
            && (self.who.is_empty() || self.who.iter().any(|p| p.matches(c)))
            // A PATH that cannot run never allows: a deny rule applies, an allow
            // rule does not.
            && self.path.is_match(path).unwrap_or(!self.allow)
    }
}

/// A parsed rules file, in file order.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the file has no rule at all (then every request is denied).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The verdict of the first rule matching `method`, `path` (percent-decoded, no
    /// query) and client `c`; [`Verdict::Deny`]`(None)` when none does.
    pub fn judge(&self, method: &[u8], path: &[u8], c: &Client) -> Verdict {
        match self.rules.iter().find(|r| r.matches(method, path, c)) {
            Some(r) if r.allow => Verdict::Allow(r.line),
            Some(r) => Verdict::Deny(Some(r.line)),
            None => Verdict::Deny(None),
        }
    }
}

/// Parse a whole rules file.
///
/// # Errors
/// The first bad line, with its number and the reason (escaped where it quotes the
/// file).
pub fn parse(text: &[u8]) -> Result<Rules, BadLine> {
    if text.len() > MAX_FILE {
        return Err(BadLine {
            line: 0,
            why: format!("file too big (over {MAX_FILE} bytes)"),
        });
    }
    let mut rules = Vec::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let bad = |why: String| BadLine { line, why };
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let fields: Vec<&[u8]> = raw
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty())
            .collect();
        match fields.first() {
            None => continue,
            Some(f) if f.starts_with(b"#") => continue,
            Some(_) => {}
        }
        let [action, methods, path, who] = fields[..] else {
            return Err(bad(format!(
                "expected 4 fields (ACTION METHODS PATH WHO), found {}",
                fields.len()
            )));
        };
        rules.push(Rule {
            line,
            allow: parse_action(action).map_err(bad)?,
            methods: parse_methods(methods).map_err(bad)?,
            path: compile_path(path).map_err(bad)?,
            who: parse_who(who).map_err(bad)?,
        });
    }
    Ok(Rules { rules })
}

/// An untrusted field for a message: escaped, and `""` when empty.
fn show(b: &[u8]) -> String {
    if b.is_empty() {
        return "\"\"".into();
    }
    crate::base::text::escape(b)
}

fn parse_action(f: &[u8]) -> Result<bool, String> {
    match f {
        b"allow" => Ok(true),
        b"deny" => Ok(false),
        _ => Err(format!("unknown action {} (allow or deny)", show(f))),
    }
}

/// A token as RFC 9110 defines one: what a method may be made of.
fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn parse_methods(f: &[u8]) -> Result<Vec<String>, String> {
    if f == b"*" {
        return Ok(Vec::new());
    }
    f.split(|&b| b == b',')
        .map(|m| {
            if m.is_empty() || !m.iter().all(|&c| is_tchar(c)) {
                return Err(format!(
                    "invalid method {} in {} (methods are tokens such as GET, separated by commas, or *)",
                    show(m),
                    show(f)
                ));
            }
            Ok(String::from_utf8_lossy(m).into_owned())
        })
        .collect()
}

fn parse_who(f: &[u8]) -> Result<Vec<Principal>, String> {
    if f == b"*" {
        return Ok(Vec::new());
    }
    f.split(|&b| b == b',')
        .map(|p| {
            let bad = || {
                format!(
                    "invalid client {} in {} (uid=N, gid=N or group=N, separated by commas, or *)",
                    show(p),
                    show(f)
                )
            };
            let (kind, n) = p
                .iter()
                .position(|&c| c == b'=')
                .map(|i| (&p[..i], &p[i + 1..]))
                .ok_or_else(bad)?;
            let n = crate::base::ucspi::uint0_scan(n).ok_or_else(bad)?;
            match kind {
                b"uid" => Ok(Principal::Uid(n)),
                b"gid" => Ok(Principal::Gid(n)),
                b"group" => Ok(Principal::Group(n)),
                _ => Err(bad()),
            }
        })
        .collect()
}

/// Compile PATH anchored at both ends. The pattern is first parsed alone, so that one
/// which is not a whole regex on its own (`a)|(b`) cannot escape the anchoring group it
/// is then put in (`^(?:PATH)$`), and a `#` comment of `(?x)` cannot swallow that
/// group's end.
///
/// The usual PATH is parsed once, alone, and anchored by the search instead
/// ([`PathRegex::is_match`]); its compilation waits for its first use when it cannot
/// fail: without a counted repetition (`{n}`, the only construct that copies part of
/// the automaton) and within [`DEFER_MAX`] bytes, the automaton stays far below
/// [`NFA_SIZE_LIMIT`] (a few hundred bytes per pattern byte at most, a byte class
/// having at most 128 ranges).
fn compile_path(f: &[u8]) -> Result<Path, String> {
    let pat = std::str::from_utf8(f).map_err(|_| format!("path regex {} is not UTF-8", show(f)))?;
    let config = syntax::Config::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(true);
    if let Some(hir) = parse_alone(pat, config) {
        if !pat.contains('{') && pat.len() <= DEFER_MAX {
            let compiled = OnceLock::new();
            return Ok(Path::Deferred { hir, compiled });
        }
        if let Some(r) = build_alone(&hir) {
            return Ok(Path::Ready(r));
        }
    }
    let bad = |why: String| {
        let why = why.lines().last().unwrap_or("").trim().to_string();
        format!("invalid path regex {}: {why}", show(f))
    };
    syntax::parse_with(pat, &config).map_err(|e| bad(e.to_string()))?;
    let dfa = DFA::builder()
        .syntax(config)
        .configure(dfa_config())
        .thompson(nfa_config(NFA_SIZE_LIMIT))
        .build(&format!("^(?:{pat})$"))
        .map_err(|e| bad(e.to_string()))?;
    let cache = Mutex::new(dfa.create_cache());
    Ok(Path::Ready(PathRegex { dfa, cache }))
}

/// PATH parsed alone, where that accepts no file the anchoring group would refuse: no
/// `#` in PATH (no comment to swallow the group's end), and two levels of nesting to
/// spare for the group. `None` sends PATH the way that names its error.
fn parse_alone(pat: &str, config: syntax::Config) -> Option<Hir> {
    if pat.contains('#') {
        return None;
    }
    let nest = config.get_nest_limit().checked_sub(2)?;
    syntax::parse_with(pat, &config.nest_limit(nest)).ok()
}

/// The automaton of a PATH parsed alone, with a kilobyte to spare under the limit for
/// what the anchoring group would have added.
fn build_alone(hir: &Hir) -> Option<PathRegex> {
    let nfa = thompson::Compiler::new()
        .configure(nfa_config(NFA_SIZE_LIMIT - 1024))
        .build_from_hir(hir)
        .ok()?;
    let dfa = DFA::builder()
        .configure(dfa_config())
        .build_from_nfa(nfa)
        .ok()?;
    let cache = Mutex::new(dfa.create_cache());
    Some(PathRegex { dfa, cache })
}

fn nfa_config(limit: usize) -> thompson::Config {
    thompson::Config::new()
        .utf8(false)
        .which_captures(WhichCaptures::None)
        // The meta regex's limit: a PATH it refused stays refused.
        .nfa_size_limit(Some(limit))
}

fn dfa_config() -> regex_automata::hybrid::dfa::Config {
    DFA::config()
        .match_kind(MatchKind::All)
        // A PATH too big for the default cache gets the least cache it can run in,
        // where the meta regex ran its NFA simulation instead: the same rules load.
        .skip_cache_capacity_check(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uid: u32, egid: u32, groups: &[u32]) -> Client {
        Client {
            uid,
            egid,
            groups: groups.to_vec(),
        }
    }

    fn err(text: &str) -> BadLine {
        parse(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn first_match_decides_and_none_denies() {
        let r = parse(
            b"# comment\n\n  \t# indented comment\n\
              deny * /containers/[^/]+/exec uid=1000\n\
              allow GET,HEAD /containers/.* *\r\n\
              allow POST /containers/[^/]+/(start|stop|restart) group=4243,uid=7\n",
        )
        .unwrap();
        assert_eq!(r.len(), 3);
        let anyone = client(1000, 1000, &[]);
        let member = client(1500, 1500, &[10, 4243]);
        assert_eq!(
            r.judge(b"GET", b"/containers/json", &anyone),
            Verdict::Allow(5)
        );
        assert_eq!(
            r.judge(b"GET", b"/containers/x/exec", &anyone),
            Verdict::Deny(Some(4))
        );
        assert_eq!(
            r.judge(b"GET", b"/containers/x/exec", &member),
            Verdict::Allow(5)
        );
        assert_eq!(
            r.judge(b"POST", b"/containers/x/stop", &member),
            Verdict::Allow(6)
        );
        assert_eq!(
            r.judge(b"POST", b"/containers/x/stop", &anyone),
            Verdict::Deny(None)
        );
        assert_eq!(
            r.judge(b"POST", b"/containers/x/stop", &client(7, 7, &[])),
            Verdict::Allow(6)
        );
        // Methods are case-sensitive.
        assert_eq!(
            r.judge(b"get", b"/containers/json", &anyone),
            Verdict::Deny(None)
        );
        assert_eq!(
            parse(b"").unwrap().judge(b"GET", b"/", &anyone),
            Verdict::Deny(None)
        );
    }

    #[test]
    fn path_is_anchored_at_both_ends() {
        let r = parse(b"allow * /a|/ab *\nallow * /x/[0-9]+ *\n").unwrap();
        let c = client(0, 0, &[]);
        assert_eq!(r.judge(b"GET", b"/a", &c), Verdict::Allow(1));
        assert_eq!(r.judge(b"GET", b"/ab", &c), Verdict::Allow(1));
        assert_eq!(r.judge(b"GET", b"/abc", &c), Verdict::Deny(None));
        assert_eq!(r.judge(b"GET", b"/x/12", &c), Verdict::Allow(2));
        assert_eq!(r.judge(b"GET", b"/x/12/y", &c), Verdict::Deny(None));
        assert_eq!(r.judge(b"GET", b"/pre/x/12", &c), Verdict::Deny(None));
        // `.` is any byte, newline and non-UTF-8 included; (?i) works.
        let r = parse(b"allow * /a.b *\nallow * (?i)/CASE *\n").unwrap();
        assert_eq!(r.judge(b"GET", b"/a\xffb", &c), Verdict::Allow(1));
        assert_eq!(r.judge(b"GET", b"/a\nb", &c), Verdict::Allow(1));
        assert_eq!(r.judge(b"GET", b"/case", &c), Verdict::Allow(2));
    }

    #[test]
    fn a_pattern_cannot_escape_the_anchors() {
        let e = err("allow * a)|(b *\n");
        assert_eq!(e.line, 1);
        assert!(e.why.starts_with("invalid path regex a)|(b: "), "{}", e.why);
        // A comment flag would swallow the closing anchor: refused, never unanchored.
        assert!(parse(b"allow * (?x)/a# *\n").is_err());
    }

    /// The lazy DFA accepts the PATHs and decides as the meta regex (all engines) that
    /// PATH was first compiled with did.
    #[test]
    fn the_lazy_dfa_agrees_with_the_meta_regex() {
        use regex_automata::meta::Regex;
        let pats = [
            "(/v[0-9.]+)?/(containers|images)/json",
            "/a|/ab",
            "/x/[0-9]+",
            "/a.b",
            "(?i)/CASE",
            "/containers/[^/]+/(start|stop|restart)",
            "(?-u:\\b)/w\\b.*",
            "",
            ".*",
            "/(a*)*b",
            "/[\\x80-\\xff]+",
            "(?s-u)/.",
            "/a#b",
            "/a$",
            "^/a",
            "/a\\b",
            "(?i)/a(?-i)B",
            "/a(?x) b ",
            "/v[0-9]{1,3}/x",
        ];
        let paths: [&[u8]; 19] = [
            b"/v12/x",
            b"/v1234/x",
            b"/a#b",
            b"/aB",
            b"/Ab",
            b"/v1.40/containers/json",
            b"/containers/json",
            b"/v1/images/json/x",
            b"/a",
            b"/ab",
            b"/abc",
            b"/x/12",
            b"/a\xffb",
            b"/a\nb",
            b"/case",
            b"/containers/x/stop",
            b"",
            b"/w x",
            b"/aaaab",
        ];
        let config = syntax::Config::new()
            .unicode(false)
            .utf8(false)
            .dot_matches_new_line(true);
        // What `compile_path` did before: the pattern parsed alone, then the meta regex
        // of the anchored pattern.
        let meta = |pat: &str| {
            syntax::parse_with(pat, &config).map_err(|_| "error parsing alone".to_string())?;
            Regex::builder()
                .syntax(config)
                .configure(Regex::config().utf8_empty(false))
                .build(&format!("^(?:{pat})$"))
                .map_err(|e| e.to_string())
        };
        // Refused alike; for too big an automaton, with the same reason (a syntax error
        // is named by the pattern parsed alone, as before).
        let deep = |k: usize| format!("{}/a{}", "(".repeat(k), ")".repeat(k));
        let deep: Vec<String> = (240..252).map(deep).collect();
        // The nesting limit falls inside the range: both sides of it are checked.
        let loads = |p: &String| compile_path(p.as_bytes()).is_ok();
        assert!(deep.iter().any(loads) && !deep.iter().all(loads));
        for pat in deep.iter().map(String::as_str).chain([
            "(?x)/a#",
            "a)|(b",
            "/(",
            "/a\\",
            "/a{1000}{1000}",
            "/a{100}{100}",
            "/a{300}{300}",
            "/a{600}{600}",
            "(?i)[a-z]{50}{50}",
            "/.{2000}",
        ]) {
            let theirs = meta(pat);
            let ours = compile_path(pat.as_bytes()).map(|_| ());
            match (&ours, &theirs) {
                (Ok(()), Ok(_)) => {}
                (Err(o), Err(t)) => assert!(
                    o.ends_with(t) || t.starts_with("error parsing"),
                    "{pat}: {o} / {t}"
                ),
                _ => panic!("{pat}: ours {ours:?}, meta {theirs:?}"),
            }
        }
        for pat in pats {
            let ours = compile_path(pat.as_bytes()).unwrap();
            let meta = meta(pat).unwrap();
            let deferred = matches!(ours, Path::Deferred { .. });
            assert_eq!(deferred, !pat.contains(['#', '{']), "{pat}");
            for path in paths {
                let want = Some(meta.is_match(path));
                assert_eq!(ours.is_match(path), want, "{pat} {path:?}");
            }
        }
    }

    #[test]
    fn who_matches_uid_egid_and_any_group() {
        let r = parse(b"allow * /u uid=5\nallow * /g gid=6\nallow * /G group=7\n").unwrap();
        let c = client(5, 6, &[7]);
        assert_eq!(r.judge(b"GET", b"/u", &c), Verdict::Allow(1));
        assert_eq!(r.judge(b"GET", b"/g", &c), Verdict::Allow(2));
        assert_eq!(r.judge(b"GET", b"/G", &c), Verdict::Allow(3));
        // gid= is the egid only; group= is the egid too.
        let other = client(1, 9, &[6]);
        assert_eq!(r.judge(b"GET", b"/g", &other), Verdict::Deny(None));
        assert_eq!(
            r.judge(b"GET", b"/G", &client(1, 7, &[])),
            Verdict::Allow(3)
        );
        assert_eq!(r.judge(b"GET", b"/u", &other), Verdict::Deny(None));
    }

    #[test]
    fn bad_lines_are_named() {
        let cases = [
            (
                "allow GET /\n",
                1,
                "expected 4 fields (ACTION METHODS PATH WHO), found 3",
            ),
            (
                "\n\nallow GET / * extra\n",
                3,
                "expected 4 fields (ACTION METHODS PATH WHO), found 5",
            ),
            (
                "permit GET / *\n",
                1,
                "unknown action permit (allow or deny)",
            ),
            (
                "allow GET,,POST / *\n",
                1,
                "invalid method \"\" in GET,,POST (methods are tokens such as GET, separated by commas, or *)",
            ),
            (
                "allow GE\x1bT / *\n",
                1,
                "invalid method GE\\x1bT in GE\\x1bT (methods are tokens such as GET, separated by commas, or *)",
            ),
            (
                "allow GET / user=1\n",
                1,
                "invalid client user=1 in user=1 (uid=N, gid=N or group=N, separated by commas, or *)",
            ),
            (
                "allow GET / uid=-1\n",
                1,
                "invalid client uid=-1 in uid=-1 (uid=N, gid=N or group=N, separated by commas, or *)",
            ),
            (
                "allow GET / uid=4294967296\n",
                1,
                "invalid client uid=4294967296 in uid=4294967296 (uid=N, gid=N or group=N, separated by commas, or *)",
            ),
            (
                "allow GET / uid=1,\n",
                1,
                "invalid client \"\" in uid=1, (uid=N, gid=N or group=N, separated by commas, or *)",
            ),
        ];
        for (text, line, why) in cases {
            let e = err(text);
            assert_eq!((e.line, e.why.as_str()), (line, why), "{text:?}");
        }
        let e = parse(b"allow GET /\xff *\n").unwrap_err();
        assert_eq!(e.why, "path regex /\\xff is not UTF-8");
        let e = err("allow GET /a{1000}{1000} *\n");
        assert_eq!(
            e.why,
            "invalid path regex /a{1000}{1000}: error building NFA"
        );
        let e = err("allow GET /( *\n");
        assert!(e.why.starts_with("invalid path regex /(: "), "{}", e.why);
        assert!(!e.why.contains('\n'));
        let big = vec![b'#'; MAX_FILE + 1];
        assert_eq!(parse(&big).unwrap_err().line, 0);
    }
}
