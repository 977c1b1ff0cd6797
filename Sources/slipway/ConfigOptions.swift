import ArgumentParser
import Foundation
import SlipwayConfig
import SlipwayStore

/// `-f FILE`: the config every command reads.
struct ConfigOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("file")], help: "The config file.")
    var file = "slipway.yaml"

    /// Loads and validates the config, or prints every problem and exits 2.
    func load() throws -> SlipwayConfig {
        do {
            return try ConfigLoader.load(file: file)
        } catch {
            FileHandle.standardErrorWrite(error.description)
            throw ExitCode(ExitStatus.badInput)
        }
    }
}

/// Where to read state from: `--state-dir`, or the config's `controller.stateDir`.
struct StateOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Option(help: "The state directory (default: the config's controller.stateDir).")
    var stateDir: String?

    /// Opens the event log without creating one, or prints why not and exits 2.
    func openLog() throws -> EventLog {
        let directory = try stateDir ?? config.load().controller.stateDirectory
        do {
            return try EventLog(directory: directory, create: false)
        } catch {
            FileHandle.standardErrorWrite("error: \(error.description)")
            throw ExitCode(ExitStatus.badInput)
        }
    }
}
