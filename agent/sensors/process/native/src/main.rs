//! Canh Gác's process listener, compiled: the same process as agent/sensors/process/listener.py (see its
//! docstring for why a separate process, at real-time priority), without an interpreter's ~8 MiB.
//!
//! Arguments: the channel's descriptor, the connector's socket buffer in bytes, the SCHED_FIFO priority
//! (0: none), whether to report exits (0/1), the fanotify descriptor (-1: none). It sends `Started` (or
//! `Failed`), then batches of `ExecSeen`/`ExitSeen` and `KernelDrops`, as `marshal` data in
//! `multiprocessing.connection` frames, and exits when the agent (its parent) goes away.

mod connector;
mod exec_opens;
mod marshal;
mod procfs;
mod snapshotter;
mod text;

use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;

use connector::{open_connector, parse};
use exec_opens::ExecOpens;
use snapshotter::{batch_frame, failed_frame, kernel_drops_frame, started_frame, Seen, Snapshotter};

const RECV_SIZE: usize = 256 * 1024;
const PARENT_CHECK_MS: libc::c_int = 500;

struct Arguments {
    channel_fd: i32,
    buffer_bytes: i32,
    priority: i32,
    report_exits: bool,
    fanotify_fd: i32,
}

fn arguments() -> Result<Arguments, String> {
    let values: Vec<String> = std::env::args().skip(1).collect();
    if values.len() != 5 {
        return Err(format!("expected 5 arguments, got {}", values.len()));
    }
    let mut numbers = [0i32; 5];
    for (number, value) in numbers.iter_mut().zip(&values) {
        *number = value.trim().parse().map_err(|_| format!("not a 32-bit integer: {value:?}"))?;
    }
    Ok(Arguments {
        channel_fd: numbers[0],
        buffer_bytes: numbers[1],
        priority: numbers[2],
        report_exits: numbers[3] != 0,
        fanotify_fd: numbers[4],
    })
}

fn raise_priority(priority: i32) -> bool {
    if priority <= 0 {
        return false;
    }
    let parameters = libc::sched_param { sched_priority: priority };
    // SAFETY: the pointer is to a live sched_param.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &parameters) == 0 }
}

/// `str(OSError)` in Python: "[Errno N] strerror".
fn describe(error: &io::Error) -> String {
    let errno = error.raw_os_error().unwrap_or(0);
    let text = error.to_string();
    let strerror = text.strip_suffix(&format!(" (os error {errno})")).unwrap_or(&text);
    format!("[Errno {errno}] {strerror}")
}

/// Everything queued on the connector socket, and how many overflows (ENOBUFS) were met.
fn receive(
    connector: &OwnedFd,
    buffer: &mut [u8],
    snapshotter: &mut Snapshotter,
    mut exec_opens: Option<&mut ExecOpens>,
) -> io::Result<(Vec<Seen>, u64)> {
    let mut batch = Vec::new();
    let mut overflows = 0;
    let mut events = Vec::new();
    loop {
        // SAFETY: the pointer and length describe `buffer`.
        let received =
            unsafe { libc::recv(connector.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len(), 0) };
        if received < 0 {
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                Some(libc::EAGAIN) => return Ok((batch, overflows)),
                Some(libc::EINTR) => continue,
                Some(libc::ENOBUFS) => {
                    overflows += 1;
                    continue;
                }
                _ => return Err(error),
            }
        }
        if let Some(opens) = exec_opens.as_deref_mut() {
            opens.drain()?;
        }
        events.clear();
        parse(&buffer[..received as usize], &mut events);
        for &event in &events {
            if let Some(seen) = snapshotter.see(event, exec_opens.as_deref_mut()) {
                batch.push(seen);
            }
        }
    }
}

/// Ok(()) once the agent has gone (its end closed, or this process re-parented).
fn serve(channel: &mut UnixStream, arguments: &Arguments) -> io::Result<()> {
    // SAFETY: getppid cannot fail.
    let agent_pid = unsafe { libc::getppid() };
    let connector = match open_connector(arguments.buffer_bytes) {
        Ok(connector) => connector,
        Err(error) => {
            let errno = error.raw_os_error().unwrap_or(0);
            return sent(channel.write_all(&failed_frame(errno, &describe(&error)))).map(drop);
        }
    };
    // -1: the agent could not open fanotify (no CAP_SYS_ADMIN or no fanotify): /proc alone, and Started
    // says so. SAFETY: the agent passed this descriptor for this process alone.
    let mut exec_opens =
        (arguments.fanotify_fd >= 0).then(|| unsafe { ExecOpens::new(arguments.fanotify_fd) });
    let realtime = raise_priority(arguments.priority);
    if sent(channel.write_all(&started_frame(realtime, exec_opens.is_some())))?.is_none() {
        return Ok(());
    }
    let mut snapshotter = Snapshotter::new(arguments.report_exits);
    let mut buffer = vec![0u8; RECV_SIZE];
    let mut descriptors = vec![libc::pollfd { fd: connector.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
    if let Some(opens) = &exec_opens {
        descriptors.push(libc::pollfd { fd: opens.fileno(), events: libc::POLLIN, revents: 0 });
    }
    // SAFETY: getppid cannot fail.
    while unsafe { libc::getppid() } == agent_pid {
        // SAFETY: the pointer and count describe `descriptors`.
        let ready = unsafe {
            libc::poll(descriptors.as_mut_ptr(), descriptors.len() as libc::nfds_t, PARENT_CHECK_MS)
        };
        if ready < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        if ready == 0 {
            continue;
        }
        if let Some(opens) = exec_opens.as_mut() {
            opens.drain()?;
        }
        let (batch, overflows) = receive(&connector, &mut buffer, &mut snapshotter, exec_opens.as_mut())?;
        if overflows > 0 && sent(channel.write_all(&kernel_drops_frame(overflows)))?.is_none() {
            return Ok(());
        }
        if !batch.is_empty() && sent(channel.write_all(&batch_frame(&batch)))?.is_none() {
            return Ok(());
        }
    }
    Ok(())
}

/// A send's result: `None` once the agent has closed its end (the listener's cue to end).
fn sent(result: io::Result<()>) -> io::Result<Option<()>> {
    match result {
        Ok(()) => Ok(Some(())),
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::NotConnected
            ) =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

fn main() -> ExitCode {
    let arguments = match arguments() {
        Ok(arguments) => arguments,
        Err(reason) => {
            eprintln!("canhgac-process-listener: {reason}");
            eprintln!(
                "usage: canhgac-process-listener CHANNEL_FD BUFFER_BYTES PRIORITY REPORT_EXITS FANOTIFY_FD"
            );
            return ExitCode::from(2);
        }
    };
    // SAFETY: the agent passed this descriptor, one end of a stream socketpair, for this process alone.
    let mut channel = UnixStream::from(unsafe { OwnedFd::from_raw_fd(arguments.channel_fd) });
    match serve(&mut channel, &arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("canhgac-process-listener: {error}");
            ExitCode::FAILURE
        }
    }
}
