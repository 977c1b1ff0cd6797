import ArgumentParser
import Foundation
import SlipwayDemoService

/// Exit status for a command line or environment that cannot be used.
let usageErrorStatus: Int32 = 2

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("slipway-demo-app: \(message)\n".utf8))
    exit(status)
}

let command: DemoCommand
do {
    command = try DemoCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    if DemoCommand.exitCode(for: error) == .success {
        print(DemoCommand.fullMessage(for: error))
        exit(0)
    }
    fail(DemoCommand.message(for: error), status: usageErrorStatus)
}

let options: DemoOptions
do {
    options = try command.options(environment: ProcessInfo.processInfo.environment)
} catch {
    fail("\(error)", status: usageErrorStatus)
}

do {
    try await DemoService(options: options).run()
} catch let error as DemoOptionError {
    fail("\(error)", status: usageErrorStatus)
} catch {
    fail("\(error)", status: 1)
}
