import ArgumentParser
import Foundation
import SlipwayServer

/// `slipway demo`: the guided tour, everything on this machine.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the guided tour: a canary promoted, then a faulty release rolled back on its own.",
        discussion: """
            Runs a controller in this process on free loopback ports, with slipway-demo-app as the service, under
            steady load. Takes about a minute. Exits 0 only if the story happened as told.
            """
    )

    func run() async throws {
        let outcome = try await DemoTour.run { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        if !outcome.told { throw ExitCode(ExitStatus.rolloutFailed) }
    }
}
