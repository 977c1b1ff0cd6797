import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A headless Chromium in its own process group, with a fresh profile, reachable over the DevTools protocol.
/// `stop()` ends the whole group (the browser and its helper processes) within a bounded time.
final class HeadlessChromium: Sendable {
    /// Why the browser could not be started.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Where the Debian package installs it.
    static let path = "/usr/bin/chromium"

    /// Whether a browser is installed.
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// The browser's process id; its process group has the same id.
    let pid: pid_t
    /// The DevTools port and the browser's WebSocket path, from `DevToolsActivePort`.
    let port: Int
    let browserPath: String
    /// The profile directory, removed by `stop()`.
    let profile: String

    private init(pid: pid_t, port: Int, browserPath: String, profile: String) {
        self.pid = pid
        self.port = port
        self.browserPath = browserPath
        self.profile = profile
    }

    /// Starts the browser and waits (bounded) until it says where its DevTools endpoint listens.
    static func launch(windowSize: (width: Int, height: Int) = (1280, 900)) async throws -> HeadlessChromium {
        let profile = FileManager.default.temporaryDirectory
            .appendingPathComponent("slipway-chromium-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        let arguments = [
            path, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1", "--user-data-dir=\(profile)",
            "--window-size=\(windowSize.width),\(windowSize.height)", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--metrics-recording-only", "--mute-audio", "--password-store=basic",
            "about:blank",
        ]
        let pid = try spawn(arguments, log: profile + "/chromium.log")
        let browser = HeadlessChromium(pid: pid, port: 0, browserPath: "", profile: profile)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: profile + "/DevToolsActivePort", encoding: .utf8) {
                let lines = text.split(separator: "\n").map(String.init)
                if lines.count >= 2, let port = Int(lines[0]) {
                    return HeadlessChromium(pid: pid, port: port, browserPath: lines[1], profile: profile)
                }
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let log = (try? String(contentsOfFile: profile + "/chromium.log", encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(atPath: profile)
                throw Failure(description: "chromium exited (status \(status)) before listening: \(log.suffix(2_000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        browser.stop()
        throw Failure(description: "chromium did not write DevToolsActivePort within 30 s")
    }

    /// Ends the browser's process group: SIGTERM, then SIGKILL after 5 s; reaps the browser; removes the profile.
    func stop() {
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
        // Helpers that outlive the browser (or a browser that ignored SIGTERM) go now.
        kill(-pid, SIGKILL)
        if !reaped {
            var status: Int32 = 0
            for _ in 0..<40 where waitpid(pid, &status, WNOHANG) == 0 { usleep(50_000) }
        }
        try? FileManager.default.removeItem(atPath: profile)
    }

    /// Starts `arguments` in a new process group, standard output and error appended to `log`.
    private static func spawn(_ arguments: [String], log: String) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
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
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw Failure(description: "cannot start \(path): \(String(cString: strerror(result)))")
        }
        return pid
    }
}
