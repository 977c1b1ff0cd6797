import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real server a test starts (a browser, Prometheus): in its own process group, its output appended to a log, and
/// ended by its PID within a bounded time.
public enum ServerProcess {
    /// Why it could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// Starts `arguments` (the first is the program's path) in a new process group, with standard input from
    /// /dev/null and standard output and error appended to `log`.
    public static func spawn(_ arguments: [String], log: String) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A clean slate of signals: the test process may block or ignore some (SIGTERM, SIGPIPE) on the spawning
        // thread, and a child inheriting that would outlive SIGTERM until the SIGKILL 5 s later.
        var none = sigset_t()
        sigemptyset(&none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        )
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw Failure(description: "cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Whether the process has exited (and is reaped now); its wait status in `status`.
    public static func exited(_ pid: pid_t, status: inout Int32) -> Bool {
        waitpid(pid, &status, WNOHANG) == pid
    }

    /// Ends the process group: SIGTERM, then SIGKILL after 5 s (and for helpers that outlived the process); reaps
    /// the process.
    public static func stop(_ pid: pid_t) {
        kill(-pid, SIGTERM)
        var reaped = false
        for _ in 0..<100 {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result == -1 && errno == ECHILD) {
                reaped = true
                break
            }
            usleep(50_000)
        }
        kill(-pid, SIGKILL)
        if !reaped {
            var status: Int32 = 0
            for _ in 0..<40 where waitpid(pid, &status, WNOHANG) == 0 { usleep(50_000) }
        }
    }
}
