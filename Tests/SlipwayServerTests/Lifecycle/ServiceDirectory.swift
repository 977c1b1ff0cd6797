import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport

/// A folder where a user runs `slipway` with its `slipway.yaml` and the state in `state/`, as the live tests do: the
/// commands run there, and what the event log says of the app `shop`.
protocol ServiceDirectory {
    /// The folder.
    var directory: String { get }
}

extension ServiceDirectory {
    /// Starts `slipway up` here (it attaches to what runs, or starts it), writing what it says to the file `log`.
    func launchController(log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("slipway"))
        process.arguments = ["up", "-f", "slipway.yaml"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        _ = FileManager.default.createFile(atPath: directory + "/" + log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/" + log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Runs the `slipway` command `arguments` here to completion (bounded).
    func slipway(_ arguments: [String], seconds: Double = 60) async throws -> SlipwayBinary.Run {
        try await SlipwayBinary.run(arguments + ["-f", "slipway.yaml"], in: directory, seconds: seconds)
    }

    /// The app's status folded from the log; nil until a controller has created it.
    func status() throws -> AppStatus? {
        guard let log = try? EventLog(directory: directory + "/state", create: false) else { return nil }
        return AppStatus.fold(app: "shop", events: try log.events(app: "shop", limit: .max))
    }

    /// The app's events of `kind`, oldest first.
    func events(_ kind: EventKind) throws -> [RecordedEvent] {
        guard let log = try? EventLog(directory: directory + "/state", create: false) else { return [] }
        return try log.events(app: "shop", limit: .max).filter { $0.kind == kind }
    }
}
