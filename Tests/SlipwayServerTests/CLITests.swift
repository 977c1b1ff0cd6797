import Foundation
import SlipwayStore
import SlipwayTestSupport
import Testing

/// The `slipway` executable as a user runs it.
@Suite(.serialized) struct CLITests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `slipway` to completion (bounded).
    func slipway(_ arguments: [String], in directory: String) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("slipway"))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    @Test func validateAcceptsTheExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let run = try slipway(["validate", "-f", "examples/slipway.yaml"], in: root)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("OK: examples/slipway.yaml: 1 app: shop (3 × 1.0.0 on 127.0.0.1:8080)"))
    }

    @Test func validateReportsEveryErrorWithItsPositionAndExits2() throws {
        let directory = try makeTemporaryDirectory()
        try """
        apps:
          - name: shop
            listen: 127.0.0.1:8080
            instances: 0
            version: "1.0.0"
            run:
              command: [slipway-demo-app]
            health:
              intervall: 1s
        """.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        let run = try slipway(["validate"], in: directory)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("slipway.yaml:4:16: apps[0].instances: ") == true)
        #expect(lines.first?.contains("from 1 to 1000, got 0") == true)
        #expect(lines.last?.hasPrefix("slipway.yaml:9:7: apps[0].health.intervall: ") == true)
        #expect(lines.last?.contains("did you mean `interval`?") == true)
    }

    @Test func brokenYAMLExits2WithThePosition() throws {
        let directory = try makeTemporaryDirectory()
        try "apps:\n  - name: [shop\n".write(toFile: directory + "/broken.yaml", atomically: true, encoding: .utf8)
        let run = try slipway(["validate", "-f", "broken.yaml"], in: directory)
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("broken.yaml:"))
    }

    @Test func badUsageExits2() throws {
        let run = try slipway(["history"], in: "/")
        #expect(run.status == 2)
        #expect(run.stderr.contains("Missing expected argument"))
        // A host cut is bounded, and refused before any controller is asked.
        for length in ["2h", "0s", "soon"] {
            let cut = try slipway(["chaos", "cut", "h1", "--for", length], in: "/")
            #expect(cut.status == 2 && cut.stderr.contains("--for: expected a duration like 30s, at most 1h"))
        }
    }

    @Test func statusWithoutStateSaysSoAndExits2() throws {
        let directory = try makeTemporaryDirectory()
        let run = try slipway(["status", "--state-dir", directory + "/none"], in: directory)
        #expect(run.status == 2)
        #expect(run.stderr.contains("no state database at \(directory)/none/slipway.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/none"))
    }

    @Test func upSupervisesUntilSIGTERMAndLeavesNoProcessBehind() async throws {
        let directory = try makeTemporaryDirectory()
        try ControllerFixture.demoConfig().write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("slipway"))
        process.arguments = ["up", "-f", "slipway.yaml"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let outPath = directory + "/up.out"
        let errPath = directory + "/up.err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        defer {
            // On a failure, still stop it gracefully so that it stops its instances; kill it only if it hangs.
            if process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                let deadline = Date().addingTimeInterval(15)
                while process.isRunning, Date() < deadline { usleep(20_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
        }
        let output = {
            ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "")
                + ((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        }

        let state = directory + "/state"
        var pids: [Int32] = []
        try await waitUntil("3 healthy instances in `slipway status --json`; `slipway up` printed:\n\(output())") {
            let run = try slipway(["status", "shop", "--json"], in: directory)
            guard run.status == 0,
                let apps = try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]],
                let instances = apps.first?["instances"] as? [[String: Any]]
            else { return false }
            let healthy = instances.filter { $0["state"] as? String == "healthy" }
            pids = healthy.compactMap { ($0["pid"] as? Int).map(Int32.init) }
            return healthy.count == 3
        }
        let text = try slipway(["status", "-f", "slipway.yaml"], in: directory)
        #expect(text.stdout.hasPrefix("shop  running  version 1.0.0  3/3 healthy"))

        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        for pid in pids { #expect(!processExists(pid)) }

        let history = try slipway(["history", "shop", "--state-dir", state], in: directory)
        #expect(history.status == 0)
        let kinds = history.stdout.split(separator: "\n").map { line in
            line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).first.map(String.init) ?? ""
        }
        #expect(kinds.first == "controllerStarted")
        #expect(kinds.filter { $0 == "instanceStarted" }.count == 3)
        #expect(kinds.filter { $0 == "instanceHealthy" }.count == 3)
        #expect(kinds.filter { $0 == "instanceExited" }.count == 3)
        #expect(kinds.last == "controllerStopped")
        #expect(output().contains("instanceHealthy"))
    }
}
