//! Reading a process from /proc, fastest-vanishing facts first: agent/sensors/process/procfs.py, read for
//! read. Everything here is written by (or through) the process being read, so every field is parsed
//! without trusting it: a read that fails or does not parse gives `None`, as the Python listener's does.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use crate::text::{py_int, split_whitespace, PyStr};

const DELETED_SUFFIX: &str = " (deleted)";

/// (device, inode, mtime_ns) of an executable.
pub type ExeKey = (u64, u64, i128);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcStat {
    pub comm: PyStr,
    pub ppid: i128,
    pub start_ticks: i128,
}

#[derive(Clone, Debug)]
pub struct ProcessSnapshot {
    pub pid: i32,
    pub seen_ns: i128,
    pub executable: Option<PyStr>,
    pub exe_key: Option<ExeKey>,
    pub args: Option<Vec<PyStr>>,
    pub stat: Option<ProcStat>,
    pub uid: Option<i128>,
    pub gid: Option<i128>,
    pub cwd: Option<PyStr>,
    pub executable_source: &'static str,
}

/// `os.readlink(path)` decoded as Python decodes file names.
pub fn read_link_raw(path: &str) -> Option<PyStr> {
    let target = fs::read_link(path).ok()?;
    Some(PyStr::surrogateescape(target.as_os_str().as_bytes()))
}

/// A link of /proc without the " (deleted)" the kernel appends to an unlinked target.
pub fn read_link(path: &str) -> Option<PyStr> {
    read_link_raw(path).map(|target| target.remove_suffix(DELETED_SUFFIX))
}

pub fn key_of(metadata: &fs::Metadata) -> ExeKey {
    let mtime_ns = i128::from(metadata.mtime()) * 1_000_000_000 + i128::from(metadata.mtime_nsec());
    (metadata.dev(), metadata.ino(), mtime_ns)
}

pub fn read_args(pid: i128) -> Option<Vec<PyStr>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    if raw.is_empty() {
        return None; // kernel threads and zombies
    }
    // raw.rstrip(b"\0").split(b"\0")
    let end = raw.iter().rposition(|&byte| byte != 0).map_or(0, |at| at + 1);
    Some(raw[..end].split(|&byte| byte == 0).map(PyStr::surrogateescape).collect())
}

/// Python's `sequence[start:stop]` for `0 <= start` and `-1 <= stop`.
fn slice(raw: &[u8], start: usize, stop: isize) -> &[u8] {
    let stop = if stop < 0 { raw.len().saturating_sub(1) } else { (stop as usize).min(raw.len()) };
    let start = start.min(raw.len());
    if start >= stop {
        &[]
    } else {
        &raw[start..stop]
    }
}

/// The fields of /proc/PID/stat the agent uses. `comm` may itself hold spaces and parentheses: it ends
/// at the last ')'.
pub fn parse_stat(raw: &[u8]) -> Option<ProcStat> {
    let open_paren = raw.iter().position(|&byte| byte == b'(').map_or(-1, |at| at as isize);
    let close_paren = raw.iter().rposition(|&byte| byte == b')').map_or(-1, |at| at as isize);
    let rest: Vec<&[u8]> =
        split_whitespace(slice(raw, (close_paren + 2) as usize, raw.len() as isize)).collect();
    let ppid = py_int(rest.get(1)?)?;
    let start_ticks = py_int(rest.get(19)?)?;
    Some(ProcStat {
        comm: PyStr::replace(slice(raw, (open_paren + 1) as usize, close_paren)),
        ppid,
        start_ticks,
    })
}

pub fn read_stat(pid: i128) -> Option<ProcStat> {
    parse_stat(&fs::read(format!("/proc/{pid}/stat")).ok()?)
}

/// Effective uid and gid (`Uid:`/`Gid:` lines of status: real, effective, saved, fs); what was read
/// before a line failed to parse is kept.
pub fn parse_ids(raw: &[u8]) -> (Option<i128>, Option<i128>) {
    let mut uid = None;
    let mut gid = None;
    for line in raw.split_inclusive(|&byte| byte == b'\n') {
        if line.starts_with(b"Uid:") {
            match split_whitespace(line).nth(2).and_then(py_int) {
                Some(value) => uid = Some(value),
                None => break,
            }
        } else if line.starts_with(b"Gid:") {
            gid = split_whitespace(line).nth(2).and_then(py_int);
            break;
        }
    }
    (uid, gid)
}

fn read_ids(pid: i32) -> (Option<i128>, Option<i128>) {
    match fs::read(format!("/proc/{pid}/status")) {
        Ok(raw) => parse_ids(&raw),
        Err(_) => (None, None),
    }
}

/// Everything /proc still tells about `pid`. A short-lived process may be gone halfway; what was read by
/// then is kept, the executable first because it vanishes first (at exit, before the reap).
pub fn snapshot(pid: i32, seen_ns: i128) -> ProcessSnapshot {
    let executable = read_link(&format!("/proc/{pid}/exe"));
    let exe_key = match executable {
        Some(_) => fs::metadata(format!("/proc/{pid}/exe")).ok().map(|metadata| key_of(&metadata)),
        None => None,
    };
    let args = read_args(pid.into());
    let stat = read_stat(pid.into());
    let (uid, gid) = read_ids(pid);
    ProcessSnapshot {
        pid,
        seen_ns,
        executable,
        exe_key,
        args,
        stat,
        uid,
        gid,
        cwd: read_link(&format!("/proc/{pid}/cwd")),
        executable_source: "procfs",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_ends_at_the_last_parenthesis() {
        let mut raw = b"12 (a) b (c)) S 7".to_vec();
        for field in 5..=22 {
            raw.extend_from_slice(format!(" {field}").as_bytes());
        }
        let stat = parse_stat(&raw).unwrap();
        assert_eq!(stat.comm.as_bytes(), b"a) b (c)");
        assert_eq!(stat.ppid, 7);
        assert_eq!(stat.start_ticks, 22);
    }

    #[test]
    fn a_short_or_garbled_stat_is_none() {
        assert!(parse_stat(b"12 (x) S 7 8").is_none());
        assert!(parse_stat(b"").is_none());
        let mut raw = b"12 (x) S y".to_vec();
        raw.extend_from_slice(&[b' ', b'1'].repeat(30));
        assert!(parse_stat(&raw).is_none());
    }

    #[test]
    fn ids_are_the_effective_ones_and_survive_a_bad_gid_line() {
        let raw = b"Name:\tx\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\n";
        assert_eq!(parse_ids(raw), (Some(2), Some(6)));
        assert_eq!(parse_ids(b"Uid:\t1\t2\nGid:\tz\n"), (Some(2), None));
        assert_eq!(parse_ids(b"Uid:\t1\nGid:\t5\t6\n"), (None, None));
    }
}
