import Dispatch
import NIOCore
import SlipwayCore
import SlipwaySupervision
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where and how an app's access log is written.
public struct AccessLogSettings: Sendable, Equatable, Codable {
    /// The file; rotated ones sit beside it as `.1`, `.2` ….
    public var path: String
    /// The size at which it is rotated.
    public var maxBytes: Int
    /// Rotated files kept.
    public var keep: Int

    /// Creates settings.
    public init(path: String, maxBytes: Int, keep: Int) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
    }
}

/// One app's access log: a JSON object per request, size-capped and rotated.
///
/// Lines are built on the event loop that served the request into that loop's buffer (``AccessLogBuffer``), and
/// handed in batches to a serial queue that alone touches the file, so no event loop ever blocks on the disk. A
/// batch goes when a buffer holds ``flushBytes`` or every ``flushInterval``. When the disk falls so far behind that
/// ``maximumPendingBytes`` wait, further lines are dropped and counted, and the next line written says how many.
final class AccessLog: Sendable {
    static let flushBytes = 32 << 10
    static let flushInterval = TimeAmount.milliseconds(200)
    static let maximumPendingBytes = 16 << 20

    let settings: AccessLogSettings
    private let queue = DispatchQueue(label: "slipway.access-log")
    private let file: FileBox
    private let pending = ManagedCounter()

    /// Opens (or creates) the file, and its directory.
    init(_ settings: AccessLogSettings) throws {
        self.settings = settings
        let directory = settings.path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            .joined(separator: "/")
        if !directory.isEmpty { try Files.makeDirectories(directory) }
        self.file = FileBox(try RotatingLogFile(path: settings.path, maxBytes: settings.maxBytes, keep: settings.keep))
    }

    /// Hands `bytes` (whole lines) to the writer; drops them when too much is waiting already.
    func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        guard pending.add(bytes.count) <= Self.maximumPendingBytes else {
            pending.add(-bytes.count)
            pending.drop(lines: bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) })
            return
        }
        let file = self.file
        let pending = self.pending
        queue.async {
            let dropped = pending.takeDropped()
            if dropped > 0 {
                let note = Array("{\"dropped\":\(dropped),\"reason\":\"the disk fell behind\"}\n".utf8)
                note.withUnsafeBytes { file.log.write($0) }
            }
            bytes.withUnsafeBytes { file.log.write($0) }
            pending.add(-bytes.count)
        }
    }

    /// Waits until everything handed over is written.
    func drain() {
        queue.sync {}
    }

    /// The file, touched only on the queue.
    private final class FileBox: @unchecked Sendable {
        let log: RotatingLogFile
        init(_ log: RotatingLogFile) { self.log = log }
    }

    /// Bytes waiting for the queue, and lines dropped since the last write.
    private final class ManagedCounter: Sendable {
        private let state = Mutex((bytes: 0, dropped: 0))

        @discardableResult
        func add(_ bytes: Int) -> Int {
            state.withLock { state in
                state.bytes += bytes
                return state.bytes
            }
        }

        func drop(lines: Int) {
            state.withLock { $0.dropped += lines }
        }

        func takeDropped() -> Int {
            state.withLock { state in
                defer { state.dropped = 0 }
                return state.dropped
            }
        }
    }
}
