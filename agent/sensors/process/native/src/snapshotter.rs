//! Turning connector events into snapshots of /proc, and the listener's messages as the agent's records:
//! agent/sensors/process/snapshotter.py. A record travels as `{class name: (field values…)}` in the
//! order of its `_fields` there.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use hashlink::LinkedHashMap;

use crate::connector::ProcEvent;
use crate::exec_opens::ExecOpens;
use crate::marshal::Writer;
use crate::procfs::{read_args, read_link, read_stat, snapshot, ExeKey, ProcStat, ProcessSnapshot};
use crate::text::PyStr;

const PARENTS_CACHED: usize = 4096;
const FORKS_REMEMBERED: usize = 65536;

#[derive(Clone, Debug)]
pub struct ParentSnapshot {
    pub pid: i128,
    pub executable: Option<PyStr>,
    pub args: Option<Vec<PyStr>>,
    pub stat: ProcStat,
}

// Nearly every item is an exec: boxing it would only add an allocation per item.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Seen {
    Exec { process: ProcessSnapshot, parent: Option<ParentSnapshot> },
    Exit { pid: i32, exit_code: i32, stat: Option<ProcStat>, seen_ns: i128 },
}

/// `time.time_ns()`.
fn now_ns() -> i128 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => since.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

pub struct Snapshotter {
    report_exits: bool,
    parents: HashMap<i128, ParentSnapshot>,
    forked_by: LinkedHashMap<i32, i32>,
}

impl Snapshotter {
    pub fn new(report_exits: bool) -> Snapshotter {
        Snapshotter { report_exits, parents: HashMap::new(), forked_by: LinkedHashMap::new() }
    }

    /// Drain `exec_opens` first: the open of an executable precedes its exec event.
    pub fn see(&mut self, event: ProcEvent, exec_opens: Option<&mut ExecOpens>) -> Option<Seen> {
        let now = now_ns();
        match event {
            ProcEvent::Fork { parent_pid, pid } => {
                // OrderedDict assignment: a known pid keeps its place.
                self.forked_by.replace(pid, parent_pid);
                if self.forked_by.len() > FORKS_REMEMBERED {
                    self.forked_by.pop_front();
                }
                None
            }
            ProcEvent::Exec { pid } => {
                let mut process = snapshot(pid, now);
                if let Some(exec_opens) = exec_opens {
                    let program = exec_opens.program_of(pid);
                    if let (None, Some((path, key))) = (&process.executable, program) {
                        process.executable = Some(path);
                        process.exe_key = Some(key);
                        process.executable_source = "exec_open";
                    }
                }
                // A process gone before /proc was read still has the parent its fork event named.
                let ppid = match &process.stat {
                    Some(stat) => Some(stat.ppid),
                    None => self.forked_by.get(&pid).map(|&parent| i128::from(parent)),
                };
                let parent = match ppid {
                    Some(ppid) if ppid != 0 => self.parent(ppid),
                    _ => None,
                };
                Some(Seen::Exec { process, parent })
            }
            ProcEvent::Exit { pid, exit_code } => {
                self.forked_by.remove(&pid);
                self.parents.remove(&i128::from(pid));
                if let Some(exec_opens) = exec_opens {
                    exec_opens.forget(pid);
                }
                if !self.report_exits {
                    return None;
                }
                Some(Seen::Exit { pid, exit_code, stat: read_stat(pid.into()), seen_ns: now })
            }
        }
    }

    /// The parent, re-read only when its pid now names another program (a shell running a loop of
    /// commands is read once).
    fn parent(&mut self, ppid: i128) -> Option<ParentSnapshot> {
        let stat = read_stat(ppid)?;
        if let Some(cached) = self.parents.get(&ppid) {
            if cached.stat == stat {
                return Some(cached.clone());
            }
        }
        let parent = ParentSnapshot {
            pid: ppid,
            executable: read_link(&format!("/proc/{ppid}/exe")),
            args: read_args(ppid),
            stat,
        };
        if self.parents.len() >= PARENTS_CACHED {
            self.parents.clear();
        }
        self.parents.insert(ppid, parent.clone());
        Some(parent)
    }
}

fn write_args(w: &mut Writer, args: &[PyStr]) {
    w.tuple(args.len());
    for arg in args {
        w.str(arg);
    }
}

fn write_key(w: &mut Writer, key: &ExeKey) {
    w.tuple(3);
    w.int(key.0.into());
    w.int(key.1.into());
    w.int(key.2);
}

fn write_stat(w: &mut Writer, stat: &ProcStat) {
    w.record("ProcStat", 3, |w| {
        w.str(&stat.comm);
        w.int(stat.ppid);
        w.int(stat.start_ticks);
    });
}

fn write_process(w: &mut Writer, process: &ProcessSnapshot) {
    w.record("ProcessSnapshot", 10, |w| {
        w.int(process.pid.into());
        w.int(process.seen_ns);
        w.option(process.executable.as_ref(), Writer::str);
        w.option(process.exe_key.as_ref(), write_key);
        w.option(process.args.as_ref(), |w, args| write_args(w, args));
        w.option(process.stat.as_ref(), write_stat);
        w.option(process.uid.as_ref(), |w, &uid| w.int(uid));
        w.option(process.gid.as_ref(), |w, &gid| w.int(gid));
        w.option(process.cwd.as_ref(), Writer::str);
        w.text(process.executable_source.as_bytes());
    });
}

fn write_parent(w: &mut Writer, parent: &ParentSnapshot) {
    w.record("ParentSnapshot", 4, |w| {
        w.int(parent.pid);
        w.option(parent.executable.as_ref(), Writer::str);
        w.option(parent.args.as_ref(), |w, args| write_args(w, args));
        write_stat(w, &parent.stat);
    });
}

/// A batch: the list of `ExecSeen` and `ExitSeen` records.
pub fn batch_frame(batch: &[Seen]) -> Vec<u8> {
    let mut w = Writer::new();
    w.list(batch.len());
    for seen in batch {
        match seen {
            Seen::Exec { process, parent } => w.record("ExecSeen", 2, |w| {
                write_process(w, process);
                w.option(parent.as_ref(), write_parent);
            }),
            Seen::Exit { pid, exit_code, stat, seen_ns } => w.record("ExitSeen", 3, |w| {
                w.record("ExitEvent", 2, |w| {
                    w.int((*pid).into());
                    w.int((*exit_code).into());
                });
                w.option(stat.as_ref(), write_stat);
                w.int(*seen_ns);
            }),
        }
    }
    w.into_frame()
}

pub fn started_frame(realtime: bool, exec_opens: bool) -> Vec<u8> {
    let mut w = Writer::new();
    w.record("Started", 2, |w| {
        w.boolean(realtime);
        w.boolean(exec_opens);
    });
    w.into_frame()
}

pub fn failed_frame(errno: i32, reason: &str) -> Vec<u8> {
    let mut w = Writer::new();
    w.record("Failed", 2, |w| {
        w.int(errno.into());
        w.text(reason.as_bytes());
    });
    w.into_frame()
}

pub fn kernel_drops_frame(count: u64) -> Vec<u8> {
    let mut w = Writer::new();
    w.record("KernelDrops", 1, |w| w.int(count.into()));
    w.into_frame()
}
