import Foundation
import SlipwayTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A headless Chromium in its own process group, with a fresh profile, reachable over the DevTools protocol.
/// `stop()` ends the whole group (the browser and its helper processes) within a bounded time.
final class HeadlessChromium: Sendable {
    /// Why the browser could not be started.
    typealias Failure = ServerProcess.Failure

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
        let pid = try ServerProcess.spawn(arguments, log: profile + "/chromium.log")
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
            if ServerProcess.exited(pid, status: &status) {
                let log = (try? String(contentsOfFile: profile + "/chromium.log", encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(atPath: profile)
                throw Failure(description: "chromium exited (status \(status)) before listening: \(log.suffix(2_000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        browser.stop()
        throw Failure(description: "chromium did not write DevToolsActivePort within 30 s")
    }

    /// Ends the browser's process group (the browser and its helpers; see ``ServerProcess/stop(_:)``); removes the
    /// profile.
    func stop() {
        ServerProcess.stop(pid)
        try? FileManager.default.removeItem(atPath: profile)
    }
}
