//! Which file each process opened to execute it, from fanotify `FAN_OPEN_EXEC` on a descriptor the agent
//! opened and passed down: agent/sensors/process/exec_opens.py.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

use hashlink::LinkedHashMap;

use crate::procfs::{key_of, read_link_raw, ExeKey};
use crate::text::PyStr;

const FAN_Q_OVERFLOW: u64 = 0x4000;
const METADATA_SIZE: usize = 24; // event_len, vers, reserved, metadata_len, mask, fd, pid
const READ_SIZE: usize = 64 * 1024;
const PIDS_REMEMBERED: usize = 8192;
/// The ELF interpreter is opened for exec right after the program: it is never the program.
const LOADER_PREFIXES: [&[u8]; 4] = [b"ld-linux", b"ld-musl", b"ld.so", b"ld64.so"];

pub type Program = (PyStr, ExeKey);

/// Remembers, per pid, the programs opened for exec since that pid's last exec was reported.
pub struct ExecOpens {
    group: File,
    opened: LinkedHashMap<i32, Vec<Program>>,
    buffer: Vec<u8>,
    pub overflows: u64,
}

impl ExecOpens {
    /// # Safety
    /// `fd` must be an open fanotify descriptor owned by nobody else in this process.
    pub unsafe fn new(fd: RawFd) -> ExecOpens {
        ExecOpens {
            group: File::from_raw_fd(fd),
            opened: LinkedHashMap::new(),
            buffer: vec![0; READ_SIZE],
            overflows: 0,
        }
    }

    pub fn fileno(&self) -> RawFd {
        self.group.as_raw_fd()
    }

    /// Reads what is queued (the descriptor is non-blocking). An error other than "nothing queued" is
    /// the caller's: the Python listener ends on it too.
    pub fn drain(&mut self) -> io::Result<()> {
        loop {
            let size = match self.group.read(&mut self.buffer) {
                Ok(size) => size,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            let mut offset = 0;
            while offset + METADATA_SIZE <= size {
                let event = &self.buffer[offset..offset + METADATA_SIZE];
                let length = u32::from_ne_bytes(event[0..4].try_into().expect("four bytes")) as usize;
                if length < METADATA_SIZE {
                    return Ok(());
                }
                offset += length;
                let mask = u64::from_ne_bytes(event[8..16].try_into().expect("eight bytes"));
                let fd = i32::from_ne_bytes(event[16..20].try_into().expect("four bytes"));
                let pid = i32::from_ne_bytes(event[20..24].try_into().expect("four bytes"));
                if mask & FAN_Q_OVERFLOW != 0 || fd < 0 {
                    self.overflows += 1;
                    continue;
                }
                // SAFETY: the kernel opened this descriptor for this process with the event; it is
                // closed when `file` is dropped, whatever happens next.
                let file = unsafe { File::from_raw_fd(fd) };
                let Some(path) = read_link_raw(&format!("/proc/self/fd/{fd}")) else {
                    continue;
                };
                let Ok(metadata) = file.metadata() else {
                    continue;
                };
                drop(file);
                self.remember(pid, (path, key_of(&metadata)));
            }
        }
    }

    fn remember(&mut self, pid: i32, program: Program) {
        if let Some(programs) = self.opened.get_mut(&pid) {
            programs.push(program);
            return;
        }
        self.opened.insert(pid, vec![program]);
        if self.opened.len() > PIDS_REMEMBERED {
            self.opened.pop_front();
        }
    }

    pub fn forget(&mut self, pid: i32) {
        self.opened.remove(&pid);
    }

    /// Pops what `pid` opened and returns the program: the last opened file that is not the ELF loader
    /// (for a script, its interpreter, as /proc/PID/exe would say).
    pub fn program_of(&mut self, pid: i32) -> Option<Program> {
        let mut opened = self.opened.remove(&pid)?;
        let is_loader =
            |program: &Program| LOADER_PREFIXES.iter().any(|prefix| program.0.basename().starts_with(prefix));
        match opened.iter().rposition(|program| !is_loader(program)) {
            Some(at) => Some(opened.swap_remove(at)),
            None => opened.pop(),
        }
    }
}
