#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only log file that never grows past a size cap: when the next write would cross it, the file is
/// renamed to `NAME.1` (older ones shift to `.2` …, up to `keep`) and a new one begins.
///
/// It also remembers the last bytes written, so an exit event can quote what the instance said last.
/// One writer per file: not for concurrent use.
public final class RotatingLogFile {
    /// The current file's path.
    public let path: String
    private let maxBytes: Int
    private let keep: Int
    private var descriptor: Int32
    private var size: Int
    private var recent: [UInt8] = []
    private static let recentLimit = 4096

    /// Opens (or creates) the file for appending.
    public init(path: String, maxBytes: Int, keep: Int) throws(LaunchError) {
        self.path = path
        self.maxBytes = max(1, maxBytes)
        self.keep = max(0, keep)
        self.descriptor = try Self.open(path)
        var info = stat()
        self.size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
    }

    deinit {
        close(descriptor)
    }

    /// Appends bytes, rotating whenever the current file reaches the cap.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        remember(bytes)
        var offset = 0
        while offset < bytes.count {
            if size >= maxBytes { rotate() }
            let piece = min(maxBytes - size, bytes.count - offset)
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, piece)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
            size += written
        }
    }

    /// The last lines written (at most `limit`), without their line breaks.
    public func lastLines(_ limit: Int) -> [String] {
        let text = String(decoding: recent, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        return Array(lines.suffix(limit))
    }

    private func remember(_ bytes: UnsafeRawBufferPointer) {
        recent.append(contentsOf: bytes.suffix(Self.recentLimit))
        if recent.count > Self.recentLimit { recent.removeFirst(recent.count - Self.recentLimit) }
    }

    private func rotate() {
        close(descriptor)
        if keep == 0 {
            unlink(path)
        } else {
            unlink("\(path).\(keep)")
            var index = keep - 1
            while index >= 1 {
                rename("\(path).\(index)", "\(path).\(index + 1)")
                index -= 1
            }
            rename(path, "\(path).1")
        }
        descriptor = (try? Self.open(path)) ?? -1
        size = 0
    }

    private static func open(_ path: String) throws(LaunchError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .logFiles("\(path): \(String(cString: strerror(errno)))") }
        return fd
    }
}
