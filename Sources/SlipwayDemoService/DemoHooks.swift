#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How the demo service touches the process it runs in: its output lines and its exit.
///
/// ``process`` writes to the real standard streams and exits the process; tests pass hooks that record instead.
public struct DemoHooks: Sendable {
    /// Writes one line (without its newline) to standard output.
    public var standardOutput: @Sendable (String) -> Void
    /// Writes one line (without its newline) to standard error.
    public var standardError: @Sendable (String) -> Void
    /// Ends the process with the given status.
    public var terminate: @Sendable (Int32) -> Void

    /// Hooks from the three closures.
    public init(
        standardOutput: @escaping @Sendable (String) -> Void,
        standardError: @escaping @Sendable (String) -> Void,
        terminate: @escaping @Sendable (Int32) -> Void
    ) {
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.terminate = terminate
    }

    /// The real process: unbuffered writes to file descriptors 1 and 2, and the C library's `exit`.
    public static let process = DemoHooks(
        standardOutput: { writeLine($0, to: STDOUT_FILENO) },
        standardError: { writeLine($0, to: STDERR_FILENO) },
        terminate: { exit($0) }
    )

    /// Writes `line` and a newline with as few `write` calls as possible, so that lines from concurrent requests
    /// do not interleave.
    private static func writeLine(_ line: String, to descriptor: Int32) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
