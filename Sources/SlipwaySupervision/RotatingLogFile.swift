import Glibc

/// Why a log file could not be opened.
public struct LogFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// The system's reason.
    public var reason: String

    /// An error for `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// An append-only log file that never grows past a size cap: when the next write would cross it, the file is
/// renamed to `NAME.1` (older ones shift to `.2` …, up to `keep`) and a new one begins.
///
/// It also remembers the last bytes written, so an exit record can quote what the instance said last.
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
    public init(path: String, maxBytes: Int, keep: Int) throws(LogFileError) {
        self.path = path
        self.maxBytes = max(1, maxBytes)
        self.keep = max(0, keep)
        self.descriptor = try Self.open(path)
        var info = stat()
        self.size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Appends bytes, rotating whenever the current file reaches the cap.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        remember(bytes)
        var offset = 0
        while offset < bytes.count {
            if size >= maxBytes { rotate() }
            // A file that could not be reopened after a rotation loses what is written until the next one.
            guard descriptor >= 0 else {
                size += bytes.count - offset
                return
            }
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
        Self.lines(recent, limit: limit)
    }

    /// The last lines (at most `limit`) of the file at `path`, read from its last 4 KiB; empty when it cannot
    /// be read.
    public static func lastLines(ofFile path: String, _ limit: Int) -> [String] {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return [] }
        let start = max(0, Int(info.st_size) - recentLimit)
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) - start)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + filled, $0.count - filled, off_t(start + filled))
            }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            filled += count
        }
        return lines(Array(bytes[..<filled]), limit: limit)
    }

    private static func lines(_ bytes: [UInt8], limit: Int) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        return Array(lines.suffix(limit))
    }

    private func remember(_ bytes: UnsafeRawBufferPointer) {
        recent.append(contentsOf: bytes.suffix(Self.recentLimit))
        if recent.count > Self.recentLimit { recent.removeFirst(recent.count - Self.recentLimit) }
    }

    private func rotate() {
        if descriptor >= 0 { close(descriptor) }
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

    private static func open(_ path: String) throws(LogFileError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LogFileError(path: path, reason: String(cString: strerror(errno))) }
        return fd
    }
}
