import ArgumentParser
import Foundation

/// The exit codes every command shares.
enum ExitStatus {
    /// The command did what was asked.
    static let success: Int32 = 0
    /// A rollout failed or was rolled back.
    static let rolloutFailed: Int32 = 1
    /// Bad usage or bad config.
    static let badInput: Int32 = 2
    /// Refused by a deploy window.
    static let refusedByWindow: Int32 = 3
    /// The controller (or, for `hosts`, a host) is unreachable or refused the credentials.
    static let unreachable: Int32 = 4
}

extension FileHandle {
    /// Writes a line to standard error.
    static func standardErrorWrite(_ text: String) {
        let line = text.hasSuffix("\n") ? text : text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
