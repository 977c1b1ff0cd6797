import Foundation
import SlipwayTestSupport
import Testing
import Yams

/// The GitHub Actions workflow in `examples/`: its deploy step, run as the runner runs it (`bash -eo pipefail`), with
/// `slipway` and `git` standing in, fails the job exactly when the rollout was not promoted.
@Suite struct CIWorkflowExampleTests {
    static let workflow = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/github-actions/deploy.yml").path

    /// The deploy step's script and environment.
    static func deployStep() throws -> (script: String, env: [String: String]) {
        let text = try String(contentsOfFile: workflow, encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let jobs = try #require(document["jobs"] as? [String: Any])
        let steps = try #require((jobs["deploy"] as? [String: Any])?["steps"] as? [[String: Any]])
        let step = try #require(steps.first { $0["name"] as? String == "Deploy with Slipway" })
        let env = try #require(step["env"] as? [String: String])
        return (try #require(step["run"] as? String), env)
    }

    /// Runs the step with a `slipway` that records its arguments and exits `status`.
    static func run(slipwayExitsWith status: Int32) throws -> (status: Int32, output: String, arguments: String) {
        let (script, env) = try deployStep()
        let directory = try makeTemporaryDirectory()
        let bin = directory + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let stubs = [
            "slipway": "#!/bin/sh\nprintf '%s|' \"$@\" > \"\(directory)/arguments\"\nexit \(status)\n",
            "git": "#!/bin/sh\necho v2.0.0\n",
        ]
        for (name, body) in stubs {
            try body.write(toFile: "\(bin)/\(name)", atomically: true, encoding: .utf8)
            chmod("\(bin)/\(name)", 0o755)
        }
        try script.write(toFile: directory + "/step.sh", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["--noprofile", "--norc", "-eo", "pipefail", directory + "/step.sh"]
        var environment = ["PATH": "\(bin):/usr/bin:/bin", "SLIPWAY_URL": "http://127.0.0.1:7070"]
        for (key, value) in env where !value.contains("${{") { environment[key] = value }
        environment["REASON"] = "fix checkout (it's \"urgent\"); rm -rf /"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let arguments = (try? String(contentsOfFile: directory + "/arguments", encoding: .utf8)) ?? ""
        return (process.terminationStatus, text, arguments)
    }

    @Test func aPromotedRolloutPassesTheJobWithTheDeployAsDocumented() throws {
        let result = try Self.run(slipwayExitsWith: 0)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("::notice::shop@prod v2.0.0 promoted"))
        // The reason arrives as one argument, whatever it holds.
        #expect(
            result.arguments
                == "deploy|shop@prod|--version|v2.0.0|--reason|fix checkout (it's \"urgent\"); rm -rf /|--wait|--timeout|45m|"
        )
    }

    @Test(arguments: [
        (Int32(1), "::error::shop@prod v2.0.0 was not promoted"),
        (Int32(2), "::error::slipway was called wrongly"),
        (Int32(3), "::error::refused by a deploy window"),
        (Int32(4), "::error::the controller at http://127.0.0.1:7070 is unreachable"),
    ])
    func anythingButAPromotionFailsTheJobSayingWhy(_ status: Int32, _ message: String) throws {
        let result = try Self.run(slipwayExitsWith: status)
        #expect(result.status == status, "\(result.output)")
        #expect(result.output.contains(message), "\(result.output)")
    }
}
