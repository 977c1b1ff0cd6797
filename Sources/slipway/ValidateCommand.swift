import ArgumentParser
import Foundation
import SlipwayConfig
import SlipwayServer

/// `slipway validate -f FILE`: reports every problem in a config, or OK.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a config file: prints OK, or every error with file:line:column and key path (exit 2)."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let problems = Preflight.checkFiles(config)
        guard problems.isEmpty else {
            FileHandle.standardErrorWrite(problems.map(\.description).joined(separator: "\n"))
            throw ExitCode(ExitStatus.badInput)
        }
        let apps = config.apps.map { "\($0.name) (\($0.instances) × \($0.version) on \($0.listen))" }
        print(
            "OK: \(options.file): \(config.apps.count) app\(config.apps.count == 1 ? "" : "s"): "
                + apps.joined(separator: ", ")
        )
    }
}
