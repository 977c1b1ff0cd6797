import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a state directory, so two controllers never drive the same apps and event log.
///
/// Held with `flock` on `controller.lock`, which records the holder's pid; the kernel releases it when the
/// process ends, however it ends.
public final class StateDirectoryLock: Sendable {
    /// Why the lock could not be taken.
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    private let descriptor: Mutex<Int32?>

    /// Takes the lock or throws, naming the process that holds it.
    public init(directory: String) throws(Refusal) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw Refusal(description: "cannot create state directory \(directory): \(error.localizedDescription)")
        }
        let path = directory + "/controller.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Refusal(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder =
                (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw Refusal(
                description: "another controller (pid \(holder)) is already running with state directory \(directory)"
            )
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        self.descriptor = Mutex(fd)
    }

    /// Gives the directory up; later calls do nothing.
    public func release() {
        guard
            let fd = descriptor.withLock({ value in
                defer { value = nil }
                return value
            })
        else { return }
        flock(fd, LOCK_UN)
        close(fd)
    }

    deinit {
        release()
    }
}
