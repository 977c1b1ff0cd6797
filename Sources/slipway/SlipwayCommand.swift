import ArgumentParser
import Foundation

/// `slipway`: zero-downtime releases and production testing of HTTP services.
@main
struct SlipwayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slipway",
        abstract: "Zero-downtime releases and production testing of HTTP services.",
        discussion: """
            Exit codes: 0 success, 1 rollout failed or rolled back, 2 bad usage or bad config,
            3 refused by a deploy window, 4 controller unreachable or unauthorized.
            """,
        subcommands: [
            DemoCommand.self, UpCommand.self, ValidateCommand.self, StatusCommand.self, HistoryCommand.self,
            DeployCommand.self, PromoteCommand.self, AbortCommand.self, PauseCommand.self, ResumeCommand.self,
            RetryCommand.self, RollbackCommand.self, RestartCommand.self, WindowsCommand.self, ExperimentCommand.self,
            ProxyCommand.self, ReportCommand.self, HostsCommand.self, KubernetesCommand.self, ChaosCommand.self,
            StopControllerCommand.self, DownCommand.self, UpgradeCommand.self,
        ]
    )

    /// Runs the command line; usage errors exit 2 (not the argument parser's 64), as every command documents.
    static func main() async {
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardErrorWrite(fullMessage(for: error))
                Foundation.exit(ExitStatus.badInput)
            }
            exit(withError: error)
        }
    }
}
