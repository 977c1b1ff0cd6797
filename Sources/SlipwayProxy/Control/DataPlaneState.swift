#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What a data plane serves, kept on disk after every change so that a data plane started again alone (after a
/// crash, or by a new controller) comes back with the same listeners and routes.
struct DataPlaneState: Sendable, Equatable, Codable {
    /// One listener: where it is bound and what it obeys.
    struct Listener: Sendable, Equatable, Codable {
        var listen: ListenerSpec
        var routes: RouteSpec
        /// The faults injected into its requests; absent for none. Expired ones are dropped on restore.
        var faults: [FaultSpec]? = nil
    }

    /// The file format; a file of another format is refused, never guessed at.
    static let format = 1

    var format = DataPlaneState.format
    var listeners: [String: Listener] = [:]

    /// Why a state file cannot be used.
    struct Unreadable: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "route state \(path) is unusable (\(reason))" }
    }

    /// The state in `path`; an empty state when there is no file.
    static func load(_ path: String) throws(Unreadable) -> DataPlaneState {
        guard let file = fopen(path, "r") else {
            if errno == ENOENT { return DataPlaneState() }
            throw Unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        let state: DataPlaneState
        do {
            state = try JSONDecoder().decode(DataPlaneState.self, from: Data(bytes))
        } catch {
            throw Unreadable(path: path, reason: "not a route state file: \(error)")
        }
        guard state.format == format else {
            throw Unreadable(path: path, reason: "format \(state.format), this data plane reads format \(format)")
        }
        return state
    }

    /// Writes the state to `path` atomically: a reader sees the old file or the new one, never a part.
    func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(self)
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Unreadable(path: temporary, reason: String(cString: strerror(errno))) }
        var written = 0
        let ok = data.withUnsafeBytes { bytes -> Bool in
            while written < bytes.count {
                let result = write(fd, bytes.baseAddress! + written, bytes.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += result
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Unreadable(path: path, reason: "cannot write: \(String(cString: strerror(errno)))")
        }
    }
}
