//! The simulator in a child process (`drs-orch sim --fleet FILE`), so that the benchmark's
//! own CPU time and memory are the client's alone, as they would be against AWS.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The running simulator; killed when dropped.
pub struct ChildSim {
    child: Child,
    pub endpoint: String,
}

impl ChildSim {
    /// Starts the simulator on `fleet` (JSON) and waits for the endpoint it prints.
    pub fn spawn(fleet: &drs_sim::Fleet) -> anyhow::Result<ChildSim> {
        let dir = std::env::temp_dir().join(format!("drs-orch-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("fleet.json");
        std::fs::write(&path, serde_json::to_vec(fleet)?)?;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["sim", "--fleet"])
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout from the simulator"))?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let _ = std::fs::remove_dir_all(&dir);
        let mut sim = ChildSim { child, endpoint: String::new() };
        read?;
        let identity: serde_json::Value = serde_json::from_str(&line)?;
        let endpoint = identity["endpoint"].as_str().ok_or_else(|| anyhow::anyhow!("the simulator printed no endpoint"))?;
        sim.endpoint = endpoint.to_owned();
        Ok(sim)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User and system CPU time of a process (`self` or a pid), in seconds; an error where
/// `/proc/<pid>/stat` cannot be read or parsed (not Linux, a process gone), rather than a 0
/// that would read as a measurement.
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("CPU time not measured: {path}: {e}"))?;
    // Fields after the command name (which may hold spaces): utime and stime are the 12th
    // and 13th, in USER_HZ ticks (100 a second on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .ok_or_else(|| anyhow::anyhow!("CPU time not measured: {path} has no field {}", i + 3))
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// The process's peak resident memory (VmHWM), in MiB; an error where `/proc/self/status`
/// cannot be read or has no such line.
pub fn peak_rss_mib() -> anyhow::Result<f64> {
    status_mib("VmHWM:")
}

/// The process's resident memory now (VmRSS), in MiB; an error as for `peak_rss_mib`.
pub fn rss_mib() -> anyhow::Result<f64> {
    status_mib("VmRSS:")
}

fn status_mib(field: &str) -> anyhow::Result<f64> {
    const PATH: &str = "/proc/self/status";
    let status = std::fs::read_to_string(PATH).map_err(|e| anyhow::anyhow!("memory not measured: {PATH}: {e}"))?;
    let kib = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .ok_or_else(|| anyhow::anyhow!("memory not measured: {PATH} has no {field} line"))?;
    Ok(kib / 1024.0)
}

/// Starts the peak over from the current resident memory (Linux 4.0+), so that a set-up
/// phase (generating a fleet) does not count; false where the kernel does not allow it.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
