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
        // A reader that goes away (`slipway demo | head`) must not kill the tour before it has stopped what it started:
        // writes then fail instead, and the first failure stops the tour as SIGTERM would. SIGHUP stops it too.
        signal(SIGPIPE, SIG_IGN)
        let outcome = try await DemoTour.run { line in
            do {
                try FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
            } catch {
                kill(getpid(), SIGTERM)
            }
        }
        if !outcome.told { throw ExitCode(ExitStatus.rolloutFailed) }
    }
}
