//! Access rules in a cdb file, byte-compatible with s6's `s6-accessrules-cdb-from-fs`:
//! the value encoding of one rule, and writing a whole cdb safely.
//!
//! A key is the rule's relative path (`uid/1000`, `gid/50`, `uid/default`). A value is
//! `D` for deny, or `A`, a big-endian u16 env length, the env (`NAME=value\0` to set,
//! `NAME\0` to unset), a big-endian u16 exec length and the exec script. The limits are
//! s6's reader's: env and exec at most 4096 bytes each, a value at most 8197.
//!
//! The cdb file format itself is the `cdb2` crate's job. Its `CDBWriter` is not used: it
//! never fsyncs, and it truncates a predictable temporary name (following a symlink an
//! attacker left there). We give its `CDBMake` a file we created `O_EXCL` under a random
//! name, then fsync, rename and fsync the directory ourselves. Reading the fs layout and
//! deciding are `prog::ipcserver_access`'s job.

use crate::base::error::{Error, ResultExt};
use crate::sys::exec::EnvMod;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// One cdb record: a key (`uid/1000`) and its encoded value.
pub(crate) type Record = (Vec<u8>, Vec<u8>);

/// Longest env part of a value s6's reader accepts.
const MAX_ENV: usize = 4096;
/// Longest exec part of a value s6's reader accepts.
pub(crate) const MAX_EXEC: usize = 4096;
/// Longest value s6's reader accepts: `A`, two lengths, env and exec (8197). s6 checks
/// this before it looks at the tag, so a longer `D` value is an error, not a denial.
const MAX_VALUE: usize = 5 + MAX_ENV + MAX_EXEC;

/// One rule, as found under a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Refuse the client (value `D`, a `deny` file in the rules directory).
    Deny,
    /// Allow, with environment edits to apply and an optional execline script to run
    /// instead of the program.
    Allow {
        /// The rule's `env/` edits, applied before the UCSPI variables (which win).
        env: Vec<EnvMod>,
        /// The rule's `exec` file: an execline script run instead of the program
        /// (`Some` of an empty script still runs, and runs nothing).
        exec: Option<Vec<u8>>,
    },
}

/// Why a value could not be decoded (the rule is unusable: the caller fails, exit 111).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A zero-length value: not even the `A`/`D` tag.
    #[error("empty value")]
    Empty,
    /// A value longer than any s6 reader takes (an `A`, two lengths, 4096 bytes of env
    /// and 4096 of exec).
    #[error("value longer than {MAX_VALUE} bytes")]
    TooLong,
    /// The value is shorter or longer than its two length fields say.
    #[error("value lengths do not add up")]
    Lengths,
    /// An env part over 4096 bytes, which s6's reader refuses.
    #[error("env part longer than {MAX_ENV} bytes")]
    EnvTooLong,
    /// An exec part over `MAX_EXEC` bytes, which s6's reader refuses.
    #[error("exec part longer than {MAX_EXEC} bytes")]
    ExecTooLong,
    /// The last `NAME=value` of the env part has no NUL after it.
    #[error("env part does not end with a NUL byte")]
    EnvUnterminated,
}

/// Decode a value. `Ok(None)` is a value whose first byte is neither `A` nor `D`, which
/// s6 treats as no rule at all (the lookup goes on to the next key).
pub fn decode(v: &[u8]) -> Result<Option<Rule>, DecodeError> {
    let (&tag, rest) = v.split_first().ok_or(DecodeError::Empty)?;
    if v.len() > MAX_VALUE {
        return Err(DecodeError::TooLong);
    }
    match tag {
        b'D' => return Ok(Some(Rule::Deny)),
        b'A' => {}
        _ => return Ok(None),
    }
    let (envlen, rest) = take_u16(rest)?;
    if envlen > MAX_ENV {
        return Err(DecodeError::EnvTooLong);
    }
    let envpart = rest.get(..envlen).ok_or(DecodeError::Lengths)?;
    let rest = rest.get(envlen..).ok_or(DecodeError::Lengths)?;
    let (execlen, rest) = take_u16(rest)?;
    if execlen > MAX_EXEC {
        return Err(DecodeError::ExecTooLong);
    }
    if rest.len() != execlen {
        return Err(DecodeError::Lengths);
    }
    Ok(Some(Rule::Allow {
        env: decode_env(envpart)?,
        exec: exec_script(rest),
    }))
}

fn take_u16(b: &[u8]) -> Result<(usize, &[u8]), DecodeError> {
    match b {
        [hi, lo, rest @ ..] => Ok((usize::from(u16::from_be_bytes([*hi, *lo])), rest)),
        _ => Err(DecodeError::Lengths),
    }
}

/// `NAME=value\0` sets, `NAME\0` unsets (skalibs `env_merge`'s modifier list). An
/// unterminated last entry would run into whatever s6 appends next, so it is refused.
fn decode_env(b: &[u8]) -> Result<Vec<EnvMod>, DecodeError> {
    if b.is_empty() {
        return Ok(Vec::new());
    }
    let body = b.strip_suffix(b"\0").ok_or(DecodeError::EnvUnterminated)?;
    Ok(body
        .split(|&c| c == 0)
        .filter_map(|item| {
            let (name, value) = match item.iter().position(|&c| c == b'=') {
                Some(i) => (item.get(..i)?, item.get(i + 1..).map(<[u8]>::to_vec)),
                None => (item, None),
            };
            // An empty name can be neither set nor unset.
            (!name.is_empty()).then(|| {
                (
                    OsString::from_vec(name.to_vec()),
                    value.map(OsString::from_vec),
                )
            })
        })
        .collect())
}

/// The script s6 would run: it hands the bytes to execlineb as a C string, so a NUL
/// ends it; an empty exec part means "no script".
pub(crate) fn exec_script(b: &[u8]) -> Option<Vec<u8>> {
    if b.is_empty() {
        return None;
    }
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    Some(b.get(..end).unwrap_or_default().to_vec())
}

/// Why a rule cannot be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The `env/` edits take more than 4096 bytes once encoded.
    #[error("env too big")]
    EnvTooBig,
    /// The `exec` script is longer than `MAX_EXEC` bytes.
    #[error("exec too big")]
    ExecTooBig,
}

/// Encode one env edit as s6 stores it.
fn encode_env(env: &[EnvMod]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in env {
        out.extend_from_slice(name.as_bytes());
        if let Some(v) = value {
            out.push(b'=');
            out.extend_from_slice(v.as_bytes());
        }
        out.push(0);
    }
    out
}

/// Encode a rule. Sizes beyond what s6's reader accepts are refused rather than
/// written into a file that every reader would reject.
pub fn encode(rule: &Rule) -> Result<Vec<u8>, EncodeError> {
    let Rule::Allow { env, exec } = rule else {
        return Ok(b"D".to_vec());
    };
    let envb = encode_env(env);
    let envlen = u16::try_from(envb.len())
        .ok()
        .filter(|&n| usize::from(n) <= MAX_ENV)
        .ok_or(EncodeError::EnvTooBig)?;
    // An empty script is still a script (execlineb runs it, prog does not run); a
    // zero-length exec part would mean "no script", so store it as a lone NUL, which
    // every reader (ours, s6's) cuts back to the empty script.
    let execb: &[u8] = match exec.as_deref() {
        Some([]) => b"\0",
        Some(e) => e,
        None => b"",
    };
    let execlen = u16::try_from(execb.len())
        .ok()
        .filter(|&n| usize::from(n) <= MAX_EXEC)
        .ok_or(EncodeError::ExecTooBig)?;
    let mut v = Vec::with_capacity(5 + envb.len() + execb.len());
    v.push(b'A');
    v.extend_from_slice(&envlen.to_be_bytes());
    v.extend_from_slice(&envb);
    v.extend_from_slice(&execlen.to_be_bytes());
    v.extend_from_slice(execb);
    Ok(v)
}

/// Open a cdb file for lookups, after checking that every hash table its header
/// points to lies inside the file: a truncated cdb is refused as a whole, instead of
/// answering some keys and failing (or, worse, missing) others.
///
/// # Errors
/// `open cdb ruleset` (ENOENT…) as a system error; a malformed file as `InvalidRuleset`.
pub fn open(path: &Path) -> Result<cdb2::CDB, Error> {
    let invalid = |why: &dyn std::fmt::Display| Error::InvalidRuleset {
        path: path.into(),
        why: why.to_string(),
    };
    let mut f = std::fs::File::open(path).op_at("open cdb ruleset", path)?;
    let size = f.metadata().op_at("stat cdb ruleset", path)?.len();
    let mut header = [0u8; 2048];
    if size < 2048 {
        return Err(invalid(&"truncated header"));
    }
    std::io::Read::read_exact(&mut f, &mut header).op_at("read cdb ruleset", path)?;
    for slot in header.chunks_exact(8) {
        let word = |r: std::ops::Range<usize>| {
            slot.get(r)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, |b| u64::from(u32::from_le_bytes(b)))
        };
        let (pos, len) = (word(0..4), word(4..8));
        if pos < 2048 || pos + 8 * len > size {
            return Err(invalid(&"hash table outside the file (truncated?)"));
        }
    }
    cdb2::CDB::open(path).map_err(|e| match e.raw_os_error() {
        Some(n) => Error::sys_at("open cdb ruleset", path, Errno::from_raw_os_error(n)),
        None => invalid(&e),
    })
}

/// Write `records` as a cdb at `path`, atomically: a new file `PATH:ipcrules-cdb:XXXXXX`
/// is created exclusively (mode `mode`, not subject to the umask), filled, fsynced and
/// renamed over `path`, and the directory is fsynced so the rename survives a crash.
/// On failure the temporary file is removed and `path` is untouched.
///
/// # Errors
/// `create`, `write`, `sync` with the path concerned; `Rename`.
pub fn write_cdb(path: &Path, records: &[Record], mode: u32) -> Result<(), Error> {
    let (tmp, file) = create_temp(path)?;
    let r = fill(&tmp, file, records, mode).and_then(|()| {
        std::fs::rename(&tmp, path).map_err(|e| Error::Rename {
            from: tmp.clone(),
            to: path.into(),
            errno: Errno::from_io_error(&e).unwrap_or(Errno::IO),
        })
    });
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return r;
    }
    sync_parent(path)
}

fn create_temp(path: &Path) -> Result<(PathBuf, std::fs::File), Error> {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for _ in 0..100 {
        let mut rnd = [0u8; 6];
        rustix::rand::getrandom(&mut rnd, rustix::rand::GetRandomFlags::empty())
            .op("get random bytes")?;
        let mut name = path.as_os_str().as_bytes().to_vec();
        name.extend_from_slice(b":ipcrules-cdb:");
        name.extend(
            rnd.iter()
                .map(|&b| CHARS.get(usize::from(b & 63)).copied().unwrap_or(b'x')),
        );
        let tmp = PathBuf::from(OsString::from_vec(name));
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
        match rustix::fs::open(&tmp, flags, Mode::from_raw_mode(0o600)) {
            Ok(fd) => return Ok((tmp, std::fs::File::from(fd))),
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(Error::sys_at("create", tmp, e)),
        }
    }
    Err(Error::sys_at("create", path, Errno::EXIST))
}

fn fill(tmp: &Path, file: std::fs::File, records: &[Record], mode: u32) -> Result<(), Error> {
    rustix::fs::fchmod(&file, Mode::from_raw_mode(mode)).op_at("chmod", tmp)?;
    // CDBMake owns (and drops) what it is given; a dup shares the open file, so our
    // handle can fsync what it wrote.
    let dup = file.try_clone().op_at("dup", tmp)?;
    let mut cdb = cdb2::CDBMake::new(dup).op_at("write", tmp)?;
    for (k, v) in records {
        cdb.add(k, v).op_at("write", tmp)?;
    }
    cdb.finish().op_at("write", tmp)?;
    file.sync_all().op_at("sync", tmp)
}

fn sync_parent(path: &Path) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .op_at("open directory", dir)?;
    rustix::fs::fsync(&fd).op_at("sync", dir)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sys::exec::{set, unset};

    /// An empty exec script stays a script through encode and decode (the
    /// `rules` fuzz target found it turning into "no script", which runs prog).
    #[test]
    fn empty_exec_script_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        let r = Rule::Allow {
            env: Vec::new(),
            exec: Some(Vec::new()),
        };
        assert_eq!(decode(&encode(&r)?)?, Some(r));
        Ok(())
    }

    #[test]
    fn s6_examples() -> Result<(), Box<dyn std::error::Error>> {
        // Values dumped from s6-accessrules-cdb-from-fs 2.11.3.2.
        let v = b"A\x00\x10FOO=bar\x00UNSETME\x00\x00\x00";
        let r = decode(v)?.ok_or("env value decoded to no rule")?;
        assert_eq!(
            r,
            Rule::Allow {
                env: vec![set("FOO", "bar"), unset("UNSETME")],
                exec: None
            }
        );
        assert_eq!(encode(&r)?, v);
        let v = b"A\x00\x00\x00\x08echo hi\n";
        let r = decode(v)?.ok_or("exec value decoded to no rule")?;
        assert_eq!(
            r,
            Rule::Allow {
                env: vec![],
                exec: Some(b"echo hi\n".to_vec())
            }
        );
        assert_eq!(encode(&r)?, v);
        assert_eq!(decode(b"D")?, Some(Rule::Deny));
        assert_eq!(decode(b"Dxyz")?, Some(Rule::Deny));
        assert_eq!(decode(b"X")?, None);
        Ok(())
    }

    #[test]
    fn bad_values() {
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        assert_eq!(decode(b"A"), Err(DecodeError::Lengths));
        assert_eq!(decode(b"A\x00\x01"), Err(DecodeError::Lengths));
        assert_eq!(decode(b"A\x00\x00\x00\x01"), Err(DecodeError::Lengths));
        assert_eq!(decode(b"A\x00\x00\x00\x00x"), Err(DecodeError::Lengths));
        assert_eq!(
            decode(b"A\x00\x01X\x00\x00"),
            Err(DecodeError::EnvUnterminated)
        );
        assert_eq!(decode(b"A\x10\x01"), Err(DecodeError::EnvTooLong));
        assert_eq!(
            decode(&vec![b'A'; MAX_VALUE + 1]),
            Err(DecodeError::TooLong)
        );
        // s6 refuses any value over 8197 bytes before it reads the tag.
        assert_eq!(decode(&vec![b'D'; 8198]), Err(DecodeError::TooLong));
        assert_eq!(decode(&vec![b'D'; 8197]), Ok(Some(Rule::Deny)));
        let big = Rule::Allow {
            env: vec![set("X", "y".repeat(MAX_ENV))],
            exec: None,
        };
        assert_eq!(encode(&big), Err(EncodeError::EnvTooBig));
    }

    /// A small deterministic generator (xorshift), so the property tests need no crate
    /// and every failure is reproducible from its seed.
    pub(crate) struct Gen(u64);
    impl Gen {
        pub(crate) fn new(seed: u64) -> Gen {
            Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        pub(crate) fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
        pub(crate) fn bytes(&mut self, max: usize, alphabet: &[u8]) -> Vec<u8> {
            let n = self.below(max + 1);
            (0..n)
                .map(|_| alphabet[self.below(alphabet.len())])
                .collect()
        }
    }

    #[test]
    fn property_roundtrip() -> Result<(), Box<dyn std::error::Error>> {
        for seed in 0..2000 {
            let mut g = Gen::new(seed);
            let env = (0..g.below(6))
                .map(|_| {
                    let mut name = g.bytes(8, b"ABCxyz_01.");
                    name.insert(0, b'N');
                    let value = (g.below(3) > 0).then(|| g.bytes(40, b"ab= \n\t\x01\xff"));
                    (OsString::from_vec(name), value.map(OsString::from_vec))
                })
                .collect();
            let exec = (g.below(2) == 0).then(|| {
                let mut e = g.bytes(100, b"echo hi\n{};");
                e.insert(0, b'x');
                e
            });
            let rule = Rule::Allow { env, exec };
            let v = encode(&rule).map_err(|e| format!("seed {seed}: {e}"))?;
            let back = decode(&v).map_err(|e| format!("seed {seed}: {e}"))?;
            assert_eq!(back, Some(rule), "seed {seed}");
        }
        Ok(())
    }

    #[test]
    fn property_decode_never_panics() -> Result<(), Box<dyn std::error::Error>> {
        let valid = encode(&Rule::Allow {
            env: vec![set("A", "b"), unset("C")],
            exec: Some(b"echo".to_vec()),
        })?;
        for seed in 0..20000 {
            let mut g = Gen::new(seed);
            let v = if g.below(2) == 0 {
                g.bytes(64, &[0, 1, 2, 4, 5, b'A', b'D', b'=', b'x', 0x10, 0xff])
            } else {
                // Flip, cut or extend a valid value.
                let mut v = valid.clone();
                match g.below(3) {
                    0 => {
                        let i = g.below(v.len());
                        v[i] = g.next() as u8;
                    }
                    1 => v.truncate(g.below(v.len())),
                    _ => v.extend(g.bytes(8, b"\0ab")),
                }
                v
            };
            if let Ok(Some(rule)) = decode(&v) {
                // Whatever decodes must re-encode to a value that decodes the same.
                let again = encode(&rule).map_err(|e| format!("seed {seed}: {e}"))?;
                let back = decode(&again).map_err(|e| format!("seed {seed}: {e}"))?;
                assert_eq!(back, Some(rule), "seed {seed}");
            }
        }
        Ok(())
    }

    #[test]
    fn write_then_read_with_cdb2() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("ipccore-rulescdb-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let path = dir.join("r.cdb");
        let recs = vec![
            (b"uid/0".to_vec(), b"D".to_vec()),
            (b"gid/5".to_vec(), b"A\x00\x00\x00\x00".to_vec()),
        ];
        write_cdb(&path, &recs, 0o640)?;
        let meta = std::fs::metadata(&path)?;
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
        let db = cdb2::CDB::open(&path)?;
        assert_eq!(db.get(b"uid/0").ok_or("no uid/0 record")??, b"D");
        assert_eq!(
            db.get(b"gid/5").ok_or("no gid/5 record")??,
            b"A\x00\x00\x00\x00"
        );
        assert!(db.get(b"uid/1").is_none());
        // Only the cdb is left: the temporary file was renamed.
        assert_eq!(std::fs::read_dir(&dir)?.count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn corrupt_cdb_never_panics() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("ipccore-rulescdb-c-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let path = dir.join("r.cdb");
        let recs: Vec<_> = (0..20)
            .map(|i| {
                (
                    format!("uid/{i}").into_bytes(),
                    b"A\x00\x00\x00\x00".to_vec(),
                )
            })
            .collect();
        write_cdb(&path, &recs, 0o600)?;
        let good = std::fs::read(&path)?;
        let bad = dir.join("bad.cdb");
        let (mut refused, mut opened) = (0, 0);
        for seed in 0..300 {
            let mut g = Gen::new(seed);
            let mut b = good.clone();
            for _ in 0..1 + g.below(8) {
                let i = g.below(b.len());
                b[i] = g.next() as u8;
            }
            if g.below(4) == 0 {
                b.truncate(g.below(b.len()));
            }
            std::fs::write(&bad, &b)?;
            // What ipcserver-access does with a file: open it (refused as a whole when
            // its tables lie outside it), look keys up, decode the values.
            let Ok(db) = open(&bad) else {
                refused += 1;
                continue;
            };
            opened += 1;
            for i in 0..22 {
                if let Some(Ok(v)) = db.get(format!("uid/{i}").as_bytes()) {
                    // A value that still reads as the original is decoded as it was.
                    if v == b"A\x00\x00\x00\x00" {
                        assert!(matches!(decode(&v), Ok(Some(Rule::Allow { .. }))));
                    } else {
                        let _ = decode(&v);
                    }
                }
            }
        }
        // Both paths were exercised: some damage is caught at open, some is not.
        assert!(
            refused > 0 && opened > 0,
            "refused {refused}, opened {opened}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
