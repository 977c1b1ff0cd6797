import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The controller process of a state directory, seen from outside it (by `slipway stop-controller`, `down`,
/// `up --detach`).
public enum ControllerProcess {
    /// The pid of the controller holding `stateDirectory`'s lock; nil when none holds it.
    public static func runningPid(stateDirectory: String) -> Int32? {
        let path = stateDirectory + "/controller.lock"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Sends `signal` to `pid` and waits (at most `timeout`) for it to end. True when it ended.
    public static func stop(_ pid: Int32, signal: Int32, timeout: Duration) async -> Bool {
        guard kill(pid, signal) == 0 else { return kill(pid, 0) != 0 }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if kill(pid, 0) != 0 || isZombie(pid) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    private static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}
