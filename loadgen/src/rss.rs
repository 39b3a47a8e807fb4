//! The server's memory, read from /proc when the load generator is told its process id.

/// Resident memory figures of a process, in KiB.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Memory {
    /// Current resident set (`VmRSS`).
    pub rss_kib: u64,
    /// Peak resident set so far (`VmHWM`).
    pub peak_kib: u64,
}

/// Reads `/proc/PID/status`; `None` when the process is gone or the fields are missing.
pub fn read(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_our_own_memory() {
        let memory = super::read(std::process::id()).expect("own /proc status");
        assert!(memory.rss_kib > 0);
        assert!(memory.peak_kib >= memory.rss_kib);
    }
}
