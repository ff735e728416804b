//! The kernel's process events connector (netlink `NETLINK_CONNECTOR`, `CN_IDX_PROC`):
//! agent/sensors/process/connector.py. Messages are `nlmsghdr` + `cn_msg` + `proc_event`
//! (`include/uapi/linux/cn_proc.h`), in the host's byte order.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const NETLINK_CONNECTOR: libc::c_int = 11;
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const NLMSG_DONE: u16 = 3;
const PROC_EVENT_FORK: u32 = 0x0000_0001;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

const NLMSGHDR_SIZE: usize = 16;
const CN_MSG_SIZE: usize = 20;
const HEADER_SIZE: usize = NLMSGHDR_SIZE + CN_MSG_SIZE;
const PROC_EVENT_HEADER_SIZE: usize = 16; // what, cpu, timestamp_ns
const EXEC_SIZE: usize = 8;
const EXIT_SIZE: usize = 16;
const FORK_SIZE: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcEvent {
    /// A new process (not thread): the only event that names a parent.
    Fork {
        parent_pid: i32,
        pid: i32,
    },
    Exec {
        pid: i32,
    },
    /// `exit_code` as the shell has it: the status passed to exit(), or 128 + the killing signal.
    Exit {
        pid: i32,
        exit_code: i32,
    },
}

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

fn set_int_option(fd: RawFd, option: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the value pointer and length describe a live c_int.
    let result = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    check(result).map(drop)
}

/// A non-blocking socket subscribed to process events; `EPERM` without CAP_NET_ADMIN in the initial
/// namespaces, `EPROTONOSUPPORT` without `CONFIG_PROC_EVENTS`.
pub fn open_connector(buffer_bytes: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain system calls on a descriptor this function owns.
    let fd = check(unsafe {
        libc::socket(libc::AF_NETLINK, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, NETLINK_CONNECTOR)
    })?;
    // SAFETY: fd was just opened and belongs to nobody else.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SO_RCVBUFFORCE passes the rmem_max cap when privileged; plain SO_RCVBUF otherwise.
    if set_int_option(fd, libc::SO_RCVBUFFORCE, buffer_bytes).is_err() {
        set_int_option(fd, libc::SO_RCVBUF, buffer_bytes)?;
    }
    // SAFETY: an all-zero sockaddr_nl is valid; the pointer and length describe it.
    let mut address: libc::sockaddr_nl = unsafe { mem::zeroed() };
    address.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    address.nl_pid = 0;
    address.nl_groups = CN_IDX_PROC;
    check(unsafe {
        libc::bind(
            fd,
            (&address as *const libc::sockaddr_nl).cast(),
            mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    })?;
    let payload = PROC_CN_MCAST_LISTEN.to_ne_bytes();
    let mut message = Vec::with_capacity(HEADER_SIZE + payload.len());
    message.extend_from_slice(&((HEADER_SIZE + payload.len()) as u32).to_ne_bytes());
    message.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    message.extend_from_slice(&0u16.to_ne_bytes()); // flags
    message.extend_from_slice(&0u32.to_ne_bytes()); // seq
    message.extend_from_slice(&std::process::id().to_ne_bytes());
    for field in [CN_IDX_PROC, CN_VAL_PROC, 0, 0] {
        message.extend_from_slice(&field.to_ne_bytes());
    }
    message.extend_from_slice(&(payload.len() as u16).to_ne_bytes());
    message.extend_from_slice(&0u16.to_ne_bytes()); // flags
    message.extend_from_slice(&payload);
    // SAFETY: the pointer and length describe `message`.
    let sent = unsafe { libc::send(fd, message.as_ptr().cast(), message.len(), 0) };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let flags = check(unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_GETFL) })?;
    check(unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(socket)
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(data[at..at + 4].try_into().expect("four bytes"))
}

fn i32_at(data: &[u8], at: usize) -> i32 {
    i32::from_ne_bytes(data[at..at + 4].try_into().expect("four bytes"))
}

fn exit_code(status: u32) -> i32 {
    let signal_number = status & 0x7F;
    if signal_number == 0 {
        ((status >> 8) & 0xFF) as i32
    } else {
        128 + signal_number as i32
    }
}

/// The fork, exec and exit events of one datagram (threads and other event kinds are skipped).
pub fn parse(datagram: &[u8], events: &mut Vec<ProcEvent>) {
    let mut offset = 0usize;
    while offset + HEADER_SIZE + PROC_EVENT_HEADER_SIZE <= datagram.len() {
        let length = u32_at(datagram, offset) as usize;
        if length < HEADER_SIZE {
            break;
        }
        let base = offset + HEADER_SIZE;
        let what = u32_at(datagram, base);
        let body = base + PROC_EVENT_HEADER_SIZE;
        if what == PROC_EVENT_FORK && body + FORK_SIZE <= datagram.len() {
            let parent_tgid = i32_at(datagram, body + 4);
            let (child_pid, child_tgid) = (i32_at(datagram, body + 8), i32_at(datagram, body + 12));
            if child_pid == child_tgid {
                events.push(ProcEvent::Fork { parent_pid: parent_tgid, pid: child_pid });
            }
        } else if what == PROC_EVENT_EXEC && body + EXEC_SIZE <= datagram.len() {
            events.push(ProcEvent::Exec { pid: i32_at(datagram, body) });
        } else if what == PROC_EVENT_EXIT && body + EXIT_SIZE <= datagram.len() {
            let (pid, tgid) = (i32_at(datagram, body), i32_at(datagram, body + 4));
            if pid == tgid {
                events.push(ProcEvent::Exit { pid, exit_code: exit_code(u32_at(datagram, body + 8)) });
            }
        }
        offset = offset.saturating_add((length + 3) & !3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(what: u32, body: &[i32]) -> Vec<u8> {
        let length = HEADER_SIZE + PROC_EVENT_HEADER_SIZE + 4 * body.len();
        let mut data = (length as u32).to_ne_bytes().to_vec();
        data.resize(HEADER_SIZE, 0);
        data.extend_from_slice(&what.to_ne_bytes());
        data.resize(HEADER_SIZE + PROC_EVENT_HEADER_SIZE, 0);
        for value in body {
            data.extend_from_slice(&value.to_ne_bytes());
        }
        data
    }

    #[test]
    fn events_of_processes_are_parsed_and_threads_skipped() {
        let mut datagram = message(PROC_EVENT_FORK, &[1, 10, 20, 20]);
        datagram.extend(message(PROC_EVENT_FORK, &[20, 20, 21, 20])); // a thread
        datagram.extend(message(PROC_EVENT_EXEC, &[20, 20]));
        datagram.extend(message(PROC_EVENT_EXIT, &[20, 20, 7 << 8, 17]));
        datagram.extend(message(PROC_EVENT_EXIT, &[30, 30, 9, 17]));
        datagram.extend(message(PROC_EVENT_EXIT, &[21, 20, 0, 0])); // a thread
        let mut events = Vec::new();
        parse(&datagram, &mut events);
        assert_eq!(
            events,
            vec![
                ProcEvent::Fork { parent_pid: 10, pid: 20 },
                ProcEvent::Exec { pid: 20 },
                ProcEvent::Exit { pid: 20, exit_code: 7 },
                ProcEvent::Exit { pid: 30, exit_code: 137 },
            ]
        );
    }

    #[test]
    fn a_truncated_or_short_message_ends_the_datagram() {
        let mut events = Vec::new();
        let mut datagram = message(PROC_EVENT_EXEC, &[5, 5]);
        datagram[0] = 4; // length below the headers
        parse(&datagram, &mut events);
        parse(&message(PROC_EVENT_EXIT, &[5, 5])[..], &mut events); // body cut short
        assert!(events.is_empty());
    }
}
